"""The long-running daemon: APScheduler (asyncio) drives polling, dispatch and the watchdog;
SIGHUP reloads the configuration, SIGTERM/SIGINT finish in-flight work and exit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.config import ConfigError, load_config
from monitor.config.summary import warnings
from monitor.daemon.health import stalled_polling
from monitor.daemon.http import HealthServer
from monitor.daemon.metrics import Metrics
from monitor.daemon.runtime import Runtime, database_error_line, keys_needing_restart
from monitor.daemon.systemd import (
    notifying,
    reloading_message,
    sd_notify,
    watchdog_interval_seconds,
)
from monitor.feeds import FetchPolicy
from monitor.logs import use_log_format
from monitor.text.count import counted

log = logging.getLogger("monitor.daemon")

DISPATCH_EVERY = timedelta(seconds=10)
PRUNE_EVERY = timedelta(hours=1)
# Staleness is measured in hours or days: a look every minute is soon enough, and cheap.
STALE_CHECK_EVERY = timedelta(minutes=1)
# The scheduler's heartbeat, which /healthz reads: a job of its own, so a wedged scheduler or
# event loop shows as a beat older than HEARTBEAT_STALE.
HEARTBEAT_EVERY = timedelta(seconds=5)
HEARTBEAT_STALE = timedelta(seconds=60)
# Threads for the work the event loop hands off, sending apart: the poller's database threads
# (four on PostgreSQL), the stale check, the prune, a reload, and a spare. asyncio's default
# (cores + 4: six here) would depend on the machine.
BACKGROUND_THREADS = 8
# Every job runs however late the event loop gets to it (APScheduler's default skips a run more
# than a second late), once for all the runs it missed.
_JOB_OPTIONS: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}


class _OneAtATime:
    """Runs a job in a task of its own, never two at once. A kick while it runs asks for one
    more run as soon as it ends, so work that arrives during a run (a poll's new alerts while
    the dispatcher finishes its last claim) is never left for the next tick, and a run longer
    than its interval is followed at once by the next instead of being skipped."""

    def __init__(
        self,
        job: Callable[[], Awaitable[None]],
        in_flight: set[asyncio.Task[Any]],
        stopping: asyncio.Event,
    ) -> None:
        self._job = job
        self._in_flight = in_flight
        self._stopping = stopping
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def kick(self) -> None:
        if self._stopping.is_set():
            return
        if self.running():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._in_flight.add(self._task)
        self._task.add_done_callback(self._in_flight.discard)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._again = False
            try:
                await self._job()
            except Exception:  # one failed run must not end the daemon
                log.exception("%s failed; will run again at the next tick", self._job.__name__)
            if not self._again:
                return


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
        self._polling = _OneAtATime(self._poll_pass, self._in_flight, self._stopping)
        # The dispatch job and a poll that produced alerts both kick it: one pass at a time, so
        # a batch is never claimed while another is still being sent.
        self._dispatching = _OneAtATime(self._dispatch_pass, self._in_flight, self._stopping)
        # Sending has a thread of its own: a channel that keeps it waiting (an SMTP timeout is
        # 15 s) never holds a thread the polls' database work needs.
        self._send_thread = ThreadPoolExecutor(1, thread_name_prefix="monitor-send")
        self.metrics = Metrics(runtime.vitals)
        self._heartbeat: float | None = None  # time.monotonic() of the last beat
        # time.monotonic() when the last poll pass, or a feed's poll, ended (at first, the
        # scheduler's start).
        self._polled: float | None = None
        self._scheduler: AsyncIOScheduler | None = None
        # One reload at a time, in the order the signals came: two quick SIGHUPs must not apply
        # the older file last.
        self._reloading = asyncio.Lock()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """The daemon until stopped; with `http.listen`, its endpoint for as long (raises
        `ListenError` when the address cannot be bound)."""
        http = self._runtime.config.http
        if http is None:
            await self._run()
            return
        server = HealthServer(http.address, self.metrics.registry, self.health)
        server.start()
        host, _ = http.address
        log.info("serving /healthz and /metrics on %s:%d", host, server.port)
        try:
            await self._run()
        finally:
            await asyncio.to_thread(server.stop)

    def health(self) -> str | None:
        """None when the scheduler beats, the database answers and poll passes end, else why
        not (/healthz; called in the HTTP server's threads). The last matters on SQLite, where
        `SELECT 1` on the pool's open connection hardly ever fails (`stalled_polling`)."""
        if self._stopping.is_set():
            return "stopping"
        beat = self._heartbeat
        if beat is None:
            return "starting: the scheduler has not run yet"
        now = time.monotonic()
        age = now - beat
        if age > HEARTBEAT_STALE.total_seconds():
            return f"the scheduler's last heartbeat was {age:.0f} s ago"
        problem = self._runtime.database_problem()
        if problem is not None or self._polled is None:
            return problem
        try:
            return stalled_polling(
                timedelta(seconds=now - self._polled),
                self._runtime.config.poll_tick,
                self._runtime.feeds_due,
            )
        except Exception as error:  # the database went away since its SELECT 1
            return database_error_line(error)

    async def _run(self) -> None:
        runtime = self._runtime
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(BACKGROUND_THREADS, thread_name_prefix="monitor-work")
        )
        await asyncio.to_thread(runtime.prepare_database)
        feeds, sends = await asyncio.to_thread(runtime.release_dead_claims)
        if feeds:
            log.info(
                "%s the last run took %s not polled: polling them now",
                counted(feeds, "feed"),
                "was" if feeds == 1 else "were",
            )
        if sends:
            log.warning(
                "%s %s being sent when the last run stopped: sending them again now"
                " (they may arrive twice)",
                counted(sends, "alert"),
                "was" if sends == 1 else "were",
            )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_stop_signal, signum)
        loop.add_signal_handler(signal.SIGHUP, self._on_reload_signal)
        async with contextlib.aclosing(self._clients), runtime.feed_parser() as parser:
            self._parser = parser
            scheduler = AsyncIOScheduler(event_loop=loop, timezone="UTC")
            self._scheduler = scheduler
            now = runtime.clock()
            # Polling and sending are kicked by their jobs and run in tasks of their own, so
            # their jobs end at once and are never skipped as "still running".
            scheduler.add_job(
                self._kick_poll,
                "interval",
                seconds=runtime.config.poll_tick.total_seconds(),
                next_run_time=now,
                id="poll",
                **_JOB_OPTIONS,
            )
            scheduler.add_job(
                self._kick_dispatch,
                "interval",
                seconds=DISPATCH_EVERY.total_seconds(),
                next_run_time=now,
                id="dispatch",
                **_JOB_OPTIONS,
            )
            scheduler.add_job(
                self._tracked(self._prune_tick),
                "interval",
                seconds=PRUNE_EVERY.total_seconds(),
                next_run_time=now,
                id="prune",
                **_JOB_OPTIONS,
            )
            scheduler.add_job(
                self._tracked(self._stale_tick),
                "interval",
                seconds=STALE_CHECK_EVERY.total_seconds(),
                next_run_time=now,
                id="stale",
                **_JOB_OPTIONS,
            )
            scheduler.add_job(
                self._beat,
                "interval",
                seconds=HEARTBEAT_EVERY.total_seconds(),
                next_run_time=now,
                id="heartbeat",
                **_JOB_OPTIONS,
            )
            heartbeat = watchdog_interval_seconds()
            if heartbeat:
                # The watchdog is fed by a scheduler job, so a wedged scheduler gets us restarted.
                scheduler.add_job(
                    sd_notify, "interval", args=["WATCHDOG=1"], seconds=heartbeat, id="watchdog"
                )
            self._polled = time.monotonic()
            scheduler.start()
            sd_notify("READY=1")
            for warning in warnings(runtime.config):
                log.warning("%s", runtime.loaded.mask(warning))
            log.info(
                "monitor running: %s, %s, %s",
                counted(len(runtime.config.feeds), "feed"),
                counted(len(runtime.config.watchlists), "watchlist"),
                counted(len(runtime.config.channels), "channel"),
                extra={
                    "feeds": len(runtime.config.feeds),
                    "watchlists": len(runtime.config.watchlists),
                    "channels": len(runtime.config.channels),
                },
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
        self._send_thread.shutdown(wait=False)
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

    async def _kick_poll(self) -> None:
        self._polling.kick()

    async def _kick_dispatch(self) -> None:
        self._dispatching.kick()

    async def _poll_pass(self) -> None:
        client, policy = await self._clients.current()
        poller = self._runtime.poller(client, self._parser, policy, self.metrics)
        # A feed's alerts are sent as soon as they are written, by a task of their own: the
        # poll does not wait for them, so a slow or failing channel never holds polling.
        await poller.poll_due(
            stopping=self._stopping.is_set,
            on_alerts=self._dispatching.kick,
            on_polled=self._progressed,
        )
        self._polled = time.monotonic()
        await self._tell_systemd()

    def _progressed(self) -> None:
        """A feed's poll ended: polling goes on, however long the pass (/healthz)."""
        self._polled = time.monotonic()

    async def _dispatch_pass(self) -> None:
        dispatcher = self._runtime.dispatcher()
        report = await asyncio.get_running_loop().run_in_executor(
            self._send_thread, dispatcher.dispatch_due, self._stopping.is_set
        )
        self.metrics.dispatched(report)
        await self._tell_systemd()

    async def _beat(self) -> None:
        self._heartbeat = time.monotonic()

    async def _tell_systemd(self) -> None:
        """STATUS= after each pass: `systemctl status` shows how the feeds and the outbox are."""
        if notifying():
            vitals = await asyncio.to_thread(self._runtime.vitals)
            sd_notify(f"STATUS={vitals.status_line()}")

    async def _stale_tick(self) -> None:
        await asyncio.to_thread(self._runtime.check_stale)

    async def _prune_tick(self) -> None:
        pruned = await asyncio.to_thread(self._runtime.prune)
        if pruned:
            log.info(
                "forgot the fingerprints of %s older than the story window",
                counted(pruned, "item"),
            )

    def _on_stop_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        log.info("received %s: stopping after in-flight work", name, extra={"signal": name})
        self.stop()

    def _on_reload_signal(self) -> None:
        # systemd counts the reload from RELOADING=1 to READY=1, which `_reload` sends however
        # it ends: `systemctl reload` then returns when the new file is in effect (or refused).
        sd_notify(reloading_message())
        # Reading files and writing the feeds table must not block the event loop.
        task = asyncio.get_running_loop().create_task(self._reload())
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _reload(self) -> None:
        async with self._reloading:
            try:
                await self._apply_reload()
            finally:
                sd_notify("READY=1")

    async def _apply_reload(self) -> None:
        path = self._runtime.loaded.path
        old = self._runtime.config
        checks = self._runtime.loaded.checks
        # A failure's text may quote the configuration's values (a feed URL the database
        # refused): those a `${NAME}` stood for are shown as `${NAME}`, the new file's once read.
        masking = self._runtime.loaded
        try:
            loaded = await asyncio.to_thread(lambda: load_config(path, checks=checks))
            masking = loaded
            await asyncio.to_thread(self._runtime.reconfigure, loaded)
        except ConfigError as error:
            log.error(
                "reload refused, keeping the running configuration: %s", "; ".join(error.errors)
            )
            return
        except Exception as error:
            log.error(
                "reload failed, keeping the running configuration: %s", masking.mask(repr(error))
            )
            return
        new = loaded.config
        # Everything else is read afresh by each poll and dispatch pass (fetch settings, the
        # user agent, watchlists, channels); the poll tick is the scheduler's own.
        if new.poll_tick != old.poll_tick and self._scheduler is not None:
            self._scheduler.reschedule_job(
                "poll", trigger="interval", seconds=new.poll_tick.total_seconds()
            )
            log.info("polling now every %g s (poll_tick)", new.poll_tick.total_seconds())
        restart = keys_needing_restart(old, new)
        if restart:
            log.warning(
                "changed settings that take effect at the next restart, not now: %s",
                ", ".join(restart),
            )
        use_log_format(new.log_format)
        log.info(
            "configuration reloaded from %s: %s, %s",
            path,
            counted(len(new.feeds), "feed"),
            counted(len(new.watchlists), "watchlist"),
            extra={
                "feeds": len(new.feeds),
                "watchlists": len(new.watchlists),
                "channels": len(new.channels),
            },
        )
