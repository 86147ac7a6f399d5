"""Operations alerts: a feed failing or silent for longer than its `stale_after` sends one alert
to the `ops.notify` channels, and one when it recovers; a channel that refuses alerts for good
sends one too. They go through the outbox like story alerts, so they too survive crashes and
outages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from monitor.config.schema import RESERVED_WATCHLIST, Config
from monitor.feeds import redact_url
from monitor.store import StaleChange, create_alert, mark_stale, stale_changes
from monitor.timespan import span_text

log = logging.getLogger("monitor.ops")

OPS_WATCHLIST = RESERVED_WATCHLIST  # user watchlists may not take the name


def check_stale_feeds(engine: Engine, config: Config, clock: Callable[[], datetime]) -> int:
    """Record the feeds that became stale or recovered, with an alert each when `ops.notify`
    names channels; returns how many changed. A feed that is no longer stale only because its
    `stale_after` was raised is unmarked without an alert: nothing recovered."""
    limits = {feed.url: config.stale_after(feed) for feed in config.feeds}
    with engine.begin() as connection:
        now = clock()
        changes = stale_changes(connection, limits, now)
        for change in changes:
            mark_stale(connection, change.feed_id, now if change.kind == "stale" else None)
            if change.kind == "cleared":
                log.info(
                    "feed %s is no longer stale by its stale_after (no new item came)",
                    redact_url(change.url),
                    extra={"feed": redact_url(change.url)},
                )
                continue
            payload = ops_payload(change, now)
            log.warning(
                "%s: %s",
                payload["title"],
                payload["snippet"]["text"],
                extra={"feed": redact_url(change.url), "watchlist": OPS_WATCHLIST},
            )
            alert_operations(connection, config, payload, now, episode_key(change))
    return len(changes)


def episode_key(change: StaleChange) -> str:
    """The key of the alert about `change`, from what the database holds, so that instances
    seeing the same episode at once record one alert: a feed is stale since its last item (or
    since it was added), and recovered from the staleness marked at `stale_since`. A new item
    starts a new episode: a new key."""
    if change.kind == "stale":
        since = change.last_item_at or change.created_at
        return f"stale:{change.feed_id}:{since.isoformat()}"
    assert change.stale_since is not None  # recovered: it was marked stale
    return f"recovered:{change.feed_id}:{change.stale_since.isoformat()}"


def refusal_key(channel: str, since: datetime) -> str:
    """The key of the alert about `channel` refusing alerts since `since` (its refusal row)."""
    return f"refused:{channel}:{since.isoformat()}"


def alert_operations(
    connection: Connection, config: Config, payload: dict[str, Any], now: datetime, key: str
) -> None:
    """An operations alert to the `ops.notify` channels (none named: the log alone says it),
    written in the caller's transaction, through the outbox like a story alert; `key` names its
    event, and an alert already recorded under it (by another instance) is not recorded again."""
    if config.ops.notify:
        create_alert(
            connection,
            watchlist=OPS_WATCHLIST,
            cluster_id=None,
            item_id=None,
            payload=payload,
            channels=config.ops.notify,
            now=now,
            ops_key=key,
        )


def channel_refused_payload(
    channel: str, shown_url: str, alert_id: int, error: str, now: datetime
) -> dict[str, Any]:
    """An alert payload about a channel that refused an alert for good."""
    text = (
        f"Alert {alert_id} to {channel} failed for good: {error}. Its later alerts fail at once "
        f"too until a send to it succeeds; fix the channel and check it with "
        f"`monitor test-alert {channel}`."
    )
    return _payload(f"Channel {channel} refuses alerts", shown_url, text, now)


def ops_payload(change: StaleChange, now: datetime) -> dict[str, Any]:
    """An alert payload (as monitor.pipeline.payload writes them) about a feed."""
    if change.kind == "stale":
        title = f"Feed {change.name} is stale"
        reason = _stale_reason(change, now)
    else:
        title = f"Feed {change.name} recovered"
        stale_for = span_text(now - (change.stale_since or now), 2)
        reason = f"New items again, after {stale_for} stale."
    return _payload(title, redact_url(change.url), reason, now)


def _payload(title: str, url: str, text: str, now: datetime) -> dict[str, Any]:
    return {
        "title": title,
        "url": url,
        "source": "monitor operations",
        "published": now.isoformat(),
        "terms": [],
        "hits": [],
        "snippet": {"text": text, "highlights": []},
    }


def _stale_reason(change: StaleChange, now: datetime) -> str:
    limit = span_text(change.limit, 2)
    if change.last_success_at is None or now - change.last_success_at > change.limit:
        since = (
            "since it was added"
            if change.last_success_at is None
            else f"for {span_text(now - change.last_success_at, 2)}"
        )
        return (
            f"Failing: no successful poll {since} (stale after {limit}). "
            f"Last error: {change.last_error or 'none recorded'}."
        )
    if change.last_item_at is None:
        return f"Silent: polls succeed, but no item since it was added (stale after {limit})."
    quiet = span_text(now - change.last_item_at, 2)
    return f"Silent: polls succeed, but no new item for {quiet} (stale after {limit})."
