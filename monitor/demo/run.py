"""`monitor demo`: the daemon of `monitor run` (its Service, Runtime, poller, story assigner,
outbox, dispatcher and the `console://` channel) for a few seconds on the sample feeds, served on
loopback by this process, with a temporary database and configuration.

The demo conducts, it does not re-implement: it publishes each stage's documents, waits on what
the daemon stores (every feed seeded, every new item stored, every alert sent, each under a
generous deadline, never a fixed sleep), narrates it and checks it: exit 1 with the reason when
the daemon did not do what the demo shows."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO, TypeVar

import httpx
from sqlalchemy import Connection

from monitor.config import ConfigChecks, load_config
from monitor.config.schema import WatchlistSpec
from monitor.daemon.runtime import Runtime, database_url, utc_now
from monitor.daemon.service import Service
from monitor.demo.sample import Role, SampleFeed, sample_feeds
from monitor.demo.server import Publisher, publishing
from monitor.match.matcher import Explanation
from monitor.notify import one_line
from monitor.notify.send import AppriseSender
from monitor.offline import item_verdict
from monitor.pipeline import Dispatcher, DispatchReport, WhyNot
from monitor.store import (
    AlertRow,
    FeedHealth,
    ListingFilter,
    StoredItem,
    feed_health,
    list_alerts,
    list_items,
    list_stories,
    open_engine,
    stored_item,
    story_alerts,
)
from monitor.text.count import counted

WATCHLIST = "otan"
CHANNEL = "terminal"
# Each stage waits this long at most for the daemon: minutes of margin on a loaded machine for
# what takes a second or two on an idle one.
STAGE_DEADLINE = 90.0
# How often the demo reads the store while it waits.
_LOOK_EVERY = 0.2
_ANY = 10_000  # a listing's limit that keeps every row of the demo's small database

_T = TypeVar("_T")


class DemoFailed(Exception):
    """The daemon did not do what the demo shows; the message says what."""


class _Interrupted(Exception):
    """The daemon stopped before the demo ended (Ctrl-C)."""


class _SettledDispatcher(Dispatcher):
    """The daemon's dispatcher, which waits for `settled` before each pass.

    An immediate channel's message lists the story's other outlets stored when it is built
    (docs/design.md §6, build). The five outlets of the wire story publish it at the same
    moment, so the daemon stores them in one poll pass, but it kicks the dispatcher as soon as
    the first copy's alert is written: how many of the four others that first message would
    list depends on thread timing. A short digest would wait for them, but a digest shows
    counts, not the outlets, and its times are whole minutes. So the demo holds sending until
    the pass has stored every outlet's document, as the daemon's 10-second dispatch tick alone
    would most of the time, and the one message shows the fold every time; the rest is the
    daemon's own path."""

    def __init__(self, settled: threading.Event, runtime: Runtime) -> None:
        super().__init__(runtime.engine, runtime.config, runtime.sender, runtime.clock)
        self._settled = settled

    def dispatch_due(self, should_stop: Callable[[], bool] = lambda: False) -> DispatchReport:
        while not self._settled.wait(_LOOK_EVERY) and not should_stop():
            pass
        return super().dispatch_due(should_stop)


@dataclass
class _DemoRuntime(Runtime):
    settled: threading.Event = field(default_factory=threading.Event)

    def dispatcher(self) -> Dispatcher:
        return _SettledDispatcher(self.settled, self)


def run_demo(checks: ConfigChecks, out: TextIO, err: TextIO, *, verbose: bool) -> int:
    """Run the demo, narrating on `out`: 0 when the daemon did what the demo shows, else 1 with
    the reason on `err` (also when stopped by Ctrl-C)."""
    try:
        _run(checks, out, verbose=verbose)
    except DemoFailed as error:
        err.write(f"monitor demo failed: {error}\n")
        return 1
    except (_Interrupted, KeyboardInterrupt):
        err.write("monitor demo stopped\n")
        return 1
    return 0


