"""An item's story fingerprint: what is compared to tell a copy from an independent article.

- the MinHash signature of its cleaned text's word shingles, and its LSH band keys, to find
  near-copies among many stories;
- lead keys: hashes of 8-word runs near the start of the text, at anchors its words choose, so
  that a 50-word summary finds the full text it was cut from, though their Jaccard similarity
  is low;
- the shingle hashes, for the exact containment check of a candidate;
- the folded title, a second signal;
- the proper names in their place in the text (`name_slots`), computed only for the items a
  match is about to join: a template's items (one council-budget sentence, another town) share
  every other word.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from monitor.dedup.clean import story_lines, story_words
from monitor.dedup.minhash import band_keys, run_hashes, shingle_hashes, signature, word_hashes
from monitor.model import ItemText
from monitor.text.wordfold import fold_word_text

LEAD_WORDS = 8
# Lead keys are runs of LEAD_WORDS words chosen by their content, not their position: a run is
# an anchor when its hash is divisible by LEAD_ANCHOR_EVERY. A copy that starts some words
# earlier or later (a dateline, a kicker, a cookie banner merged into the first paragraph) has
# the same anchors over the text they share. A new item looks up its first LEAD_PROBED
# anchors, so prepended junk of up to about 4 x (LEAD_PROBED - 2) words still reaches the
# shared text. A stored item is filed under the first anchor of each of its first LEAD_STORED
# windows of LEAD_WINDOW words: spread out, so a copy without the first 20 words or so (a
# dateline whose runs happened to be anchors) still meets one. Each stored key is a random
# write in the key index and each probe a lookup, the near layer's main costs: hence so few.
LEAD_SPAN = 40  # anchors are sought among the runs starting in the first LEAD_SPAN words
LEAD_ANCHOR_EVERY = 4
LEAD_PROBED = 8
LEAD_STORED = 4
LEAD_WINDOW = 8


@dataclass(frozen=True)
class Fingerprint:
    words: int
    signature: np.ndarray  # uint32 MinHash values
    title: str
    bands: tuple[int, ...]
    leads: tuple[int, ...]  # stored
    probes: tuple[int, ...]  # looked up
    # What the proper names are read from: the body as published (capitals kept) and the
    # story words the shingles were taken from.
    body: str = field(default="", repr=False)
    story_words: Sequence[str] = field(default=(), repr=False)
    # The shingle hashes when computed with the signature; else from `story_words` on first
    # use (a stored candidate's view: its names are often all that is read of it).
    computed_shingles: np.ndarray | None = field(default=None, repr=False)

    @cached_property
    def shingle_hashes(self) -> np.ndarray:
        """One per shingle, repeats included."""
        if self.computed_shingles is not None:
            return self.computed_shingles
        return shingle_hashes(word_hashes(self.story_words))

    @property
    def shingle_count(self) -> int:
        """Shingles, repeats included: the size the containment bounds use."""
        return len(self.shingle_hashes)

    @cached_property
    def shingles(self) -> frozenset[int]:
        """The shingle set, for the containment check: built only for the few items that
        need it."""
        return frozenset(self.shingle_hashes.tolist())

    @property
    def keys(self) -> tuple[int, ...]:
        """Every key this item is filed under."""
        return (*self.bands, *self.leads)

    @cached_property
    def name_slots(self) -> Mapping[tuple[str, ...], frozenset[str]]:
        """The words of the proper names of the story words, by their place: the two words
        before and the two after. Two texts that put different names in one place (Lyon,
        Nantes) tell of different things, however much else they share. A name of several
        words ("Boulogne-sur-Mer", "Jean Dupont") takes one place."""
        words = self.story_words
        names = proper_names(self.body, words)
        if not names:
            return {}
        padded = ["", "", *words, "", ""]
        slots: defaultdict[tuple[str, ...], set[str]] = defaultdict(set)
        end = 0
        for start in [position for position, word in enumerate(words) if word in names]:
            if start < end:  # inside the name just read
                continue
            end = start + 1
            while end < len(words):
                if words[end] in names:
                    end += 1
                elif (
                    words[end] in _NAME_LINKS and end + 1 < len(words) and (words[end + 1] in names)
                ):
                    end += 2
                else:
                    break
            place = (padded[start], padded[start + 1], padded[end + 2], padded[end + 3])
            slots[place].update(words[start:end])
        return {place: frozenset(found) for place, found in slots.items()}


def names_differ(first: Fingerprint, second: Fingerprint) -> bool:
    """Whether the two texts put different proper names in the same place: each has a word
    there that the other has not (Saint-Étienne, Saint-Nazaire). A name the other merely
    lengthens ("Gazette du Centre" and "Gazette du Centre Partager sur Facebook", a share
    button run into the text) is the same name. Numbers are masked before: they never make
    two texts differ here."""
    small, large = sorted((first.name_slots, second.name_slots), key=len)
    return any(
        (other := large.get(place)) is not None and not (words <= other or other <= words)
        for place, words in small.items()
    )


# Lower-case words inside a name of several: Boulogne-sur-Mer, Saint-Jean-de-Luz.
_NAME_LINKS = frozenset(("sur", "sous", "de", "du", "des", "la", "le", "les", "l", "d", "en"))
# A word of two letters or more starting with a capital (the uppercase letters of Latin
# scripts): searched for from its capital, so the rest of the text is skipped quickly.
_CAPITALISED = re.compile(r"[A-ZÀ-ÖØ-Þ](?<![^\W\d_][A-ZÀ-ÖØ-Þ])[^\W\d_]+")


def proper_names(text: str, words: Sequence[str]) -> frozenset[str]:
    """The story `words` (folded) that `text` always writes with a capital: names, and the odd
    word that starts a sentence only."""
    capitalised = Counter(_folded(_CAPITALISED.findall(text)))
    if not capitalised:
        return frozenset()
    written = Counter(word for word in words if word in capitalised)
    return frozenset(word for word, count in written.items() if count <= capitalised[word])


# A folded capitalised word by its form in the text: names recur from text to text, and
# folding is costly per call. Bounded by clearing.
_FOLDED: dict[str, str] = {}
_MAX_FOLDED = 100_000


def _folded(words: Sequence[str]) -> list[str]:
    # Read from a local copy of what is needed: another thread may clear the cache meanwhile.
    known = {word: _FOLDED.get(word) for word in set(words)}
    missing = [word for word, folded in known.items() if folded is None]
    if missing:
        folded = fold_word_text(" ".join(missing)).split()
        if len(folded) != len(missing):  # a word folded into two, or none: one at a time
            folded = [fold_word_text(word) for word in missing]
        found = dict(zip(missing, folded, strict=True))
        known |= found
        if len(_FOLDED) > _MAX_FOLDED:
            _FOLDED.clear()
        _FOLDED.update(found)
    return [known[word] or "" for word in words]


def body_of(text: ItemText) -> str:
    """The text a story is recognised by: the content, else the summary, else the title."""
    return text.content or text.summary or text.title


def fingerprint(
    text: ItemText,
    *,
    drop_lines: frozenset[str] = frozenset(),
    lines: Sequence[str] | None = None,
) -> Fingerprint:
    """The fingerprint of the item's body (content, else summary, else title), cleaned of
    boilerplate and of the lines its feed repeats on every item (`drop_lines`). `lines` are
    the body's story lines when the caller already has them (it counted repeated lines)."""
    if lines is None:
        lines = story_lines(body_of(text))
    words = story_words(lines, drop=drop_lines)
    per_word = word_hashes(words)
    hashes = shingle_hashes(per_word)
    values = signature(hashes)
    runs = run_hashes(per_word, LEAD_WORDS, LEAD_SPAN)
    # A handful of values: plain Python is quicker here than numpy's per-call overhead.
    run_values = runs.tolist()
    anchors = [value for value in run_values if value % LEAD_ANCHOR_EVERY == 0]
    stored: dict[int, int] = {}
    for position, value in enumerate(run_values):
        if value % LEAD_ANCHOR_EVERY == 0 and position < LEAD_STORED * LEAD_WINDOW:
            stored.setdefault(position // LEAD_WINDOW, value)
    return Fingerprint(
        words=len(words),
        signature=values,
        title=fold_word_text(text.title),
        bands=tuple(band_keys(values)) if words else (),
        leads=tuple(stored.values()),
        probes=tuple(anchors[:LEAD_PROBED]),
        body=body_of(text),
        story_words=words,
        computed_shingles=hashes,
    )


_NO_VALUES = np.zeros(0, dtype=np.uint32)


def containment_view(text: ItemText) -> Fingerprint:
    """What the containment and names checks read of a stored candidate (words, title, its
    proper names; the shingles when its containment is checked), recomputed from its text
    without the signature and keys, which the index stores."""
    body = body_of(text)
    words = story_words(story_lines(body))
    return Fingerprint(
        words=len(words),
        signature=_NO_VALUES,
        title=fold_word_text(text.title),
        bands=(),
        leads=(),
        probes=(),
        body=body,
        story_words=words,
    )
