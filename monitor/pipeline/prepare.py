"""Feed entry -> item ready for storage and matching (pure)."""

from __future__ import annotations

from monitor.dedup.exact import content_hash
from monitor.model import FeedEntry, ItemText, PreparedItem
from monitor.text.html import html_to_text


def prepare_entry(entry: FeedEntry, language: str | None) -> PreparedItem:
    text = ItemText(
        title=html_to_text(entry.title),
        summary=html_to_text(entry.summary),
        content=html_to_text(entry.content),
        language=language,
    )
    return PreparedItem(
        key=entry.key,
        url=entry.url,
        text=text,
        published=entry.published,
        content_hash=content_hash(text, entry.key),
    )
