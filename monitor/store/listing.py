"""What `monitor stories`, `items` and `alerts` list, and the delivery rows `monitor resend`
puts back in the outbox. Each listing is one query for its rows (the limit in SQL, newest
first) and at most one more for what they carry (watchlists, deliveries): no query per row."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, or_, select, update

from monitor.store.tables import alerts, clusters, deliveries, feeds, items


@dataclass(frozen=True)
class ListingFilter:
    """What the user narrowed the listing to; None: no narrowing."""

    since: datetime | None = None
    watchlist: str | None = None
    feed_ids: tuple[int, ...] | None = None  # resolved by `find_feeds`
    limit: int = 50


@dataclass(frozen=True)
class StoryRow:
    story_id: int
    first_seen: datetime
    title: str  # of its first item
    outlets: int  # feeds that carried it
    watchlists: tuple[str, ...]  # those that alerted, sorted


@dataclass(frozen=True)
class ItemRow:
    item_id: int
    feed: str  # its name, else the feed's own title, else its URL
    feed_url: str
    published: datetime | None
    first_seen: datetime
    title: str
    story_id: int


@dataclass(frozen=True)
class DeliveryRow:
    channel: str
    status: str  # pending, sending, sent, failed
    attempts: int
    next_attempt: datetime | None  # None once sent or failed
    last_error: str | None
    hold: str | None


@dataclass(frozen=True)
class AlertRow:
    alert_id: int
    watchlist: str
    story_id: int | None  # None: an operations alert
    decided_at: datetime
    title: str
    deliveries: tuple[DeliveryRow, ...]


def find_feeds(connection: Connection, name_or_url: str) -> tuple[int, ...]:
    """The stored feeds with that name (as configured) or URL; empty when none."""
    return tuple(
        connection.execute(
            select(feeds.c.id).where(or_(feeds.c.url == name_or_url, feeds.c.name == name_or_url))
        ).scalars()
    )


def list_stories(connection: Connection, narrowed: ListingFilter) -> list[StoryRow]:
    # Correlated subqueries: computed for the rows the limit keeps, through the items'
    # cluster index, not grouped over every stored item.
    first_title = (
        select(items.c.title)
        .where(items.c.cluster_id == clusters.c.id)
        .order_by(items.c.id)
        .limit(1)
        .scalar_subquery()
    )
    outlets = (
        select(func.count(items.c.feed_id.distinct()))
        .where(items.c.cluster_id == clusters.c.id)
        .scalar_subquery()
    )
    query = (
        select(clusters.c.id, clusters.c.created_at, first_title, outlets)
        .order_by(clusters.c.created_at.desc(), clusters.c.id.desc())
        .limit(narrowed.limit)
    )
    if narrowed.since is not None:
        query = query.where(clusters.c.created_at >= narrowed.since)
    query = _narrow_stories(query, clusters.c.id, narrowed)
    rows = connection.execute(query).all()
    alerted: dict[int, list[str]] = {}
    if rows:
        for cluster_id, watchlist in connection.execute(
            select(alerts.c.cluster_id, alerts.c.watchlist)
            .where(alerts.c.cluster_id.in_([row[0] for row in rows]))
            .order_by(alerts.c.watchlist)
        ):
            alerted.setdefault(cluster_id, []).append(watchlist)
    return [
        StoryRow(row[0], row[1], row[2] or "", int(row[3] or 0), tuple(alerted.get(row[0], ())))
        for row in rows
    ]


def list_items(connection: Connection, narrowed: ListingFilter) -> list[ItemRow]:
    """Items newest first (by when they were first seen: a feed's dates may lie); with a
    watchlist, the items of the stories it alerted on."""
    query = (
        select(
            items.c.id,
            func.coalesce(feeds.c.name, feeds.c.title, feeds.c.url),
            feeds.c.url,
            items.c.published_at,
            items.c.first_seen_at,
            items.c.title,
            items.c.cluster_id,
        )
        .join(feeds, feeds.c.id == items.c.feed_id)
        .order_by(items.c.first_seen_at.desc(), items.c.id.desc())
        .limit(narrowed.limit)
    )
    if narrowed.since is not None:
        query = query.where(items.c.first_seen_at >= narrowed.since)
    if narrowed.feed_ids is not None:
        query = query.where(items.c.feed_id.in_(narrowed.feed_ids))
    if narrowed.watchlist is not None:
        query = query.where(
            items.c.cluster_id.in_(
                select(alerts.c.cluster_id).where(alerts.c.watchlist == narrowed.watchlist)
            )
        )
    return [ItemRow(*row) for row in connection.execute(query).all()]


def list_alerts(
    connection: Connection, narrowed: ListingFilter, status: str | None = None
) -> list[AlertRow]:
    """Alerts newest first, each with its deliveries; with a status, the alerts one of whose
    deliveries has it (`pending` includes those being sent)."""
    query = (
        select(
            alerts.c.id,
            alerts.c.watchlist,
            alerts.c.cluster_id,
            alerts.c.created_at,
            alerts.c.payload,
            items.c.title,
        )
        .outerjoin(items, items.c.id == alerts.c.item_id)
        .order_by(alerts.c.created_at.desc(), alerts.c.id.desc())
        .limit(narrowed.limit)
    )
    if narrowed.since is not None:
        query = query.where(alerts.c.created_at >= narrowed.since)
    if narrowed.watchlist is not None:
        query = query.where(alerts.c.watchlist == narrowed.watchlist)
    if narrowed.feed_ids is not None:
        query = query.where(items.c.feed_id.in_(narrowed.feed_ids))
    if status is not None:
        statuses = ("pending", "sending") if status == "pending" else (status,)
        query = query.where(
            alerts.c.id.in_(select(deliveries.c.alert_id).where(deliveries.c.status.in_(statuses)))
        )
    rows = connection.execute(query).all()
    carried = deliveries_by_alert(connection, [row[0] for row in rows])
    return [
        AlertRow(
            alert_id=row[0],
            watchlist=row[1],
            story_id=row[2],
            decided_at=row[3],
            title=str(_payload(row[4]).get("title") or row[5] or ""),
            deliveries=tuple(carried.get(row[0], ())),
        )
        for row in rows
    ]


def alert_channels(connection: Connection, alert_id: int) -> tuple[str, ...] | None:
    """The channels a stored alert has deliveries for, sorted; None when no such alert."""
    found = connection.execute(select(alerts.c.id).where(alerts.c.id == alert_id)).first()
    if found is None:
        return None
    return tuple(
        connection.execute(
            select(deliveries.c.channel)
            .where(deliveries.c.alert_id == alert_id)
            .order_by(deliveries.c.channel)
        ).scalars()
    )


def requeue_alert(
    connection: Connection, alert_id: int, channels: Sequence[str], now: datetime
) -> int:
    """A new delivery of a stored alert: its rows for `channels` are pending and due now, with
    no hold and no lease; their attempts are kept (they are history). Returns how many."""
    result = connection.execute(
        update(deliveries)
        .where(deliveries.c.alert_id == alert_id, deliveries.c.channel.in_(channels))
        .values(status="pending", next_attempt_at=now, hold=None, lease_until=None, last_error=None)
    )
    return int(result.rowcount or 0)


def alert_deliveries(connection: Connection, alert_id: int) -> list[DeliveryRow]:
    return deliveries_by_alert(connection, [alert_id]).get(alert_id, [])


def deliveries_by_alert(
    connection: Connection, alert_ids: Sequence[int]
) -> dict[int, list[DeliveryRow]]:
    found: dict[int, list[DeliveryRow]] = {}
    if not alert_ids:
        return found
    for row in connection.execute(
        select(
            deliveries.c.alert_id,
            deliveries.c.channel,
            deliveries.c.status,
            deliveries.c.attempts,
            deliveries.c.next_attempt_at,
            deliveries.c.last_error,
            deliveries.c.hold,
        )
        .where(deliveries.c.alert_id.in_(alert_ids))
        .order_by(deliveries.c.alert_id, deliveries.c.channel)
    ):
        waiting = row.status in ("pending", "sending")
        found.setdefault(row.alert_id, []).append(
            DeliveryRow(
                channel=row.channel,
                status=row.status,
                attempts=row.attempts,
                next_attempt=row.next_attempt_at if waiting else None,
                last_error=row.last_error,
                hold=row.hold,
            )
        )
    return found


def _narrow_stories(query: Select[Any], cluster_id: Any, narrowed: ListingFilter) -> Select[Any]:
    if narrowed.watchlist is not None:
        query = query.where(
            cluster_id.in_(
                select(alerts.c.cluster_id).where(alerts.c.watchlist == narrowed.watchlist)
            )
        )
    if narrowed.feed_ids is not None:
        query = query.where(
            cluster_id.in_(select(items.c.cluster_id).where(items.c.feed_id.in_(narrowed.feed_ids)))
        )
    return query


def _payload(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}
