"""In-memory story indexes: the stream read so far (`monitor dedup`, `monitor replay`, the
evaluation), and a feed document's own earlier items (both paths)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from monitor.dedup.decide import Candidate
from monitor.dedup.fingerprint import Fingerprint, containment_view
from monitor.dedup.index import RECENT_PER_KEY, ExactKey, IndexEntry, rank_candidates
from monitor.model import ItemText


class _KeyFiles:
    """Item ids by key, ascending, keeping at least the `RECENT_PER_KEY` most recent of each:
    a template's frame, shared by thousands of items, costs neither memory nor time."""

    def __init__(self) -> None:
        self.by_key: defaultdict[int, list[int]] = defaultdict(list)

    def file(self, item_id: int, keys: Sequence[int]) -> None:
        for key in dict.fromkeys(keys):  # once per key, as the database's rows
            ids = self.by_key[key]
            ids.append(item_id)
            if len(ids) > 2 * RECENT_PER_KEY:  # trimmed now and then: amortised O(1)
                del ids[:-RECENT_PER_KEY]

    def forget(self, keys: Sequence[int], before: int) -> None:
        """Forget the ids below `before` filed under `keys`."""
        for key in keys:
            ids = self.by_key.get(key)
            if ids is None:
                continue
            del ids[: bisect_left(ids, before)]
            if not ids:
                del self.by_key[key]


_LOADED_KEPT = 1000


class MemoryStoryIndex:
    """The `StoryIndex` of a stream held in memory. It answers as `SqlStoryIndex` does (its
    candidates carry no full fingerprint: containment is checked on `containment_view`s
    recomputed from the text), so that a stream gives the same stories through either.

    With a `window`, it holds, as the database does, only the items seen within `window`
    before the time `at` last set (`monitor replay`: each document at its own time); older
    items are forgotten as time moves on, so memory holds one window of the stream."""

    def __init__(self, window: timedelta | None = None) -> None:
        self._window = window
        self._keys = _KeyFiles()
        self._entries: dict[int, Candidate] = {}
        self._texts: dict[int, ItemText] = {}
        # (item id, cluster) of the items with each text, and by feed of those with each
        # link, in arrival order: the earliest answers.
        self._by_hash: dict[str, list[tuple[int, int]]] = {}
        self._by_link: dict[str, dict[Hashable, deque[tuple[int, int]]]] = {}
        # The views recently loaded: consecutive items of a feed load the same few candidates.
        self._loaded: dict[int, Fingerprint] = {}
        self._now: datetime | None = None
        self._first_kept = 0  # the smallest item id still in the window
        self._arrivals: deque[_Arrival] = deque()

    def at(self, now: datetime) -> None:
        """The time of the next document: items seen more than `window` before it are out.
        Times must not go back (documents are decided in the order they were seen)."""
        self._now = now
        if self._window is None:
            return
        since = now - self._window
        arrivals = self._arrivals
        while arrivals and arrivals[0].seen < since:
            gone = arrivals.popleft()
            self._first_kept = gone.item_id + 1
            self._entries.pop(gone.item_id, None)
            self._texts.pop(gone.item_id, None)
            # Ids grow with arrival: the item gone is the first of each list it is in.
            _drop_first(self._by_hash, gone.content_hash)
            if gone.url is not None and (in_feeds := self._by_link.get(gone.url)):
                _drop_first(in_feeds, gone.feed)
                if not in_feeds:
                    del self._by_link[gone.url]
            self._keys.forget(gone.keys, self._first_kept)

    def exact(
        self, feed: Hashable, hashes: Collection[str], urls: Collection[str]
    ) -> Mapping[ExactKey, int]:
        found: dict[ExactKey, int] = {}
        for hash_ in hashes:
            if filed := self._by_hash.get(hash_):
                found["hash", hash_] = filed[0][1]
        for url in urls:
            # The earliest item with the link in another feed than `feed`.
            in_feeds = self._by_link.get(url)
            if in_feeds:
                others = [filed[0] for other, filed in in_feeds.items() if other != feed]
                if others:
                    found["url", url] = min(others)[1]
        return found

    def reserve(self, fingerprints: Sequence[Fingerprint]) -> None:
        """Nothing to lock: one stream, read by one."""

    def candidates(self, new: Sequence[Fingerprint]) -> list[list[Candidate]]:
        found = []
        for one in new:
            by_key: Mapping[int, Sequence[int]] = self._keys.by_key
            if self._first_kept:
                by_key = {key: self._in_window(key) for key in (*one.bands, *one.probes)}
            found.append([self._entries[item] for item in rank_candidates(by_key, one)])
        return found

    def _in_window(self, key: int) -> Sequence[int]:
        ids = self._keys.by_key.get(key)
        return ids[bisect_left(ids, self._first_kept) :] if ids else ()

    def load(self, candidates: Sequence[Candidate]) -> Mapping[int, Fingerprint]:
        found = {}
        for candidate in candidates:
            item_id = candidate.item_id
            view = self._loaded.get(item_id)
            if view is None and item_id in self._texts:
                view = self._loaded[item_id] = containment_view(self._texts[item_id])
                if len(self._loaded) > _LOADED_KEPT:
                    del self._loaded[next(iter(self._loaded))]  # the oldest loaded
            if view is not None:
                found[item_id] = view
        return found

    def add(self, feed: Hashable, entries: Sequence[IndexEntry]) -> None:
        for entry in entries:
            item = entry.item
            found = entry.fingerprint
            if self._window is not None and self._now is not None:
                keys = found.keys if found is not None and found.words else ()
                arrival = _Arrival(
                    self._now, entry.item_id, item.content_hash, item.url, feed, keys
                )
                self._arrivals.append(arrival)
            filed = (entry.item_id, entry.cluster_id)
            self._by_hash.setdefault(item.content_hash, []).append(filed)
            if item.url:
                # A deque: some feeds put one link (their home page) on every item.
                self._by_link.setdefault(item.url, {}).setdefault(feed, deque()).append(filed)
            if found is None or not found.words:
                continue
            self._entries[entry.item_id] = Candidate(
                entry.item_id, entry.cluster_id, found.signature, found.words, found.shingle_count
            )
            self._texts[entry.item_id] = item.text
            self._keys.file(entry.item_id, found.keys)


@dataclass(frozen=True, slots=True)
class _Arrival:
    seen: datetime
    item_id: int
    content_hash: str
    url: str | None
    feed: Hashable
    keys: tuple[int, ...]


def _drop_first(filed: dict[Any, Any], key: Hashable) -> None:
    ids = filed.get(key)
    if ids:
        if isinstance(ids, deque):
            ids.popleft()
        else:
            del ids[0]
        if not ids:
            del filed[key]


class DocumentStoryIndex:
    """A feed document's items decided so far, with their full fingerprints at hand: a feed
    may carry two copies of one story."""

    def __init__(self) -> None:
        self._keys = _KeyFiles()
        self._entries: dict[int, Candidate] = {}

    def candidates(self, new: Fingerprint) -> list[Candidate]:
        return [self._entries[item] for item in rank_candidates(self._keys.by_key, new)]

    def add(self, item_id: int, cluster_id: int, fingerprint: Fingerprint) -> None:
        self._entries[item_id] = Candidate.of(item_id, cluster_id, fingerprint)
        self._keys.file(item_id, fingerprint.keys)