def _run(checks: ConfigChecks, out: TextIO, *, verbose: bool) -> None:
    if not verbose:
        # The narration says what the daemon's INFO lines would; its warnings still show.
        logging.getLogger("monitor").setLevel(logging.WARNING)
    feeds = sample_feeds()
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as folder, publishing() as publisher:
        loaded = load_config(_write_config(Path(folder), feeds, publisher), checks=checks)
        runtime = _DemoRuntime(
            loaded=loaded,
            engine=open_engine(database_url(loaded.config)),
            sender=AppriseSender(),
            clock=utc_now,
            # The sample feeds are on this machine: fetched directly, never through a proxy the
            # environment names (httpx takes none when it is given a transport).
            transport=httpx.AsyncHTTPTransport(),
        )
        runtime.settled.set()
        try:
            # The daemon migrates at its start too; here first, so the demo can read the store
            # as soon as the daemon runs.
            runtime.prepare_database()
            asyncio.run(_Conductor(runtime, publisher, feeds, out).run())
        finally:
            runtime.engine.dispose()


def _write_config(folder: Path, feeds: Sequence[SampleFeed], publisher: Publisher) -> Path:
    """The demo's monitor.yaml: everything in `folder` (nothing in the user's state directory),
    loopback feeds allowed, polls every two seconds, alerts to the console."""
    database = f"sqlite:///{folder / 'monitor.db'}"
    lines = [
        f"database: {json.dumps(database)}",
        f"state_dir: {json.dumps(str(folder))}",
        "poll_tick: 1s",
        "fetch:",
        "  allow_private_networks: true   # the sample feeds are served on 127.0.0.1",
        "feeds:",
    ]
    for feed in feeds:
        lines += [
            f"  - url: {publisher.url(f'/{feed.slug}.xml')}",
            f"    name: {json.dumps(feed.title, ensure_ascii=False)}",
            "    interval: 2s",
            "    language: fr",
        ]
    lines += [
        "channels:",
        f"  {CHANNEL}:",
        "    url: console://",
        "watchlists:",
        f"  - name: {WATCHLIST}",
        "    terms:",
        "      - term: OTAN",
        "        aliases: [NATO, Alliance atlantique, Organisation du traité de l'Atlantique nord]",
        "      - zone d'exclusion aérienne",
        "      - Stoltenberg",
        "    exclude: [football]",
    ]
    path = folder / "monitor.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class _Conductor:
    def __init__(
        self,
        runtime: _DemoRuntime,
        publisher: Publisher,
        feeds: Sequence[SampleFeed],
        out: TextIO,
    ) -> None:
        self._runtime = runtime
        self._publisher = publisher
        self._feeds = feeds
        self._out = out
        self._urls = [publisher.url(f"/{feed.slug}.xml") for feed in feeds]
        self._started = time.monotonic()
        self._service_task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        service = Service(self._runtime)
        started = utc_now()
        self._publish(1, started)
        self._say(
            f"monitor demo: the daemon of `monitor run` on {len(self._feeds)} sample feeds served"
            f" on 127.0.0.1:{self._publisher.port}, a temporary database, alerts to the console"
            " (Ctrl-C stops it)",
            timed=False,
        )
        for watchlist in self._runtime.config.watchlists:
            self._say(_watchlist_line(watchlist), timed=False)
        self._service_task = asyncio.get_running_loop().create_task(service.run())
        try:
            await self._stages(started)
        finally:
            service.stop()
            # Its failure, if any, is the one _until reported.
            await asyncio.gather(self._service_task, return_exceptions=True)

    async def _stages(self, started: datetime) -> None:
        backlog = {feed.slug: sum(not item.new for item in feed.items) for feed in self._feeds}
        await self._until(
            lambda: self._stored(backlog), "the first poll of every feed to store its backlog"
        )
        self._say(
            f"first poll: {counted(len(self._feeds), 'feed')} seeded,"
            f" {counted(sum(backlog.values()), 'item')} stored"
            " silently (a feed's first poll alerts on nothing, not even its items on OTAN)"
        )
        new = [(feed, item) for feed in self._feeds for item in feed.items if item.new]
        wire = [feed.title for feed, item in new if item.role is Role.WIRE]
        self._runtime.settled.clear()  # see _SettledDispatcher: before the documents change
        self._publish(2, started)
        self._say(
            f"new items published: {len(new)} in {counted(len({f.slug for f, _ in new}), 'feed')},"
            f" among them one wire story carried by {counted(len(wire), 'outlet')}"
            f" ({', '.join(wire)})"
        )
        everything = {feed.slug: len(feed.items) for feed in self._feeds}
        await self._until(lambda: self._stored(everything), "the new items to be stored")
        decided = await asyncio.to_thread(self._alerts)
        if not decided:
            raise DemoFailed("the new items were stored and no alert was decided")
        self._say(
            f"next poll: {counted(len(new), 'new item')} stored; {counted(len(decided), 'alert')}"
            " decided,"
            f" sent now to the console channel:\n"
        )
        self._runtime.settled.set()
        sent = await self._until(self._all_sent, "the alerts to be sent to the console")
        self._say("")
        summary = await asyncio.to_thread(self._summary, sent)
        for line in summary:
            self._say(line, timed=False)

    def _publish(self, stage: int, started: datetime) -> None:
        self._publisher.publish(
            {f"/{feed.slug}.xml": feed.document(stage, started) for feed in self._feeds},
            utc_now(),
        )

    def _say(self, line: str, *, timed: bool = True) -> None:
        prefix = f"[{time.monotonic() - self._started:4.1f}s] " if timed and line else ""
        self._out.write(f"{prefix}{line}\n")
        self._out.flush()

    async def _until(self, look: Callable[[], _T | None], what: str) -> _T:
        """Read the store until `look` gives something, the daemon stops, or the deadline."""
        deadline = time.monotonic() + STAGE_DEADLINE
        while True:
            assert self._service_task is not None
            if self._service_task.done():
                if self._service_task.exception() is not None:
                    raise DemoFailed(f"the daemon stopped: {self._service_task.exception()!r}")
                raise _Interrupted
            found = await asyncio.to_thread(look)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise DemoFailed(f"waited {STAGE_DEADLINE:.0f} s for {what}")
            await asyncio.sleep(_LOOK_EVERY)

    # -- reading the store (in a worker thread) --------------------------------------------

    def _read(self, reading: Callable[[Connection], _T]) -> _T:
        with self._runtime.engine.connect() as connection:
            return reading(connection)

    def _stored(self, expected: dict[str, int]) -> bool | None:
        """True once each feed has stored the items expected of it; DemoFailed on a feed
        failing."""
        health: list[FeedHealth] = self._read(lambda c: feed_health(c, self._urls))
        for found in health:
            if found.error_kind is not None:
                raise DemoFailed(f"feed {found.display_name}: {found.status_word}: {found.error}")
        counts = [found.items for found in health]
        return True if counts == [expected[feed.slug] for feed in self._feeds] else None

    def _alerts(self) -> list[AlertRow]:
        return self._read(lambda c: list_alerts(c, ListingFilter(limit=_ANY)))

    def _all_sent(self) -> list[AlertRow] | None:
        found = self._alerts()
        for alert in found:
            for delivery in alert.deliveries:
                if delivery.status == "failed":
                    failed = f"alert {alert.alert_id} to {delivery.channel} failed"
                    raise DemoFailed(f"{failed}: {delivery.last_error}")
        done = all(d.status == "sent" for alert in found for d in alert.deliveries)
        return found if found and done else None

    def _summary(self, sent: list[AlertRow]) -> list[str]:
        verdicts, outlets = self._read(self._verdicts)
        _check(self._feeds, verdicts, outlets, sent)
        stories = len(outlets)
        lines = [
            f"summary: {counted(len(sent), 'alert')} sent, one per story;"
            f" {counted(len(verdicts), 'item')} stored in {counted(stories, 'story', 'stories')}"
        ]
        for alert in sorted(sent, key=lambda alert: alert.alert_id):
            carried = outlets.get(alert.story_id or 0, 1)
            copies = f": 1 alert for {carried} outlets" if carried > 1 else ""
            item = next(v.item for v in verdicts if v.alert_id == alert.alert_id)
            lines.append(f"  alert {alert.alert_id}   {_item_line(item)}{copies}")
        folded = [v for v in verdicts if v.why_not is WhyNot.COPY]
        if folded:
            lines.append(
                f"  no alert  {counted(len(folded), 'copy', 'copies')} of the story above: folded"
                " into it (“Also published by”), not alerted again"
            )
        for verdict in verdicts:
            if verdict.why_not not in (None, WhyNot.COPY, WhyNot.BACKLOG):
                lines.append(f"  no alert  {_item_line(verdict.item)}: {_why(verdict)}")
        backlog = [v for v in verdicts if v.why_not is WhyNot.BACKLOG]
        if backlog:
            matching = sum(v.matches for v in backlog)
            lines.append(
                f"  no alert  {counted(len(backlog), 'item')} of the first poll ({matching} of"
                f" them on {WATCHLIST}): a new feed's backlog is stored silently"
            )
        lines.append(
            "Next: write your own configuration from config/example.yaml (README, Configuration)."
        )
        return lines

    def _verdicts(self, connection: Connection) -> tuple[list[_Verdict], dict[int, int]]:
        """Each stored item, oldest first, with why the watchlist did or did not alert for it
        (the verdict of `monitor explain --item`); the outlets of each story."""
        config = self._runtime.config
        watchlists = {watchlist.name: watchlist for watchlist in config.watchlists}
        found = []
        for row in reversed(list_items(connection, ListingFilter(limit=_ANY))):
            item = stored_item(connection, row.item_id)
            assert item is not None
            explanation = _explanation(self._runtime.matcher.explain(item.text))
            alert, why_not = item_verdict(
                explanation,
                item,
                story_alerts(connection, item.story_id).get(WATCHLIST),
                config,
                watchlists,
            )
            alert_id = alert.alert_id if alert is not None and why_not is None else None
            found.append(_Verdict(item, alert_id, why_not, explanation.fired))
        stories = list_stories(connection, ListingFilter(limit=_ANY))
        return found, {story.story_id: story.outlets for story in stories}


