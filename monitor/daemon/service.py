"""The long-running daemon: APScheduler (asyncio) drives polling, dispatch and the watchdog;
SIGHUP reloads the configuration, SIGTERM/SIGINT finish in-flight work and exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config import ConfigError, load_config
from monitor.config.summary import warnings
from monitor.daemon.runtime import Runtime
from monitor.daemon.systemd import sd_notify, watchdog_interval_seconds
from monitor.feeds import FetchPolicy

log = logging.getLogger("monitor.daemon")

DISPATCH_EVERY = timedelta(seconds=10)
PRUNE_EVERY = timedelta(hours=1)
# Staleness is measured in hours or days: a look every minute is soon enough, and cheap.
STALE_CHECK_EVERY = timedelta(minutes=1)


class _PolicyClient:
    """The HTTP client for the runtime's fetch policy of the moment. The client's connection
    gate is built from the policy, so a reload that changes it gets a new client at the next
    poll; polls never overlap, so the old client is idle by then and closed."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._client: httpx.AsyncClient | None = None
        self._policy: FetchPolicy | None = None

    async def current(self) -> tuple[httpx.AsyncClient, FetchPolicy]:
        """The client and the policy it keeps to, read once: a reload in another thread may
        change the runtime's policy at any moment."""
        policy = self._runtime.fetch_policy
        if self._client is None or policy != self._policy:
            await self.aclose()
            self._client, self._policy = self._runtime.http_client(policy), policy
        return self._client, policy

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class Service:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._clients = _PolicyClient(runtime)
        self._stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[Any]] = set()
        # The dispatch job and a poll that produced alerts may both want to dispatch: one at a
        # time, so a batch is never claimed while another is still being sent.
        self._dispatching = asyncio.Lock()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        runtime = self._runtime
        await asyncio.to_thread(runtime.prepare_database)
        feeds, sends = await asyncio.to_thread(runtime.release_dead_claims)
        if feeds:
            log.info("%d feeds the last run took were not polled: polling them now", feeds)
        if sends:
            log.warning(
                "%d alerts were being sent when the last run stopped: sending them again now"
                " (they may arrive twice)",
                sends,
            )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_stop_signal, signum)
        loop.add_signal_handler(signal.SIGHUP, self._on_reload_signal)
        async with contextlib.aclosing(self._clients), runtime.feed_parser() as parser:
            self._parser = parser
            scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC")
            now = runtime.clock()
            job_options: dict[str, Any] = {"max_instances": 1, "coalesce": True}
            scheduler.add_job(
                self._tracked(self._poll_tick),
                "interval",
                seconds=runtime.config.poll_tick.total_seconds(),
                next_run_time=now,
                id="poll",
                **job_options,
            )
            scheduler.add_job(
                self._tracked(self._dispatch_tick),
                "interval",
                seconds=DISPATCH_EVERY.total_seconds(),
                next_run_time=now,
                id="dispatch",
                **job_options,
            )
            scheduler.add_job(
                self._tracked(self._prune_tick),
                "interval",
                seconds=PRUNE_EVERY.total_seconds(),
                next_run_time=now,
                id="prune",
                **job_options,
            )
            scheduler.add_job(
                self._tracked(self._stale_tick),
                "interval",
                seconds=STALE_CHECK_EVERY.total_seconds(),
                next_run_time=now,
                id="stale",
                **job_options,
            )
            heartbeat = watchdog_interval_seconds()
            if heartbeat:
                # The watchdog is fed by a scheduler job, so a wedged scheduler gets us restarted.
                scheduler.add_job(
                    sd_notify, "interval", args=["WATCHDOG=1"], seconds=heartbeat, id="watchdog"
                )
            scheduler.start()
            sd_notify("READY=1")
            for warning in warnings(runtime.config):
                log.warning("%s", warning)
            log.info(
                "monitor running: %d feeds, %d watchlists, %d channels",
                len(runtime.config.feeds),
                len(runtime.config.watchlists),
                len(runtime.config.channels),
            )
            await self._stopping.wait()
            sd_notify("STOPPING=1")
            # Paused, not shut down, until the jobs in flight end: APScheduler's shutdown
            # cancels the jobs it is still running.
            scheduler.pause()
            if self._in_flight:
                log.info("finishing %d jobs in flight", len(self._in_flight))
                await asyncio.gather(*self._in_flight, return_exceptions=True)
            scheduler.shutdown(wait=False)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(signum)
        log.info("monitor stopped")

    def _tracked(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def run_tracked() -> None:
            if self._stopping.is_set():
                return
            task = asyncio.current_task()
            assert task is not None
            self._in_flight.add(task)
            try:
                await job()
            except Exception:  # one failed tick must not end the daemon
                log.exception("%s failed; will run again at the next tick", job.__name__)
            finally:
                self._in_flight.discard(task)

        run_tracked.__name__ = job.__name__
        return run_tracked

    async def _poll_tick(self) -> None:
        client, policy = await self._clients.current()
        poller = self._runtime.poller(client, self._parser, policy)
        reports = await poller.poll_due(stopping=self._stopping.is_set)
        if any(report.alerts for report in reports):
            self._dispatch_soon()

    def _dispatch_soon(self) -> None:
        """New alerts are sent now, by a task of their own: the poll does not wait for them,
        so a slow or failing channel never holds the next poll. A dispatch pass already at
        work claims them itself (it claims until none is due)."""
        if self._dispatching.locked() or self._stopping.is_set():
            return
        dispatch = self._tracked(self._dispatch_tick)

        async def run() -> None:
            await dispatch()

        task = asyncio.get_running_loop().create_task(run())
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _dispatch_tick(self) -> None:
        async with self._dispatching:
            await asyncio.to_thread(self._runtime.dispatcher().dispatch_due, self._stopping.is_set)

    async def _stale_tick(self) -> None:
        await asyncio.to_thread(self._runtime.check_stale)

    async def _prune_tick(self) -> None:
        pruned = await asyncio.to_thread(self._runtime.prune)
        if pruned:
            log.info("forgot the fingerprints of %d items older than the story window", pruned)

    def _on_stop_signal(self, signum: int) -> None:
        log.info("received %s: stopping after in-flight work", signal.Signals(signum).name)
        self.stop()

    def _on_reload_signal(self) -> None:
        # Reading files and writing the feeds table must not block the event loop.
        task = asyncio.get_running_loop().create_task(self._reload())
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _reload(self) -> None:
        path = self._runtime.loaded.path
        try:
            checks = self._runtime.loaded.checks
            loaded = await asyncio.to_thread(lambda: load_config(path, checks=checks))
            old_database = self._runtime.config.database
            await asyncio.to_thread(self._runtime.reconfigure, loaded)
        except ConfigError as error:
            log.error(
                "reload refused, keeping the running configuration: %s", "; ".join(error.errors)
            )
            return
        except Exception as error:
            log.error("reload failed, keeping the running configuration: %r", error)
            return
        if loaded.config.database != old_database:
            log.warning("the database setting changed: it takes effect at the next restart")
        log.info(
            "configuration reloaded from %s: %d feeds, %d watchlists",
            path,
            len(loaded.config.feeds),
            len(loaded.config.watchlists),
        )
