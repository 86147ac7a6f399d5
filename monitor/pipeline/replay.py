"""The backtest (`monitor replay`, docs/design.md §7): the daemon's decisions over items held in
memory, document after document in the order they were seen — story folding, matching and the
alert rules — with nothing written and nothing sent.

The rules are the daemon's (`pipeline/ingest_plan.py`, `store/items.py`, `store/alerts.py`):

- an item of its feed's first poll (`backlog`) never alerts;
- an item published more than `max_age` before it was seen never alerts (`is_history`), each
  item measured against its own time, not today's;
- a story alerts once per watchlist, for its first copy that matches; later copies fold into it;
- an item joins only stories seen within the story window before it.

A document's boilerplate (the lines it repeats across its entries) is left out of
fingerprints, as in the daemon. The daemon saw the whole feed document, including entries it
had stored before; to see the same repeated lines, `Replay` adds to each document the lines of
the feed's most recent earlier items, as many as the feed's document held (`document_sizes`:
the count of its first poll, the one poll that stores a whole document).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.dedup.assign import DocumentLines, item_lines
from monitor.dedup.clean import RepeatedLines
from monitor.dedup.decide import Thresholds
from monitor.dedup.stream import StoryStream
from monitor.match import FeedIdentity
from monitor.model import Hit, ItemText, ReplayItem, WatchlistMatch
from monitor.pipeline.alert_verdict import is_history

# The item's text and its feed, for watchlists' `sources` (None: not known, not applied).
Match = Callable[[ItemText, FeedIdentity | None], Sequence[WatchlistMatch]]
# A story as a replay knows it: its number (0, 1, … in the order stories began) and the id of
# its first item (what users see: input ids may repeat, numbers do not).
Story = tuple[int, object]


@dataclass(frozen=True)
class ReplayAlert:
    """An alert the daemon would have decided: for `watchlist`, on the story whose first item
    is `story` (an item id), caused by `item`, at `at` (when the item was seen)."""

    story: object
    watchlist: str
    item: ReplayItem
    hits: tuple[Hit, ...]
    at: datetime | None


class ReplayStories:
    """Story folding for a replay: feed it documents in the order they were seen; it answers
    each item's story, as the id of the story's first item. Apart from the alert rules so that
    it can run in a process of its own (`daemon/replay_fold.py`): its answers are small."""

    def __init__(
        self,
        thresholds: Thresholds,
        window: timedelta,
        document_sizes: Mapping[Any, int] | None = None,
        earlier: Mapping[Any, Sequence[ReplayItem]] | None = None,
    ) -> None:
        """`document_sizes`: entries per feed document (see the module's docstring);
        `earlier`: each feed's last items before the replayed ones (`remember`)."""
        self._stream = StoryStream(thresholds, window)
        self._sizes = document_sizes or {}
        self._recent: dict[Hashable, _RecentLines] = {}
        self._stories: list[Story] = []  # each item's story, by stream position
        self._count = 0
        self._clock: datetime | None = None  # the latest time seen: times never go back
        for feed, items in (earlier or {}).items():
            self.remember(feed, items)

    def document(self, feed: Hashable, items: Sequence[ReplayItem]) -> list[Story]:
        """The story of each of one feed document's new items."""
        if not items:
            return []
        for item in items:
            moment = item.seen or item.item.published
            if moment is not None and (self._clock is None or moment > self._clock):
                self._clock = moment
        lines = {item.item.key: item_lines(item.item) for item in items}
        assignments = self._stream.add_document(
            feed,
            [item.item for item in items],
            seen=self._clock,
            lines=self._document_lines(feed, lines),
        )
        stories = self._stories
        for item, assignment in zip(items, assignments, strict=True):
            if assignment.cluster == len(stories):  # the first item of a new story
                stories.append((self._count, item.item_id))
                self._count += 1
            else:
                stories.append(stories[assignment.cluster])
        return stories[-len(items) :]

    def remember(self, feed: Hashable, items: Sequence[ReplayItem]) -> None:
        """Items of a feed seen before the replayed ones, oldest first: only their lines are
        kept, for the repeated lines of the feed's next documents (`replay --since` starts
        with each feed's last document before it)."""
        size = self._sizes.get(feed, 0)
        if size:
            recent = self._recent_of(feed)
            recent.extend(item_lines(item.item) for item in items)
            recent.keep(size)

    def _document_lines(self, feed: Hashable, lines: Mapping[str, Sequence[str]]) -> DocumentLines:
        """The lines of the document the daemon read: the new items', and those of the
        feed's items seen before that the document still held (a feed's document held as many
        entries as its first poll stored; 0: that count is unknown, or the feed's documents
        were read without their stored entries, as a full-text feed's are)."""
        size = self._sizes.get(feed, 0)
        if not size:
            return DocumentLines.of_lines(lines)
        recent = self._recent_of(feed)
        recent.keep(max(0, size - len(lines)))
        repeated = recent.repeated_with(lines.values())
        recent.extend(lines.values())
        recent.keep(size)
        return DocumentLines(lines, repeated)

    def _recent_of(self, feed: Hashable) -> _RecentLines:
        recent = self._recent.get(feed)
        if recent is None:
            recent = self._recent[feed] = _RecentLines()
        return recent


class Replay:
    """Feed it documents in the order they were seen; it answers the alerts each decides."""

    def __init__(
        self,
        match: Match,
        *,
        max_age: timedelta,
        thresholds: Thresholds,
        window: timedelta,
        document_sizes: Mapping[Any, int] | None = None,
        earlier: Mapping[Any, Sequence[ReplayItem]] | None = None,
        feed_of: Callable[[Hashable], FeedIdentity | None] | None = None,
    ) -> None:
        """`feed_of`: an item's feed (ReplayItem.feed) as watchlists' `sources` judge it;
        without it, `sources` are not applied."""
        self._match = match
        self._feed_of = feed_of or _unknown_feed
        self._max_age = max_age
        self._stories = ReplayStories(thresholds, window, document_sizes, earlier)
        self._alerted: set[tuple[str, int]] = set()
        self.items = 0
        self.stories = 0

    def may_alert(self, item: ReplayItem) -> bool:
        """Whether the item may alert at all, whatever it matches: only those are matched."""
        seen = item.seen or item.item.published
        if item.backlog:
            return False
        return seen is None or not is_history(item.item.published, seen, self._max_age)

    def document(
        self,
        feed: Hashable,
        items: Sequence[ReplayItem],
        stories: Sequence[Story] | None = None,
    ) -> list[ReplayAlert]:
        """One feed document's new items: their stories, and the alerts they decide.
        `stories`: each item's story when folded elsewhere (`ReplayStories`, fed the same
        documents); by default they are folded here."""
        if not items:
            return []
        if stories is None:
            stories = self._stories.document(feed, items)
        self.items += len(items)
        alerts: list[ReplayAlert] = []
        for item, story in zip(items, stories, strict=True):
            self.stories = max(self.stories, story[0] + 1)
            if self.may_alert(item):
                alerts.extend(self._decide(item, story))
        return alerts

    def _decide(self, item: ReplayItem, story: Story) -> Iterable[ReplayAlert]:
        number, first_id = story
        for match in self._match(item.item.text, self._feed_of(item.feed)):
            if (match.watchlist, number) in self._alerted:
                continue  # a copy of a story this watchlist alerted on
            self._alerted.add((match.watchlist, number))
            seen = item.seen or item.item.published
            yield ReplayAlert(first_id, match.watchlist, item, match.hits, seen)


def _unknown_feed(_feed: Hashable) -> None:
    return None


class _RecentLines:
    """A feed's most recent items' story lines, counted as its document's repeated lines are
    (`RepeatedLines`), kept counted as items come and go: a document costs its new items."""

    def __init__(self) -> None:
        self._items: deque[Sequence[str]] = deque()
        self._counts = RepeatedLines()

    def keep(self, count: int) -> None:
        while len(self._items) > count:
            self._counts.remove(self._items.popleft())

    def extend(self, found: Iterable[Sequence[str]]) -> None:
        for lines in found:
            self._items.append(lines)
            self._counts.add(lines)

    def repeated_with(self, new: Iterable[Sequence[str]]) -> frozenset[str]:
        """The lines of `new` items that the kept items and they repeat."""
        new = list(new)
        for lines in new:
            self._counts.add(lines)
        repeated = self._counts.lines(among={line for lines in new for line in lines})
        for lines in new:
            self._counts.remove(lines)
        return repeated
