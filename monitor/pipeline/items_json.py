"""Item JSON (docs/design.md §7) -> decoded item text (`monitor match`, `explain`), or the item
as the daemon would have prepared it (`monitor dedup`, `replay`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from monitor.dedup.exact import content_hash
from monitor.feeds import canonical_url
from monitor.model import ItemText, PreparedItem
from monitor.text.html import html_to_text


class ItemJsonError(ValueError):
    pass


def item_text_from_json(line: str) -> tuple[Any, ItemText]:
    return _text(_object(line))


def item_feed_text_from_json(line: str) -> tuple[Any, str | None, ItemText]:
    """The item's id, its `feed` (for watchlists' `sources`; None when absent) and text."""
    data = _object(line)
    item_id, text = _text(data)
    feed = data.get("feed")
    return item_id, str(feed) if feed is not None else None, text


def _object(line: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ItemJsonError(f"invalid JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(data, dict) or "id" not in data:
        raise ItemJsonError('expected a JSON object with at least an "id"')
    return data


def _text(data: dict[str, Any]) -> tuple[Any, ItemText]:
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


@dataclass(frozen=True)
class StreamItem:
    item_id: Any
    feed: str | None  # consecutive items of one feed are one feed document
    item: PreparedItem
    seen: datetime | None  # `"seen"`: when it was first seen, if the input says


def stream_item_from_json(line: str, number: int) -> StreamItem:
    """An item of a JSON Lines stream as the daemon would have prepared it; its line number
    makes its key (each line is its own item)."""
    data = _object(line)
    item_id, text = _text(data)
    url = data.get("url")
    feed = data.get("feed")
    key = f"line {number}"
    item = PreparedItem(
        key=key,
        url=canonical_url(url) if isinstance(url, str) and url else None,
        text=text,
        published=_time(data, "published"),
        content_hash=content_hash(text, key),
    )
    return StreamItem(item_id, str(feed) if feed is not None else None, item, _time(data, "seen"))


def _time(data: dict[str, Any], name: str) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise ItemJsonError(f'"{name}": expected an ISO 8601 time, got {json.dumps(value)}')
    if not _EARLIEST_YEAR <= moment.year < _LAST_YEAR:
        return None  # a placeholder ("0001-01-01", Go's zero time) or a typo: no time
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# Times outside these years are read as none: every time computed from one (a story window,
# a zone) stays a time.
_EARLIEST_YEAR, _LAST_YEAR = 1900, 9000


class StreamDocuments:
    """The feed documents of a JSON Lines stream (`monitor dedup`, `replay`): consecutive items
    of one `feed` (absent: null), cut at `MAX_ENTRIES`, the most the daemon reads from one
    document, so that input without feeds is still answered as it goes, in bounded memory.
    A bad line is reported on `errors` with its number, skipped and counted (`bad`)."""

    def __init__(self, source: TextIO, errors: TextIO, name: str = "stdin") -> None:
        self._source = source
        self._errors = errors
        self._name = name
        self.bad = 0

    def __iter__(self) -> Iterator[list[StreamItem]]:
        from monitor.feeds import MAX_ENTRIES  # read when iterating: tests make it smaller

        document: list[StreamItem] = []
        for number, line in enumerate(self._source, start=1):
            if not line.strip():
                continue
            try:
                read = stream_item_from_json(line, number)
            except ItemJsonError as error:
                print(f"{self._name}:{number}: {error}", file=self._errors)
                self.bad += 1
                continue
            if document and read.feed != document[0].feed:
                yield document
                document = []
            document.append(read)
            if len(document) == MAX_ENTRIES:  # answered now, not when the next line comes
                yield document
                document = []
        if document:
            yield document