@dataclass(frozen=True)
class _Verdict:
    item: StoredItem
    alert_id: int | None  # the alert this item gave
    why_not: WhyNot | None
    matches: bool


def _watchlist_line(watchlist: WatchlistSpec) -> str:
    """ "watchlist otan: OTAN (or NATO, …); Stoltenberg; not with football" """
    terms = [
        f"{term.term} (or {', '.join(term.alias_names())})" if term.aliases else term.term
        for term in watchlist.terms
    ]
    excluded = [f"not with {', '.join(term.term for term in watchlist.exclude)}"]
    return f"watchlist {watchlist.name}: {'; '.join(terms + excluded[: bool(watchlist.exclude)])}"


def _explanation(explanations: Sequence[Explanation]) -> Explanation:
    return next(e for e in explanations if e.watchlist == WATCHLIST)


def _item_line(item: StoredItem) -> str:
    return f"{one_line(item.text.title)} ({one_line(item.feed)})"


def _why(verdict: _Verdict) -> str:
    if verdict.why_not is WhyNot.NO_MATCH and "botanique" in verdict.item.text.title.lower():
        return "no watched term (OTAN is a whole word: not in « botanique »)"
    if verdict.why_not is WhyNot.NO_MATCH:
        return "no watched term"
    return str(verdict.why_not)


