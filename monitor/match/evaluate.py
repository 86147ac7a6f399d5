"""Deciding one watchlist from what the scan found (docs/design.md §4 rules 10-12), and saying why.

A watchlist fires when any of its terms occurs in a searched field or its query holds, and no
exclude term occurs anywhere in the item. AND, OR and NOT combine over the whole item (all
searched fields); only NEAR asks for one field. The same walk that decides also collects the
reasons `monitor explain` prints, so the explanation can never disagree with the decision.
"""

from __future__ import annotations

from collections.abc import Callable, KeysView, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from monitor.match.query import positive_atoms
from monitor.match.query_ast import Atom, Near, Node, Not, Or
from monitor.match.scanner import Found
from monitor.match.spelling import Span
from monitor.model import FIELDS
from monitor.text.blocks import crosses_block
from monitor.text.tuples import new_tuple
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
    def query_test(self) -> QueryTest | None:
        """The query compiled once: the one walk that decides (`fired_hits`) and explains
        (`decide`)."""
        return _query_test(self.query, self) if self.query is not None else None

    def __getstate__(self) -> dict[str, object]:
        # Compiled watchlists are cached by pickling (`compile_watchlists(cache=)`), and a
        # compiled query is closures: it is made again after loading.
        return {name: value for name, value in self.__dict__.items() if name != "query_test"}

    @cached_property
    def query_needs(self) -> tuple[frozenset[int], ...]:
        """Sets of units of which one must all occur for the query to hold (`A AND (B OR C)`:
        A and B, or A and C). Most queries that a found unit triggers are false (`A AND B`
        with B absent); this tells without walking them."""
        if self.query is None:
            return ()
        needs = _needs(self.query, self.atom_units)
        return tuple(sorted(needs, key=lambda units: (len(units), sorted(units))))

    @cached_property
    def required_units(self) -> frozenset[int]:
        """Units that must all occur for the query to hold: those all its needs share."""
        return frozenset.intersection(*self.query_needs) if self.query_needs else frozenset()


def may_hold(needs: Sequence[frozenset[int]], found_units: KeysView[int]) -> bool:
    """Whether a query of these `query_needs` can hold with the units found."""
    for units in needs:  # noqa: SIM110 - a loop, not any(): no generator per candidate
        if found_units >= units:
            return True
    return False


# Beyond this many sets of needed units, the sets are merged into the units they all share:
# still a need, only a looser one (`(A OR B) AND (C OR D) AND ...` multiplies them).
_MAX_NEEDS = 16


def _needs(node: Node, atom_units: Mapping[Atom, int]) -> frozenset[frozenset[int]]:
    if isinstance(node, Atom):
        return frozenset({frozenset({atom_units[node]})})
    if isinstance(node, Not):
        return frozenset({frozenset()})  # holds without anything found
    if isinstance(node, Near):
        # Some word of each side, in one field.
        sides = [
            frozenset(frozenset({atom_units[atom]}) for atom in group)
            for group in (node.left, node.right)
        ]
    else:
        sides = [_needs(child, atom_units) for child in node.children]
    if isinstance(node, Or):
        return _fewest(frozenset().union(*sides))
    combined: frozenset[frozenset[int]] = frozenset({frozenset()})
    for side in sides:
        combined = _fewest(frozenset(have | more for have in combined for more in side))
    return combined


def _fewest(needs: frozenset[frozenset[int]]) -> frozenset[frozenset[int]]:
    """`needs` without those that hold another (they add nothing), at most `_MAX_NEEDS`."""
    kept = frozenset(units for units in needs if not any(other < units for other in needs))
    if len(kept) > _MAX_NEEDS:
        return frozenset({frozenset.intersection(*kept)})
    return kept


class RawHit(NamedTuple):
    """A named tuple: matching makes one per hit, and a tuple is cheap to build."""

    term: str
    field: str
    span: Span


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
                        hits.append(new_tuple(RawHit, (term, name, span)))
    return by_watchlist


