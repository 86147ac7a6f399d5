"""Outbox claims: the dispatcher leases the due deliveries of one channel, sends them as one or
more messages, then records each message's outcome on the deliveries it carried.

A lease (status `sending` with `lease_until`) marks a send in flight. If the process dies
mid-send, the lease expires and the delivery is claimed again: at-least-once, and `resends`
counts those so they are visible rather than silent. A delivery held for a digest is `pending`
with a `hold` reason and the time it goes (`next_attempt_at`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from monitor.store.messages import close_message
from monitor.store.tables import alerts, deliveries, messages


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
        and_(deliveries.c.status == "sending", deliveries.c.lease_until <= now),
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
    rows = connection.execute(
        select(
            deliveries.c.id,
            deliveries.c.alert_id,
            deliveries.c.channel,
            deliveries.c.attempts,
            deliveries.c.hold,
            alerts.c.created_at,
            alerts.c.watchlist,
            alerts.c.cluster_id,
            alerts.c.item_id,
            alerts.c.payload,
            deliveries.c.message_id,
            (messages.c.status == "sending").label("was_in_flight"),
        )
        .join(alerts, alerts.c.id == deliveries.c.alert_id)
        .outerjoin(messages, messages.c.id == deliveries.c.message_id)
        .where(_due_condition(now), deliveries.c.channel == channel)
        .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        .limit(limit)
        .with_for_update(of=deliveries, skip_locked=True)
    ).all()
    lease_until = now + lease
    # A claim that expired is a resend only if its message was being sent when the process
    # died (the message row still says so): a claim is not a send. That message is closed as
    # interrupted, so it is counted once.
    in_flight = [row.id for row in rows if row.was_in_flight]
    interrupted = {row.message_id for row in rows if row.was_in_flight}
    if interrupted:
        connection.execute(
            update(messages)
            .where(messages.c.id.in_(interrupted), messages.c.status == "sending")
            .values(status="interrupted")
        )
    for ids, resent in (([row.id for row in rows if not row.was_in_flight], 0), (in_flight, 1)):
        for chunk in _chunks(ids):
            connection.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(chunk))
                .values(
                    status="sending",
                    lease_until=lease_until,
                    attempts=deliveries.c.attempts + 1,
                    resends=deliveries.c.resends + resent,
                )
            )
    return [
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
        for row in rows
    ]


def _chunks(ids: Sequence[int], size: int = 500) -> Iterator[Sequence[int]]:
    """Ids a few hundred at a time: SQLite limits the parameters of one statement."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def release_send_leases(connection: Connection, now: datetime) -> int:
    """End the send leases still running, so that their deliveries are claimed again at once:
    what a process killed while sending left. Only for a database that one process writes
    (SQLite); several instances must wait for the leases to run out. Returns how many
    deliveries were in a message being sent (those may arrive twice, and count as resends when
    claimed again)."""
    in_flight = connection.execute(
        select(func.count())
        .select_from(deliveries.join(messages, messages.c.id == deliveries.c.message_id))
        .where(deliveries.c.status == "sending", messages.c.status == "sending")
    ).scalar()
    connection.execute(
        update(deliveries)
        .where(deliveries.c.status == "sending", deliveries.c.lease_until > now)
        .values(lease_until=now)
    )
    return int(in_flight or 0)


def _record(connection: Connection, jobs: Sequence[DeliveryJob], **values: Any) -> int:
    """Write an outcome on the deliveries whose claim still holds; returns how many. A lease that
    ran out means another dispatcher took the delivery (that one records its own outcome)."""
    recorded = 0
    by_lease: dict[datetime, list[int]] = {}
    for job in jobs:
        by_lease.setdefault(job.lease_until, []).append(job.id)
    for lease_until, ids in by_lease.items():
        for chunk in _chunks(ids):
            result = connection.execute(
                update(deliveries)
                .where(
                    deliveries.c.id.in_(chunk),
                    deliveries.c.status == "sending",
                    deliveries.c.lease_until == lease_until,
                )
                .values(lease_until=None, **values)
            )
            recorded += int(result.rowcount or 0)
    return recorded


def record_sent(
    connection: Connection,
    jobs: Sequence[DeliveryJob],
    now: datetime,
    message_id: int | None = None,
) -> int:
    close_message(connection, message_id, "sent", sent_at=now)
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
    close_message(connection, message_id, "retry", error=error)
    return _record(
        connection, jobs, status="pending", next_attempt_at=next_attempt_at, last_error=error
    )


def record_failed(
    connection: Connection,
    jobs: Sequence[DeliveryJob],
    error: str,
    message_id: int | None = None,
) -> int:
    close_message(connection, message_id, "failed", error=error)
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


def release_deliveries(
    connection: Connection, jobs: Sequence[DeliveryJob], until: datetime | None = None
) -> int:
    """Give claimed deliveries back unsent, as they were (not attempted), due again now or at
    `until`: the rest of a large claim (so no claim outlives its lease), or the rest of a
    channel that just failed a send (a retry waits for it, and for the service's Retry-After)."""
    if until is None:
        return _record(connection, jobs, status="pending", attempts=deliveries.c.attempts - 1)
    return _record(
        connection,
        jobs,
        status="pending",
        attempts=deliveries.c.attempts - 1,
        next_attempt_at=until,
    )


@dataclass(frozen=True)
class PendingDeliveries:
    """What waits to be sent (retries, digests and sends in flight included)."""

    deliveries: int
    alerts: int
    oldest: datetime | None  # when the oldest of them was created


def pending_deliveries(connection: Connection) -> PendingDeliveries:
    """One aggregate over the outbox's due index (`status`): read at every metrics scrape."""
    row = connection.execute(
        select(
            func.count(),
            func.count(deliveries.c.alert_id.distinct()),
            func.min(deliveries.c.created_at),
        ).where(deliveries.c.status.in_(("pending", "sending")))
    ).one()
    return PendingDeliveries(int(row[0]), int(row[1]), row[2])


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
