"""An item's story fingerprint: what is compared to tell a copy from an independent article.

- the MinHash signature of its cleaned text's word shingles, and its LSH band keys, to find
  near-copies among many stories;
- lead keys: hashes of 8-word runs at the start of the text, so that a 50-word summary finds
  the full text it was cut from, though their Jaccard similarity is low;
- the shingle set itself, for the exact containment check of a candidate;
- the folded title, a second signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import xxhash

from monitor.dedup.clean import story_lines, story_words
from monitor.dedup.minhash import band_keys, shingle_hashes, signature
from monitor.model import ItemText
from monitor.text.wordfold import fold_word_text

LEAD_WORDS = 8
# A new item probes the runs starting at each of its first LEAD_PROBES words; a stored item is
# filed under the runs starting every LEAD_STRIDE words among those. So a text that starts up
# to a dozen words earlier or later than its copy (a dateline, a kicker) still meets it on one
# key. Each stored key is a random write in the key index, each probe a lookup: both are the
# main costs of the near layer, hence so few.
LEAD_PROBES = 16
LEAD_STRIDE = 4
# Hash seeds keep lead keys and band keys apart in the one key index.
_LEAD_SEED = 1_000


@dataclass(frozen=True)
class Fingerprint:
    words: int
    signature: np.ndarray  # uint32 MinHash values
    shingle_hashes: np.ndarray  # one per shingle, repeats included
    title: str
    bands: tuple[int, ...]
    leads: tuple[int, ...]  # stored
    probes: tuple[int, ...]  # looked up

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


def _lead_hash(words: list[str]) -> int:
    return xxhash.xxh64_intdigest(" ".join(words).encode("utf-8"), seed=_LEAD_SEED) >> 1


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
    hashes = shingle_hashes(words)
    values = signature(hashes)
    head = words[: LEAD_PROBES + LEAD_WORDS - 1]
    starts = range(max(1, len(head) - LEAD_WORDS + 1)) if head else range(0)
    runs = [_lead_hash(head[start : start + LEAD_WORDS]) for start in starts]
    return Fingerprint(
        words=len(words),
        signature=values,
        shingle_hashes=hashes,
        title=fold_word_text(text.title),
        bands=tuple(band_keys(values)) if words else (),
        leads=tuple(runs[::LEAD_STRIDE]),
        probes=tuple(runs),
    )