def decide(
    watchlist: CompiledWatchlist,
    hits_of_terms: Sequence[RawHit],
    found: Found,
    folds: Mapping[str, WordFold],
) -> Decision:
    """Whether `watchlist` fires, given the hits of its terms (`term_hits`), with the hits to
    report and the reasons it does not (`monitor explain`). Matching decides with
    `fired_hits`, through the same query test."""
    decision = Decision(fired=False)
    for unit in watchlist.exclude_units:
        if unit in found:
            term, field_name = watchlist.exclude_units[unit][0], next(iter(found[unit]))
            decision.reasons.append(f"excluded: {term!r} occurs in the {field_name}")
            return decision
    for hit in hits_of_terms:
        if hit.field in watchlist.fields:
            decision.hits.append(hit)
        else:
            decision.reasons.append(
                f"term {hit.term!r} occurs in the {hit.field}, which this watchlist does not"
                f" search (fields: {', '.join(watchlist.fields)})"
            )
    term_fired = bool(decision.hits)
    query_held = False
    if watchlist.query_test is not None:
        query_hits: list[RawHit] = []
        reasons: list[str] = []
        query_held = watchlist.query_test(found, folds, query_hits, reasons)
        if query_held:
            decision.hits.extend(query_hits)
        else:
            decision.reasons.append(f"query {watchlist.query_text!r} is false")
            decision.reasons.extend(reasons)
    decision.fired = term_fired or query_held
    if not decision.fired and not decision.reasons:
        decision.reasons.append("no term of this watchlist occurs in the item")
    decision.hits = _without_nested(decision.hits)
    return decision


def fired_hits(
    watchlist: CompiledWatchlist,
    hits_of_terms: list[RawHit],
    found: Found,
    folds: Mapping[str, WordFold],
) -> list[RawHit] | None:
    """`decide` for matching, without its reasons: the hits to report if `watchlist` fires,
    else None."""
    for unit in watchlist.exclude_units:
        if unit in found:
            return None
    if len(watchlist.fields) < len(FIELDS):
        hits_of_terms = [hit for hit in hits_of_terms if hit.field in watchlist.fields]
    fired = bool(hits_of_terms)
    query_test = watchlist.query_test
    # Most queries a found word triggers cannot hold (one of the words they need is absent).
    if query_test is not None and may_hold(watchlist.query_needs, found.keys()):
        query_hits: list[RawHit] = []
        if query_test(found, folds, query_hits, None):
            fired = True  # `NOT war` holds without a hit
            hits_of_terms = hits_of_terms + query_hits
    return _without_nested(hits_of_terms) if fired else None


# Whether a query, or a part of it, holds for what the scan found (`found`, in `folds`). It adds
# to `hits` the places of its words that count (not under NOT), and with `reasons` (a list, for
# `monitor explain`; None when matching) why a part does not hold. Compiled once per watchlist
# into closures, one per node, that know the node's words, fields and negation beforehand.
QueryTest = Callable[[Found, Mapping[str, WordFold], list[RawHit], list[str] | None], bool]


def _query_test(node: Node, watchlist: CompiledWatchlist, negated: bool = False) -> QueryTest:
    if isinstance(node, Atom):
        return _word_test(_Word.of(node, watchlist), negated)
    if isinstance(node, Near):
        return _near_test(node, watchlist, negated)
    if isinstance(node, Not):
        child = _query_test(node.child, watchlist, not negated)

        def not_holds(
            found: Found,
            folds: Mapping[str, WordFold],
            hits: list[RawHit],
            reasons: list[str] | None,
        ) -> bool:
            return not child(found, folds, hits, reasons)

        return not_holds
    children = tuple(_query_test(child, watchlist, negated) for child in node.children)
    # Every child is walked (no short cut), so hits and reasons are complete.
    if isinstance(node, Or):

        def any_holds(
            found: Found,
            folds: Mapping[str, WordFold],
            hits: list[RawHit],
            reasons: list[str] | None,
        ) -> bool:
            held = False
            for child in children:
                if child(found, folds, hits, reasons):
                    held = True
            return held

        return any_holds

    def all_hold(
        found: Found,
        folds: Mapping[str, WordFold],
        hits: list[RawHit],
        reasons: list[str] | None,
    ) -> bool:
        held = True
        for child in children:
            if not child(found, folds, hits, reasons):
                held = False
        return held

    return all_hold


