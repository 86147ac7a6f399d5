"""One feed's poll: fetch, parse, skip what has not changed, read the new entries' article pages,
and hand the result to be written; a failure is the feed's outcome, never the pass's
(docs/design.md §1 Pipeline, steps 3 to 5)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from datetime import datetime

import httpx

from monitor.config.schema import Config, FeedSpec
from monitor.feeds import FetchPolicy, ParseProcesses, fetch_feed, fetch_main_text, redact_url
from monitor.model import FeedStatus, FetchError, FetchResult, ParsedFeed, PollOutcome, status_word
from monitor.pipeline.observe import PollObserver
from monitor.pipeline.poll_results import PollResults
from monitor.pipeline.prepare import item_key
from monitor.pipeline.schedule import DEAD_FEED_CHECK, next_check_after_fetch, next_feed_check
from monitor.sandbox import SandboxError
from monitor.store import FeedState

log = logging.getLogger("monitor.poll")

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


class FeedPoller:
    """Polls one claimed feed at a time; `results` writes what each poll found."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        parser: ParseProcesses,
        config: Config,
        clock: Callable[[], datetime],
        results: PollResults,
        *,
        fetch_policy: FetchPolicy,
        observer: PollObserver,
    ) -> None:
        self._client = client  # built with `fetch_policy`
        self._fetch_policy = fetch_policy
        self._parser = parser
        self._config = config
        self._clock = clock
        self._results = results
        self._observer = observer
        self._specs = {feed.url: feed for feed in config.feeds}

    async def poll(self, feed: FeedState) -> PollOutcome:
        """The feed's poll, its outcome recorded; an outcome even when it fails."""
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
        return await self._results.ingest(feed, spec, result, parsed, hashes, full_texts, known)

    async def _full_texts(
        self, feed: FeedState, spec: FeedSpec, parsed: ParsedFeed
    ) -> tuple[dict[str, str], set[str]]:
        """The article pages' main texts of the new entries, by item key, and the keys already
        stored (whose full text was fetched when they were new)."""
        entries = {item_key(entry, spec.id_policy): entry for entry in parsed.entries}
        known = await self._results.known_keys(feed.id, list(entries))
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
            next_check_at=next_check_after_fetch(
                now,
                spec.interval,
                result,
                feed.ttl_seconds,
                max_interval=self._config.fetch.max_interval,
            ),
            validators=result.validators,
            body_hash=body_hash,
            moved_to=result.moved_to,
        )
        self._results.record_later(feed, outcome)
        return outcome

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
        self._results.record_later(feed, outcome)
        return outcome


def _entries_digest(parsed: ParsedFeed) -> str:
    """What a document says of its items, as one SHA-256: ids, links, texts and dates."""
    digest = hashlib.sha256()
    for entry in parsed.entries:
        published = entry.published.isoformat() if entry.published else ""
        fields = (entry.key, entry.url or "", entry.title, entry.summary, entry.content, published)
        digest.update("\x1f".join(fields).encode("utf-8", "surrogatepass") + b"\x1e")
    return digest.hexdigest()
