"""`monitor feeds`: each configured feed's polling health, as a table or as JSON Lines, and
`feeds --check`'s verdict; the counts that systemd's STATUS= and the metrics show; /healthz's
stalled-polling reason. Pure: the caller reads the feeds table (monitor.store.feeds.feed_health)
and the outbox, and gives the time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.config.schema import Config
from monitor.feeds import redact_url
from monitor.model import FeedStatus
from monitor.store import FeedHealth, PendingDeliveries
from monitor.text.count import counted
from monitor.timespan import span_text

# `feeds --check`'s exit codes, those of Nagios plugins (OK, WARNING, CRITICAL, UNKNOWN: the
# check itself could not tell, the configuration or the database unreadable).
CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN = 0, 1, 2, 3
# A feed due for longer than this (and twice its interval) was not polled: no daemon is running.
OVERDUE_AT_LEAST = timedelta(minutes=15)
# /healthz: polling is stalled when no pass completed for this many poll ticks (and this long)
# while feeds are due.
STALLED_TICKS, STALLED_AT_LEAST = 10, timedelta(minutes=5)


@dataclass(frozen=True)
class FeedLimits:
    """What a configured feed's health is measured against: how often it is polled and how long
    it may go without a successful poll."""

    interval: timedelta
    stale_after: timedelta

    @classmethod
    def of(cls, config: Config) -> list[FeedLimits]:
        """Those of `config.feeds`, in their order (that of `feed_health`)."""
        return [cls(feed.interval, config.stale_after(feed)) for feed in config.feeds]


def is_stale(feed: FeedHealth, limits: FeedLimits, now: datetime) -> bool:
    """Polled fine but stale: marked by the daemon's stale check (`stale_since`: no new item
    past its stale_after), or, worked out here, no successful poll for longer than that. The
    second needs no running daemon, so a stopped one cannot leave its feeds looking fine."""
    if feed.status.failing or feed.status is FeedStatus.NEW:
        return False
    if feed.stale_since is not None:
        return True
    success = feed.last_success_at
    return success is not None and now - success > limits.stale_after


@dataclass(frozen=True)
class FeedCounts:
    """The configured feeds by health: each in exactly one of ok, failing (an error status or
    dead), stale (`is_stale`) and new (not polled yet)."""

    ok: int = 0
    failing: int = 0
    stale: int = 0
    new: int = 0

    @property
    def feeds(self) -> int:
        return self.ok + self.failing + self.stale + self.new

    @classmethod
    def of(
        cls, feeds: Sequence[FeedHealth], limits: Sequence[FeedLimits], now: datetime
    ) -> FeedCounts:
        """`feeds` with their `limits` (FeedLimits.of the configuration), at `now`."""
        failing = sum(feed.status.failing for feed in feeds)
        new = sum(feed.status is FeedStatus.NEW for feed in feeds)
        stale = sum(is_stale(feed, limit, now) for feed, limit in zip(feeds, limits, strict=True))
        return cls(len(feeds) - failing - new - stale, failing, stale, new)

    def text(self) -> str:
        """`6 feeds: 4 ok, 1 failing, 1 stale` (stale and not polled yet only when some are)."""
        parts = [f"{self.ok} ok", f"{self.failing} failing"]
        if self.stale:
            parts.append(f"{self.stale} stale")
        if self.new:
            parts.append(f"{self.new} not polled yet")
        return f"{counted(self.feeds, 'feed')}: {', '.join(parts)}"


@dataclass(frozen=True)
class Vitals:
    """The daemon's state in a few numbers, read from the store at a metrics scrape and after
    each pass (systemd's STATUS=)."""

    feeds: FeedCounts
    pending: PendingDeliveries
    at: datetime

    @property
    def oldest_pending_seconds(self) -> float:
        oldest = self.pending.oldest
        return 0.0 if oldest is None else max(0.0, (self.at - oldest).total_seconds())

    def status_line(self) -> str:
        """systemd's STATUS=: `6 feeds: 5 ok, 1 failing; 2 alerts pending`."""
        return f"{self.feeds.text()}; {counted(self.pending.alerts, 'alert')} pending"


def check_verdict(
    feeds: Sequence[FeedHealth], limits: Sequence[FeedLimits], now: datetime
) -> tuple[int, str]:
    """`feeds --check`, judged at `now` from what is stored, whether a daemon runs or not: one
    line and the exit code.

    CRITICAL when a feed is overdue (due for more than twice its interval, and at least
    OVERDUE_AT_LEAST: no daemon polls); WARNING when no feed was ever polled: a daemon started
    seconds ago, or none started yet. WARNING rather than UNKNOWN: the database answered, so
    the check could judge, and what it found passes by itself once a daemon polls (or turns
    CRITICAL once the feeds the daemon added are overdue). Otherwise 0 when no feed fails or
    is stale, 2 when none is ok (and some fail or are stale), else 1. Feeds not polled yet
    beside polled ones count neither way."""
    counts = FeedCounts.of(feeds, limits, now)
    if not feeds:
        return CHECK_OK, "OK: no feeds configured"
    overdue = [
        feed.next_check_at
        for feed, limit in zip(feeds, limits, strict=True)
        if feed.next_check_at is not None
        and now - feed.next_check_at > max(2 * limit.interval, OVERDUE_AT_LEAST)
    ]
    if overdue:
        # The daemon's last sign of life: its latest poll of any feed, else when the overdue
        # feeds (never polled) became due.
        polled = [feed.last_checked_at for feed in feeds if feed.last_checked_at is not None]
        since = max(polled) if polled else min(overdue)
        return (
            CHECK_CRITICAL,
            f"CRITICAL: no poll since {_iso(since)} ({_ago(since, now)}),"
            f" {counted(len(overdue), 'feed')} overdue; {counts.text()}",
        )
    if counts.new == counts.feeds:
        return CHECK_WARNING, f"WARNING: no feed polled yet; {counts.text()}"
    if counts.failing + counts.stale == 0:
        return CHECK_OK, f"OK: {counts.text()}"
    if counts.ok == 0:
        return CHECK_CRITICAL, f"CRITICAL: {counts.text()}"
    return CHECK_WARNING, f"WARNING: {counts.text()}"


def stalled_polling(
    since_last_pass: timedelta, tick: timedelta, due: Callable[[], int]
) -> str | None:
    """/healthz on any database: why polling looks stalled, else None. A daemon that works ends
    a poll pass every tick, with nothing due too; a pass that fails (a database locked or
    unwritable) ends none. No pass for STALLED_TICKS ticks (and STALLED_AT_LEAST) is a stall
    only while feeds are due and unclaimed: a long pass reports each feed it polls, and the
    feeds it works on are claimed. `due` (how many: a database read) is asked only past that
    time."""
    if since_last_pass <= max(STALLED_TICKS * tick, STALLED_AT_LEAST):
        return None
    waiting = due()
    if not waiting:
        return None
    return (
        f"no poll pass has completed for {span_text(since_last_pass, 2)} while"
        f" {counted(waiting, 'feed')} {'is' if waiting == 1 else 'are'} due"
    )


def describe_status(feed: FeedHealth, *, stale: bool) -> str:
    """The status word that `poll --once` and the JSON show too (`ok`, `not_modified`,
    `error:timeout`), with what the table adds: `(3 in a row)` after an error, `(checked
    daily)` after `dead`, `, stale` when the feed is past its stale_after (`stale`, or marked
    so while failing)."""
    described = feed.status_word
    if feed.status is FeedStatus.ERROR:
        described += f" ({feed.error_count} in a row)"
    elif feed.status is FeedStatus.DEAD:
        described += " (checked daily)"
    return f"{described}, stale" if stale or feed.stale_since else described


def health_json(feed: FeedHealth) -> dict[str, Any]:
    """One feed as a JSON object. URLs are shown as the logs show them: credentials masked."""
    return {
        "url": redact_url(feed.url),
        "name": feed.display_name if feed.display_name != feed.url else None,
        "status": feed.status_word,
        "error_kind": feed.error_kind,
        "error": feed.error,
        "error_count": feed.error_count,
        "last_success": _iso(feed.last_success_at),
        "last_checked": _iso(feed.last_checked_at),
        "next_check": _iso(feed.next_check_at),
        "items": feed.items,
        "moved_to": None if feed.moved_to is None else redact_url(feed.moved_to),
        "stale_since": _iso(feed.stale_since),
    }


def health_table(
    feeds: Sequence[FeedHealth], limits: Sequence[FeedLimits], now: datetime
) -> list[str]:
    """A fixed-width table, one line per feed, then the error of each failing feed and the
    counts `feeds --check` gives."""
    header = ("STATUS", "LAST SUCCESS", "ITEMS", "NEXT CHECK", "FEED")
    rows = [
        (
            describe_status(feed, stale=is_stale(feed, limit, now)),
            _ago(feed.last_success_at, now),
            str(feed.items),
            _until(feed.next_check_at, now),
            f"{feed.display_name} <{redact_url(feed.url)}>"
            if feed.display_name != feed.url
            else redact_url(feed.url),
        )
        for feed, limit in zip(feeds, limits, strict=True)
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(4)]
    lines = [_line(row, widths) for row in (header, *rows)]
    failing = [feed for feed in feeds if feed.error and feed.status.failing]
    for feed in failing:
        lines.append(f"{redact_url(feed.url)}: {feed.error}")
    for feed in feeds:
        if feed.moved_to:
            lines.append(
                f"{redact_url(feed.url)} moved permanently to {redact_url(feed.moved_to)},"
                " polled there: update the configuration"
            )
    lines.append(FeedCounts.of(feeds, limits, now).text() if feeds else "no feeds configured")
    return lines


def _line(row: Sequence[str], widths: Sequence[int]) -> str:
    cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
    return "  ".join([*cells, row[-1]])


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds")


def _ago(moment: datetime | None, now: datetime) -> str:
    return "never" if moment is None else f"{span_text(now - moment)} ago"


def _until(moment: datetime | None, now: datetime) -> str:
    if moment is None or moment <= now:
        return "due"
    return f"in {span_text(moment - now)}"
