"""In-memory story indexes: the stream read so far (`monitor dedup`, the evaluation), and a
feed document's own earlier items (both paths)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass

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


_LOADED_KEPT = 1000


@dataclass(frozen=True)
class _FirstLink:
    feed: Hashable
    cluster: int
    elsewhere: int | None  # the cluster of the earliest item with the link in another feed


class MemoryStoryIndex:
    """The `StoryIndex` of a stream held in memory. It answers as `SqlStoryIndex` does (its
    candidates carry no full fingerprint: containment is checked on `containment_view`s
    recomputed from the text), so that a stream gives the same stories through either."""

    def __init__(self) -> None:
        self._keys = _KeyFiles()
        self._entries: dict[int, Candidate] = {}
        self._texts: dict[int, ItemText] = {}
        self._by_hash: dict[str, int] = {}
        self._by_link: dict[str, _FirstLink] = {}
        # The views recently loaded: consecutive items of a feed load the same few candidates.
        self._loaded: dict[int, Fingerprint] = {}

    def exact(
        self, feed: Hashable, hashes: Collection[str], urls: Collection[str]
    ) -> Mapping[ExactKey, int]:
        found: dict[ExactKey, int] = {}
        for hash_ in hashes:
            if (cluster := self._by_hash.get(hash_)) is not None:
                found["hash", hash_] = cluster
        for url in urls:
            first = self._by_link.get(url)
            if first is None:
                continue
            cluster_ = first.cluster if first.feed != feed else first.elsewhere
            if cluster_ is not None:
                found["url", url] = cluster_
        return found

    def candidates(self, new: Sequence[Fingerprint]) -> list[list[Candidate]]:
        by_key = self._keys.by_key
        return [[self._entries[item] for item in rank_candidates(by_key, one)] for one in new]

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
            self._by_hash.setdefault(item.content_hash, entry.cluster_id)
            if item.url:
                first = self._by_link.get(item.url)
                if first is None:
                    self._by_link[item.url] = _FirstLink(feed, entry.cluster_id, None)
                elif first.elsewhere is None and first.feed != feed:
                    elsewhere = _FirstLink(first.feed, first.cluster, entry.cluster_id)
                    self._by_link[item.url] = elsewhere
            found = entry.fingerprint
            if found is None or not found.words:
                continue
            self._entries[entry.item_id] = Candidate(
                entry.item_id, entry.cluster_id, found.signature, found.words, found.shingle_count
            )
            self._texts[entry.item_id] = item.text
            self._keys.file(entry.item_id, found.keys)


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
