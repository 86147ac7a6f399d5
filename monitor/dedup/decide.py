"""Is a new item a copy of a story already seen? (docs/design.md §5) The decision, given candidates.

Precision comes first: a false merge hides a story from the user. So a candidate joins only on
strong evidence of shared *text*, never on shared names or a similar title alone:

- estimated Jaccard similarity of the shingle sets >= `jaccard` (a copy with other boilerplate,
  a dropped paragraph, typographic changes), or
- containment of the smaller shingle set in the larger >= `containment`, the smaller having
  enough shingles to mean something (a summary or a paywalled half of the full text), or
- a weaker containment confirmed by a similar title and some overall overlap.

Independent write-ups of one event share names, dates and even a quotation, but few runs of
four words in a row: their containment stays far below these thresholds.

Conversely, items cast in one sentence frame (a job board, weather, a council budget) share
almost every run of words and differ by a name or a number. Numbers are masked before any
comparison, so a copy whose numbers were changed or masked ("XNUMX") stays a copy; but a text
that puts another proper name in the same place (Lyon where the other has Nantes: the same
two words before and after) tells another story, however similar (`names_differ`).

The Jaccard test needs only the stored signatures. Containment needs the candidate's shingle
set, which the database does not keep: it is recomputed from the stored text, and only for the
candidates whose signature leaves containment possible (`could_contain`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rapidfuzz import fuzz

from monitor.config.schema import DedupSpec
from monitor.dedup.fingerprint import Fingerprint, names_differ
from monitor.dedup.minhash import PERMUTATIONS, similarity


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

    @classmethod
    def of(cls, settings: DedupSpec) -> Thresholds:
        """The thresholds the configuration's `dedup:` sets; the others as they are."""
        return cls(jaccard=settings.similarity, containment=settings.containment)


@dataclass(frozen=True)
class Candidate:
    """An earlier item filed under one of the new item's keys. `full` is its whole fingerprint
    when the index has it at hand (in memory); the database index keeps only the signature and
    the counts, and loads the rest when containment must be checked."""

    item_id: int
    cluster_id: int
    signature: np.ndarray
    words: int
    shingle_count: int
    full: Fingerprint | None = None

    @classmethod
    def of(cls, item_id: int, cluster_id: int, found: Fingerprint) -> Candidate:
        return cls(item_id, cluster_id, found.signature, found.words, found.shingle_count, found)


# Which test joined a near copy: Jaccard ("similar_text"), or containment of the smaller
# text in the larger ("summary": a summary or a paywalled half of the full text).
NearLayer = Literal["similar_text", "summary"]


@dataclass(frozen=True)
class StoryMatch:
    item_id: int
    cluster_id: int
    similarity: float  # the evidence: Jaccard or containment, whichever decided
    layer: NearLayer


DEFAULT_THRESHOLDS = Thresholds()
# How far an estimated Jaccard may fall below the true one before a containment check is
# skipped: in standard deviations of the estimate (64 values), so a skip that loses a copy is
# rarer than one in a thousand.
_SKIP_MARGIN_SIGMAS = 3.5
# Candidates whose text is loaded for a containment check, at most, in the order given: the
# index lists those sharing the most keys with the new item first.
_MAX_LOADED = 8
# Candidates whose proper names are compared with the new item's, at most, the most similar
# first: a template's items all qualify on their shared frame, each with another name.
_MAX_NAME_CHECKS = 4

# A near copy's score and the test that gave it.
Evidence = tuple[float, NearLayer]

# Given candidates needing their shingle sets, their full fingerprints by item id.
Loader = Callable[[Sequence[Candidate]], Mapping[int, Fingerprint]]


