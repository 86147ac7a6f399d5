"""One polling pass: fetch each due feed, parse, store new items, decide alerts — and write items,
alerts and deliveries in one transaction per feed. Polling never sends (docs/design.md §6).

The pass claims its feeds (`claims.py`), queues them by host (`host_queues.py`) for a fixed set
of workers; each feed's poll is `feed_poll.py`'s, and `poll_results.py` writes what it found."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine

from monitor.config.schema import Config
from monitor.feeds import FetchPolicy, ParseProcesses
from monitor.match import Matcher
from monitor.model import PollOutcome
from monitor.pipeline.claims import PassClaims, instance_name
from monitor.pipeline.feed_poll import FeedPoller
from monitor.pipeline.host_queues import HostQueues
from monitor.pipeline.observe import PollObserver, Unobserved
from monitor.pipeline.poll_results import PollResults

_Result = TypeVar("_Result")

# Feeds claimed at once, per fetch worker: each worker has its next feed waiting, no more, so
# instances sharing a database share the due feeds by how fast they poll them.
_CLAIMED_PER_WORKER = 2


class Poller:
    def __init__(
        self,
        engine: Engine,
        client: httpx.AsyncClient,
        parser: ParseProcesses,
        config: Config,
        matcher: Matcher,
        clock: Callable[[], datetime],
        *,
        fetch_policy: FetchPolicy,
        observer: PollObserver | None = None,
        owner: str | None = None,
    ) -> None:
        self._engine = engine
        # The instance whose claims this poller takes and writes under.
        self._owner = owner or instance_name()
        self._observer = observer or Unobserved()
        self._config = config
        self._clock = clock
        # Database work runs in threads, this many at a time. SQLite takes one writer anyway,
        # and every extra connection would fill a page cache of its own (16 MiB).
        self._database_slots = asyncio.Semaphore(1 if engine.dialect.name == "sqlite" else 4)
        self._results = PollResults(
            engine,
            config,
            matcher,
            clock,
            self._in_thread,
            observer=self._observer,
            owner=self._owner,
        )
        self._feeds = FeedPoller(
            client,
            parser,
            config,
            clock,
            self._results,
            fetch_policy=fetch_policy,
            observer=self._observer,
        )

    async def poll_due(
        self,
        *,
        all_feeds: bool = False,
        stopping: Callable[[], bool] = lambda: False,
        on_alerts: Callable[[], None] = lambda: None,
        on_polled: Callable[[], None] = lambda: None,
    ) -> list[PollOutcome]:
        """Poll the due feeds, claiming them in batches as workers free up, until none is due;
        once `stopping()` says so, each worker ends its feed and takes no other, and the claims
        of the feeds left are given up. `on_alerts()` is called as soon as a feed's alerts are
        written, so they can be sent before the pass ends; `on_polled()` after each feed."""
        workers = self._config.fetch.max_connections
        batch = None if all_feeds else _CLAIMED_PER_WORKER * workers
        claims = PassClaims(self._engine, self._owner, self._in_thread, self._clock)
        due = await claims.claim(batch, all_feeds=all_feeds)
        if not due:
            return []
        more = batch is not None and len(due) == batch
        queues = HostQueues(
            due,
            lambda feed: _host_of(feed.location),
            self._config.fetch.max_per_host,
            open_ended=more,
        )
        reports: dict[int, PollOutcome] = {}

        async def worker() -> None:
            host = None
            while not stopping() and (taken := await queues.take(host)) is not None:
                host, feed = taken
                try:
                    reports[feed.id] = report = await self._feeds.poll(feed)
                finally:
                    queues.release(host)
                    claims.done(feed.id)
                self._observer.polled(report)
                on_polled()
                if report.alerts:
                    on_alerts()

        async with claims.renewed():
            await asyncio.gather(
                *(worker() for _ in range(min(workers, len(due)) if not more else workers)),
                *(
                    [claims.keep_queued(queues, due, batch, workers, stopping)]
                    if batch is not None and more
                    else []
                ),
            )
        # Feeds claimed and not taken (the pass stops): due for any instance at once.
        await claims.drop(queues.drain())
        await self._results.drain()
        return [reports[feed.id] for feed in due if feed.id in reports]

    async def _in_thread(self, function: Callable[..., _Result], /, *args: Any) -> _Result:
        async with self._database_slots:
            return await asyncio.to_thread(function, *args)


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # a malformed URL: its fetch reports it
        return ""
