"""What `monitor replay` reads: the stored items in the order they were seen, each as the daemon
had prepared it, and how many entries each feed's document held."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, func, select

from monitor.model import ItemText, PreparedItem, ReplayItem
from monitor.store.tables import feeds, items

_BATCH = 2000  # rows fetched at a time: 100,000 items are read in bounded memory


def stored_items_seen(connection: Connection, since: datetime | None) -> Iterator[ReplayItem]:
    """The items first seen since `since` (all: None), in the order they were stored."""
    query = (
        select(
            items.c.id,
            items.c.feed_id,
            func.coalesce(feeds.c.name, feeds.c.title, feeds.c.url),
            items.c.item_key,
            items.c.url,
            items.c.title,
            items.c.summary,
            items.c.content,
            items.c.language,
            items.c.content_hash,
            items.c.published_at,
            items.c.first_seen_at,
            feeds.c.seeded_at,
        )
        .join(feeds, feeds.c.id == items.c.feed_id)
        .order_by(items.c.id)
    )
    if since is not None:
        query = query.where(items.c.first_seen_at >= since)
    result = connection.execution_options(yield_per=_BATCH).execute(query)
    for row in result:
        seen, seeded = row[11], row[12]
        yield ReplayItem(
            item_id=row[0],
            feed=row[1],
            source=row[2],
            item=PreparedItem(
                key=row[3],
                url=row[4],
                text=ItemText(row[5], row[6], row[7], row[8]),
                published=row[10],
                content_hash=row[9],
            ),
            seen=seen,
            # The first poll stores its items at the instant it records as the seeding.
            backlog=seeded is not None and seen <= seeded,
        )


def feed_document_sizes(connection: Connection) -> dict[int, int]:
    """Entries per feed document, as its first poll stored them (the one poll that stores a
    whole document), by feed id."""
    rows = connection.execute(
        select(items.c.feed_id, func.count())
        .join(feeds, feeds.c.id == items.c.feed_id)
        .where(feeds.c.seeded_at.is_not(None), items.c.first_seen_at <= feeds.c.seeded_at)
        .group_by(items.c.feed_id)
    )
    return {int(feed_id): int(count) for feed_id, count in rows}
