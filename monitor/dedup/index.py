"""The story index: what story folding asks of the items seen before a feed document.

`assign_stories` decides against a `StoryIndex`; two implement it: `SqlStoryIndex` in
`monitor.store.stories` (the daemon: items stored within the story window) and
`MemoryStoryIndex` in `monitor.dedup.memory` (`monitor dedup` and the evaluation: the stream
read so far). Both rank candidates with `rank_candidates`, so that one stream of items gives
the same stories through either.

Work per lookup is bounded, whatever the feed: templated items (a job board, weather, a council
budget: one sentence frame, other names and numbers) share every band and lead key, so a key
can be shared by thousands of items. Only the `RECENT_PER_KEY` most recent items of each key
are read, and only the `MAX_CANDIDATES` of them sharing the most keys are compared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from monitor.dedup.decide import Candidate
from monitor.dedup.fingerprint import Fingerprint
from monitor.model import PreparedItem

# Items read per key, the most recent first. A copy shares several keys with its original
# (bands, lead anchors); a key shared by more items than this is a common sentence or a
# template's frame, which says nothing about a story.
RECENT_PER_KEY = 16
# Few candidates are ever true copies; past this many, those sharing the most keys with the
# new item are compared (the most recent first among equals).
MAX_CANDIDATES = 50

# The exact layer's findings: ("hash", content hash) or ("url", canonical link) -> cluster id.
ExactKey = tuple[Literal["hash", "url"], str]


@dataclass(frozen=True)
class IndexEntry:
    """A newly stored item, as the index files it: `fingerprint` is None for an item the near
    layer does not file (an exact copy, a text too short)."""

    item_id: int
    cluster_id: int
    item: PreparedItem
    fingerprint: Fingerprint | None


class StoryIndex(Protocol):
    """The items seen before the document being decided (within the story window, where there
    is one). Item and cluster ids are positive and grow with arrival order."""

    def exact(
        self, feed: Hashable, hashes: Collection[str], urls: Collection[str]
    ) -> Mapping[ExactKey, int]:
        """The exact layer: for each content hash, the cluster of the earliest item with that
        text (any feed); for each link, of the earliest item with that link in another feed
        than `feed`. Called once per document, first."""
        ...

    def reserve(self, fingerprints: Sequence[Fingerprint]) -> None:
        """Called once per document after `exact` and before `candidates`, with the
        fingerprints of every item the document will look up or file. An index written by
        several transactions at once locks their keys here, as it locks the exact layer's in
        `exact` (`SqlStoryIndex` on PostgreSQL); one reader needs nothing."""
        ...

    def candidates(self, new: Sequence[Fingerprint]) -> list[list[Candidate]]:
        """For each fingerprint, its candidates, ranked by `rank_candidates`."""
        ...

    def load(self, candidates: Sequence[Candidate]) -> Mapping[int, Fingerprint]:
        """The candidates' `containment_view`s, recomputed from their text, by item id."""
        ...

    def add(self, feed: Hashable, entries: Sequence[IndexEntry]) -> None:
        """File a decided document's new items."""
        ...


def rank_candidates(filed: Mapping[int, Sequence[int]], new: Fingerprint) -> list[int]:
    """The ids of the items to compare with `new`, given the ids filed under each key (the
    most recent `RECENT_PER_KEY` of each, at least): those sharing the most keys with it
    first, then the most recent, at most `MAX_CANDIDATES`."""
    shared = Counter(_recent(filed, (*new.bands, *new.probes)))
    ranked = sorted(shared, key=lambda item_id: (-shared[item_id], -item_id))
    return ranked[:MAX_CANDIDATES]


def _recent(filed: Mapping[int, Sequence[int]], keys: Iterable[int]) -> Iterable[int]:
    for key in keys:
        ids = filed.get(key)
        if ids:
            # Ids ascending: the most recent last.
            yield from (ids[-RECENT_PER_KEY:] if len(ids) > RECENT_PER_KEY else ids)
