"""Feed claims: which instance polls a feed now, and until when (docs/design.md §2).

A claim is `claimed_by` (the instance) and `claimed_until` (its expiry) on the feed's row. An
instance claims a bounded batch of the due, unclaimed feeds, renews its claims while it polls
them, and writes a poll's result only while the claim is still its own. A claim is not the
schedule: `next_check_at` stays when the feed is due, so a claim that expires (its instance
killed) leaves the feed due at once, for any instance.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, or_, select, update

from monitor.store.feeds import FeedState, feed_state
from monitor.store.tables import feeds

_CLAIM_SLICE = 10_000


def claim_due_feeds(
    connection: Connection,
    now: datetime,
    lease: timedelta,
    *,
    owner: str | None = None,
    limit: int | None = None,
    all_feeds: bool = False,
) -> list[FeedState]:
    """Claim for `owner` until `now + lease` at most `limit` of the due feeds no live claim
    holds, the longest due first, in one transaction. Rows another transaction is claiming are
    skipped (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's writers take turns). `all_feeds`
    (`poll --once --all`, an operator's request): every active feed, due, claimed or not."""
    query = select(feeds).where(feeds.c.active.is_(True)).order_by(feeds.c.next_check_at)
    if not all_feeds:
        query = query.where(
            feeds.c.next_check_at <= now,
            or_(feeds.c.claimed_until.is_(None), feeds.c.claimed_until <= now),
        )
    if limit is not None:
        query = query.limit(limit)
    rows = connection.execute(query.with_for_update(skip_locked=True)).all()
    ids = [row.id for row in rows]
    # In slices: a statement may bind at most 32,766 values on SQLite, 65,535 on PostgreSQL.
    for start in range(0, len(ids), _CLAIM_SLICE):
        connection.execute(
            update(feeds)
            .where(feeds.c.id.in_(ids[start : start + _CLAIM_SLICE]))
            .values(claimed_until=now + lease, claimed_by=owner)
        )
    return [feed_state(row) for row in rows]


def renew_feed_claims(
    connection: Connection, owner: str, ids: Collection[int], until: datetime
) -> int:
    """Extend `owner`'s claims on the feeds `ids` (those it is polling) to `until`; a claim
    another instance took meanwhile stays that one's. How many were renewed."""
    ordered, renewed = sorted(ids), 0
    for start in range(0, len(ordered), _CLAIM_SLICE):
        result = connection.execute(
            update(feeds)
            .where(
                feeds.c.id.in_(ordered[start : start + _CLAIM_SLICE]), feeds.c.claimed_by == owner
            )
            .values(claimed_until=until)
        )
        renewed += int(result.rowcount or 0)
    return renewed


def drop_feed_claims(connection: Connection, owner: str, ids: Collection[int]) -> int:
    """Give up `owner`'s claims on the feeds `ids`, claimed and not polled (the instance is
    stopping): due for any instance at once. How many."""
    if not ids:
        return 0
    result = connection.execute(
        update(feeds)
        .where(and_(feeds.c.id.in_(sorted(ids)), feeds.c.claimed_by == owner))
        .values(claimed_until=None, claimed_by=None)
    )
    return int(result.rowcount or 0)


def hold_feed_claim(connection: Connection, feed_id: int, owner: str) -> bool | None:
    """In the transaction that stores a poll's items: lock the feed's row (FOR UPDATE on
    PostgreSQL) and say whether the feed is seeded now, or None when the claim is no longer
    `owner`'s (it expired, and another instance claimed or polled the feed since). The row lock
    keeps the claim the owner's until the transaction ends."""
    row = connection.execute(
        select(feeds.c.claimed_by, feeds.c.seeded_at).where(feeds.c.id == feed_id).with_for_update()
    ).first()
    if row is None or row.claimed_by != owner:
        return None
    return row.seeded_at is not None


def release_feed_claims(connection: Connection, now: datetime) -> int:
    """Make the feeds a poll pass claimed and never recorded due now, not when the claim runs
    out: what a process killed while polling left. Only for a database that one process writes
    (SQLite). Returns how many."""
    result = connection.execute(
        update(feeds)
        .where(feeds.c.claimed_until.is_not(None))
        .values(next_check_at=now, claimed_until=None, claimed_by=None)
    )
    return int(result.rowcount or 0)