def _check(
    feeds: Sequence[SampleFeed],
    verdicts: Sequence[_Verdict],
    outlets: dict[int, int],
    sent: Sequence[AlertRow],
) -> None:
    """DemoFailed unless the daemon did what the sample feeds are there to show."""
    roles = {
        (feed.title, item.title): (item.role, item.new) for feed in feeds for item in feed.items
    }
    by_role: dict[Role, list[_Verdict]] = {role: [] for role in Role}
    for verdict in verdicts:
        role, new = roles.get((verdict.item.feed, verdict.item.text.title), (Role.OTHER, True))
        if not new and verdict.why_not is None:
            raise DemoFailed(f"an item of the first poll alerted: {_item_line(verdict.item)}")
        by_role[role].append(verdict)
    wire = by_role[Role.WIRE]
    wire_stories = {verdict.item.story_id for verdict in wire}
    expected = sum(item.role is Role.WIRE for feed in feeds for item in feed.items)
    if len(wire) != expected or len(wire_stories) != 1:
        raise DemoFailed(
            f"the wire story's {counted(expected, 'copy', 'copies')} made"
            f" {counted(len(wire_stories), 'story', 'stories')}, not one"
        )
    if sum(verdict.why_not is None for verdict in wire) != 1:
        raise DemoFailed("the wire story did not give exactly one alert")
    if outlets.get(wire_stories.pop()) != expected:
        raise DemoFailed(f"the wire story's alert does not count its {counted(expected, 'outlet')}")
    for verdict in by_role[Role.ORIGINAL]:
        if verdict.why_not is not None:
            raise DemoFailed(f"no alert for {_item_line(verdict.item)}: {verdict.why_not}")
    for verdict in by_role[Role.BOTANIQUE]:
        if verdict.why_not is not WhyNot.NO_MATCH:
            raise DemoFailed(f"{_item_line(verdict.item)} matched the watchlist")
    alerted = sum(verdict.why_not is None for verdict in verdicts)
    if alerted != len(sent):
        raise DemoFailed(
            f"{counted(len(sent), 'alert')} sent for {counted(alerted, 'alerting item')}"
        )
