"""`monitor feeds`: each configured feed's polling health, as a table or as JSON Lines, and
`feeds --check`'s verdict; the counts that systemd's STATUS= and the metrics show. Pure: the
caller reads the feeds table (monitor.store.feeds.feed_health) and the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.feeds import redact_url
from monitor.model import FeedStatus
from monitor.store import FeedHealth, PendingDeliveries
from monitor.text.count import counted
from monitor.timespan import span_text

# `feeds --check`'s exit codes, those of Nagios plugins (OK, WARNING, CRITICAL).
CHECK_OK, CHECK_WARNING, CHECK_CRITICAL = 0, 1, 2


@dataclass(frozen=True)
class FeedCounts:
    """The configured feeds by health: each in exactly one of ok, failing (an error status or
    dead), stale (polled fine but silent past its stale_after) and new (not polled yet)."""

    ok: int = 0
    failing: int = 0
    stale: int = 0
    new: int = 0

    @property
    def feeds(self) -> int:
        return self.ok + self.failing + self.stale + self.new

    @classmethod
    def of(cls, feeds: Sequence[FeedHealth]) -> FeedCounts:
        failing = sum(feed.status.failing for feed in feeds)
        new = sum(feed.status is FeedStatus.NEW for feed in feeds)
        stale = sum(
            bool(feed.stale_since) and not feed.status.failing and feed.status is not FeedStatus.NEW
            for feed in feeds
        )
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


def check_verdict(feeds: Sequence[FeedHealth]) -> tuple[int, str]:
    """`feeds --check`: exit 0 when no feed fails or is stale, 2 when none is ok (and some
    fail or are stale), else 1; and one line saying so. Feeds not polled yet count neither way:
    a daemon just started is not failing."""
    counts = FeedCounts.of(feeds)
    if not feeds:
        return CHECK_OK, "OK: no feeds configured"
    if counts.failing + counts.stale == 0:
        return CHECK_OK, f"OK: {counts.text()}"
    if counts.ok == 0:
        return CHECK_CRITICAL, f"CRITICAL: {counts.text()}"
    return CHECK_WARNING, f"WARNING: {counts.text()}"


def describe_status(feed: FeedHealth) -> str:
    """The status word that `poll --once` and the JSON show too (`ok`, `not_modified`,
    `error:timeout`), with what the table adds: `(3 in a row)` after an error, `(checked
    daily)` after `dead`, `, stale` when the feed is past its stale_after."""
    described = feed.status_word
    if feed.status is FeedStatus.ERROR:
        described += f" ({feed.error_count} in a row)"
    elif feed.status is FeedStatus.DEAD:
        described += " (checked daily)"
    return f"{described}, stale" if feed.stale_since else described


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


def health_table(feeds: Sequence[FeedHealth], now: datetime) -> list[str]:
    """A fixed-width table, one line per feed, then the error of each failing feed."""
    header = ("STATUS", "LAST SUCCESS", "ITEMS", "NEXT CHECK", "FEED")
    rows = [
        (
            describe_status(feed),
            _ago(feed.last_success_at, now),
            str(feed.items),
            _until(feed.next_check_at, now),
            f"{feed.display_name} <{redact_url(feed.url)}>"
            if feed.display_name != feed.url
            else redact_url(feed.url),
        )
        for feed in feeds
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
    lines.append(_summary(feeds))
    return lines


def _summary(feeds: Sequence[FeedHealth]) -> str:
    if not feeds:
        return "no feeds configured"
    failing = sum(feed.status.failing for feed in feeds)
    new = sum(feed.status is FeedStatus.NEW for feed in feeds)
    parts = [f"{len(feeds) - failing - new} ok", f"{failing} failing"]
    if new:
        parts.append(f"{new} not polled yet")
    return f"{counted(len(feeds), 'feed')}: {', '.join(parts)}"


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
