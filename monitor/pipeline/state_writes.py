"""Feed state writes of polls that stored nothing (a 304, an unchanged body, an error), written
as each poll ends, by group commit.

A feed's state is in the database as soon as its poll ends, so a process killed later in the
pass leaves no feed that already answered claimed and unpolled until its claim lease ends, and
`monitor feeds` shows a long pass as it goes. A write starts as soon as a state arrives and no
write is running; the states that arrive meanwhile (while it waits for the database thread,
which an ingest may hold, or while it writes) go together in the next one. A quiet pass waits
for nothing; a busy one writes larger batches. Measured on SQLite: a state's statements cost
about 0.25 ms of CPU, its own transaction about 0.15 ms more (pool checkout and ping, BEGIN
IMMEDIATE, COMMIT); bench/poll.py's cycle writes 450 states in about 50 transactions.

A write that is lost (the database down) loses no item: the feed's claim expires and it is
polled again.

A batch writes its feeds in id order, whatever order their polls ended in: the order of every
many-row write of feeds (`sync_feeds` too), so that two of them, from two instances, never wait
for each other's rows in a cycle (a deadlock that PostgreSQL would break by aborting one).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from sqlalchemy import Connection, Engine

log = logging.getLogger("monitor.poll")

StateWrite = Callable[[Connection], None]
InThread = Callable[[Callable[[], int]], Awaitable[int]]

# The most states in one transaction: SQLite's one write lock is not held for long.
MAX_BATCH = 500


class GroupCommitStateWrites:
    """Writes each added state soon, many per transaction, through `in_thread` (the poller's
    database threads). `drain` returns once all added so far are written."""

    def __init__(self, engine: Engine, in_thread: InThread, *, max_batch: int = MAX_BATCH) -> None:
        self._engine = engine
        self._in_thread = in_thread
        self._max_batch = max_batch
        # Appended in the event loop, taken in a database thread when its write begins.
        self._pending: list[tuple[int, StateWrite]] = []
        self._lock = threading.Lock()
        self._writer: asyncio.Task[None] | None = None

    def add(self, feed_id: int, write: StateWrite) -> None:
        """Write the state of feed `feed_id` soon; `write` updates that feed's row alone."""
        with self._lock:
            self._pending.append((feed_id, write))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_pending())

    async def drain(self) -> None:
        """Return once every write added so far is written (or reported lost)."""
        while self._writer is not None and not self._writer.done():
            await self._writer

    async def _write_while_pending(self) -> None:
        while self._has_pending():
            try:
                await self._in_thread(self._write)
            except Exception as exc:  # no thread to write in (shutting down): the next add retries
                log.error("feed states not recorded: %r", exc)
                return

    def _has_pending(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def _write(self) -> int:
        """In a database thread: write the states waiting now, those that came while this
        write waited for its thread included. How many were taken."""
        with self._lock:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
        if not batch:
            return 0
        batch.sort(key=lambda pending: pending[0])
        try:
            with self._engine.begin() as connection:
                for _, write in batch:
                    write(connection)
        except Exception as exc:  # the database is down: the claims expire, polls repeat
            log.error(
                "feed state of %d polls not recorded (%s); those feeds are polled again"
                " when their claim expires",
                len(batch),
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            )
        return len(batch)
