"""Story assignment: which story each new item of a feed document joins. The one decision
behind both the daemon (`monitor.store.items.store_items`, against the stored items) and
`monitor dedup` (`monitor.dedup.stream.StoryStream`, against the stream read so far).

A document's new items are decided in order, each against the index (the items of earlier
documents) and the document's items before it:

1. the exact layer: the same text (content hash) as an earlier item of any feed, else the
   same canonical link as an earlier item of another feed (a link shared inside one feed says
   nothing: some feeds point every item at their home page), else the same text as an item
   before it in the document;
2. the near layer: the most similar candidate that `best_match` accepts, among the index's
   candidates and the document's items before it. Fingerprints leave out the lines the
   document repeats across its items (`DocumentLines`: its footer, a signature), and are
   computed only for items the exact layer does not place by their text;
3. else a new story.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.dedup.clean import RepeatedLines, story_lines
from monitor.dedup.decide import DEFAULT_THRESHOLDS, NearLayer, Thresholds, best_match
from monitor.dedup.fingerprint import Fingerprint, body_of, fingerprint
from monitor.dedup.index import ExactKey, StoryIndex
from monitor.dedup.memory import DocumentStoryIndex
from monitor.model import PreparedItem

FingerprintOf = Callable[[PreparedItem], Fingerprint]

log = logging.getLogger("monitor.dedup")


@dataclass(frozen=True)
class DocumentLines:
    """A feed document's story lines by item key, and the lines it repeats across its items
    (its boilerplate, left out of fingerprints). Made before any transaction (on SQLite the
    transaction holds the database's write lock); the fingerprints are computed inside it,
    only for the items the exact layer does not place, as their story is decided."""

    by_key: Mapping[str, Sequence[str]]
    repeated: frozenset[str]

    @classmethod
    def of(cls, items: Iterable[PreparedItem]) -> DocumentLines:
        """An entry the document repeats (same key) counts once, as the first of them: the
        one `store_items` keeps."""
        by_key: dict[str, Sequence[str]] = {}
        for item in items:
            if item.key not in by_key:
                by_key[item.key] = item_lines(item)
        return cls.of_lines(by_key)

    @classmethod
    def of_lines(
        cls, by_key: Mapping[str, Sequence[str]], others: Iterable[Sequence[str]] = ()
    ) -> DocumentLines:
        """From the story lines of the items to decide (`item_lines`, by key) and those of the
        document's other entries, already stored (`monitor replay` rebuilds documents so)."""
        counter = RepeatedLines()
        for lines in (*by_key.values(), *others):
            counter.add(lines)
        return cls(by_key, counter.lines())

    def fingerprint(self, item: PreparedItem) -> Fingerprint:
        return fingerprint(item.text, drop_lines=self.repeated, lines=self.by_key.get(item.key))


def item_lines(item: PreparedItem) -> Sequence[str]:
    """An item's story lines, the form its document's repeated lines are counted in."""
    return story_lines(body_of(item.text))


# Which layer joined an item to an earlier story: the same text as an earlier document's
# item, the same link as another feed's item, the same text as an item before it in its own
# document, or a near copy (`NearLayer`).
ExactLayer = Literal["same_text", "same_link", "same_document"]
Layer = ExactLayer | NearLayer


@dataclass(frozen=True)
class StoryDecision:
    # An earlier item's cluster id, or for a new story the negative placeholder
    # -(position + 1) of its first item in the document.
    cluster: int
    similarity: float | None  # the evidence that joined an earlier story; None: a new one
    # What the index must file the item under; None when its text is a story's already (an
    # exact copy, whose keys would repeat the original's) or too short to near-match.
    fingerprint: Fingerprint | None
    layer: Layer | None = None  # None: a new story


def assign_stories(
    feed: Hashable,
    new: Sequence[PreparedItem],
    index: StoryIndex,
    *,
    fingerprint_of: FingerprintOf | None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> list[StoryDecision]:
    """Each new item's story, in order. `fingerprint_of` None: the exact layer only. The
    caller writes the items, then files them with `index.add`."""
    exact = index.exact(
        feed, {item.content_hash for item in new}, {item.url for item in new if item.url}
    )
    texts_seen: set[str] = set()
    exact_clusters: list[int | None] = []
    exact_layers: list[ExactLayer] = []
    found: list[Fingerprint | None] = []
    for item in new:
        by_hash = exact.get(("hash", item.content_hash))
        same_text = by_hash is not None or item.content_hash in texts_seen
        texts_seen.add(item.content_hash)
        exact_clusters.append(by_hash if by_hash is not None else _by_link(exact, item))
        exact_layers.append("same_text" if by_hash is not None else "same_link")
        fingerprint_ = None if same_text or fingerprint_of is None else fingerprint_of(item)
        # Too short a text can never near-match (a bare title, "Lire la suite"), and short
        # texts repeat: filed, thousands would share every key.
        if fingerprint_ is not None and fingerprint_.words < thresholds.min_words:
            fingerprint_ = None
        found.append(fingerprint_)
    # Before any candidate is read: an index shared by concurrent writers locks the keys the
    # document looks up and files.
    index.reserve([fingerprint_ for fingerprint_ in found if fingerprint_ is not None])
    lookups = [
        (position, fingerprint_)
        for position, fingerprint_ in enumerate(found)
        if fingerprint_ is not None and exact_clusters[position] is None
    ]
    looked_up = index.candidates([fingerprint_ for _, fingerprint_ in lookups])
    stored_candidates = {
        position: candidates for (position, _), candidates in zip(lookups, looked_up, strict=True)
    }
    by_text: dict[str, int] = {}  # this document's texts, by hash
    earlier = DocumentStoryIndex()  # this document's items decided so far
    decisions: list[StoryDecision] = []
    for position, item in enumerate(new):
        fingerprint_ = found[position]
        cluster = exact_clusters[position]
        layer: Layer = exact_layers[position]
        if cluster is None:
            cluster = by_text.get(item.content_hash)
            layer = "same_document"
        decision = StoryDecision(cluster, 1.0, fingerprint_, layer) if cluster is not None else None
        if decision is None and fingerprint_ is not None:
            candidates = [*stored_candidates[position], *earlier.candidates(fingerprint_)]
            match = best_match(fingerprint_, candidates, thresholds, load=index.load)
            if match is not None:
                decision = StoryDecision(
                    match.cluster_id, match.similarity, fingerprint_, match.layer
                )
        if decision is None:
            decision = StoryDecision(-(position + 1), None, fingerprint_)
        decisions.append(decision)
        by_text.setdefault(item.content_hash, decision.cluster)
        if fingerprint_ is not None:
            earlier.add(position + 1, decision.cluster, fingerprint_)
    return decisions


# How a fold log line names each layer's evidence.
_EVIDENCE: Mapping[Layer, str] = {
    "same_text": "the same text",
    "same_link": "the same link",
    "same_document": "the same text in its document",
    "similar_text": "similarity",
    "summary": "containment",
}


def log_fold(item: object, story: object, layer: Layer | None, similarity: float | None) -> None:
    """One DEBUG line for an item joined to an earlier story ("item 9 folded into story 812
    by containment 0.91"); nothing for a new story. Ids as the caller knows them: the
    database's, or `monitor dedup`'s input ids."""
    if layer is None or not log.isEnabledFor(logging.DEBUG):
        return
    score = (
        f" {similarity:.2f}"
        if layer in ("similar_text", "summary") and similarity is not None
        else ""
    )
    log.debug("item %s folded into story %s by %s%s", item, story, _EVIDENCE[layer], score)


def _by_link(exact: Mapping[ExactKey, int], item: PreparedItem) -> int | None:
    return exact.get(("url", item.url)) if item.url else None
