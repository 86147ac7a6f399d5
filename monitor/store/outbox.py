"""Outbox claims: the dispatcher leases due deliveries, sends, then records the outcome.

A lease (status `sending` with `lease_until`) marks a send in flight. If the process dies
mid-send, the lease expires and the delivery is claimed again: at-least-once, and `resends`
counts those so they are visible rather than silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from monitor.store.tables import alerts, deliveries, feeds, items


@dataclass(frozen=True)
class DeliveryJob:
    id: int
    alert_id: int
    channel: str
    attempts: int  # including this one
    lease_until: datetime  # the claim; outcomes are recorded only while it is ours
    alert_created_at: datetime
    watchlist: str
    cluster_id: int | None  # None (and item_id too): an operations alert, about a feed
    item_id: int | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    sending: int
    sent: int
    failed: int
    resends: int


def _due_condition(now: datetime) -> Any:
    return or_(
        and_(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now),
        and_(deliveries.c.status == "sending", deliveries.c.lease_until < now),
    )


def claim_due_deliveries(
    connection: Connection, now: datetime, lease: timedelta, limit: int = 100
) -> list[DeliveryJob]:
    rows = connection.execute(
        select(
            deliveries.c.id,
            deliveries.c.alert_id,
            deliveries.c.channel,
            deliveries.c.attempts,
            deliveries.c.status,
            alerts.c.created_at,
            alerts.c.watchlist,
            alerts.c.cluster_id,
            alerts.c.item_id,
            alerts.c.payload,
        )
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .where(_due_condition(now))
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(limit)
        .with_for_update(of=deliveries, skip_locked=True)
    ).all()
    jobs = []
    lease_until = now + lease
    for row in rows:
        was_in_flight = row.status == "sending"
        connection.execute(
            update(deliveries)
            .where(deliveries.c.id == row.id)
            .values(
                status="sending",
                lease_until=lease_until,
                attempts=deliveries.c.attempts + 1,
                resends=deliveries.c.resends + (1 if was_in_flight else 0),
            )
        )
        jobs.append(
            DeliveryJob(
                id=row.id,
                alert_id=row.alert_id,
                channel=row.channel,
                attempts=row.attempts + 1,
                lease_until=lease_until,
                alert_created_at=row.created_at,
                watchlist=row.watchlist,
                cluster_id=row.cluster_id,
                item_id=row.item_id,
                payload=dict(row.payload),
            )
        )
    return jobs


def release_send_leases(connection: Connection, now: datetime) -> int:
    """End the send leases still running, so that their deliveries are claimed again at once
    (and counted as resends): what a process killed while sending left. Only for a database
    that one process writes (SQLite); several instances must wait for the leases to run out.
    Returns how many."""
    result = connection.execute(
        update(deliveries)
        .where(deliveries.c.status == "sending", deliveries.c.lease_until >= now)
        .values(lease_until=now)
    )
    return int(result.rowcount or 0)


def _record(connection: Connection, job: DeliveryJob, **values: Any) -> bool:
    """Write an outcome only if our claim still holds; False when the lease ran out and another
    dispatcher took the delivery (that one records its own outcome)."""
    result = connection.execute(
        update(deliveries)
        .where(
            deliveries.c.id == job.id,
            deliveries.c.status == "sending",
            deliveries.c.lease_until == job.lease_until,
        )
        .values(lease_until=None, **values)
    )
    return result.rowcount == 1


def mark_sent(connection: Connection, job: DeliveryJob, now: datetime) -> bool:
    return _record(connection, job, status="sent", sent_at=now, last_error=None)


def mark_retry(
    connection: Connection, job: DeliveryJob, next_attempt_at: datetime, error: str
) -> bool:
    return _record(
        connection, job, status="pending", next_attempt_at=next_attempt_at, last_error=error
    )


def mark_failed(connection: Connection, job: DeliveryJob, error: str) -> bool:
    return _record(connection, job, status="failed", last_error=error)


def other_outlets(connection: Connection, cluster_id: int | None, item_id: int | None) -> list[str]:
    """Names of the other feeds that carried the same story, for "also published by"."""
    if cluster_id is None or item_id is None:
        return []
    own_feed = select(items.c.feed_id).where(items.c.id == item_id).scalar_subquery()
    rows = connection.execute(
        select(func.coalesce(feeds.c.name, feeds.c.title, feeds.c.url))
        .join(items, items.c.feed_id == feeds.c.id)
        .where(items.c.cluster_id == cluster_id, items.c.feed_id != own_feed)
        .distinct()
    ).all()
    return sorted(str(row[0]) for row in rows)


def outbox_counts(connection: Connection) -> OutboxCounts:
    by_status = {
        str(status): int(count)
        for status, count in connection.execute(
            select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        )
    }
    resends = connection.execute(select(func.coalesce(func.sum(deliveries.c.resends), 0))).scalar()
    return OutboxCounts(
        pending=int(by_status.get("pending", 0)),
        sending=int(by_status.get("sending", 0)),
        sent=int(by_status.get("sent", 0)),
        failed=int(by_status.get("failed", 0)),
        resends=int(resends or 0),
    )
