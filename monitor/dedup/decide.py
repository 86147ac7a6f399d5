"""Is a new item a copy of a story already seen? (DESIGN §5) The decision, given candidates.

Precision comes first: a false merge hides a story from the user. So a candidate joins only on
strong evidence of shared *text*, never on shared names or a similar title alone:

- estimated Jaccard similarity of the shingle sets >= `jaccard` (a copy with other boilerplate,
  a dropped paragraph, typographic changes), or
- containment of the smaller shingle set in the larger >= `containment`, the smaller having
  enough shingles to mean something (a summary or a paywalled half of the full text), or
- a weaker containment confirmed by a similar title and some overall overlap.

Independent write-ups of one event share names, dates and even a quotation, but few runs of
four words in a row: their containment stays far below these thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from monitor.dedup.fingerprint import Fingerprint
from monitor.dedup.minhash import similarity


@dataclass(frozen=True)
class Thresholds:
    jaccard: float = 0.5
    containment: float = 0.7
    min_contained_shingles: int = 15
    # Fewer words than this (a bare title, "Lire la suite") cannot show a shared text.
    min_words: int = 12
    # The weaker evidence: containment, title and overlap all moderately high together.
    weak_containment: float = 0.5
    weak_jaccard: float = 0.2
    weak_title: float = 70.0


@dataclass(frozen=True)
class Candidate:
    item_id: int
    cluster_id: int
    fingerprint: Fingerprint


@dataclass(frozen=True)
class StoryMatch:
    item_id: int
    cluster_id: int
    similarity: float  # the evidence: Jaccard or containment, whichever decided


DEFAULT_THRESHOLDS = Thresholds()


def story_similarity(
    new: Fingerprint, old: Fingerprint, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> float | None:
    """The similarity that makes `new` a copy of `old`'s story, or None when it is not."""
    if min(new.words, old.words) < thresholds.min_words:
        return None
    jaccard = similarity(new.signature, old.signature)
    if jaccard >= thresholds.jaccard:
        return jaccard
    small, large = sorted((new.shingles, old.shingles), key=len)
    if len(small) < thresholds.min_contained_shingles:
        return None
    containment = len(small & large) / len(small)
    if containment >= thresholds.containment:
        return containment
    if (
        containment >= thresholds.weak_containment
        and jaccard >= thresholds.weak_jaccard
        and fuzz.token_set_ratio(new.title, old.title) >= thresholds.weak_title
    ):
        return containment
    return None


def best_match(
    new: Fingerprint, candidates: Sequence[Candidate], thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> StoryMatch | None:
    """The candidate story `new` belongs to, the most similar if several qualify."""
    best: StoryMatch | None = None
    for candidate in candidates:
        score = story_similarity(new, candidate.fingerprint, thresholds)
        if score is not None and (best is None or score > best.similarity):
            best = StoryMatch(candidate.item_id, candidate.cluster_id, score)
    return best
