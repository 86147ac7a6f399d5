"""What a poll of a changed feed document will write, decided before its write transaction
(pure: no I/O, `now` passed in).

The transaction then only applies the plan: it stores the items (story assignment decides
which are new), and creates the alerts planned for the new ones. Matching runs here, outside
the transaction, because on SQLite the transaction holds the database's one write lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.dedup.assign import DocumentLines
from monitor.dedup.fingerprint import Fingerprint
from monitor.model import ItemText, PreparedItem, WatchlistMatch
from monitor.pipeline.alert_verdict import is_history

Match = Callable[[ItemText], Sequence[WatchlistMatch]]
# What an item says, whatever key it is filed under: story assignment files an id reused for
# another item under another key.
_Said = tuple[ItemText, str | None, datetime | None]


def _said(item: PreparedItem) -> _Said:
    return item.text, item.url, item.published


@dataclass(frozen=True)
class IngestPlan:
    """Store `items`; fold them into stories by their `document` lines (without the lines the
    document repeats: its boilerplate); alert the watchlists planned for each item that turns
    out new when stored (`alerts_for`; an item that may not alert has none)."""

    items: tuple[PreparedItem, ...]
    document: DocumentLines
    alerts: Mapping[_Said, tuple[WatchlistMatch, ...]]

    def fingerprint_of(self, item: PreparedItem) -> Fingerprint:
        return self.document.fingerprint(item)

    def alerts_for(self, item: PreparedItem) -> tuple[WatchlistMatch, ...]:
        return self.alerts.get(_said(item), ())


def plan_ingest(
    prepared: Sequence[PreparedItem],
    *,
    stored_hashes: Mapping[str, str],
    not_again: Iterable[str] = (),
    alerting: bool,
    now: datetime,
    max_age: timedelta,
    match: Match,
) -> IngestPlan:
    """`stored_hashes`: the content hash of the feed's items already stored, by key;
    `not_again`: keys whose stored item must not be overwritten (a full-text feed's stored
    page text, which its teaser would replace); `alerting`: whether the feed may alert at all
    (not on the first poll, which stores its backlog silently).

    Only texts that may be new are matched: an item whose key is not stored, or whose stored
    text differs (story assignment counts an id reused for another item as new). An item
    published before `max_age` is history and never alerts."""
    skipped = set(not_again)
    items = tuple(item for item in prepared if item.key not in skipped)
    alerts: dict[_Said, tuple[WatchlistMatch, ...]] = {}
    if alerting:
        for item in items:
            if stored_hashes.get(item.key) == item.content_hash or _said(item) in alerts:
                continue
            if is_history(item.published, now, max_age):
                continue
            if matches := tuple(match(item.text)):
                alerts[_said(item)] = matches
    return IngestPlan(items, DocumentLines.of(items), alerts)
