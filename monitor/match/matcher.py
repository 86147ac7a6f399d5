"""Watchlists compiled once; items matched against all of them (DESIGN §4).

This first matcher compiles each watchlist into at most two regular expressions over folded text:
one over the case-folded text, one over the case-kept fold for acronyms and case-sensitive terms.
Each item field is folded once per match call and shared by every watchlist. The full engine (one
automaton for all watchlists, queries, fuzzy terms) replaces this module behind the same
`compile_watchlists` / `Matcher.match` surface.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from monitor.config.schema import TermSpec, WatchlistSpec
from monitor.match.patterns import NOT_BEFORE_WORD_CHAR, SpellingPattern, spelling_pattern
from monitor.model import FIELDS, Hit, ItemText, WatchlistMatch
from monitor.text.fold import Folded, fold


class _ItemFolds:
    """The folds of one item's fields, computed on first use and shared by all watchlists."""

    def __init__(self, item: ItemText) -> None:
        self._item = item
        self._folds: dict[tuple[str, bool], Folded] = {}

    def get(self, field: str, *, keep_case: bool) -> Folded:
        key = (field, keep_case)
        if key not in self._folds:
            self._folds[key] = fold(self._item.field_text(field), keep_case=keep_case)
        return self._folds[key]


@dataclass(frozen=True)
class _TermHit:
    term: str
    field: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class _Alternation:
    """Spellings matched on one fold of the text, in one pass.

    The alternation has no groups: with a group per spelling, the regex engine saves and restores
    every group at every alternative, which made matching quadratic in the number of spellings.
    Which spelling matched is found afterwards, on the matched text only."""

    regex: re.Pattern[str]
    keep_case: bool
    spellings: tuple[tuple[re.Pattern[str], str], ...]  # (spelling, canonical term), in order

    @classmethod
    def compile(
        cls, spellings: Sequence[tuple[SpellingPattern, str]], *, keep_case: bool
    ) -> _Alternation | None:
        if not spellings:
            return None
        alternatives = "|".join(pattern.whole_word for pattern, _ in spellings)
        return cls(
            regex=re.compile(f"(?:{alternatives}){NOT_BEFORE_WORD_CHAR}"),
            keep_case=keep_case,
            spellings=tuple((re.compile(pattern.regex), term) for pattern, term in spellings),
        )

    def term_of(self, matched: str) -> str:
        # The first spelling that produces the matched text, as the alternation tried them.
        for spelling, term in self.spellings:
            if spelling.fullmatch(matched):
                return term
        raise AssertionError(f"no spelling produces {matched!r}")  # pragma: no cover


@dataclass(frozen=True)
class _TermSet:
    """The spellings of some terms: one alternation over the case-folded text, one over the
    case-kept fold (acronyms, case-sensitive terms)."""

    alternations: tuple[_Alternation, ...]

    @classmethod
    def compile(cls, terms: Iterable[TermSpec]) -> _TermSet:
        spellings: list[tuple[SpellingPattern, str]] = []
        for term in terms:
            for spelling in term.spellings():
                pattern = spelling_pattern(spelling, case_sensitive=term.case_sensitive)
                if pattern is not None:
                    spellings.append((pattern, term.term))
        # Python's alternation takes the first alternative that matches, not the longest: put
        # longer spellings first so `Dmitri Peskov` wins over `Dmitri` at the same place.
        spellings.sort(key=lambda entry: -entry[0].length)
        alternations = (
            _Alternation.compile(
                [entry for entry in spellings if entry[0].on_case_kept_text == keep_case],
                keep_case=keep_case,
            )
            for keep_case in (False, True)
        )
        return cls(tuple(alternation for alternation in alternations if alternation is not None))

    def find(self, folds: _ItemFolds, fields: Iterable[str]) -> Iterator[_TermHit]:
        for field in fields:
            for alternation in self.alternations:
                folded = folds.get(field, keep_case=alternation.keep_case)
                for found in alternation.regex.finditer(folded.text):
                    start, end = folded.source_span(found.start(), found.end())
                    yield _TermHit(
                        term=alternation.term_of(found.group()),
                        field=field,
                        start=start,
                        end=end,
                        text=folded.source[start:end],
                    )


@dataclass(frozen=True)
class _CompiledWatchlist:
    name: str
    fields: tuple[str, ...]  # in FIELDS order, so hits come out ordered by field
    terms: _TermSet
    exclude: _TermSet | None

    def match(self, folds: _ItemFolds) -> WatchlistMatch | None:
        # Rule 11: an exclude term anywhere in the item vetoes, whatever `fields` says.
        if self.exclude is not None and next(self.exclude.find(folds, FIELDS), None) is not None:
            return None
        found = _without_nested(self.terms.find(folds, self.fields))
        if not found:
            return None
        hits = tuple(
            Hit(self.name, hit.term, hit.field, hit.start, hit.end, hit.text) for hit in found
        )
        return WatchlistMatch(watchlist=self.name, hits=hits)


def _without_nested(found: Iterable[_TermHit]) -> list[_TermHit]:
    """Hits ordered by field then offset, dropping a hit inside a longer one (`Poutine` inside
    `Vladimir Poutine`, when the two come from different folds)."""
    ordered = sorted(found, key=lambda hit: (FIELDS.index(hit.field), hit.start, -hit.end))
    kept: list[_TermHit] = []
    covered_until = 0  # the furthest end of the hits kept in the current field
    for hit in ordered:
        if kept and kept[-1].field == hit.field and hit.end <= covered_until:
            continue
        if not kept or kept[-1].field != hit.field:
            covered_until = 0
        kept.append(hit)
        covered_until = max(covered_until, hit.end)
    return kept


class Matcher:
    """Matches items against the watchlists it was compiled from; holds no per-item state."""

    def __init__(self, watchlists: Sequence[_CompiledWatchlist]) -> None:
        self._watchlists = tuple(sorted(watchlists, key=lambda watchlist: watchlist.name))

    @property
    def watchlist_names(self) -> tuple[str, ...]:
        return tuple(watchlist.name for watchlist in self._watchlists)

    def match(self, item: ItemText) -> tuple[WatchlistMatch, ...]:
        """The watchlists that fire for `item`, ordered by name, each with its hits ordered by
        field then offset; offsets are into the item's fields as given."""
        folds = _ItemFolds(item)
        matches = (watchlist.match(folds) for watchlist in self._watchlists)
        return tuple(found for found in matches if found is not None)


def compile_watchlists(watchlists: Sequence[WatchlistSpec]) -> Matcher:
    """Compile every watchlist once; the result is reused for every item."""
    return Matcher(
        [
            _CompiledWatchlist(
                name=spec.name,
                fields=tuple(field for field in FIELDS if field in spec.fields),
                terms=_TermSet.compile(spec.terms),
                exclude=_TermSet.compile(spec.exclude) if spec.exclude else None,
            )
            for spec in watchlists
        ]
    )
