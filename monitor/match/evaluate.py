"""Deciding one watchlist from what the scan found (docs/design.md §4 rules 10-12), and saying why.

A watchlist fires when any of its terms occurs in a searched field or its query holds, and no
exclude term occurs anywhere in the item. AND, OR and NOT combine over the whole item (all
searched fields); only NEAR asks for one field. The same walk that decides also collects the
reasons `monitor explain` prints, so the explanation can never disagree with the decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from monitor.match.query import positive_atoms
from monitor.match.query_ast import Atom, Near, Node, Not, Or
from monitor.match.scanner import Found
from monitor.match.spelling import Span
from monitor.model import FIELDS
from monitor.text.blocks import crosses_block
from monitor.text.wordfold import AMPERSAND, WordFold


@dataclass(frozen=True)
class CompiledWatchlist:
    name: str
    fields: tuple[str, ...]  # in FIELDS order
    # Unit -> the configured terms it spells (usually one): the decision walks what was found,
    # not every term, so a watchlist of a thousand terms costs what it finds.
    term_units: Mapping[int, tuple[str, ...]]
    exclude_units: Mapping[int, tuple[str, ...]]
    query: Node | None
    query_text: str | None
    atom_units: Mapping[Atom, int]

    def positive_units(self) -> set[int]:
        """Units whose occurrence can make this watchlist fire: only these trigger evaluation."""
        units = set(self.term_units)
        if self.query is not None:
            units.update(self.atom_units[atom] for atom in positive_atoms(self.query))
        return units

    @cached_property
    def plain(self) -> bool:
        """Terms only, searched everywhere, nothing excluded: the hits of its terms decide."""
        return self.query is None and not self.exclude_units and len(self.fields) == len(FIELDS)

    @cached_property
    def unit_of_atom(self) -> dict[int, int]:
        """`atom_units` by the atom's identity: the query walk looks atoms up on every item,
        and hashing an atom (a dataclass) runs Python code."""
        return {id(atom): unit for atom, unit in self.atom_units.items()}

    @cached_property
    def required_units(self) -> frozenset[int]:
        """Units that must all occur for the query to hold. Most queries that a found unit
        triggers are false (`A AND B` with B absent); this tells without walking them."""
        return _required(self.query, self.atom_units) if self.query is not None else frozenset()


def _required(node: Node, atom_units: Mapping[Atom, int]) -> frozenset[int]:
    if isinstance(node, Atom):
        return frozenset({atom_units[node]})
    if isinstance(node, Near):
        # A side's group needs one of its atoms, so only a unit they all share is required.
        return _group_required(node.left, atom_units) | _group_required(node.right, atom_units)
    if isinstance(node, Not):
        return frozenset()
    children = [_required(child, atom_units) for child in node.children]
    if isinstance(node, Or):
        return frozenset.intersection(*children)
    return frozenset.union(*children)


def _group_required(group: Sequence[Atom], atom_units: Mapping[Atom, int]) -> frozenset[int]:
    return frozenset.intersection(*(frozenset({atom_units[atom]}) for atom in group))


class RawHit(NamedTuple):
    """A named tuple: matching makes one per hit, and a tuple is cheap to build."""

    term: str
    field: str
    span: Span


# `RawHit(...)` without the Python frame of a named tuple's __new__: one per hit.
new_raw_hit = tuple.__new__


@dataclass
class Decision:
    fired: bool
    hits: list[RawHit] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def term_hits(
    found: Found, owners: Mapping[int, Sequence[tuple[int, tuple[str, ...]]]]
) -> dict[int, list[RawHit]]:
    """Watchlist index -> hits of its terms in any field, from what was found; `owners` maps a
    unit to the (watchlist index, terms) it spells. One pass over what was found, however many
    terms the watchlists hold."""
    by_watchlist: dict[int, list[RawHit]] = {}
    for unit, by_field in found.items():
        unit_owners = owners.get(unit)
        if unit_owners is None:
            continue  # a query word or an exclude term
        for index, terms in unit_owners:
            hits = by_watchlist.get(index)
            if hits is None:
                hits = by_watchlist[index] = []
            for term in terms:
                for name, spans in by_field.items():
                    for span in spans:
                        hits.append(new_raw_hit(RawHit, (term, name, span)))
    return by_watchlist


def decide(
    watchlist: CompiledWatchlist,
    hits_of_terms: Sequence[RawHit],
    found: Found,
    folds: Mapping[str, WordFold],
    *,
    explain: bool = False,
) -> Decision:
    """Whether `watchlist` fires, given the hits of its terms (`term_hits`), with the hits to
    report; with `explain`, also the reasons it does not (worded only then: matching runs on
    every item and needs no prose)."""
    decision = Decision(fired=False)
    for unit in watchlist.exclude_units:
        if unit in found:
            if explain:
                term, field_name = watchlist.exclude_units[unit][0], next(iter(found[unit]))
                decision.reasons.append(f"excluded: {term!r} occurs in the {field_name}")
            return decision
    if len(watchlist.fields) == len(FIELDS):
        decision.hits.extend(hits_of_terms)
    else:
        for hit in hits_of_terms:
            if hit.field in watchlist.fields:
                decision.hits.append(hit)
            elif explain:
                decision.reasons.append(
                    f"term {hit.term!r} occurs in the {hit.field}, which this watchlist does not"
                    f" search (fields: {', '.join(watchlist.fields)})"
                )
    term_fired = bool(decision.hits)
    query_held = False
    if watchlist.query is not None and (explain or watchlist.required_units <= found.keys()):
        walk = _QueryWalk(watchlist, found, folds, explain)
        query_held = walk.holds(watchlist.query)
        if query_held:
            decision.hits.extend(walk.hits)
        elif explain:
            decision.reasons.append(f"query {watchlist.query_text!r} is false")
            decision.reasons.extend(walk.reasons)
    decision.fired = term_fired or query_held
    if explain and not decision.fired and not decision.reasons:
        decision.reasons.append("no term of this watchlist occurs in the item")
    decision.hits = _without_nested(decision.hits)
    return decision


def fired_hits(
    watchlist: CompiledWatchlist,
    hits_of_terms: Sequence[RawHit],
    found: Found,
    folds: Mapping[str, WordFold],
) -> list[RawHit] | None:
    """`decide` for matching: the hits to report if `watchlist` fires, else None. Most
    watchlists are plain: the hits of their terms decide, without the bookkeeping."""
    if watchlist.plain:
        return _without_nested(hits_of_terms) if hits_of_terms else None
    if watchlist.query is not None and watchlist.required_units <= found.keys():
        decision = decide(watchlist, hits_of_terms, found, folds)
        return decision.hits if decision.fired else None
    # The query cannot hold (most query watchlists a found word triggers): `decide` without
    # its bookkeeping, the terms alone decide.
    for unit in watchlist.exclude_units:
        if unit in found:
            return None
    if len(watchlist.fields) < len(FIELDS):
        hits_of_terms = [hit for hit in hits_of_terms if hit.field in watchlist.fields]
    return _without_nested(hits_of_terms) if hits_of_terms else None


class _QueryWalk:
    def __init__(
        self,
        watchlist: CompiledWatchlist,
        found: Found,
        folds: Mapping[str, WordFold],
        explain: bool,
    ) -> None:
        self._explain = explain
        self._watchlist = watchlist
        self._found = found
        self._folds = folds
        self.hits: list[RawHit] = []
        self.reasons: list[str] = []

    def _fields(self, atom: Atom) -> tuple[str, ...]:
        if atom.field is None:
            return self._watchlist.fields
        return (atom.field,) if atom.field in self._watchlist.fields else ()

    def _spans(self, atom: Atom) -> Mapping[str, Sequence[Span]]:
        by_field = self._found.get(self._watchlist.unit_of_atom[id(atom)])
        if not by_field:
            return {}
        fields = self._fields(atom)
        if len(fields) == len(FIELDS):
            return by_field  # the found fields in FIELDS order, as the scan fills them
        return {name: by_field[name] for name in fields if name in by_field}

    def holds(self, node: Node, negated: bool = False) -> bool:
        if isinstance(node, Atom):
            spans = self._spans(node)
            if spans and not negated:
                label = _label(node)
                hits = self.hits
                for name, found in spans.items():
                    for span in found:
                        hits.append(new_raw_hit(RawHit, (label, name, span)))
            if self._explain and not spans and not negated:
                self.reasons.append(self._absent(node))
            if self._explain and spans and negated:
                self.reasons.append(f"NOT {_label(node)!r}: it occurs in the {', '.join(spans)}")
            return bool(spans)
        if isinstance(node, Near):
            return self._near(node, negated)
        if isinstance(node, Not):
            return not self.holds(node.child, not negated)
        # Every child is walked (no short cut), so hits and reasons are complete.
        results = [self.holds(child, negated) for child in node.children]
        if isinstance(node, Or):
            return any(results)
        return all(results)

    def _absent(self, atom: Atom) -> str:
        unit = self._watchlist.atom_units[atom]
        elsewhere = [name for name in self._found.get(unit, {}) if name not in self._fields(atom)]
        if elsewhere:
            return (
                f"{_label(atom)!r} occurs only in the {', '.join(elsewhere)}, which is not"
                " searched here"
            )
        return f"{_label(atom)!r} does not occur"

    def _near(self, node: Near, negated: bool) -> bool:
        left = [(atom, spans) for atom in node.left if (spans := self._spans(atom))]
        right = [(atom, spans) for atom in node.right if (spans := self._spans(atom))]
        closest: int | None = None
        apart = False  # some pair in one field, a block boundary between (rule 16)
        pairs: list[tuple[str, Atom, Span, Atom, Span]] = []
        for left_atom, left_spans in left:
            for right_atom, right_spans in right:
                for name in left_spans.keys() & right_spans.keys():
                    fold = self._folds[name]
                    for a in left_spans[name]:
                        for b in right_spans[name]:
                            if a.start < b.end and b.start < a.end:
                                continue  # the same words cannot be both sides
                            first, second = (a, b) if a.start < b.start else (b, a)
                            between = _words_between(fold, first, second)
                            if between is None:
                                apart = True  # in two paragraphs (rule 16)
                                continue
                            closest = between if closest is None else min(closest, between)
                            if between <= node.distance:
                                pairs.append((name, left_atom, a, right_atom, b))
        if pairs and not negated:
            for name, left_atom, a, right_atom, b in pairs:
                self.hits.append(RawHit(_label(left_atom), name, a))
                self.hits.append(RawHit(_label(right_atom), name, b))
        elif self._explain and not pairs and not negated:
            label = f"{_side_label(node.left)} NEAR/{node.distance} {_side_label(node.right)}"
            if closest is not None:
                self.reasons.append(
                    f"{label}: the closest pair has {closest} words between (at most"
                    f" {node.distance})"
                )
            elif apart:
                self.reasons.append(
                    f"{label}: the two occur in one field only in different paragraphs (or"
                    " list items, cells, lines broken by <br>)"
                )
            elif left and right:
                self.reasons.append(f"{label}: the two never occur in the same field")
            else:
                missing = node.left if not left else node.right
                self.reasons.extend(f"{label}: {self._absent(atom)}" for atom in missing)
        return bool(pairs)


def _side_label(group: Sequence[Atom]) -> str:
    """A side of NEAR as written: `'Peskov'`, or `('gaz' OR 'gas')` for a group."""
    if len(group) == 1:
        return repr(_label(group[0]))
    return "(" + " OR ".join(repr(_label(atom)) for atom in group) + ")"


def _words_between(fold: WordFold, first: Span, second: Span) -> int | None:
    """How many words stand between two spans of one field, None when a paragraph break does
    (rule 16). Links folded to spaces are not words (rule 15), and neither is an `&` (rule 14)."""
    words = fold.text[first.end : second.start].split()
    source_start = fold.source_span(first.start, first.end)[1]
    source_end = fold.source_span(second.start, second.end)[0]
    if crosses_block(fold.source, source_start, source_end):
        return None
    return len(words) - words.count(AMPERSAND) if AMPERSAND in words else len(words)


def _label(atom: Atom) -> str:
    if atom.phrase:
        return f'"{atom.text}"'
    return f"{atom.text}*" if atom.wildcard else atom.text


def _without_nested(hits: Sequence[RawHit]) -> list[RawHit]:
    """Hits ordered by field then offset; a hit inside a longer one is dropped (`Poutine`
    inside `Vladimir Poutine`), and the same place found twice is kept once."""
    if len(hits) < 2:
        return list(hits)  # the common case: one term found once
    ordered = sorted(hits, key=_field_then_place)
    kept: list[RawHit] = []
    for hit in ordered:
        if kept and kept[-1].field == hit.field and hit.span.end <= kept[-1].span.end:
            continue
        kept.append(hit)
    return kept


_FIELD_ORDER = {name: rank for rank, name in enumerate(FIELDS)}


def _field_then_place(hit: RawHit) -> tuple[int, int, int]:
    return _FIELD_ORDER[hit.field], hit.span.start, -hit.span.end
