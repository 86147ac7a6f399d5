"""What `monitor replay` reads: the stored items in the order they were seen, each as the daemon
had prepared it, how many entries each feed's document held, and each feed's last items before
the replay starts (their lines are part of the next documents the daemon read)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from monitor.model import ItemText, PreparedItem, ReplayItem
from monitor.store.tables import feeds, items

_BATCH = 2000  # rows fetched at a time: 100,000 items are read in bounded memory
_COLUMNS = (
    items.c.id,
    items.c.feed_id,
    func.coalesce(feeds.c.name, feeds.c.title, feeds.c.url).label("source"),
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


def stored_items_seen(connection: Connection, since: datetime | None) -> Iterator[ReplayItem]:
    """The items first seen since `since` (all: None), in the order they were stored."""
    query = select(*_COLUMNS).join(feeds, feeds.c.id == items.c.feed_id).order_by(items.c.id)
    if since is not None:
        query = query.where(items.c.first_seen_at >= since)
    for row in connection.execution_options(yield_per=_BATCH).execute(query):
        yield _replay_item(row)


def last_items_before(
    connection: Connection, before: datetime, counts: Mapping[int, int]
) -> dict[int, list[ReplayItem]]:
    """Each feed's last `counts[feed]` items first seen before `before`, oldest first."""
    if not counts:
        return {}
    recent = func.row_number().over(partition_by=items.c.feed_id, order_by=items.c.id.desc())
    ranked = (
        select(*_COLUMNS, recent.label("rank"))
        .join(feeds, feeds.c.id == items.c.feed_id)
        .where(items.c.first_seen_at < before, items.c.feed_id.in_(list(counts)))
        .subquery()
    )
    query = (
        select(*(ranked.c[column.name] for column in _COLUMNS))
        .where(ranked.c.rank <= max(counts.values()))
        .order_by(ranked.c.id)
    )
    found: dict[int, list[ReplayItem]] = {}
    for row in connection.execute(query):
        found.setdefault(int(row[1]), []).append(_replay_item(row))
    return {feed: kept[-counts[feed] :] for feed, kept in found.items()}


def feed_document_sizes(
    connection: Connection, leaving_out: Collection[str] = ()
) -> dict[int, int]:
    """Entries per feed document, as its first poll stored them (the one poll that stores a
    whole document), by feed id; none for the feeds at the URLs `leaving_out`."""
    rows = connection.execute(
        select(items.c.feed_id, feeds.c.url, func.count())
        .join(feeds, feeds.c.id == items.c.feed_id)
        .where(feeds.c.seeded_at.is_not(None), items.c.first_seen_at <= feeds.c.seeded_at)
        .group_by(items.c.feed_id, feeds.c.url)
    )
    return {int(feed_id): int(count) for feed_id, url, count in rows if url not in leaving_out}


def feed_urls(connection: Connection) -> dict[int, str]:
    """Every stored feed's URL by id: a replay judges watchlists' `sources` on it."""
    return {
        int(feed_id): str(url)
        for feed_id, url in connection.execute(select(feeds.c.id, feeds.c.url))
    }


def _replay_item(row: Any) -> ReplayItem:
    seen, seeded = row[11], row[12]
    return ReplayItem(
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
