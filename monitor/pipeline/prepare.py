"""Feed entry -> item ready for storage and matching (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from monitor.dedup.exact import content_hash
from monitor.feeds import as_html, link_key, text_key
from monitor.model import FeedEntry, ItemText, PreparedItem
from monitor.text.html import html_to_text

IdPolicy = Literal["guid", "link", "content"]

# Time zones and a clock a little fast put honest items hours ahead at most; beyond a day, the
# date is wrong (a server's clock, a typo: 9999-12-31).
_FUTURE_TOLERANCE = timedelta(days=1)


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
    now: datetime,
    full_text: str | None = None,
) -> PreparedItem:
    """`now`: the time of the poll, an aware datetime (see `credible_published`); `full_text`:
    the article page's main text, which replaces the feed's content (the key stays the feed
    entry's)."""
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
        published=credible_published(entry.published, now),
        content_hash=content_hash(text, key),
    )


def credible_published(published: datetime | None, now: datetime) -> datetime | None:
    """The feed's publication date, or None when it lies more than a day ahead of `now`.

    A date in the future is a wrong clock or a typo, not news from tomorrow: kept, it would pass
    `max_age` forever, sort its story first in every digest, and reach the renderers at the
    edge of what a datetime holds. Read as no date, the item is dated by when it was found."""
    if published is not None and published - now > _FUTURE_TOLERANCE:
        return None
    return published
