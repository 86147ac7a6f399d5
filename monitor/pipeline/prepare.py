"""Feed entry -> item ready for storage and matching (pure)."""

from __future__ import annotations

from typing import Literal

from monitor.dedup.exact import content_hash
from monitor.feeds import as_html, link_key, text_key
from monitor.model import FeedEntry, ItemText, PreparedItem
from monitor.text.html import html_to_text

IdPolicy = Literal["guid", "link", "content"]


def item_key(entry: FeedEntry, policy: IdPolicy = "guid") -> str:
    """An item's identity across polls, by the feed's `id_policy`: `guid` (the feed's id, else
    the link, else the text), `link` (for feeds whose ids change on every build) or `content`
    (for feeds whose ids and links both do)."""
    if policy == "link" and entry.url:
        return link_key(entry.url)
    if policy == "content":
        return text_key(entry.title, entry.summary, entry.content)
    return entry.key


def prepare_entry(
    entry: FeedEntry,
    language: str | None,
    policy: IdPolicy = "guid",
    *,
    full_text: str | None = None,
) -> PreparedItem:
    """`full_text`: the article page's main text, which replaces the feed's content (the key
    stays the feed entry's)."""
    text = ItemText(
        title=html_to_text(entry.title),
        summary=html_to_text(entry.summary),
        content=html_to_text(entry.content if full_text is None else as_html(full_text)),
        language=language,
    )
    return PreparedItem(
        key=(key := item_key(entry, policy)),
        url=entry.url,
        text=text,
        published=entry.published,
        content_hash=content_hash(text, key),
    )
