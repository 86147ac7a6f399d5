"""The scan: every spelling of every watchlist in one Aho-Corasick automaton (pyahocorasick),
each field of an item folded and scanned once (DESIGN §4, the Lucene Monitor idea).

The automaton holds the anchors of each spelling: every inflected form of its most selective
word (or the pieces of a fuzzy word); a hit of an anchor is a candidate, which `verify`
confirms or drops. Word anchors are wrapped in spaces, and folded text has a space around
every word, so the automaton itself enforces whole words: `otan` is never a candidate inside
`botanique`, and most candidates are matches.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import ahocorasick

from monitor.match.spelling import (
    PIECE,
    PREFIX,
    SUFFIX,
    WORD,
    Span,
    WordTest,
    anchor_index,
    token_at,
    verify,
)
from monitor.text.inflect import inflected_forms, language_key, shortest_base
from monitor.text.wordfold import WordFold

# A phrase occurs with one, two or three separators between two words: `zone d'exclusion`,
# `l' OTAN`, `no - fly`. Longer gaps are not phrases.
_GAPS = (" ", "  ", "   ")


@dataclass(frozen=True)
class Unit:
    """One spelling to look for, shared by every watchlist that uses it. Its anchor is one
    word, or for a phrase two neighbouring words (`anchor` and the next), which are far rarer
    in text than either word alone: the automaton then finds few candidates to verify."""

    tests: tuple[WordTest, ...]
    anchor: int
    pair: bool = False

    @classmethod
    def of(cls, tests: tuple[WordTest, ...]) -> Unit:
        pairs = [
            index
            for index in range(len(tests) - 1)
            if all(not test.fuzzy and not test.prefix for test in tests[index : index + 2])
        ]
        if pairs:
            first = max(
                pairs, key=lambda index: len(tests[index].word) + len(tests[index + 1].word)
            )
            return cls(tests, first, pair=True)
        return cls(tests, anchor_index(tests))

    def anchor_lengths(self, language: str | None) -> tuple[int, int]:
        """The shortest and longest token the anchor word accepts: a cheap first filter for
        the pieces of fuzzy words, which find many words that are far too long or short."""
        test = self.tests[self.anchor]
        if test.prefix:
            return len(test.word), 10**6
        lengths = [len(form) for form in inflected_forms(test.word, language)]
        return min(lengths) - test.fuzzy, max(lengths) + test.fuzzy

    @property
    def plain_word(self) -> bool:
        """One word, decided by its folded form alone: found by the automaton, it is a match."""
        (test,) = self.tests if len(self.tests) == 1 else (None,)
        return test is not None and not test.fuzzy and not test.prefix and not test.checks_source

    def anchor_keys(self, language: str | None) -> list[tuple[str, str, int]]:
        """(automaton key, kind, length of the anchor word in the key) in `language`."""
        keys = []
        for text, kind in self.tests[self.anchor].anchors(language):
            if kind == WORD and self.pair:
                follower = self.tests[self.anchor + 1]
                # Every inflected form of the follower starts with its shortest base.
                tail = shortest_base(follower.word) if follower.inflect else f"{follower.word} "
                keys += [(f" {text}{gap}{tail}", WORD, len(text)) for gap in _GAPS]
            elif kind == WORD:
                keys.append((f" {text} ", WORD, len(text)))
            elif kind == PREFIX:
                keys.append((f" {text}", PREFIX, len(text)))
            elif kind == SUFFIX:
                keys.append((f"{text} ", SUFFIX, len(text)))
            else:
                keys.append((text, PIECE, len(text)))
        return keys


class _LanguageScan:
    """The automaton for one language's inflection rules."""

    def __init__(self, units: Sequence[Unit], language: str | None) -> None:
        entries: dict[str, list[tuple[int, str, bool, int]]] = {}
        for unit_id, unit in enumerate(units):
            plain_word = unit.plain_word
            for key, kind, word_length in unit.anchor_keys(language):
                entries.setdefault(key, []).append((unit_id, kind, plain_word, word_length))
        self.lengths = tuple(unit.anchor_lengths(language) for unit in units)
        self.automaton = ahocorasick.Automaton()
        for key, owners in entries.items():
            self.automaton.add_word(key, (len(key), tuple(owners)))
        self.empty = not entries
        if not self.empty:
            self.automaton.make_automaton()


# Unit id -> field -> spans, in text order.
Found = Mapping[int, Mapping[str, Sequence[Span]]]


class Scanner:
    """Finds every unit in an item's folded fields. Inflected forms differ by language, so
    there is one automaton per language, built the first time an item of that language comes
    (most deployments read one or two languages)."""

    def __init__(self, units: Sequence[Unit]) -> None:
        self._units = tuple(units)
        self._by_language: dict[str | None, _LanguageScan] = {}
        self._lock = threading.Lock()

    def _for(self, language: str | None) -> _LanguageScan:
        compiled = self._by_language.get(language)
        if compiled is None:
            with self._lock:
                compiled = self._by_language.get(language)
                if compiled is None:
                    compiled = _LanguageScan(self._units, language)
                    self._by_language[language] = compiled
        return compiled

    def prepare(self, language: str | None) -> None:
        """Build a language's automaton now rather than at its first item."""
        self._for(language_key(language))

    def scan(self, folds: Mapping[str, WordFold], language: str | None) -> Found:
        language = language_key(language)
        compiled = self._for(language)
        found: dict[int, dict[str, list[Span]]] = {}
        if compiled.empty:
            return found
        units, lengths = self._units, compiled.lengths
        for field, fold in folds.items():
            text = fold.text
            tried: set[tuple[int, int]] = set()
            for end, (length, owners) in compiled.automaton.iter(text):
                start = end - length + 1
                for unit_id, kind, plain_word, word_length in owners:
                    if plain_word:
                        # Most candidates: one word, found whole in this language's forms.
                        spans = found.setdefault(unit_id, {}).setdefault(field, [])
                        spans.append(Span(start + 1, end))
                        continue
                    if kind == WORD:
                        token = (start + 1, start + 1 + word_length)
                    else:
                        if kind == PREFIX:
                            token = (start + 1, text.find(" ", start + 1))
                        else:
                            token = token_at(text, start)
                        shortest, longest = lengths[unit_id]
                        if not shortest <= token[1] - token[0] <= longest:
                            continue
                        unit = units[unit_id]
                        # Pieces of fuzzy words find many near-misses: reject them before the
                        # bookkeeping of a full verification.
                        anchor_word = unit.tests[unit.anchor]
                        if not anchor_word.accepts(text[token[0] : token[1]], language):
                            continue
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
