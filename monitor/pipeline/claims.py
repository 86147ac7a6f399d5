"""This instance's feed claims during one poll pass: taken in batches as workers free up,
renewed while held, given up when the pass stops; a result written after its claim was lost is
dropped (docs/design.md §2, Feed claims).

A claim lasts CLAIM_LEASE and is renewed every third of it while its feed's poll runs, so a poll
longer than the lease keeps its feed, and the claims of an instance killed with SIGKILL expire
within CLAIM_LEASE: the feeds are due for the others at once (their schedule, `next_check_at`,
is not moved by a claim), polled within a lease and a poll tick.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from monitor.feeds import redact_url
from monitor.model import FeedStatus, PollOutcome
from monitor.pipeline.host_queues import HostQueues
from monitor.store import FeedState, claim_due_feeds, drop_feed_claims, renew_feed_claims

log = logging.getLogger("monitor.poll")
InThread = Callable[..., Awaitable[Any]]

# Short, and renewed: a killed instance's feeds wait at most this long for another.
CLAIM_LEASE = timedelta(seconds=45)
RENEW_EVERY = CLAIM_LEASE / 3


def instance_name() -> str:
    """Who claims: unique per process start (a uuid), with the host and pid for humans."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4().hex[:12]}"


class PassClaims:
    """The claims one pass of `owner` holds. `in_thread` runs database work in the poller's
    database threads."""

    def __init__(
        self,
        engine: Engine,
        owner: str,
        in_thread: InThread,
        clock: Callable[[], datetime],
        *,
        lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self._engine = engine
        self._owner = owner
        self._in_thread = in_thread
        self._clock = clock
        self._lease = lease
        self._held: set[int] = set()

    async def claim(self, limit: int | None, *, all_feeds: bool = False) -> list[FeedState]:
        """Claim at most `limit` due feeds (None: no limit), and hold them."""
        claimed: list[FeedState] = await self._in_thread(self._claim, limit, all_feeds)
        self._held.update(feed.id for feed in claimed)
        return claimed

    def _claim(self, limit: int | None, all_feeds: bool) -> list[FeedState]:
        with self._engine.begin() as connection:
            return claim_due_feeds(
                connection,
                self._clock(),
                self._lease,
                owner=self._owner,
                limit=limit,
                all_feeds=all_feeds,
            )

    async def keep_queued(
        self,
        queues: HostQueues[FeedState],
        due: list[FeedState],
        batch: int,
        workers: int,
        stopping: Callable[[], bool],
    ) -> None:
        """More feeds whenever half the batch is polled, until no more are due."""
        try:
            while not stopping():
                if len(queues) > batch - workers:
                    await queues.changed()
                    continue
                wanted = batch - len(queues)
                claimed = await self.claim(wanted)
                due.extend(claimed)
                queues.add(claimed)
                if len(claimed) < wanted:
                    return  # no more due now: the next tick's pass takes those due then
        finally:
            queues.close()

    def done(self, feed_id: int) -> None:
        """The feed's poll ended: its result is written, or about to be (group commit), well
        within the lease its last renewal gave it."""
        self._held.discard(feed_id)

    async def keep_renewed(self) -> None:
        """Renew the held claims every RENEW_EVERY until cancelled (the pass ends)."""
        while True:
            await asyncio.sleep((self._lease / 3).total_seconds())
            ids = sorted(self._held)
            if not ids:
                continue
            try:
                await self._in_thread(self._renew, ids)
            except Exception as exc:  # the database is away: the next renewal may reach it
                log.error("feed claims not renewed: %s", (str(exc) or repr(exc)).splitlines()[0])

    @asynccontextmanager
    async def renewed(self) -> AsyncIterator[None]:
        """The held claims renewed in a task while the block runs (`keep_renewed`)."""
        renewing = asyncio.ensure_future(self.keep_renewed())
        try:
            yield
        finally:
            renewing.cancel()

    def _renew(self, ids: list[int]) -> int:
        with self._engine.begin() as connection:
            return renew_feed_claims(connection, self._owner, ids, self._clock() + self._lease)

    async def drop(self, feeds: list[FeedState]) -> None:
        """Give up the claims of feeds claimed and never polled (the pass stops)."""
        ids = [feed.id for feed in feeds]
        for feed_id in ids:
            self._held.discard(feed_id)
        if ids:
            await self._in_thread(self._drop, ids)

    def _drop(self, ids: list[int]) -> int:
        with self._engine.begin() as connection:
            return drop_feed_claims(connection, self._owner, ids)


def claim_lost(feed: FeedState, now: datetime) -> PollOutcome:
    """A result written too late: another instance holds the feed's claim now, or polled
    it since. Nothing is stored; the other instance's poll stands."""
    shown = redact_url(feed.url)
    log.warning(
        "feed %s: claim lost to another instance; result dropped",
        shown,
        extra={"feed": shown},
    )
    return PollOutcome(
        feed.url,
        FeedStatus.ERROR,
        now,
        now,
        error_kind="internal",
        message="claim lost to another instance; result dropped",
    )
