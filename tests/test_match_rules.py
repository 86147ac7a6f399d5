"""Acceptance table for docs/design.md §4 (matching rules 1-16), black box through the public API.

The cases live in match_rules.yaml (format described at its top) so that the table reads as data:
a watchlist, an item, and whether the watchlist fires, with which hits. This file only loads the
table strictly (a typo in a case must fail loudly, not turn a case into a silent pass) and runs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.config.schema import WatchlistSpec
from monitor.match import compile_watchlists
from monitor.model import FIELDS, Hit, ItemText
from monitor.text.html import html_to_text

TABLE = Path(__file__).with_name("match_rules.yaml")
MIN_CASES = 180
CASE_KEYS = frozenset({"id", "watchlist", "html", "language", "fires", "hits", *FIELDS})
HIT_KEYS = frozenset({"text", "field", "term", "start"})
WATCHLIST_NAME = "w"


@dataclass(frozen=True)
class ExpectedHit:
    text: str
    field: str = "content"
    term: str | None = None  # checked when given: the canonical term of the hit
    start: int | None = None  # checked when given: the offset into the decoded field text

    def accepts(self, hit: Hit) -> bool:
        return (
            (hit.field, hit.text) == (self.field, self.text)
            and self.term in (None, hit.term)
            and self.start in (None, hit.start)
        )


@dataclass(frozen=True)
class Case:
    id: str
    watchlist: dict[str, Any]
    item: ItemText
    fires: bool
    hits: tuple[ExpectedHit, ...] | None  # None: the hits are not checked


def _expected_hit(raw: Any, case_id: str) -> ExpectedHit:
    if isinstance(raw, str):
        return ExpectedHit(text=raw)
    if not isinstance(raw, Mapping) or not set(raw) <= HIT_KEYS or "text" not in raw:
        raise ValueError(f"{case_id}: a hit is a string or a mapping of {sorted(HIT_KEYS)}")
    if raw.get("field", "content") not in FIELDS:
        raise ValueError(f"{case_id}: unknown hit field {raw['field']!r}")
    return ExpectedHit(**raw)


def _case(raw: Mapping[str, Any], shared: Mapping[str, Any]) -> Case:
    case_id = raw["id"]
    unknown = set(raw) - CASE_KEYS
    if unknown:
        raise ValueError(f"{case_id}: unknown keys {sorted(unknown)}")
    if ("fires" in raw) == ("hits" in raw):
        raise ValueError(f"{case_id}: give exactly one of 'fires' and 'hits'")
    watchlist = raw["watchlist"]
    if isinstance(watchlist, str):
        watchlist = shared[watchlist]
    decode = html_to_text if raw.get("html", False) else str
    item = ItemText(
        **{name: decode(raw.get(name, "")) for name in FIELDS},
        language=raw.get("language"),
    )
    hits = raw.get("hits")
    if hits is not None and not hits:
        raise ValueError(f"{case_id}: a case without hits says 'fires: false'")
    return Case(
        id=case_id,
        watchlist={"name": WATCHLIST_NAME, **watchlist},
        item=item,
        fires=bool(raw["fires"]) if hits is None else True,
        hits=None if hits is None else tuple(_expected_hit(hit, case_id) for hit in hits),
    )


def load_cases() -> list[Case]:
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    return [_case(raw, table["watchlists"]) for raw in table["cases"]]


CASES = load_cases()


def _unmatched(expected: Sequence[ExpectedHit], actual: Sequence[Hit]) -> list[str]:
    """What differs between the expected hits and the actual ones, compared as multisets."""
    remaining = list(actual)
    missing: list[str] = []
    for wanted in expected:
        found = next((hit for hit in remaining if wanted.accepts(hit)), None)
        if found is None:
            missing.append(f"missing {wanted}")
        else:
            remaining.remove(found)
    return missing + [f"unexpected {hit}" for hit in remaining]


def test_the_table_is_large_and_its_ids_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= MIN_CASES
    assert len(set(ids)) == len(ids), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_matching_rule(case: Case) -> None:
    matcher = compile_watchlists([WatchlistSpec.model_validate(case.watchlist)])
    matches = matcher.match(case.item)

    if not case.fires:
        assert matches == (), f"fired with {[hit for found in matches for hit in found.hits]}"
        return
    assert [found.watchlist for found in matches] == [WATCHLIST_NAME]
    hits = matches[0].hits
    for hit in hits:  # rule 13, for every hit of every case
        assert hit.watchlist == WATCHLIST_NAME
        assert hit.field in FIELDS
        assert case.item.field_text(hit.field)[hit.start : hit.end] == hit.text, hit
    if case.hits is not None:
        assert _unmatched(case.hits, hits) == []


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_explain_decides_as_match_does(case: Case) -> None:
    """`explain` walks its own path (every watchlist, with reasons): the same verdict and the
    same hits as `match`, case by case."""
    matcher = compile_watchlists([WatchlistSpec.model_validate(case.watchlist)])
    matches = matcher.match(case.item)
    (explanation,) = matcher.explain(case.item)
    assert explanation.fired == bool(matches)
    if matches:
        assert sorted(explanation.hits, key=repr) == sorted(matches[0].hits, key=repr)


def test_all_watchlists_compiled_together_answer_like_each_alone() -> None:
    """One matcher for the whole table (the compile-once automaton): every case's watchlist must
    fire exactly when the table says, whatever the other watchlists are."""
    specs = [
        WatchlistSpec.model_validate({**case.watchlist, "name": f"{index:03d}-{case.id}"})
        for index, case in enumerate(CASES)
    ]
    matcher = compile_watchlists(specs)
    wrong = [
        case.id
        for spec, case in zip(specs, CASES, strict=True)
        if any(found.watchlist == spec.name for found in matcher.match(case.item)) != case.fires
    ]
    assert wrong == []
