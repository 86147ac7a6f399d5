"""Story folding of a stream of items held in memory (`monitor dedup`, `monitor replay`, the
evaluation): a thin driver of `assign_stories` over a `MemoryStoryIndex`, document after
document, as the daemon drives it over the stored items."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.dedup.assign import DocumentLines, Layer, assign_stories
from monitor.dedup.decide import DEFAULT_THRESHOLDS, Thresholds
from monitor.dedup.index import IndexEntry
from monitor.dedup.memory import MemoryStoryIndex
from monitor.model import PreparedItem


@dataclass(frozen=True)
class Assignment:
    cluster: int  # the position in the stream of the story's first item (from 0)
    similarity: float | None  # None for the first item of a story
    layer: Layer | None  # which layer joined it (`monitor.dedup.assign`); None: a new story


class StoryStream:
    """Items are numbered in arrival order; a story is known by its first item's number.

    With a `window`, an item joins only the stories of items seen within `window` before it,
    as in the daemon; each document then says when it was seen."""

    def __init__(
        self, thresholds: Thresholds = DEFAULT_THRESHOLDS, window: timedelta | None = None
    ) -> None:
        self._thresholds = thresholds
        self._index = MemoryStoryIndex(window)
        self._count = 0

    def add_document(
        self,
        feed: Hashable,
        items: Sequence[PreparedItem],
        *,
        seen: datetime | None = None,
        lines: DocumentLines | None = None,
    ) -> list[Assignment]:
        """The stories of one feed document's items (each a new item), in order. `seen`: when
        the document was read (times never go back); `lines`: the document's lines when it
        held more entries than `items` (its entries already seen)."""
        if seen is not None:
            self._index.at(seen)
        decisions = assign_stories(
            feed,
            items,
            self._index,
            fingerprint_of=(lines or DocumentLines.of(items)).fingerprint,
            thresholds=self._thresholds,
        )
        # Ids from 1, as the database's: the index's ids are positive.
        first_id = self._count + 1
        self._count += len(items)
        clusters = [
            first_id - decision.cluster - 1 if decision.cluster < 0 else decision.cluster
            for decision in decisions
        ]
        self._index.add(
            feed,
            [
                IndexEntry(first_id + position, cluster, item, decision.fingerprint)
                for position, (item, cluster, decision) in enumerate(
                    zip(items, clusters, decisions, strict=True)
                )
            ],
        )
        return [
            Assignment(cluster - 1, decision.similarity, decision.layer)
            for cluster, decision in zip(clusters, decisions, strict=True)
        ]