@dataclass(frozen=True)
class _Word:
    """A query word (or phrase) as one watchlist looks for it."""

    unit: int
    label: str
    # The fields it is looked for in (FIELDS order), None for every field: the common case,
    # which needs no filtering.
    fields: tuple[str, ...] | None

    @classmethod
    def of(cls, atom: Atom, watchlist: CompiledWatchlist) -> _Word:
        if atom.field is None:
            fields: tuple[str, ...] | None = watchlist.fields
        else:
            fields = (atom.field,) if atom.field in watchlist.fields else ()
        if fields is not None and len(fields) == len(FIELDS):
            fields = None
        unit = watchlist.atom_units[atom]
        return cls(unit, _label(atom), fields)

    def places(self, found: Found) -> Mapping[str, Sequence[Span]]:
        by_field = found.get(self.unit)
        if not by_field:
            return {}
        if self.fields is None:
            return by_field  # the found fields in FIELDS order, as the scan fills them
        return {name: by_field[name] for name in self.fields if name in by_field}

    def absent(self, found: Found) -> str:
        looked_in = FIELDS if self.fields is None else self.fields
        elsewhere = [name for name in found.get(self.unit, {}) if name not in looked_in]
        if elsewhere:
            return (
                f"{self.label!r} occurs only in the {', '.join(elsewhere)}, which is not"
                " searched here"
            )
        return f"{self.label!r} does not occur"


def _word_test(word: _Word, negated: bool) -> QueryTest:
    places, label = word.places, word.label
    if negated:

        def occurs(
            found: Found,
            folds: Mapping[str, WordFold],
            hits: list[RawHit],
            reasons: list[str] | None,
        ) -> bool:
            spans = places(found)
            if spans and reasons is not None:
                reasons.append(f"NOT {label!r}: it occurs in the {', '.join(spans)}")
            return bool(spans)

        return occurs

    def occurs_with_hits(
        found: Found,
        folds: Mapping[str, WordFold],
        hits: list[RawHit],
        reasons: list[str] | None,
    ) -> bool:
        spans_by_field = places(found)
        if spans_by_field:
            for name, spans in spans_by_field.items():
                for span in spans:
                    hits.append(new_tuple(RawHit, (label, name, span)))
            return True
        if reasons is not None:
            reasons.append(word.absent(found))
        return False

    return occurs_with_hits


def _near_test(node: Near, watchlist: CompiledWatchlist, negated: bool) -> QueryTest:
    left_words = [_Word.of(atom, watchlist) for atom in node.left]
    right_words = [_Word.of(atom, watchlist) for atom in node.right]
    distance = node.distance

    def near(
        found: Found,
        folds: Mapping[str, WordFold],
        hits: list[RawHit],
        reasons: list[str] | None,
    ) -> bool:
        left = [(word, spans) for word in left_words if (spans := word.places(found))]
        right = [(word, spans) for word in right_words if (spans := word.places(found))]
        closest: int | None = None
        apart = False  # some pair in one field, a block boundary between (rule 16)
        pairs: list[tuple[str, _Word, Span, _Word, Span]] = []
        for left_word, left_spans in left:
            for right_word, right_spans in right:
                for name in left_spans.keys() & right_spans.keys():
                    fold = folds[name]
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
                            if between <= distance:
                                pairs.append((name, left_word, a, right_word, b))
        if pairs and not negated:
            for name, left_word, a, right_word, b in pairs:
                hits.append(RawHit(left_word.label, name, a))
                hits.append(RawHit(right_word.label, name, b))
        elif reasons is not None and not pairs and not negated:
            label = f"{_side_label(node.left)} NEAR/{distance} {_side_label(node.right)}"
            if closest is not None:
                reasons.append(
                    f"{label}: the closest pair has {closest} words between (at most {distance})"
                )
            elif apart:
                reasons.append(
                    f"{label}: the two occur in one field only in different paragraphs (or"
                    " list items, cells, lines broken by <br>)"
                )
            elif left and right:
                reasons.append(f"{label}: the two never occur in the same field")
            else:
                missing = left_words if not left else right_words
                reasons.extend(f"{label}: {word.absent(found)}" for word in missing)
        return bool(pairs)

    return near


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
