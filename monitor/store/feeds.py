"""The feeds table: which feeds exist, when each is due, and how its last poll went."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from monitor.model import FeedStatus, PollOutcome, Validators, status_word
from monitor.store.sql import SCHEMA_LOCK, advisory_xact_lock, insert_ignoring_conflict
from monitor.store.tables import feeds


@dataclass(frozen=True)
class FeedState:
    id: int
    url: str
    name: str | None
    title: str | None
    validators: Validators
    body_hash: str | None
    seeded: bool
    error_count: int
    status: FeedStatus
    error_kind: str | None = None
    fetch_url: str | None = None  # where it moved permanently, if it did
    ttl_seconds: int | None = None  # the RSS <ttl> of its last parsed document
    entries_hash: str | None = None  # the digest of its last parsed document's entries

    @property
    def display_name(self) -> str:
        return self.name or self.title or self.url

    @property
    def location(self) -> str:
        """Where to fetch it: its new address after a permanent redirect, else its own."""
        return self.fetch_url or self.url


def sync_feeds(
    connection: Connection, configured: Sequence[tuple[str, str | None]], now: datetime
) -> None:
    """Make the table agree with the configuration: new feeds are due now, removed ones go
    inactive (their items and alerts stay, so history is not lost by a config edit).

    Safe for several instances starting or reloading at once: they take turns under the schema
    lock (PostgreSQL), a feed another one inserted meanwhile is not inserted again (ON CONFLICT
    DO NOTHING), and only the rows that change are updated, in id order, the order every
    many-row write of feeds keeps, so that none waits in a cycle with another (a deadlock)."""
    advisory_xact_lock(connection, SCHEMA_LOCK)
    wanted = dict(configured)
    rows = connection.execute(
        select(feeds.c.id, feeds.c.url, feeds.c.name, feeds.c.active).order_by(feeds.c.id)
    ).all()
    existing = {row.url for row in rows}
    for row in rows:
        if row.url in wanted:
            values = {"name": wanted[row.url], "active": True}
        else:
            values = {"name": row.name, "active": False}
        if (row.name, row.active) != (values["name"], values["active"]):
            connection.execute(update(feeds).where(feeds.c.id == row.id).values(**values))
    for url, name in wanted.items():
        if url not in existing:
            insert_ignoring_conflict(
                connection,
                feeds,
                {
                    "url": url,
                    "name": name,
                    "active": True,
                    "next_check_at": now,
                    "status": FeedStatus.NEW.value,
                    "error_count": 0,
                    "items_seen": 0,
                    "created_at": now,
                },
                ("url",),
            )


def feed_state(row: Any) -> FeedState:
    return FeedState(
        id=row.id,
        url=row.url,
        name=row.name,
        title=row.title,
        validators=Validators(etag=row.etag, last_modified=row.last_modified),
        body_hash=row.body_hash,
        seeded=row.seeded_at is not None,
        error_count=row.error_count,
        status=FeedStatus(row.status),
        error_kind=row.error_kind,
        fetch_url=row.fetch_url,
        ttl_seconds=row.ttl_seconds,
        entries_hash=row.entries_hash,
    )


def record_poll(
    connection: Connection, feed_id: int, outcome: PollOutcome, *, owner: str | None = None
) -> bool:
    """Record how a poll went: a failure counts one more in a row and keeps what the last good
    poll stored; a success resets the count and keeps the document's validators and hashes.
    With `owner`, only while the feed's claim is still that instance's (monitor/store/claims.py):
    False when it is not, and nothing is written."""
    mine = feeds.c.id == feed_id
    if owner is not None:
        mine = and_(mine, feeds.c.claimed_by == owner)
    values: dict[str, object] = {
        "claimed_until": None,
        "claimed_by": None,
        "status": outcome.status.value,
        "error_kind": outcome.error_kind if outcome.status is FeedStatus.ERROR else None,
        "last_error": outcome.message,
        "last_checked_at": outcome.checked_at,
        "next_check_at": outcome.next_check_at,
    }
    if outcome.status.failing:
        values["error_count"] = feeds.c.error_count + 1
        return bool(connection.execute(update(feeds).where(mine).values(**values)).rowcount)
    values |= {
        "last_success_at": outcome.checked_at,
        "error_count": 0,
        "items_seen": feeds.c.items_seen + outcome.new_items,
    }
    if outcome.validators is not None:
        values["etag"] = outcome.validators.etag
        values["last_modified"] = outcome.validators.last_modified
    optional = {
        "body_hash": outcome.body_hash,
        "entries_hash": outcome.entries_hash,
        "title": outcome.title,
        "fetch_url": outcome.moved_to,
    }
    values |= {column: value for column, value in optional.items() if value}
    if outcome.new_items:
        values["last_item_at"] = outcome.checked_at
    if outcome.status is FeedStatus.OK:
        # A parsed document: its <ttl>, or none, replaces the last one's.
        values["ttl_seconds"] = outcome.ttl_seconds
        # The first good parse stores the backlog silently; later polls may alert.
        values["seeded_at"] = func.coalesce(feeds.c.seeded_at, outcome.checked_at)
    return bool(connection.execute(update(feeds).where(mine).values(**values)).rowcount)


@dataclass(frozen=True)
class FeedHealth:
    """How a feed's polling goes, as `monitor feeds` reports it."""

    url: str
    name: str | None
    title: str | None
    status: FeedStatus
    error_kind: str | None  # of an error status
    error: str | None  # the last error, or a warning of an ok poll
    error_count: int  # failed polls in a row
    last_checked_at: datetime | None
    last_success_at: datetime | None
    next_check_at: datetime | None
    items: int  # items stored from this feed
    moved_to: str | None = None  # where it moved permanently (301, 308)
    stale_since: datetime | None = None  # failing or silent past its stale_after since then
    claimed_until: datetime | None = None  # an instance polls it now, until then at most

    @property
    def display_name(self) -> str:
        return self.name or self.title or self.url

    @property
    def status_word(self) -> str:
        return status_word(self.status, self.error_kind)


