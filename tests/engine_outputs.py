"""Prints, as JSON, what the matching engine answers on a fixed, seeded workload: every watchlist
and item of match_rules.yaml at once, and items made by mixing the table's texts with the
separators, markup and whitespace the engine treats specially. test_compiled_engine.py runs it
with the compiled engine and with its Python source (MONITOR_PURE_PYTHON=1) and compares.

    python tests/engine_outputs.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import yaml

from monitor.config.schema import WatchlistSpec
from monitor.match import compile_watchlists
from monitor.model import FIELDS, ItemText
from monitor.text.html import html_to_text

TABLE = Path(__file__).with_name("match_rules.yaml")
SEED = 20261205
MIXED_ITEMS = 400
SEPARATORS = (" ", "  ", "\n", "\n\n", "\u00a0", ", ", " — ", "<p>", "</p><p>", "<br>", "&amp;")


def _workload() -> tuple[list[WatchlistSpec], list[ItemText]]:
    table = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    specs = [
        WatchlistSpec.model_validate({"name": name, **body})
        for name, body in table["watchlists"].items()
    ]
    texts: list[str] = []
    items: list[ItemText] = []
    for case in table["cases"]:
        if isinstance(case["watchlist"], dict):
            specs.append(WatchlistSpec.model_validate({"name": case["id"], **case["watchlist"]}))
        decode = html_to_text if case.get("html", False) else str
        fields = {name: decode(case.get(name, "")) for name in FIELDS}
        items.append(ItemText(**fields, language=case.get("language")))
        texts += [case[name] for name in FIELDS if case.get(name)]
    chooser = random.Random(SEED)
    for _ in range(MIXED_ITEMS):
        parts = [chooser.choice(texts)]
        for _ in range(chooser.randint(1, 4)):
            parts += [chooser.choice(SEPARATORS), chooser.choice(texts)]
        markup = "".join(parts)
        title = chooser.choice(texts)
        items.append(
            ItemText(
                title=title.upper() if chooser.random() < 0.2 else title,
                summary="",
                content=html_to_text(markup) if chooser.random() < 0.5 else markup,
                language=chooser.choice((None, "fr", "en")),
            )
        )
    return specs, items


def main() -> int:
    specs, items = _workload()
    matcher = compile_watchlists(specs)
    answers: list[Any] = []
    for item in items:
        matches = [
            [found.watchlist, [list(hit) for hit in found.hits]] for found in matcher.match(item)
        ]
        explained = [
            [
                explanation.watchlist,
                explanation.fired,
                list(explanation.reasons),
                [list(e) for e in explanation.edits],
            ]
            for explanation in matcher.explain(item)
            if explanation.fired or explanation.hits
        ]
        answers.append([matches, explained])
    json.dump(answers, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
