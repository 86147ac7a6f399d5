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
    def __init__(self, feeds: Iterable[Feed], host_of: Callable[[Feed], str], per_host: int):
        self._per_host = per_host
        self._waiting: dict[str, deque[Feed]] = {}
        for feed in feeds:
            self._waiting.setdefault(host_of(feed), deque()).append(feed)
        self._busy: Counter[str] = Counter()
        self._released = asyncio.Event()

    async def take(self, last_host: str | None) -> tuple[str, Feed] | None:
        """The next feed for a worker whose last feed was on `last_host`, with its host; None
        once no feed is waiting. Waits while every waiting feed's host is at its limit."""
        while self._waiting:
            host = self._free_host(last_host)
            if host is not None:
                waiting = self._waiting[host]
                feed = waiting.popleft()
                if not waiting:
                    del self._waiting[host]
                self._busy[host] += 1
                return host, feed
            self._released.clear()
            await self._released.wait()
        return None

    def release(self, host: str) -> None:
        """A worker is done with a feed of `host`."""
        self._busy[host] -= 1
        self._released.set()

    def _free_host(self, last_host: str | None) -> str | None:
        if last_host in self._waiting and self._busy[last_host] < self._per_host:
            return last_host
        # The hosts at their limit are at most the workers' count: the scan stays short.
        for host in self._waiting:
            if self._busy[host] < self._per_host:
                return host
        return None