def feed_health(connection: Connection, urls: Sequence[str]) -> list[FeedHealth]:
    """The health of the feeds at `urls` (the configured ones), in that order; a feed never
    polled yet is `new`."""
    rows = {
        row.url: row
        for row in connection.execute(
            select(
                feeds.c.url,
                feeds.c.name,
                feeds.c.title,
                feeds.c.status,
                feeds.c.error_kind,
                feeds.c.last_error,
                feeds.c.error_count,
                feeds.c.last_checked_at,
                feeds.c.last_success_at,
                feeds.c.next_check_at,
                feeds.c.items_seen,
                feeds.c.fetch_url,
                feeds.c.stale_since,
                feeds.c.claimed_until,
            )
        )
    }
    found = []
    for url in urls:
        row = rows.get(url)
        if row is None:
            found.append(
                FeedHealth(url, None, None, FeedStatus.NEW, None, None, 0, None, None, None, 0)
            )
            continue
        found.append(
            FeedHealth(
                url=url,
                name=row.name,
                title=row.title,
                status=FeedStatus(row.status),
                error_kind=row.error_kind,
                error=row.last_error,
                error_count=row.error_count,
                last_checked_at=row.last_checked_at,
                last_success_at=row.last_success_at,
                next_check_at=row.next_check_at,
                items=row.items_seen,
                moved_to=row.fetch_url,
                stale_since=row.stale_since,
                claimed_until=row.claimed_until,
            )
        )
    return found


@dataclass(frozen=True)
class StaleChange:
    """A feed that became stale (no new item for longer than its stale_after), recovered (a
    new item since it was marked stale), or cleared (no longer stale by a stale_after raised
    since, though no item came), with what a message about it needs."""

    feed_id: int
    url: str
    name: str
    kind: str  # stale | recovered | cleared
    limit: timedelta
    created_at: datetime
    last_item_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    stale_since: datetime | None


def stale_changes(
    connection: Connection, stale_after: Mapping[str, timedelta], now: datetime
) -> list[StaleChange]:
    """The active feeds (of those in `stale_after`, by URL) whose staleness changed: stale when
    no poll stored a new item (or, for a feed that never brought one, since it was added) for
    longer than its limit; recovered when one did again; cleared when a limit raised since it
    was marked no longer holds, though no item came."""
    rows = connection.execute(
        select(
            feeds.c.id,
            feeds.c.url,
            feeds.c.name,
            feeds.c.title,
            feeds.c.created_at,
            feeds.c.last_item_at,
            feeds.c.last_success_at,
            feeds.c.last_error,
            feeds.c.stale_since,
        )
        .where(feeds.c.active.is_(True))
        .order_by(feeds.c.id)  # the callers mark them in this order: id order (sync_feeds)
    )
    changes = []
    for row in rows:
        limit = stale_after.get(row.url)
        if limit is None:
            continue
        stale = now - (row.last_item_at or row.created_at) > limit
        if stale == (row.stale_since is not None):
            continue
        if stale:
            kind = "stale"
        elif row.last_item_at is not None and row.last_item_at > row.stale_since:
            kind = "recovered"
        else:
            kind = "cleared"
        changes.append(
            StaleChange(
                feed_id=row.id,
                url=row.url,
                name=row.name or row.title or row.url,
                kind=kind,
                limit=limit,
                created_at=row.created_at,
                last_item_at=row.last_item_at,
                last_success_at=row.last_success_at,
                last_error=row.last_error,
                stale_since=row.stale_since,
            )
        )
    return changes


def mark_stale(connection: Connection, feed_id: int, since: datetime | None) -> None:
    connection.execute(update(feeds).where(feeds.c.id == feed_id).values(stale_since=since))
