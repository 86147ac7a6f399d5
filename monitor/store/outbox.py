"""Outbox claims: the dispatcher leases the due deliveries of one channel, sends them as one or
more messages, then records each message's outcome on the deliveries it carried.

A lease (status `sending` with `lease_until`) marks a send in flight. If the process dies
mid-send, the lease expires and the delivery is claimed again: at-least-once, and `resends`
counts those so they are visible rather than silent. A delivery held for a digest is `pending`
with a `hold` reason and the time it goes (`next_attempt_at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from monitor.model import Outlet
from monitor.store.tables import alerts, deliveries, feeds, items, messages


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
    hold: str | None = None  # why it was held for a digest (its hold has ended: it is due)


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    sending: int
    sent: int
    failed: int
    resends: int
    held: int = 0  # pending for a digest (quiet hours, a digest schedule, a rate limit)


def _due_condition(now: datetime) -> Any:
    return or_(
        and_(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now),
        and_(deliveries.c.status == "sending", deliveries.c.lease_until < now),
    )


def claim_channel_deliveries(
    connection: Connection, now: datetime, lease: timedelta, limit: int = 1000
) -> list[DeliveryJob]:
    """Lease the due deliveries of one channel, the one whose oldest is due first: they are
    grouped into messages together (one per story, the held ones into a digest). Empty when
    nothing is due."""
    channel = connection.execute(
        select(deliveries.c.channel)
        .where(_due_condition(now))
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar()
    if channel is None:
        return []
    return _claim(connection, now, lease, limit, deliveries.c.channel == channel)


def claim_due_deliveries(
    connection: Connection, now: datetime, lease: timedelta, limit: int = 100
) -> list[DeliveryJob]:
    """Lease due deliveries of any channel, oldest due first."""
    return _claim(connection, now, lease, limit, True)


def _claim(
    connection: Connection, now: datetime, lease: timedelta, limit: int, where: Any
) -> list[DeliveryJob]:
    rows = connection.execute(
        select(
            deliveries.c.id,
            deliveries.c.alert_id,
            deliveries.c.channel,
            deliveries.c.attempts,
            deliveries.c.status,
            deliveries.c.hold,
            alerts.c.created_at,
            alerts.c.watchlist,
            alerts.c.cluster_id,
            alerts.c.item_id,
            alerts.c.payload,
        )
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .where(_due_condition(now), where)
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
                hold=row.hold,
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


def _record(connection: Connection, jobs: Sequence[DeliveryJob], **values: Any) -> int:
    """Write an outcome on the deliveries whose claim still holds; returns how many. A lease that
    ran out means another dispatcher took the delivery (that one records its own outcome)."""
    recorded = 0
    for job in jobs:
        result = connection.execute(
            update(deliveries)
            .where(
                deliveries.c.id == job.id,
                deliveries.c.status == "sending",
                deliveries.c.lease_until == job.lease_until,
            )
            .values(lease_until=None, **values)
        )
        recorded += int(result.rowcount or 0)
    return recorded


def mark_sent(connection: Connection, job: DeliveryJob, now: datetime) -> bool:
    return record_sent(connection, [job], now) == 1


def mark_retry(
    connection: Connection, job: DeliveryJob, next_attempt_at: datetime, error: str
) -> bool:
    return record_retry(connection, [job], next_attempt_at, error) == 1


def mark_failed(connection: Connection, job: DeliveryJob, error: str) -> bool:
    return record_failed(connection, [job], error) == 1


def record_sent(
    connection: Connection,
    jobs: Sequence[DeliveryJob],
    now: datetime,
    message_id: int | None = None,
) -> int:
    _close_message(connection, message_id, "sent", sent_at=now)
    return _record(connection, jobs, status="sent", sent_at=now, last_error=None, hold=None)


def record_retry(
    connection: Connection,
    jobs: Sequence[DeliveryJob],
    next_attempt_at: datetime,
    error: str,
    message_id: int | None = None,
) -> int:
    """Back to pending until `next_attempt_at`; a held delivery keeps its hold, so it goes in a
    digest again."""
    _close_message(connection, message_id, "retry", error=error)
    return _record(
        connection, jobs, status="pending", next_attempt_at=next_attempt_at, last_error=error
    )


def record_failed(
    connection: Connection,
    jobs: Sequence[DeliveryJob],
    error: str,
    message_id: int | None = None,
) -> int:
    _close_message(connection, message_id, "failed", error=error)
    return _record(connection, jobs, status="failed", last_error=error)


def hold_deliveries(
    connection: Connection, jobs: Sequence[DeliveryJob], until: datetime, reason: str
) -> int:
    """Hold claimed deliveries for a digest at `until`; the claim did not send, so it is not
    counted as an attempt. A held delivery waits for its time, not for its channel to work
    again: its last error goes (see `retry_channel_now`)."""
    return _record(
        connection,
        jobs,
        status="pending",
        next_attempt_at=until,
        hold=reason,
        attempts=deliveries.c.attempts - 1,
        last_error=None,
    )


def retry_channel_now(connection: Connection, channel: str, now: datetime) -> int:
    """A send to `channel` succeeded: the deliveries waiting out a backoff after a failed send
    to it are due now, not in up to an hour (the channel is back after an outage). Returns
    how many."""
    result = connection.execute(
        update(deliveries)
        .where(
            deliveries.c.channel == channel,
            deliveries.c.status == "pending",
            deliveries.c.last_error.is_not(None),
            deliveries.c.next_attempt_at > now,
        )
        .values(next_attempt_at=now)
    )
    return int(result.rowcount or 0)


def release_deliveries(connection: Connection, jobs: Sequence[DeliveryJob]) -> int:
    """Give claimed deliveries back as they were (due, not attempted): the pass sends the first
    messages of a large batch and claims the rest again, so no claim outlives its lease."""
    return _record(connection, jobs, status="pending", attempts=deliveries.c.attempts - 1)


def open_message(
    connection: Connection, channel: str, kind: str, jobs: Sequence[DeliveryJob], now: datetime
) -> int:
    """A row for a send about to start (it counts against the channel's rate limit from now);
    the deliveries it carries point to it."""
    message_id = connection.execute(
        insert(messages)
        .values(channel=channel, kind=kind, status="sending", alerts=len(jobs), created_at=now)
        .returning(messages.c.id)
    ).scalar_one()
    connection.execute(
        update(deliveries)
        .where(deliveries.c.id.in_([job.id for job in jobs]))
        .values(message_id=message_id)
    )
    return int(message_id)


def _close_message(
    connection: Connection, message_id: int | None, status: str, **values: Any
) -> None:
    if message_id is not None:
        connection.execute(
            update(messages).where(messages.c.id == message_id).values(status=status, **values)
        )


def recent_sends(connection: Connection, channel: str, since: datetime) -> list[datetime]:
    """When the messages sent (or being sent) to `channel` after `since` started, oldest first:
    what its rate limit counts. A send that failed at once counts too: the service saw it."""
    rows = connection.execute(
        select(messages.c.created_at)
        .where(messages.c.channel == channel, messages.c.created_at > since)
        .order_by(messages.c.created_at)
    ).all()
    return [row[0] for row in rows]


def story_outlets(
    connection: Connection, cluster_id: int | None, item_id: int | None
) -> list[Outlet]:
    """The other feeds that carried the same story, each with its copy's link, for "also
    published by": one per feed (its first copy), sorted by name."""
    if cluster_id is None or item_id is None:
        return []
    own_feed = select(items.c.feed_id).where(items.c.id == item_id).scalar_subquery()
    rows = connection.execute(
        select(func.coalesce(feeds.c.name, feeds.c.title, feeds.c.url), items.c.url, items.c.id)
        .join(items, items.c.feed_id == feeds.c.id)
        .where(items.c.cluster_id == cluster_id, items.c.feed_id != own_feed)
        .order_by(items.c.id)
    ).all()
    first_copy: dict[str, str | None] = {}
    for name, url, _ in rows:
        first_copy.setdefault(str(name), url)
    return [Outlet(name, first_copy[name]) for name in sorted(first_copy)]


def other_outlets(connection: Connection, cluster_id: int | None, item_id: int | None) -> list[str]:
    """Names of the other feeds that carried the same story."""
    return [outlet.name for outlet in story_outlets(connection, cluster_id, item_id)]


@dataclass(frozen=True)
class CarriedAlert:
    """An alert a message carried, as `monitor alerts --message` lists it."""

    alert_id: int
    watchlist: str
    decided_at: datetime
    channel: str
    status: str  # the delivery's: sent, pending, sending, failed
    payload: dict[str, Any]


def message_alerts(connection: Connection, message_id: int) -> list[CarriedAlert]:
    """The alerts a message (a digest, a story, operations alerts) carried, oldest first."""
    rows = connection.execute(
        select(
            alerts.c.id,
            alerts.c.watchlist,
            alerts.c.created_at,
            deliveries.c.channel,
            deliveries.c.status,
            alerts.c.payload,
        )
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .where(deliveries.c.message_id == message_id)
        .order_by(alerts.c.id)
    ).all()
    return [CarriedAlert(row[0], row[1], row[2], row[3], row[4], dict(row[5])) for row in rows]


def outbox_counts(connection: Connection) -> OutboxCounts:
    by_status = {
        str(status): int(count)
        for status, count in connection.execute(
            select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        )
    }
    resends = connection.execute(select(func.coalesce(func.sum(deliveries.c.resends), 0))).scalar()
    held = connection.execute(
        select(func.count()).where(deliveries.c.status == "pending", deliveries.c.hold.is_not(None))
    ).scalar()
    return OutboxCounts(
        pending=int(by_status.get("pending", 0)),
        sending=int(by_status.get("sending", 0)),
        sent=int(by_status.get("sent", 0)),
        failed=int(by_status.get("failed", 0)),
        resends=int(resends or 0),
        held=int(held or 0),
    )
