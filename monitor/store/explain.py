"""What `monitor explain --item` reads about a stored item: where it came from, when its feed
was seeded, and the alerts of its story (one per watchlist), with their deliveries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select

from monitor.model import ItemText
from monitor.store.listing import DeliveryRow, deliveries_by_alert
from monitor.store.tables import alerts, feeds, items


@dataclass(frozen=True)
class StoredItem:
    item_id: int
    feed: str  # its name, else the feed's own title, else its URL
    story_id: int
    text: ItemText
    published: datetime | None
    first_seen: datetime
    feed_seeded: datetime | None  # when the feed's first poll stored its backlog
    feed_url: str = ""  # what finds its configured feed, for watchlists' `sources`

    @property
    def backlog(self) -> bool:
        # The first poll stores its items at the instant it records as the feed's seeding.
        return self.feed_seeded is not None and self.first_seen <= self.feed_seeded


@dataclass(frozen=True)
class StoryAlert:
    alert_id: int
    watchlist: str
    item_id: int | None  # the item that alerted
    decided_at: datetime
    deliveries: tuple[DeliveryRow, ...]


def stored_item(connection: Connection, item_id: int) -> StoredItem | None:
    row = connection.execute(
        select(
            items.c.id,
            func.coalesce(feeds.c.name, feeds.c.title, feeds.c.url),
            items.c.cluster_id,
            items.c.title,
            items.c.summary,
            items.c.content,
            items.c.language,
            items.c.published_at,
            items.c.first_seen_at,
            feeds.c.seeded_at,
            feeds.c.url,
        )
        .join(feeds, feeds.c.id == items.c.feed_id)
        .where(items.c.id == item_id)
    ).first()
    if row is None:
        return None
    return StoredItem(
        item_id=row[0],
        feed=row[1],
        story_id=row[2],
        text=ItemText(row[3], row[4], row[5], row[6]),
        published=row[7],
        first_seen=row[8],
        feed_seeded=row[9],
        feed_url=row[10],
    )


def story_alerts(connection: Connection, story_id: int) -> dict[str, StoryAlert]:
    """The alerts of a story by watchlist (one each: the alerts' unique key)."""
    rows = connection.execute(
        select(alerts.c.id, alerts.c.watchlist, alerts.c.item_id, alerts.c.created_at).where(
            alerts.c.cluster_id == story_id
        )
    ).all()
    carried = deliveries_by_alert(connection, [row[0] for row in rows])
    return {
        row[1]: StoryAlert(row[0], row[1], row[2], row[3], tuple(carried.get(row[0], ())))
        for row in rows
    }
