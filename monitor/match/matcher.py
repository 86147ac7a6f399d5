"""Watchlists compiled once into one scanner; items matched against all of them (docs/design.md §4).

Compiling gathers every spelling of every term, alias, exclude term and query word of every
watchlist into units (one per distinct spelling, shared across watchlists) and builds one
automaton over them. Matching folds each field once, scans it once, and evaluates only the
watchlists that one of the found units can make fire. The cost per item grows with the text and
with what is found, not with the number of watchlists.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config.schema import TermSpec, WatchlistSpec
from monitor.match.evaluate import CompiledWatchlist, RawHit, decide, fired_hits, term_hits
from monitor.match.query import all_atoms, parse_query
from monitor.match.query_ast import Atom
from monitor.match.scanner import Found, Scanner, Unit
from monitor.match.spelling import WordTest, compile_spelling
from monitor.model import FIELDS, Hit, ItemText, WatchlistMatch
from monitor.text.language import detect_language
from monitor.text.wordfold import WordFold, fold_words

log = logging.getLogger("monitor.match")


@dataclass(frozen=True)
class Explanation:
    """Why one watchlist did or did not fire for an item (`monitor explain`)."""

    watchlist: str
    fired: bool
    hits: tuple[Hit, ...]
    reasons: tuple[str, ...]


class _Units:
    """Distinct spellings -> unit ids, so `OTAN` in fifty watchlists is verified once."""

    def __init__(self) -> None:
        self.units: list[Unit] = []
        self._ids: dict[tuple[WordTest, ...], int] = {}

    def add(self, tests: tuple[WordTest, ...]) -> int | None:
        if not tests:
            return None
        if tests not in self._ids:
            self._ids[tests] = len(self.units)
            self.units.append(Unit.of(tests))
        return self._ids[tests]

    def terms(self, specs: Sequence[TermSpec]) -> dict[int, tuple[str, ...]]:
        """Unit -> the terms (canonical spelling) it belongs to, for a list of terms."""
        owners: dict[int, tuple[str, ...]] = {}
        for spec in specs:
            for spelling in spec.spellings():
                tests = compile_spelling(
                    spelling, case_sensitive=spec.case_sensitive, fuzzy=spec.fuzzy
                )
                unit = self.add(tests)
                if unit is not None and spec.term not in owners.get(unit, ()):
                    owners[unit] = (*owners.get(unit, ()), spec.term)
        return owners

    def atom(self, atom: Atom) -> int | None:
        return self.add(compile_spelling(atom.text, wildcard=atom.wildcard))


def compile_watchlists(watchlists: Sequence[WatchlistSpec]) -> Matcher:
    """Compile every watchlist once; the result is reused for every item."""
    units = _Units()
    compiled = []
    for spec in sorted(watchlists, key=lambda spec: spec.name):
        query = parse_query(spec.query) if spec.query else None
        atom_units: dict[Atom, int] = {}
        for atom in all_atoms(query) if query is not None else ():
            unit = units.atom(atom)
            if unit is not None:
                atom_units[atom] = unit
            else:  # a word of punctuation only can never occur
                atom_units[atom] = units.add((WordTest("\x00never"),)) or 0
        compiled.append(
            CompiledWatchlist(
                name=spec.name,
                fields=tuple(name for name in FIELDS if name in spec.fields),
                term_units=units.terms(spec.terms),
                exclude_units=units.terms(spec.exclude),
                query=query,
                query_text=spec.query,
                atom_units=atom_units,
            )
        )
    return Matcher(compiled, Scanner(units.units))


class Matcher:
    """Matches items against the watchlists it was compiled from; holds no per-item state."""

    def __init__(self, watchlists: Sequence[CompiledWatchlist], scanner: Scanner) -> None:
        self._watchlists = tuple(watchlists)
        self._scanner = scanner
        triggers: dict[int, list[int]] = {}
        owners: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        for index, watchlist in enumerate(self._watchlists):
            for unit in watchlist.positive_units():
                triggers.setdefault(unit, []).append(index)
            for unit, terms in watchlist.term_units.items():
                owners.setdefault(unit, []).append((index, terms))
        self._triggers = {unit: tuple(indexes) for unit, indexes in triggers.items()}
        self._term_owners = {unit: tuple(entries) for unit, entries in owners.items()}

    def match(self, item: ItemText) -> tuple[WatchlistMatch, ...]:
        """The watchlists that fire for `item`, ordered by name, each with its hits ordered by
        field then offset; offsets are into the item's fields as given."""
        folds, found = self._scan(item)
        candidates = sorted({index for unit in found for index in self._triggers.get(unit, ())})
        hits = term_hits(found, self._term_owners)
        matches = []
        for index in candidates:
            watchlist = self._watchlists[index]
            fired = fired_hits(watchlist, hits.get(index, ()), found, folds)
            if fired is not None:
                matches.append(WatchlistMatch(watchlist.name, _hits(watchlist.name, fired, folds)))
        # Only items holding some watchlist's term: most items hold none.
        if candidates and log.isEnabledFor(logging.DEBUG):
            fired_names = [match.watchlist for match in matches]
            log.debug(
                "item %r: watchlists fired: %s; a term found but not fired: %s",
                item.title[:80],
                ", ".join(fired_names) or "none",
                ", ".join(
                    name
                    for name in (self._watchlists[index].name for index in candidates)
                    if name not in fired_names
                )
                or "none",
            )
        return tuple(matches)

    def explain(self, item: ItemText) -> tuple[Explanation, ...]:
        """For every watchlist: whether it fires, its hits, and the reasons it does not."""
        folds, found = self._scan(item)
        hits = term_hits(found, self._term_owners)
        explanations = []
        for index, watchlist in enumerate(self._watchlists):
            decision = decide(watchlist, hits.get(index, ()), found, folds, explain=True)
            explanations.append(
                Explanation(
                    watchlist.name,
                    decision.fired,
                    _hits(watchlist.name, decision.hits, folds),
                    () if decision.fired else tuple(decision.reasons),
                )
            )
        return tuple(explanations)

    def _scan(self, item: ItemText) -> tuple[dict[str, WordFold], Found]:
        folds = {
            name: fold_words(text, without_links=True)
            for name in FIELDS
            if (text := item.field_text(name))
        }
        language = item.language
        if not language:
            words = [word for fold in folds.values() for word in fold.text.split()]
            language = detect_language(words)
        return folds, self._scanner.scan(folds, language)


def _hits(
    watchlist: str, raw_hits: Sequence[RawHit], folds: dict[str, WordFold]
) -> tuple[Hit, ...]:
    hits = []
    for term, field, span in raw_hits:
        fold = folds[field]
        start, end = fold.source_span(span.start, span.end)
        hits.append(Hit(watchlist, term, field, start, end, fold.source[start:end]))
    return tuple(hits)
