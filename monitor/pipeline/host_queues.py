"""Which due feed a polling worker takes next: at most `per_host` feeds of one host at a time,
and a worker keeps to the host it just polled while that host has feeds waiting.

A fixed set of workers (fetch.max_connections of them) takes feeds from here. Keeping to a host
reuses the connection its last poll left open: handing feeds out round-robin over a hundred
hosts had every poll open a new connection, and the HTTP client's pool, which looks at every
pooled connection on each request, grew to match (a third of a 10,000-feed cycle's CPU time in
bench/poll.py). One coroutine per due feed, waiting on semaphores, also held 10,000 coroutines
in memory at once.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

Feed = TypeVar("Feed")


class HostQueues(Generic[Feed]):
    """Feeds come in the constructor, or batch by batch through `add` (claims as workers free
    up) until `close`; without `open_ended`, the first set is all."""

    def __init__(
        self,
        feeds: Iterable[Feed],
        host_of: Callable[[Feed], str],
        per_host: int,
        *,
        open_ended: bool = False,
    ):
        self._per_host = per_host
        self._host_of = host_of
        self._waiting: dict[str, deque[Feed]] = {}
        self._count = 0
        self._open = open_ended
        self._busy: Counter[str] = Counter()
        self._changed = asyncio.Event()
        self.add(feeds)

    def __len__(self) -> int:
        """Feeds waiting and feeds taken and not released yet."""
        return self._count + sum(self._busy.values())

    def add(self, feeds: Iterable[Feed]) -> None:
        for feed in feeds:
            self._waiting.setdefault(self._host_of(feed), deque()).append(feed)
            self._count += 1
        self._changed.set()

    def close(self) -> None:
        """No more feeds will be added: workers end once those waiting are taken."""
        self._open = False
        self._changed.set()

    def drain(self) -> list[Feed]:
        """Take every feed still waiting out of the queues (a pass that stops)."""
        left = [feed for waiting in self._waiting.values() for feed in waiting]
        self._waiting.clear()
        self._count = 0
        self._changed.set()
        return left

    async def changed(self) -> None:
        """Until a feed is released or added, or the queues close."""
        self._changed.clear()
        await self._changed.wait()

    async def take(self, last_host: str | None) -> tuple[str, Feed] | None:
        """The next feed for a worker whose last feed was on `last_host`, with its host; None
        once no feed is waiting and none will be added. Waits while every waiting feed's host
        is at its limit, or while none waits and more may come."""
        while self._waiting or self._open:
            host = self._free_host(last_host)
            if host is not None:
                waiting = self._waiting[host]
                feed = waiting.popleft()
                if not waiting:
                    del self._waiting[host]
                self._count -= 1
                self._busy[host] += 1
                return host, feed
            self._changed.clear()
            await self._changed.wait()
        return None

    def release(self, host: str) -> None:
        """A worker is done with a feed of `host`."""
        self._busy[host] -= 1
        self._changed.set()

    def _free_host(self, last_host: str | None) -> str | None:
        if last_host in self._waiting and self._busy[last_host] < self._per_host:
            return last_host
        # The hosts at their limit are at most the workers' count: the scan stays short.
        for host in self._waiting:
            if self._busy[host] < self._per_host:
                return host
        return None
