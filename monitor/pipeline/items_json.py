"""Item JSON (docs/design.md §7) -> decoded item text, for `monitor match` and later `replay`."""

from __future__ import annotations

import json
from typing import Any

from monitor.model import ItemText
from monitor.text.html import html_to_text


class ItemJsonError(ValueError):
    pass


def item_text_from_json(line: str) -> tuple[Any, ItemText]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ItemJsonError(f"invalid JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(data, dict) or "id" not in data:
        raise ItemJsonError('expected a JSON object with at least an "id"')

    def field(name: str) -> str:
        value = data.get(name)
        return html_to_text(value) if isinstance(value, str) else ""

    language = data.get("language")
    return data["id"], ItemText(
        title=field("title"),
        summary=field("summary"),
        content=field("content"),
        language=language if isinstance(language, str) else None,
    )
