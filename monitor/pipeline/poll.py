"""One polling pass: fetch each due feed, parse, store new items, decide alerts — and write items,
alerts and deliveries in one transaction per feed. Polling never sends (docs/design.md §6)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Connection, Engine

from monitor.config.schema import Config, FeedSpec
from monitor.dedup.decide import Thresholds
from monitor.feeds import FetchPolicy, ParseProcesses, fetch_feed, fetch_main_text, redact_url
from monitor.match import Matcher
from monitor.model import (
    FeedStatus,
    FetchError,
    FetchResult,
    ItemText,
    ParsedFeed,
    PollOutcome,
    PreparedItem,
    WatchlistMatch,
    status_word,
)
from monitor.pipeline.claims import PassClaims, instance_name
from monitor.pipeline.host_queues import HostQueues
from monitor.pipeline.ingest_plan import IngestPlan, plan_ingest
from monitor.pipeline.observe import PollObserver, Unobserved
from monitor.pipeline.payload import alert_payload
from monitor.pipeline.prepare import item_key, prepare_entry
from monitor.pipeline.schedule import DEAD_FEED_CHECK, next_feed_check
from monitor.pipeline.state_writes import GroupCommitStateWrites
from monitor.sandbox import SandboxError
from monitor.store import (
    FeedState,
    create_alert,
    hold_feed_claim,
    record_poll,
    store_items,
    stored_content_hashes,
)
from monitor.text.count import counted

log = logging.getLogger("monitor.poll")
_Result = TypeVar("_Result")

# Feeds claimed at once, per fetch worker: each worker has its next feed waiting, no more, so
# instances sharing a database share the due feeds by how fast they poll them.
_CLAIMED_PER_WORKER = 2
_DEFAULT_SPEC = FeedSpec(url="http://unconfigured.invalid/")
# Article pages fetched for one poll of a full-text feed, at most: a feed that suddenly lists
# a hundred new entries gets the rest as the feed gives them.
_MAX_PAGES_PER_POLL = 20
# Pages fetched and extracted at once for one feed: each body waits in memory for a parse
# process, and two processes serve them all.
_PAGES_AT_ONCE = 2
# The pages of one poll have this many fetch timeouts in all, so a site that answers slowly,
# or with pages that take the extractor to its deadline, holds its feed's poll for so long.
_PAGES_BUDGET_TIMEOUTS = 3


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
        self._client = client  # built with `fetch_policy`
        self._fetch_policy = fetch_policy
        self._parser = parser
        self._config = config
        self._matcher = matcher
        self._clock = clock
        self._specs = {feed.url: feed for feed in config.feeds}
        self._watchlists = {watchlist.name: watchlist for watchlist in config.watchlists}
        # Database work runs in threads, this many at a time. SQLite takes one writer anyway,
        # and every extra connection would fill a page cache of its own (16 MiB).
        self._database_slots = asyncio.Semaphore(1 if engine.dialect.name == "sqlite" else 4)
        self._state_writes = GroupCommitStateWrites(engine, self._in_thread)

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

        async def claimer() -> None:
            """More feeds whenever half the batch is polled, until no more are due."""
            assert batch is not None
            try:
                while not stopping():
                    if len(queues) > batch - workers:
                        await queues.changed()
                        continue
                    wanted = batch - len(queues)
                    claimed = await claims.claim(wanted)
                    due.extend(claimed)
                    queues.add(claimed)
                    if len(claimed) < wanted:
                        return  # no more due now: the next tick's pass takes those due then
            finally:
                queues.close()

        async def worker() -> None:
            host = None
            while not stopping() and (taken := await queues.take(host)) is not None:
                host, feed = taken
                try:
                    reports[feed.id] = report = await self._poll_one(feed)
                finally:
                    queues.release(host)
                    claims.done(feed.id)
                self._observer.polled(report)
                on_polled()
                if report.alerts:
                    on_alerts()

        renewing = asyncio.ensure_future(claims.keep_renewed())
        try:
            await asyncio.gather(
                *(worker() for _ in range(min(workers, len(due)) if not more else workers)),
                *([claimer()] if more else []),
            )
        finally:
            renewing.cancel()
        # Feeds claimed and not taken (the pass stops): due for any instance at once.
        await claims.drop(queues.drain())
        await self._state_writes.drain()
        return [reports[feed.id] for feed in due if feed.id in reports]

    async def _in_thread(self, function: Callable[..., _Result], /, *args: Any) -> _Result:
        async with self._database_slots:
            return await asyncio.to_thread(function, *args)

    async def _poll_one(self, feed: FeedState) -> PollOutcome:
        try:
            try:
                return await self._poll(feed)
            except SandboxError as exc:
                # Our parse processes would not start (memory, a broken installation): that is
                # not the feed's failure, so nothing is recorded against it (no error count, no
                # backoff). Its claim lease expires and it is polled again.
                shown = redact_url(feed.url)
                log.error(
                    "feed %s: not parsed: %s",
                    shown,
                    exc,
                    extra={"feed": shown, "status": "error:internal", "error_kind": "internal"},
                )
                now = self._clock()
                return PollOutcome(
                    feed.url, FeedStatus.ERROR, now, now, error_kind="internal", message=str(exc)
                )
            except Exception as exc:  # a bug must not stop the other feeds, nor the daemon
                shown = redact_url(feed.url)
                log.exception(
                    "feed %s: unexpected error while polling",
                    shown,
                    extra={"feed": shown, "status": "error:internal", "error_kind": "internal"},
                )
                return await self._fail(feed, "internal", f"internal error: {exc!r}")
        except Exception as exc:
            # Not even the failure could be recorded: the claim lease expires and the feed is
            # polled again; nothing was stored, nothing is lost, the other feeds go on.
            shown = redact_url(feed.url)
            log.error(
                "feed %s: poll not recorded: %r",
                shown,
                exc,
                extra={"feed": shown, "status": "error:internal", "error_kind": "internal"},
            )
            now = self._clock()
            return PollOutcome(
                feed.url, FeedStatus.ERROR, now, now, error_kind="internal", message=repr(exc)
            )

    async def _poll(self, feed: FeedState) -> PollOutcome:
        spec = self._specs.get(feed.url, _DEFAULT_SPEC)
        fetch = self._config.fetch
        started = time.perf_counter()
        try:
            result = await fetch_feed(
                self._client, feed.location, feed.validators, self._fetch_policy
            )
        except FetchError as error:
            self._observer.fetched(time.perf_counter() - started)
            return await self._fail(feed, error.kind, error.message, error.retry_after)
        self._observer.fetched(time.perf_counter() - started)
        if result.moved_to:
            log.warning(
                "feed %s moved permanently to %s: polling the new address from now on;"
                " update the configuration",
                redact_url(feed.url),
                redact_url(result.moved_to),
                extra={"feed": redact_url(feed.url)},
            )
        if result.not_modified:
            return await self._succeed(feed, result, FeedStatus.NOT_MODIFIED)
        body_hash = hashlib.sha256(result.content).hexdigest()
        if body_hash == feed.body_hash and feed.seeded:
            # Same bytes as last time: nothing can be new, skip the parse.
            return await self._succeed(feed, result, FeedStatus.UNCHANGED, body_hash=body_hash)
        parsed = await self._parser.parse(
            result.content,
            base_url=result.final_url,
            content_type=result.content_type,
            deadline=fetch.timeout.total_seconds(),
        )
        if parsed.error:
            return await self._fail(feed, parsed.error_kind or "parse", parsed.error)
        entries_hash = _entries_digest(parsed)
        if entries_hash == feed.entries_hash and feed.seeded:
            # New bytes, the same entries (a build date, a timestamp in the channel): nothing
            # to store or match.
            return await self._succeed(feed, result, FeedStatus.UNCHANGED, body_hash=body_hash)
        full_texts: dict[str, str] = {}
        known: set[str] = set()
        if spec.fulltext and feed.seeded:  # a backlog is stored silently: no pages for it
            full_texts, known = await self._full_texts(feed, spec, parsed)
        hashes = (body_hash, entries_hash)
        return await self._in_thread(
            self._ingest, feed, spec, result, parsed, hashes, full_texts, known
        )

    async def _full_texts(
        self, feed: FeedState, spec: FeedSpec, parsed: ParsedFeed
    ) -> tuple[dict[str, str], set[str]]:
        """The article pages' main texts of the new entries, by item key, and the keys already
        stored (whose full text was fetched when they were new)."""
        entries = {item_key(entry, spec.id_policy): entry for entry in parsed.entries}
        known = await self._in_thread(self._known_keys, feed.id, list(entries))
        wanted = [
            (key, entry.url)
            for key, entry in entries.items()
            if key not in known and entry.url is not None
        ][:_MAX_PAGES_PER_POLL]
        timeout = self._fetch_policy.timeout
        at_once = asyncio.Semaphore(_PAGES_AT_ONCE)

        async def main_text(url: str) -> str | None:
            async with at_once:
                return await fetch_main_text(self._client, self._parser, url, self._fetch_policy)

        pages = {asyncio.ensure_future(main_text(url)): key for key, url in wanted}
        if not pages:
            return {}, known
        done, late = await asyncio.wait(pages, timeout=timeout * _PAGES_BUDGET_TIMEOUTS)
        for task in late:  # their items keep the feed's own text
            task.cancel()
        if late:
            log.warning(
                "feed %s: %d article pages not read within %g s; their teasers are kept",
                redact_url(feed.url),
                len(late),
                timeout * _PAGES_BUDGET_TIMEOUTS,
                extra={"feed": redact_url(feed.url)},
            )
        found = {pages[task]: text for task in done if (text := task.result())}
        return found, known

    def _known_keys(self, feed_id: int, keys: list[str]) -> set[str]:
        with self._engine.connect() as connection:
            return set(stored_content_hashes(connection, feed_id, keys))

    def _ingest(
        self,
        feed: FeedState,
        spec: FeedSpec,
        result: FetchResult,
        parsed: ParsedFeed,
        hashes: tuple[str, str],  # of the body, of the entries
        full_texts: dict[str, str],
        known: set[str],
    ) -> PollOutcome:
        now = self._clock()
        prepared = [
            prepare_entry(
                entry,
                spec.language,
                spec.id_policy,
                now=now,
                full_text=full_texts.get(item_key(entry, spec.id_policy)),
            )
            for entry in parsed.entries
        ]
        seeded = feed.seeded
        with self._engine.connect() as connection:
            plan = self._plan(connection, feed.id, prepared, known, seeded, now)
        source = spec.name or parsed.title or feed.title or feed.url
        with self._engine.begin() as connection:
            # The claim is checked, and the row locked, before anything is written: a late
            # writer (its claim expired and was taken) stores nothing. Whether the feed is
            # seeded is what the database says now, not what the claim read.
            held = hold_feed_claim(connection, feed.id, self._owner)
            if held is None:
                return self._claim_lost(feed, now)
            if held != seeded:
                seeded = held
                plan = self._plan(connection, feed.id, prepared, known, seeded, now)
            new_items, alerts = self._apply(connection, feed, plan, source, now)
            outcome = PollOutcome(
                feed.url,
                FeedStatus.OK,
                checked_at=now,
                next_check_at=self._next_check(now, spec, result, parsed.ttl),
                message=parsed.warning,
                new_items=new_items,
                alerts=alerts,
                validators=result.validators,
                body_hash=hashes[0],
                entries_hash=hashes[1],
                title=parsed.title,
                ttl_seconds=None if parsed.ttl is None else int(parsed.ttl),
                moved_to=result.moved_to,
            )
            record_poll(connection, feed.id, outcome, owner=self._owner)
        shown = redact_url(feed.url)
        fields = {"feed": shown, "status": outcome.word, "new_items": new_items, "alerts": alerts}
        if parsed.warning:
            log.warning("feed %s: %s", shown, parsed.warning, extra={"feed": shown})
        if not seeded:
            log.info(
                "feed %s: first poll stored %s without alerting",
                shown,
                counted(new_items, "item"),
                extra=fields,
            )
        elif new_items or alerts:
            log.info(
                "feed %s: %s, %s",
                shown,
                counted(new_items, "new item"),
                counted(alerts, "alert"),
                extra=fields,
            )
        return outcome

    def _plan(
        self,
        connection: Connection,
        feed_id: int,
        prepared: list[PreparedItem],
        known: set[str],
        seeded: bool,
        now: datetime,
    ) -> IngestPlan:
        """What to store and alert for the prepared entries, given the items stored: a feed
        not seeded yet stores its backlog without alerting."""
        stored_hashes: dict[str, str] = {}
        if seeded:
            stored_hashes = stored_content_hashes(
                connection, feed_id, [item.key for item in prepared]
            )
        return plan_ingest(
            prepared,
            stored_hashes=stored_hashes,
            # A stored item of a full-text feed holds its page's text, not the feed's
            # teaser: the teaser must not overwrite it as an update.
            not_again=known,
            alerting=seeded,
            now=now,
            max_age=self._config.max_age,
            match=self._timed_match,
        )

    def _claim_lost(self, feed: FeedState, now: datetime) -> PollOutcome:
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

    def _timed_match(self, text: ItemText) -> Sequence[WatchlistMatch]:
        started = time.perf_counter()
        try:
            return self._matcher.match(text)
        finally:
            self._observer.matched(time.perf_counter() - started)

    def _apply(
        self, connection: Connection, feed: FeedState, plan: IngestPlan, source: str, now: datetime
    ) -> tuple[int, int]:
        """Store the plan's items and create the alerts planned for those that are new: the
        new items and the alerts created, counted."""
        dedup = self._config.dedup
        started = time.perf_counter()
        stored = store_items(
            connection,
            feed.id,
            plan.items,
            now,
            fingerprint_of=plan.fingerprint_of,
            thresholds=Thresholds.of(dedup),
            window=dedup.window,
        )
        if layers := [item.layer for item in stored if item.is_new]:
            self._observer.folded(time.perf_counter() - started, layers)
        alerts = 0
        # An update of a stored item never alerts. In (story, watchlist) order, the first copy
        # first: transactions creating alerts for the same stories at once then wait for each
        # other's rows in one order, never in a cycle (monitor/store/story_locks.py).
        planned = sorted(
            (
                (item, match)
                for item in stored
                if item.is_new
                for match in plan.alerts_for(item.item)
            ),
            key=lambda pair: (pair[0].cluster_id, pair[1].watchlist),
        )
        for item, match in planned:
            created = create_alert(
                connection,
                watchlist=match.watchlist,
                cluster_id=item.cluster_id,
                item_id=item.id,
                payload=alert_payload(item.item, match, source),
                channels=self._config.channels_for(self._watchlists[match.watchlist]),
                now=now,
            )
            if created is not None:
                alerts += 1
                log.info(
                    "alert %d: watchlist %s matched %r from %s",
                    created,
                    match.watchlist,
                    item.item.text.title[:120],
                    source,
                    extra={
                        "alert": created,
                        "watchlist": match.watchlist,
                        "feed": redact_url(feed.url),
                    },
                )
        return sum(1 for item in stored if item.is_new), alerts

    async def _succeed(
        self,
        feed: FeedState,
        result: FetchResult,
        status: FeedStatus,
        *,
        body_hash: str | None = None,
    ) -> PollOutcome:
        spec = self._specs.get(feed.url, _DEFAULT_SPEC)
        now = self._clock()
        outcome = PollOutcome(
            feed.url,
            status,
            checked_at=now,
            next_check_at=self._next_check(now, spec, result, feed.ttl_seconds),
            validators=result.validators,
            body_hash=body_hash,
            moved_to=result.moved_to,
        )
        self._record_later(feed, outcome)
        return outcome

    def _record_later(self, feed: FeedState, outcome: PollOutcome) -> None:
        """Record a poll that stored nothing now, in one transaction with the polls that end
        while the last write runs."""

        def write(connection: Connection) -> None:
            if not record_poll(connection, feed.id, outcome, owner=self._owner):
                self._claim_lost(feed, outcome.checked_at)

        self._state_writes.add(feed.id, write)

    def _next_check(
        self, now: datetime, spec: FeedSpec, result: FetchResult, ttl: float | None
    ) -> datetime:
        """The feed's interval, or longer when its server says the document stays fresh
        longer (HTTP caching headers, RSS <ttl>), up to fetch.max_interval."""
        hints = [hint for hint in (result.fresh_for, ttl) if hint]
        return next_feed_check(
            now,
            spec.interval,
            server_hint=max(hints) if hints else None,
            max_interval=self._config.fetch.max_interval,
        )

    async def _fail(
        self, feed: FeedState, kind: str, message: str, retry_after: float | None = None
    ) -> PollOutcome:
        spec = self._specs.get(feed.url, _DEFAULT_SPEC)
        gone = kind == "gone"
        if gone:
            # Dead, not disabled: checked once a day in case the publisher brings it back.
            log.error(
                "feed %s is gone (%s); remove it from the configuration. Checked again daily.",
                redact_url(feed.url),
                message,
                extra={"feed": redact_url(feed.url), "status": status_word(FeedStatus.DEAD, None)},
            )
        else:
            log.warning(
                "feed %s: %s",
                redact_url(feed.url),
                message,
                extra={
                    "feed": redact_url(feed.url),
                    "status": status_word(FeedStatus.ERROR, kind),
                    "error_kind": kind,
                },
            )
        now = self._clock()
        outcome = PollOutcome(
            feed.url,
            FeedStatus.DEAD if gone else FeedStatus.ERROR,
            checked_at=now,
            next_check_at=now + DEAD_FEED_CHECK
            if gone
            else next_feed_check(
                now, spec.interval, error_count=feed.error_count + 1, retry_after=retry_after
            ),
            error_kind=None if gone else kind,
            message=message,
        )
        self._record_later(feed, outcome)
        return outcome


def _entries_digest(parsed: ParsedFeed) -> str:
    """What a document says of its items, as one SHA-256: ids, links, texts and dates."""
    digest = hashlib.sha256()
    for entry in parsed.entries:
        published = entry.published.isoformat() if entry.published else ""
        fields = (entry.key, entry.url or "", entry.title, entry.summary, entry.content, published)
        digest.update("\x1f".join(fields).encode("utf-8", "surrogatepass") + b"\x1e")
    return digest.hexdigest()


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # a malformed URL: its fetch reports it
        return ""