def story_similarity(
    new: Fingerprint, old: Fingerprint, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> float | None:
    """The similarity that makes `new` a copy of `old`'s story, or None when it is not."""
    if names_differ(new, old):
        return None
    evidence = _full_similarity(new, old, similarity(new.signature, old.signature), thresholds)
    return None if evidence is None else evidence[0]


def best_match(
    new: Fingerprint,
    candidates: Sequence[Candidate],
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    load: Loader | None = None,
) -> StoryMatch | None:
    """The candidate story `new` belongs to, the most similar if several qualify (the first
    listed among equals). Candidates without their full fingerprint are loaded through `load`
    only when their signature alone cannot decide, the first `_MAX_LOADED` of them. A
    candidate that puts other proper names where `new` has its own (`names_differ`) tells
    another story: the next most similar is tried, up to `_MAX_NAME_CHECKS` of them."""
    qualified: list[tuple[Evidence, Candidate, Fingerprint | None]] = []
    undecided: list[tuple[Candidate, float]] = []
    for candidate in candidates:
        if min(new.words, candidate.words) < thresholds.min_words:
            continue
        jaccard = similarity(new.signature, candidate.signature)
        if jaccard >= thresholds.jaccard:
            qualified.append(((jaccard, "similar_text"), candidate, candidate.full))
        elif could_contain(new, candidate, jaccard, thresholds):
            if candidate.full is None:
                undecided.append((candidate, jaccard))
                continue
            evidence = _full_similarity(new, candidate.full, jaccard, thresholds)
            if evidence is not None:
                qualified.append((evidence, candidate, candidate.full))
    loaded: Mapping[int, Fingerprint] = {}
    if undecided and load is not None:
        # Recomputing a candidate's shingles from its text is the costliest step of a lookup;
        # a text sharing common sentences with many stored items must not pay it for each.
        undecided = undecided[:_MAX_LOADED]
        loaded = load([candidate for candidate, _ in undecided])
        for candidate, jaccard in undecided:
            old = loaded.get(candidate.item_id)
            if old is not None:
                evidence = _full_similarity(new, old, jaccard, thresholds)
                if evidence is not None:
                    qualified.append((evidence, candidate, old))
    qualified.sort(key=lambda found: -found[0][0])  # stable: the first listed among equals
    return _first_with_the_same_names(new, qualified[:_MAX_NAME_CHECKS], loaded, load)


def _first_with_the_same_names(
    new: Fingerprint,
    qualified: Sequence[tuple[Evidence, Candidate, Fingerprint | None]],
    loaded: Mapping[int, Fingerprint],
    load: Loader | None,
) -> StoryMatch | None:
    if not qualified:
        return None
    if new.name_slots:
        missing = [c for _, c, full in qualified if full is None and c.item_id not in loaded]
        if missing and load is not None:
            loaded = {**loaded, **load(missing)}
    for (score, layer), candidate, full in qualified:
        if new.name_slots:
            full = full or loaded.get(candidate.item_id)
            # Unread, its names are unknown: precision first.
            if full is None or names_differ(new, full):
                continue
        return StoryMatch(candidate.item_id, candidate.cluster_id, score, layer)
    return None


def could_contain(
    new: Fingerprint, candidate: Candidate, jaccard: float, thresholds: Thresholds
) -> bool:
    """Whether the shingle sets' containment could pass, given their sizes and the estimated
    Jaccard. Shared shingles n, sizes a <= b: J = n / (a + b - n), so containment n / a >= c
    needs J >= c·a / (a + b - c·a). A candidate whose estimate falls clearly below that for
    every containment rule is not worth recomputing from its text."""
    small, large = sorted((new.shingle_count, candidate.shingle_count))
    if small < thresholds.min_contained_shingles:
        return False
    needed = min(
        _jaccard_for(thresholds.containment, small, large),
        max(_jaccard_for(thresholds.weak_containment, small, large), thresholds.weak_jaccard),
    )
    margin = _SKIP_MARGIN_SIGMAS * math.sqrt(needed * (1 - needed) / PERMUTATIONS)
    return jaccard >= needed - margin


def _jaccard_for(containment: float, small: int, large: int) -> float:
    shared = containment * small
    return shared / (small + large - shared)


def _full_similarity(
    new: Fingerprint, old: Fingerprint, jaccard: float, thresholds: Thresholds
) -> Evidence | None:
    if min(new.words, old.words) < thresholds.min_words:
        return None
    if jaccard >= thresholds.jaccard:
        return jaccard, "similar_text"
    small, large = sorted((new.shingles, old.shingles), key=len)
    if len(small) < thresholds.min_contained_shingles:
        return None
    containment = len(small & large) / len(small)
    if containment >= thresholds.containment:
        return containment, "summary"
    if (
        containment >= thresholds.weak_containment
        and jaccard >= thresholds.weak_jaccard
        and fuzz.token_set_ratio(new.title, old.title) >= thresholds.weak_title
    ):
        return containment, "summary"
    return None
