"""Deciding one watchlist from what the scan found (DESIGN §4 rules 10-12), and saying why.

A watchlist fires when any of its terms occurs in a searched field or its query holds, and no
exclude term occurs anywhere in the item. AND, OR and NOT combine over the whole item (all
searched fields); only NEAR asks for one field. The same walk that decides also collects the
reasons `monitor explain` prints, so the explanation can never disagree with the decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.match.query import positive_atoms
from monitor.match.query_ast import Atom, Near, Node, Not, Or
from monitor.match.scanner import Found
from monitor.match.spelling import Span
from monitor.model import FIELDS
from monitor.text.wordfold import WordFold


@dataclass(frozen=True)
class TermRef:
    """A configured term (or exclude term) and the units of its spellings."""

    term: str
    units: tuple[int, ...]


@dataclass(frozen=True)
class CompiledWatchlist:
    name: str
    fields: tuple[str, ...]  # in FIELDS order
    terms: tuple[TermRef, ...]
    exclude: tuple[TermRef, ...]
    query: Node | None
    query_text: str | None
    atom_units: Mapping[Atom, int]

    def positive_units(self) -> set[int]:
        """Units whose occurrence can make this watchlist fire: only these trigger evaluation."""
        units = {unit for term in self.terms for unit in term.units}
        if self.query is not None:
            units.update(self.atom_units[atom] for atom in positive_atoms(self.query))
        return units


@dataclass(frozen=True)
class RawHit:
    term: str
    field: str
    span: Span


@dataclass
class Decision:
    fired: bool
    hits: list[RawHit] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def decide(watchlist: CompiledWatchlist, found: Found, folds: Mapping[str, WordFold]) -> Decision:
    decision = Decision(fired=False)
    for term in watchlist.exclude:
        for unit in term.units:
            for name in found.get(unit, {}):
                decision.reasons.append(f"excluded: {term.term!r} occurs in the {name}")
                return decision
    term_fired = False
    for term in watchlist.terms:
        for unit in term.units:
            for name, spans in found.get(unit, {}).items():
                if name in watchlist.fields:
                    term_fired = True
                    decision.hits.extend(RawHit(term.term, name, span) for span in spans)
                else:
                    decision.reasons.append(
                        f"term {term.term!r} occurs in the {name}, which this watchlist does not"
                        f" search (fields: {', '.join(watchlist.fields)})"
                    )
    query_held = False
    if watchlist.query is not None:
        walk = _QueryWalk(watchlist, found, folds)
        query_held = walk.holds(watchlist.query)
        if query_held:
            decision.hits.extend(walk.hits)
        else:
            decision.reasons.append(f"query {watchlist.query_text!r} is false")
            decision.reasons.extend(walk.reasons)
    decision.fired = term_fired or query_held
    if not decision.fired and not decision.reasons:
        decision.reasons.append("no term of this watchlist occurs in the item")
    decision.hits = _without_nested(decision.hits)
    return decision


class _QueryWalk:
    def __init__(
        self, watchlist: CompiledWatchlist, found: Found, folds: Mapping[str, WordFold]
    ) -> None:
        self._watchlist = watchlist
        self._found = found
        self._folds = folds
        self.hits: list[RawHit] = []
        self.reasons: list[str] = []

    def _fields(self, atom: Atom) -> tuple[str, ...]:
        if atom.field is None:
            return self._watchlist.fields
        return (atom.field,) if atom.field in self._watchlist.fields else ()

    def _spans(self, atom: Atom) -> dict[str, Sequence[Span]]:
        by_field = self._found.get(self._watchlist.atom_units[atom], {})
        return {name: by_field[name] for name in self._fields(atom) if name in by_field}

    def holds(self, node: Node, negated: bool = False) -> bool:
        if isinstance(node, Atom):
            spans = self._spans(node)
            if spans and not negated:
                label = _label(node)
                for name, found in spans.items():
                    self.hits.extend(RawHit(label, name, span) for span in found)
            if not spans and not negated:
                self.reasons.append(self._absent(node))
            if spans and negated:
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
        left, right = self._spans(node.left), self._spans(node.right)
        closest: int | None = None
        pairs: list[tuple[str, Span, Span]] = []
        for name in set(left) & set(right):
            text = self._folds[name].text
            for a in left[name]:
                for b in right[name]:
                    if a.start < b.end and b.start < a.end:
                        continue  # the same words cannot be both sides
                    first, second = (a, b) if a.start < b.start else (b, a)
                    between = len(text[first.end : second.start].split())
                    closest = between if closest is None else min(closest, between)
                    if between <= node.distance:
                        pairs.append((name, a, b))
        label = f"{_label(node.left)!r} NEAR/{node.distance} {_label(node.right)!r}"
        if pairs and not negated:
            for name, a, b in pairs:
                self.hits.append(RawHit(_label(node.left), name, a))
                self.hits.append(RawHit(_label(node.right), name, b))
        elif not pairs and not negated:
            if closest is not None:
                self.reasons.append(
                    f"{label}: the closest pair has {closest} words between (at most"
                    f" {node.distance})"
                )
            elif left and right:
                self.reasons.append(f"{label}: the two never occur in the same field")
            else:
                missing = node.left if not left else node.right
                self.reasons.append(f"{label}: {self._absent(missing)}")
        return bool(pairs)


def _label(atom: Atom) -> str:
    if atom.phrase:
        return f'"{atom.text}"'
    return f"{atom.text}*" if atom.wildcard else atom.text


def _without_nested(hits: list[RawHit]) -> list[RawHit]:
    """Hits ordered by field then offset; a hit inside a longer one is dropped (`Poutine`
    inside `Vladimir Poutine`), and the same place found twice is kept once."""
    ordered = sorted(hits, key=lambda hit: (FIELDS.index(hit.field), hit.span.start, -hit.span.end))
    kept: list[RawHit] = []
    for hit in ordered:
        if kept and kept[-1].field == hit.field and hit.span.end <= kept[-1].span.end:
            continue
        kept.append(hit)
    return kept
