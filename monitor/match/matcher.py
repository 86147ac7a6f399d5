"""Watchlists compiled once into one scanner; items matched against all of them (docs/design.md §4).

Compiling gathers every spelling of every term, alias, exclude term and query word of every
watchlist into units (one per distinct spelling, shared across watchlists) and builds one
automaton over them. Matching folds each field once, scans it once, and evaluates only the
watchlists that one of the found units can make fire. The cost per item grows with the text and
with what is found, not with the number of watchlists.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from monitor.config.schema import TermSpec, WatchlistSpec
from monitor.gc_pause import paused_gc
from monitor.match.edits import hit_edits
from monitor.match.evaluate import (
    CompiledWatchlist,
    RawHit,
    decide,
    fired_hits,
    may_hold,
    term_hits,
)
from monitor.match.query import all_atoms, parse_query
from monitor.match.query_ast import Atom
from monitor.match.scanner import AutomatonCache, Found, Scanner, Unit, cached
from monitor.match.scope import FeedIdentity, FeedScopes, WatchlistScope
from monitor.match.spelling import WordTest, compile_spelling
from monitor.model import FIELDS, Hit, ItemText, WatchlistMatch
from monitor.text.inflect import language_key
from monitor.text.language import detect_language
from monitor.text.tuples import new_tuple
from monitor.text.wordfold import WordFold, fold_words

log = logging.getLogger("monitor.match")


@dataclass(frozen=True)
class Explanation:
    """Why one watchlist did or did not fire for an item (`monitor explain`)."""

    watchlist: str
    fired: bool
    hits: tuple[Hit, ...]
    reasons: tuple[str, ...]
    # For each hit, what a fuzzy term changed (`Peskow ~ Peskov: 1 edit`); empty when exact.
    edits: tuple[tuple[str, ...], ...] = ()


class _Units:
    """Distinct spellings -> unit ids, so `OTAN` in fifty watchlists is verified once."""

    def __init__(self) -> None:
        self.units: list[Unit] = []
        self.spellings: list[str] = []  # as first written, for `explain`
        self._ids: dict[tuple[WordTest, ...], int] = {}

    def add(self, tests: tuple[WordTest, ...], spelling: str = "") -> int | None:
        if not tests:
            return None
        if tests not in self._ids:
            self._ids[tests] = len(self.units)
            self.units.append(Unit.of(tests))
            self.spellings.append(spelling)
        return self._ids[tests]

    def terms(self, specs: Sequence[TermSpec]) -> dict[int, tuple[str, ...]]:
        """Unit -> the terms (canonical spelling) it belongs to, for a list of terms."""
        owners: dict[int, tuple[str, ...]] = {}
        for spec in specs:
            for spelling, fuzzy in spec.fuzzy_spellings():
                tests = compile_spelling(spelling, case_sensitive=spec.case_sensitive, fuzzy=fuzzy)
                unit = self.add(tests, spelling)
                if unit is not None and spec.term not in owners.get(unit, ()):
                    owners[unit] = (*owners.get(unit, ()), spec.term)
        return owners

    def atom(self, atom: Atom) -> int | None:
        return self.add(compile_spelling(atom.text, wildcard=atom.wildcard))


def compile_watchlists(
    watchlists: Sequence[WatchlistSpec], *, cache: AutomatonCache | None = None
) -> Matcher:
    """Compile every watchlist once; the result is reused for every item. With `cache`, a
    large compilation and its automaton are read from there instead of made, when it holds
    them for the same watchlists, and saved there once made."""
    with paused_gc():
        return _compile_matcher(watchlists, cache)


def _compile_matcher(watchlists: Sequence[WatchlistSpec], cache: AutomatonCache | None) -> Matcher:
    ordered = sorted(watchlists, key=lambda spec: spec.name)
    scopes = FeedScopes([WatchlistScope.of(spec) for spec in ordered])
    if cache is None:
        compiled, units, spellings = _compile(ordered)
        return Matcher(compiled, Scanner(units), scopes, spellings)
    # The watchlists as validated decide the compilation (with the code, which the cache itself
    # tells apart), and so the units, whose automaton keys the scanner caches under this too.
    key = f"compiled {_FORMAT} " + _digest(watchlists)
    compiled, units, spellings = cached(
        cache,
        key,
        lambda: _compile(ordered),
        valid=_is_compilation,
        worth_keeping=lambda built: len(built[1]) >= _CACHED_UNITS,
    )
    return Matcher(compiled, Scanner(units, cache, units_key=key), scopes, spellings)


def _digest(watchlists: Sequence[WatchlistSpec]) -> str:
    """A digest of every field of the validated watchlists, in order: their JSON, which
    pydantic writes in C (their `repr` took 0.05-0.09 s of `monitor match`'s start with 10,000
    terms, the JSON a fifth of that)."""
    digest = hashlib.sha256()
    for spec in watchlists:
        digest.update(spec.model_dump_json().encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _is_compilation(loaded: object) -> bool:
    return (
        isinstance(loaded, tuple)
        and len(loaded) == 3
        and all(isinstance(each, CompiledWatchlist) for each in loaded[0])
    )


# Below this many spellings, compiling is quicker than a cache look-up is worth.
_CACHED_UNITS = 2_000
# Bumped whenever compiled watchlists or units change shape.
_FORMAT = 3


def _compile(
    ordered: Sequence[WatchlistSpec],
) -> tuple[list[CompiledWatchlist], list[Unit], list[str]]:
    """The watchlists (sorted by name) compiled, the units they look for, and each unit's
    spelling as first written (for `explain`)."""
    units = _Units()
    compiled = []
    for spec in ordered:
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
    return compiled, units.units, units.spellings


# What a found unit can make fire: (watchlist index, the terms it spells there) for each
# watchlist it is a term of, and (watchlist index, the units its query requires) for each whose
# query it is a word of.
_Plan = tuple[tuple[tuple[int, tuple[str, ...]], ...], tuple[tuple[int, frozenset[int]], ...]]


# What `Matcher.match` needs of a watchlist to decide it without `fired_hits` when its hits come
# from one unit and its query (if any) cannot hold: then its terms decide. Its name; its
# `query_needs`, None without a query; its exclude terms' units, None without any; the fields it
# searches, None for every one. A plain tuple: the match unpacks one per candidate watchlist,
# which compiled code does in place for a plain tuple and by iterating over a named one.
_Shortcut = tuple[
    str, tuple[frozenset[int], ...] | None, frozenset[int] | None, tuple[str, ...] | None
]


def _shortcut(watchlist: CompiledWatchlist) -> _Shortcut:
    return (
        watchlist.name,
        watchlist.query_needs if watchlist.query is not None else None,
        frozenset(watchlist.exclude_units) or None,
        watchlist.fields if len(watchlist.fields) < len(FIELDS) else None,
    )


class Matcher:
    """Matches items against the watchlists it was compiled from; holds no per-item state
    (what it keeps, the watchlists out of scope per feed, depends on the feed alone)."""

    def __init__(
        self,
        watchlists: Sequence[CompiledWatchlist],
        scanner: Scanner,
        scopes: FeedScopes | None = None,
        spellings: Sequence[str] = (),
    ) -> None:
        self._watchlists = tuple(watchlists)
        self._scanner = scanner
        self._scopes = scopes if scopes is not None else FeedScopes(())
        self._scoped = bool(self._scopes)
        self._spellings = tuple(spellings)
        owners: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        for index, watchlist in enumerate(self._watchlists):
            for unit, terms in watchlist.term_units.items():
                owners.setdefault(unit, []).append((index, terms))
        self._term_owners = {unit: tuple(entries) for unit, entries in owners.items()}
        # Unit -> (watchlist index, the terms it spells there) for every watchlist its occurrence
        # can make fire as a term, and (watchlist index, the units its query requires) for every
        # one whose query it is a word of. One look-up per found unit gives both the watchlists
        # to evaluate and the hits of their terms.
        term_plans: dict[int, list[tuple[int, tuple[str, ...]]]] = {}
        query_plans: dict[int, list[tuple[int, frozenset[int]]]] = {}
        for index, watchlist in enumerate(self._watchlists):
            for unit in sorted(watchlist.positive_units()):
                terms = watchlist.term_units.get(unit, ())
                if terms:
                    term_plans.setdefault(unit, []).append((index, terms))
                else:
                    query_plans.setdefault(unit, []).append((index, watchlist.required_units))
        # A list by unit id: indexing it is cheaper than a dictionary look-up, per found unit.
        self._plans: list[_Plan | None] = [
            (tuple(term_plans.get(unit, ())), tuple(query_plans.get(unit, ())))
            if unit in term_plans or unit in query_plans
            else None
            for unit in range(len(scanner.units))
        ]
        self._shortcuts = tuple(_shortcut(watchlist) for watchlist in self._watchlists)

    def match(self, item: ItemText, feed: FeedIdentity | None = None) -> tuple[WatchlistMatch, ...]:
        """The watchlists that fire for `item`, ordered by name, each with its hits ordered by
        field then offset; offsets are into the item's fields as given. A watchlist whose
        `sources` leave out `feed`, or whose `languages` leave out the item's, never fires;
        without `feed` (an item read without one), `sources` are not applied."""
        folds, found, language = self._scan(item, feed)
        # Watchlist index -> terms, where found, and again for each further found unit that can
        # make it fire; a query word spells no term (). Hits are built only below, for
        # watchlists that fire.
        pending: dict[int, tuple[Any, ...]] = {}
        plans = self._plans
        found_units = found.keys()
        for unit, by_field in found.items():
            plan = plans[unit]
            if plan is None:
                continue  # an exclude term, or a query word no query can use
            term_plan, query_plan = plan
            for index, terms in term_plan:
                if index in pending:
                    pending[index] = (*pending[index], terms, by_field)
                else:
                    pending[index] = (terms, by_field)
            for index, required in query_plan:
                if not found_units >= required:
                    # A query word whose query cannot hold without some word not found (most
                    # queries a found word triggers): it alone makes nothing fire, and adds
                    # no hit to the watchlist's terms.
                    continue
                if index in pending:
                    pending[index] = (*pending[index], (), by_field)
                else:
                    pending[index] = ((), by_field)
        candidates = sorted(pending)
        if self._scoped and candidates:
            out = self._scopes.out_of_scope(feed, language)
            if out:
                candidates = [index for index in candidates if index not in out]
        watchlists, shortcuts = self._watchlists, self._shortcuts
        matches = []
        for index in candidates:
            name, unless, excluded, fields = shortcuts[index]
            entries = pending[index]
            if len(entries) == 2 and (unless is None or not may_hold(unless, found_units)):
                # The common case: the terms decide (no query, or one that cannot hold), and
                # all hits come from one unit. They are that unit's places as the scan lists
                # them, in field then text order, none inside another (one spelling's places
                # never nest), each once; terms spelled alike report the first, as
                # `_without_nested` keeps it.
                if excluded is not None and not found_units.isdisjoint(excluded):
                    continue
                terms, by_field = entries
                if not terms:
                    continue  # a word of the query, which cannot hold
                if fields is not None:
                    by_field = {field: by_field[field] for field in fields if field in by_field}
                    if not by_field:
                        continue
                term = terms[0]
                if len(by_field) == 1:
                    ((field, spans),) = by_field.items()
                    if len(spans) == 1:  # most: found once
                        fold = folds[field]
                        ((start, end),) = spans
                        if fold.aligned:
                            start, end = start - 1, end - 1
                        else:
                            start, end = fold.source_span(start, end)
                        hit = new_tuple(
                            Hit, (name, term, field, start, end, fold.source[start:end])
                        )
                        matches.append(new_tuple(WatchlistMatch, (name, (hit,))))
                        continue
                hits = []
                for field, spans in by_field.items():
                    fold = folds[field]
                    source, aligned = fold.source, fold.aligned
                    for start, end in spans:
                        if aligned:  # `source_span` of the common case, inline
                            start, end = start - 1, end - 1
                        else:
                            start, end = fold.source_span(start, end)
                        hits.append(
                            new_tuple(Hit, (name, term, field, start, end, source[start:end]))
                        )
                matches.append(new_tuple(WatchlistMatch, (name, tuple(hits))))
                continue
            raw_hits = [
                new_tuple(RawHit, (term, field, span))
                for position in range(0, len(entries), 2)
                for term in entries[position]
                for field, spans in entries[position + 1].items()
                for span in spans
            ]
            fired = fired_hits(watchlists[index], raw_hits, found, folds)
            if fired is not None:
                matches.append(new_tuple(WatchlistMatch, (name, _hits(name, fired, folds))))
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

    def explain(self, item: ItemText, feed: FeedIdentity | None = None) -> tuple[Explanation, ...]:
        """For every watchlist: whether it fires, its hits, and the reasons it does not."""
        folds, found, item_language = self._scan(item, feed)
        language = language_key(item_language)
        hits = term_hits(found, self._term_owners)
        explanations = []
        for index, watchlist in enumerate(self._watchlists):
            decision = decide(watchlist, hits.get(index, ()), found, folds)
            refusal = self._scopes.refusal(index, feed, item_language) if self._scoped else None
            if refusal is not None:
                after = ["it matches the item: it would fire otherwise"] if decision.fired else []
                decision.reasons = [refusal, *after, *decision.reasons]
                decision.fired, decision.hits = False, []
            explanations.append(
                Explanation(
                    watchlist.name,
                    decision.fired,
                    _hits(watchlist.name, decision.hits, folds),
                    () if decision.fired else tuple(decision.reasons),
                    tuple(
                        self._edits(watchlist, hit, found, folds, language) for hit in decision.hits
                    ),
                )
            )
        return tuple(explanations)

    def _edits(
        self,
        watchlist: CompiledWatchlist,
        hit: RawHit,
        found: Found,
        folds: dict[str, WordFold],
        language: str | None,
    ) -> tuple[str, ...]:
        """What a term's hit changed from the spelling (term or alias) that found it."""
        for unit, terms in watchlist.term_units.items():
            if hit.term in terms and hit.span in found.get(unit, {}).get(hit.field, ()):
                tests = self._scanner.units[unit].tests
                spelling = self._spellings[unit] if unit < len(self._spellings) else ""
                return hit_edits(tests, spelling, folds[hit.field], hit.span, language)
        return ()

    def _scan(
        self, item: ItemText, feed: FeedIdentity | None
    ) -> tuple[dict[str, WordFold], Found, str | None]:
        """The folded fields, what was found in them, and the item's language: its own, else
        its feed's configured one (as the daemon gives a feed's items), else detected; None
        when unclear."""
        folds = {
            name: fold_words(text, without_links=True)
            for name in FIELDS
            if (text := item.field_text(name))
        }
        language = item.language or (feed and feed.language) or detect_language(_words(folds))
        return folds, self._scanner.scan(folds, language), language


def _words(folds: dict[str, WordFold]) -> list[str]:
    return [word for fold in folds.values() for word in fold.text.split()]


def _hits(
    watchlist: str, raw_hits: Sequence[RawHit], folds: dict[str, WordFold]
) -> tuple[Hit, ...]:
    hits = []
    for term, field, (start, end) in raw_hits:
        fold = folds[field]
        if fold.aligned:  # `source_span` of the common case, inline: this runs for every hit
            start, end = start - 1, end - 1
        else:
            start, end = fold.source_span(start, end)
        hits.append(new_tuple(Hit, (watchlist, term, field, start, end, fold.source[start:end])))
    return tuple(hits)
