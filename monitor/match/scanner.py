"""The scan: every spelling of every watchlist in one Aho-Corasick automaton (pyahocorasick),
each field of an item folded and scanned once (DESIGN §4, the Lucene Monitor idea).

The automaton holds one anchor per spelling (its most selective word, or the pieces of a fuzzy
word); a hit of an anchor is only a candidate, which `verify` confirms or drops. Anchors of
whole words start with a space, and folded text has a space before every word, so the
automaton itself already enforces the left word boundary: `otan` is never a candidate inside
`botanique`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ahocorasick

from monitor.match.spelling import Span, WordTest, anchor_index, token_at, verify
from monitor.text.wordfold import WordFold


@dataclass(frozen=True)
class Unit:
    """One spelling to look for, shared by every watchlist that uses it."""

    tests: tuple[WordTest, ...]
    anchor: int

    @classmethod
    def of(cls, tests: tuple[WordTest, ...]) -> Unit:
        return cls(tests, anchor_index(tests))


# Unit id -> field -> spans, in text order.
Found = Mapping[int, Mapping[str, Sequence[Span]]]


class Scanner:
    def __init__(self, units: Sequence[Unit]) -> None:
        self._units = tuple(units)
        entries: dict[str, list[tuple[int, bool]]] = {}
        for unit_id, unit in enumerate(self._units):
            for key, at_word_start in unit.tests[unit.anchor].anchors():
                entries.setdefault(f" {key}" if at_word_start else key, []).append(
                    (unit_id, at_word_start)
                )
        self._automaton = ahocorasick.Automaton()
        for key, owners in entries.items():
            self._automaton.add_word(key, (len(key), tuple(owners)))
        self._empty = not entries
        if not self._empty:
            self._automaton.make_automaton()

    def scan(self, folds: Mapping[str, WordFold], language: str | None) -> Found:
        found: dict[int, dict[str, list[Span]]] = {}
        if self._empty:
            return found
        units = self._units
        for field, fold in folds.items():
            text = fold.text
            tried: set[tuple[int, int]] = set()
            for end, (length, owners) in self._automaton.iter(text):
                start = end - length + 1
                for unit_id, at_word_start in owners:
                    if at_word_start:
                        token = (start + 1, text.find(" ", start + 1))
                    else:
                        token = token_at(text, start)
                    if (unit_id, token[0]) in tried:
                        continue
                    tried.add((unit_id, token[0]))
                    unit = units[unit_id]
                    span = verify(unit.tests, unit.anchor, fold, token, language)
                    if span is not None:
                        found.setdefault(unit_id, {}).setdefault(field, []).append(span)
        for by_field in found.values():
            for spans in by_field.values():
                spans.sort(key=lambda span: span.start)
        return found
