"""The alerts table and its outbox rows: an alert and one delivery per channel are written in the
same transaction as the item that caused them (transactional outbox, docs/design.md §6)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from monitor.store.sql import insert_ignoring_conflict
from monitor.store.tables import alerts, deliveries


def create_alert(
    connection: Connection,
    *,
    watchlist: str,
    cluster_id: int | None,
    item_id: int | None,
    payload: Mapping[str, Any],
    channels: Sequence[str],
    now: datetime,
    ops_key: str | None = None,
) -> int | None:
    """Record the alert for (watchlist, story) unless one exists; returns its id when created.
    UNIQUE(watchlist, cluster_id) keeps this to one alert per story across copies, restarts and
    several instances. An operations alert has no story (`cluster_id` and `item_id` None) but an
    `ops_key` naming its event, unique too: one alert per event, however many instances see it."""
    alert_id = insert_ignoring_conflict(
        connection,
        alerts,
        {
            "watchlist": watchlist,
            "cluster_id": cluster_id,
            "item_id": item_id,
            "payload": dict(payload),
            "created_at": now,
            "ops_key": ops_key,
        },
        ("watchlist", "cluster_id") if ops_key is None else ("ops_key",),
    )
    if alert_id is None:
        return None
    for channel in channels:
        insert_ignoring_conflict(
            connection,
            deliveries,
            {
                "alert_id": alert_id,
                "channel": channel,
                "status": "pending",
                "attempts": 0,
                "resends": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
            ("alert_id", "channel"),
        )
    return alert_id
