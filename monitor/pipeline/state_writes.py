"""Feed state writes of polls that stored nothing (a 304, an unchanged body, an error), many per
transaction.

Most polls of a large feed list end that way, and a transaction of its own per feed cost about
1 ms each on SQLite (a thread hop, a pool checkout, BEGIN IMMEDIATE, COMMIT): 9 of the 60 CPU
seconds a cycle of 10,000 feeds may take (bench/poll.py). A write that is lost with its batch
(a crash, the database down) loses no item: the feed's claim expires and it is polled again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy import Connection, Engine

log = logging.getLogger("monitor.poll")

StateWrite = Callable[[Connection], None]
InThread = Callable[[Callable[[list[StateWrite]], None], list[StateWrite]], Awaitable[None]]


class BatchedStateWrites:
    """Collects writes; a batch is written in one transaction, through `in_thread` (the
    poller's database threads), once `batch_size` wait or when `drain` is awaited (the end of
    a polling pass)."""

    def __init__(
        self,
        engine: Engine,
        in_thread: InThread,
        *,
        batch_size: int = 200,
    ) -> None:
        self._engine = engine
        self._in_thread = in_thread
        self._batch_size = batch_size
        self._pending: list[StateWrite] = []
        self._writer: asyncio.Task[None] | None = None

    def add(self, write: StateWrite) -> None:
        self._pending.append(write)
        if len(self._pending) >= self._batch_size and not self._writing():
            self._writer = asyncio.create_task(self._write_pending())

    async def drain(self) -> None:
        """Return once every write added so far is written (or reported lost)."""
        if self._writer is not None:
            await self._writer
        await self._write_pending()

    def _writing(self) -> bool:
        return self._writer is not None and not self._writer.done()

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._in_thread(self._write, batch)
            except Exception as exc:  # the database is down: the claims expire, polls repeat
                log.error(
                    "feed state of %d polls not recorded (%s); those feeds are polled again"
                    " when their claim expires",
                    len(batch),
                    str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                )

    def _write(self, batch: list[StateWrite]) -> None:
        with self._engine.begin() as connection:
            for write in batch:
                write(connection)
