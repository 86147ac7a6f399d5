"""A poll's result written: a changed document's items, alerts and feed state in one short
transaction under the feed's claim, after planning outside it; the state of a poll that stored
nothing by group commit (docs/design.md §1 Pipeline, steps 6 to 9)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, Engine

from monitor.config.schema import Config, FeedSpec
from monitor.dedup.decide import Thresholds
from monitor.feeds import redact_url
from monitor.match import FeedIdentity, Matcher
from monitor.model import (
    FeedStatus,
    FetchResult,
    ItemText,
    ParsedFeed,
    PollOutcome,
    PreparedItem,
    WatchlistMatch,
)
from monitor.pipeline.claims import InThread, claim_lost
from monitor.pipeline.ingest_plan import IngestPlan, plan_ingest
from monitor.pipeline.observe import PollObserver
from monitor.pipeline.payload import alert_payload
from monitor.pipeline.prepare import item_key, prepare_entry
from monitor.pipeline.schedule import next_check_after_fetch
from monitor.pipeline.state_writes import GroupCommitStateWrites
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


class PollResults:
    """Writes the results of the polls `owner` holds the claims of. `in_thread` runs database
    work in the poller's database threads."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        matcher: Matcher,
        clock: Callable[[], datetime],
        in_thread: InThread,
        *,
        observer: PollObserver,
        owner: str,
    ) -> None:
        self._engine = engine
        self._config = config
        self._matcher = matcher
        self._clock = clock
        self._in_thread = in_thread
        self._observer = observer
        self._owner = owner
        self._watchlists = {watchlist.name: watchlist for watchlist in config.watchlists}
        self._state_writes = GroupCommitStateWrites(engine, in_thread)

    async def known_keys(self, feed_id: int, keys: list[str]) -> set[str]:
        """Which of the feed's item `keys` are stored."""
        known: set[str] = await self._in_thread(self._known_keys, feed_id, keys)
        return known

    def _known_keys(self, feed_id: int, keys: list[str]) -> set[str]:
        with self._engine.connect() as connection:
            return set(stored_content_hashes(connection, feed_id, keys))

    async def ingest(
        self,
        feed: FeedState,
        spec: FeedSpec,
        result: FetchResult,
        parsed: ParsedFeed,
        hashes: tuple[str, str],  # of the body, of the entries
        full_texts: dict[str, str],
        known: set[str],
    ) -> PollOutcome:
        """Store a changed document's items, create their alerts and record the poll, in a
        database thread; `known`: the keys whose stored text is their page's (full text)."""
        outcome: PollOutcome = await self._in_thread(
            self._ingest, feed, spec, result, parsed, hashes, full_texts, known
        )
        return outcome

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
        scope = FeedIdentity.of(spec)  # what watchlists' `sources` are judged on
        with self._engine.connect() as connection:
            plan = self._plan(connection, feed.id, prepared, known, seeded, now, scope)
        source = spec.name or parsed.title or feed.title or feed.url
        with self._engine.begin() as connection:
            # The claim is checked, and the row locked, before anything is written: a late
            # writer (its claim expired and was taken) stores nothing. Whether the feed is
            # seeded is what the database says now, not what the claim read.
            held = hold_feed_claim(connection, feed.id, self._owner)
            if held is None:
                return claim_lost(feed, now)
            if held != seeded:
                seeded = held
                plan = self._plan(connection, feed.id, prepared, known, seeded, now, scope)
            new_items, alerts = self._apply(connection, feed, plan, source, now)
            outcome = PollOutcome(
                feed.url,
                FeedStatus.OK,
                checked_at=now,
                next_check_at=next_check_after_fetch(
                    now,
                    spec.interval,
                    result,
                    parsed.ttl,
                    max_interval=self._config.fetch.max_interval,
                ),
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
        scope: FeedIdentity,
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
            match=partial(self._timed_match, feed=scope),
        )

    def _timed_match(self, text: ItemText, feed: FeedIdentity) -> Sequence[WatchlistMatch]:
        started = time.perf_counter()
        try:
            return self._matcher.match(text, feed)
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

    def record_later(self, feed: FeedState, outcome: PollOutcome) -> None:
        """Record a poll that stored nothing now, in one transaction with the polls that end
        while the last write runs."""

        def write(connection: Connection) -> None:
            if not record_poll(connection, feed.id, outcome, owner=self._owner):
                claim_lost(feed, outcome.checked_at)

        self._state_writes.add(feed.id, write)

    async def drain(self) -> None:
        """Return once every state recorded later so far is written (or reported lost)."""
        await self._state_writes.drain()
