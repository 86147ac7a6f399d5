"""Message rows: one a send to a channel (a story, a digest, the operations alerts of one
dispatch), opened before the send and closed with its outcome. A channel's sends of the last
minutes are what its rate limit counts, and a message's deliveries what `monitor alerts
--message` lists. Which channels refuse alerts for good is kept here too, so one operations
alert says so, across restarts and `poll --once` runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from monitor.store.sql import insert_ignoring_conflict
from monitor.store.tables import alerts, channel_refusals, deliveries, messages


def open_message(
    connection: Connection, channel: str, kind: str, delivery_ids: Sequence[int], now: datetime
) -> int:
    """A row for a send about to start (it counts against the channel's rate limit from now);
    the deliveries it carries point to it."""
    message_id = connection.execute(
        insert(messages)
        .values(
            channel=channel, kind=kind, status="sending", alerts=len(delivery_ids), created_at=now
        )
        .returning(messages.c.id)
    ).scalar_one()
    connection.execute(
        update(deliveries).where(deliveries.c.id.in_(delivery_ids)).values(message_id=message_id)
    )
    return int(message_id)


def close_message(
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


def refused_for_good(connection: Connection, channel: str, now: datetime, error: str) -> bool:
    """Record that `channel` refuses alerts for good; True the first time since it last
    worked (then an operations alert says so)."""
    created = insert_ignoring_conflict(
        connection,
        channel_refusals,
        {"channel": channel, "since": now, "error": error},
        ("channel",),
    )
    return created is not None


def channel_works(connection: Connection, channel: str) -> None:
    """A send to `channel` succeeded: a later refusal is news again."""
    connection.execute(delete(channel_refusals).where(channel_refusals.c.channel == channel))
