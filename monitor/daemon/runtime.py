"""Wiring: from a loaded configuration to the parts that do the work. Every edge (HTTP transport,
sender, clock) can be injected, so tests run the whole daemon against loopback servers."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine

from monitor.config import LoadedConfig
from monitor.config.schema import Config, FetchSpec
from monitor.daemon.automaton_cache import FileAutomatonCache
from monitor.daemon.health import FeedCounts, FeedLimits, Vitals
from monitor.feeds import (
    FEED_JOB,
    PAGE_JOB,
    FetchPolicy,
    ParseProcesses,
    answer_feed,
    answer_page,
    build_client,
)
from monitor.match import Matcher, compile_watchlists
from monitor.notify.send import AppriseSender
from monitor.pipeline import (
    Dispatcher,
    Poller,
    PollObserver,
    Sender,
    check_stale_feeds,
    instance_name,
)
from monitor.sandbox import Sandbox
from monitor.store import (
    default_database_url,
    feed_health,
    open_engine,
    pending_deliveries,
    prune_story_index,
    release_feed_claims,
    release_send_leases,
    sync_feeds,
    upgrade,
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def state_directory(config: Config) -> Path:
    """Where the default SQLite database lives: the configured state_dir, systemd's
    StateDirectory=, else the XDG state home."""
    if config.state_dir:
        return Path(config.state_dir).expanduser()
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "monitor"


def database_url(config: Config) -> str:
    return config.database or default_database_url(state_directory(config))


# What a reload cannot change: the database the process opened at its start.
RESTART_KEYS = ("database", "state_dir", "http")


def keys_needing_restart(running: Config, loaded: Config) -> list[str]:
    """The top-level keys that differ between the running configuration and a reloaded one
    and take effect only when the daemon restarts."""
    return [key for key in RESTART_KEYS if getattr(running, key) != getattr(loaded, key)]


def fetch_policy(spec: FetchSpec) -> FetchPolicy:
    return FetchPolicy(
        user_agent=spec.user_agent,
        timeout=spec.timeout.total_seconds(),
        max_body_bytes=spec.max_body_bytes,
        allow_private_networks=spec.allow_private_networks,
    )


@dataclass
class Runtime:
    loaded: LoadedConfig
    engine: Engine
    sender: Sender
    clock: Callable[[], datetime]
    transport: httpx.AsyncBaseTransport | None = None
    matcher: Matcher = field(init=False)
    fetch_policy: FetchPolicy = field(init=False)
    # Who this process is to the others sharing the database: its feed claims' owner.
    instance: str = field(default_factory=instance_name)

    def __post_init__(self) -> None:
        self.matcher = compile_watchlists(self.config.watchlists, cache=FileAutomatonCache())
        self.fetch_policy = fetch_policy(self.config.fetch)

    @property
    def config(self) -> Config:
        return self.loaded.config

    def prepare_database(self) -> None:
        """Migrate, then make the feeds table agree with the configuration."""
        upgrade(self.engine)
        with self.engine.begin() as connection:
            sync_feeds(
                connection, [(feed.url, feed.name) for feed in self.config.feeds], self.clock()
            )

    def release_dead_claims(self) -> tuple[int, int]:
        """At the daemon's start on SQLite, which one process writes: the feeds a killed
        process claimed and never recorded, and the sends it left in flight, are due again
        now, not when their leases run out (minutes). How many of each."""
        if self.engine.dialect.name != "sqlite":
            return 0, 0
        with self.engine.begin() as connection:
            now = self.clock()
            return release_feed_claims(connection, now), release_send_leases(connection, now)

    def reconfigure(self, loaded: LoadedConfig) -> None:
        """Swap in a new configuration (SIGHUP), all or nothing: the new watchlists take effect
        only once the feeds table agrees with the new file. The database URL is fixed for the
        process."""
        unchanged = loaded.config.watchlists == self.config.watchlists
        # Compiling thousands of terms takes a moment: only when the watchlists changed.
        matcher = (
            self.matcher
            if unchanged
            else compile_watchlists(loaded.config.watchlists, cache=FileAutomatonCache())
        )
        with self.engine.begin() as connection:
            sync_feeds(
                connection, [(feed.url, feed.name) for feed in loaded.config.feeds], self.clock()
            )
        policy = fetch_policy(loaded.config.fetch)
        self.loaded, self.matcher, self.fetch_policy = loaded, matcher, policy

    def prune(self) -> int:
        """Forget story fingerprints older than the story window; returns how many."""
        with self.engine.begin() as connection:
            return prune_story_index(connection, self.clock() - self.config.dedup.window)

    def check_stale(self) -> int:
        """Operations alerts for feeds that became stale or recovered; returns how many."""
        return check_stale_feeds(self.engine, self.config, self.clock)

    def vitals(self) -> Vitals:
        """The configured feeds' health and the outbox's backlog (STATUS=, /metrics)."""
        config = self.config  # one configuration for the feeds and their limits (a reload)
        with self.engine.connect() as connection:
            found = feed_health(connection, [feed.url for feed in config.feeds])
            pending = pending_deliveries(connection)
        now = self.clock()
        return Vitals(FeedCounts.of(found, FeedLimits.of(config), now), pending, now)

    def feeds_due(self) -> int:
        """How many configured feeds are due now and claimed by no instance (/healthz, when no
        poll ends)."""
        with self.engine.connect() as connection:
            found = feed_health(connection, [feed.url for feed in self.config.feeds])
        now = self.clock()
        return sum(
            feed.next_check_at is not None
            and feed.next_check_at <= now
            and (feed.claimed_until is None or feed.claimed_until <= now)
            for feed in found
        )

    def database_problem(self) -> str | None:
        """None when the database answers `SELECT 1`, else why not, in one line (/healthz)."""
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as error:
            return database_error_line(error)
        return None

    def http_client(self, policy: FetchPolicy) -> httpx.AsyncClient:
        """A client whose connection gate keeps to `policy`; a reload that changes the policy
        needs a new one (see `Service`)."""
        return build_client(policy, transport=self.transport)

    @contextlib.asynccontextmanager
    async def feed_parser(self) -> AsyncIterator[ParseProcesses]:
        """Feed documents are parsed, and article pages' text extracted, in the child processes
        of a sandbox: enter it in the event loop that polls, it stops them on exit."""
        async with Sandbox({FEED_JOB: answer_feed, PAGE_JOB: answer_page}) as sandbox:
            yield ParseProcesses(sandbox)

    def poller(
        self,
        client: httpx.AsyncClient,
        parser: ParseProcesses,
        policy: FetchPolicy,
        observer: PollObserver | None = None,
    ) -> Poller:
        """A poller for one pass, with `client` built for `policy`: the same value for both,
        though a reload may change the runtime's meanwhile."""
        return Poller(
            self.engine,
            client,
            parser,
            self.config,
            self.matcher,
            self.clock,
            fetch_policy=policy,
            observer=observer,
            owner=self.instance,
        )

    def dispatcher(self) -> Dispatcher:
        return Dispatcher(self.engine, self.config, self.sender, self.clock)


def database_error_line(error: Exception) -> str:
    """/healthz's reason for a database error: the driver's own message, without SQLAlchemy's
    wrapping and link; it names the server and the database, never a password."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return f"the database does not answer: {lines[0]}"


def build_runtime(
    loaded: LoadedConfig,
    *,
    sender: Sender | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Runtime:
    return Runtime(
        loaded=loaded,
        # The default state directory is ours to create; a configured database's is not.
        engine=open_engine(
            database_url(loaded.config), create_directory=loaded.config.database is None
        ),
        sender=sender or AppriseSender(),
        clock=clock,
        transport=transport,
    )
