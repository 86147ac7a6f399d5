"""Folding: the comparison form of text, with a map back to the original characters.

Matching compares folded text so that `l’OTAN` contains `otan`, `aérienne` equals `aerienne` and
`no‑fly` equals `no fly` (docs/design.md §4 rules 2-4), yet every hit must be quoted and highlighted
in the text the reader sees. So each folded character remembers the index of the original character
it came from.

Folding, character by character:
- whitespace (NBSP and narrow NBSP included), control characters, apostrophes and hyphens become a
  space, and a run of them becomes one space: apostrophes split French elisions (`l’OTAN` ->
  `l otan`), hyphens make `no-fly` the phrase `no fly`;
- invisible format characters (soft hyphen, zero-width space, BOM) disappear, so they cannot cut
  a word in two;
- compatibility decomposition (NFKD: ligatures, full-width forms) with combining marks dropped
  (`é` -> `e`), plus the letters Unicode does not decompose (`œ` -> `oe`, `ß` -> `ss`, `ø` -> `o`);
- case folding, unless `keep_case` (used for acronyms and case-sensitive terms).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

APOSTROPHES = frozenset("'’ʼ‘´`′＇")
HYPHENS = frozenset("-‐‑‒–—―−﹣－")

# Letters that are not compositions in Unicode, so NFKD leaves them whole.
_LETTER_EXPANSIONS = str.maketrans(
    {
        "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ẞ": "SS", "ø": "o", "Ø": "O",
        "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "ł": "l", "Ł": "L", "ħ": "h", "Ħ": "H",
        "ı": "i", "þ": "th", "Þ": "TH",
    }
)  # fmt: skip

_SEPARATOR = " "


@dataclass(frozen=True)
class Folded:
    """`text` is the folded form of `source`; `offsets[i]` is the index in `source` of the
    character that produced `text[i]`."""

    source: str
    text: str
    offsets: tuple[int, ...]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of `source` that folded into `text[start:end]` (a non-empty span).

        Combining marks after the last character belong to it (`e` + U+0301 is one letter to a
        reader), so the span takes them in.
        """
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"expected a non-empty span inside the folded text, got {start}:{end}")
        source_start = self.offsets[start]
        source_end = self.offsets[end - 1] + 1
        while source_end < len(self.source) and _is_mark(self.source[source_end]):
            source_end += 1
        return source_start, source_end


_MARKS = ("Mn", "Me")


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in _MARKS


# Between characters folded together: its own case fold and decomposition, and of combining
# class 0, so no step moves or merges anything across it. A control character itself, so never
# among the characters folded together (those are separators).
_BETWEEN = "\x00"


def fold_chars(chars: Sequence[str], *, keep_case: bool = False) -> list[str]:
    """The folded form of each character of `chars` (separators come back as a single space).
    Each step runs once on all of them joined (C loops over the text), then the result is cut
    back into characters: building a table of every character takes milliseconds."""
    categories = list(map(unicodedata.category, chars))
    separators = [
        category == "Cc" or char in APOSTROPHES or char in HYPHENS or char.isspace()
        for char, category in zip(chars, categories, strict=True)
    ]
    joined = _BETWEEN.join(
        char
        for char, category, separator in zip(chars, categories, separators, strict=True)
        if not separator and category != "Cf"
    )
    decomposed = unicodedata.normalize("NFKD", joined if keep_case else joined.casefold())
    parts = set(decomposed)
    # Marks go, the letters Unicode does not decompose expand, and NFKD's spaces (the spacing
    # accent "¨" is a space plus a mark) are separators: one table, as no step's output is
    # another's input.
    table: dict[int, str | None] = {
        ord(part): None for part in parts if unicodedata.category(part) in _MARKS
    }
    table.update(_LETTER_EXPANSIONS)
    table.update((ord(part), _SEPARATOR) for part in parts if part.isspace())
    folded = iter(decomposed.translate(table).split(_BETWEEN))
    return [
        _SEPARATOR if separator else "" if category == "Cf" else next(folded)
        for category, separator in zip(categories, separators, strict=True)
    ]


@lru_cache(maxsize=8192)
def _fold_char(char: str, keep_case: bool) -> str:
    return fold_chars(char, keep_case=keep_case)[0]


def fold(text: str, *, keep_case: bool = False) -> Folded:
    """Fold `text` for comparison (see the module docstring); `keep_case` skips case folding."""
    pieces: list[str] = []
    offsets: list[int] = []
    after_separator = False
    for index, char in enumerate(text):
        for part in _fold_char(char, keep_case):
            if part == _SEPARATOR:
                if after_separator:
                    continue
                after_separator = True
            else:
                after_separator = False
            pieces.append(part)
            offsets.append(index)
    return Folded(source=text, text="".join(pieces), offsets=tuple(offsets))


def fold_char(char: str) -> str:
    """The case-folded comparison form of one character ("" for marks, " " for separators)."""
    return _fold_char(char, False)
