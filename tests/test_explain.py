"""`monitor explain`: for every watchlist, whether an item fires it, and why not."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.config.schema import WatchlistSpec
from monitor.match import compile_watchlists
from monitor.model import ItemText

CONFIG = """
channels:
  terminal:
    url: console://
watchlists:
  - name: otan
    terms: [{term: OTAN, aliases: [NATO]}]
    exclude: [football]
  - name: kyiv
    query: 'Stoltenberg AND (Ukraine OR Kyiv)'
  - name: proche
    query: 'Stoltenberg NEAR/2 Russie'
  - name: titres
    terms: [Russie]
    fields: [title]
  - name: energie
    query: '(gaz OR gas) NEAR/3 (Russie OR Russia)'
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(CONFIG + f"database: sqlite:///{tmp_path / 'monitor.db'}\n", encoding="utf-8")
    return path


def explain(
    config: Path,
    item: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, dict[str, object]]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(item) + "\n"))
    assert main(["--config", str(config), "explain", "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert record["id"] == item["id"]
    return {entry["watchlist"]: entry for entry in record["watchlists"]}


@pytest.mark.parametrize(
    ("item", "watchlist", "fires", "reason"),
    [
        (
            {"id": 1, "title": "Football : l’OTAN gagne"},
            "otan",
            False,
            "excluded: 'football' occurs in the title",
        ),
        ({"id": 2, "title": "L’Otan se réunit"}, "otan", True, None),
        (
            {"id": 3, "content": "Stoltenberg parle de la Russie"},
            "proche",
            False,
            "the closest pair has 3 words between (at most 2)",
        ),
        ({"id": 4, "content": "Stoltenberg et la Russie"}, "proche", True, None),
        (
            {"id": 5, "content": "Stoltenberg à Bruxelles"},
            "kyiv",
            False,
            "'Kyiv' does not occur",
        ),
        (
            {"id": 6, "content": "La Russie répond"},
            "titres",
            False,
            "term 'Russie' occurs in the content, which this watchlist does not search",
        ),
        ({"id": 7, "content": "rien"}, "otan", False, "no term of this watchlist occurs"),
        (
            {"id": 8, "content": "le gaz que la France achète à la Russie"},
            "energie",
            False,
            "('gaz' OR 'gas') NEAR/3 ('Russie' OR 'Russia'): the closest pair has 6 words"
            " between (at most 3)",
        ),
        (
            {"id": 10, "content": "<p>Le gaz manque.</p><p>La Russie coupe.</p>"},
            "energie",
            False,
            "('gaz' OR 'gas') NEAR/3 ('Russie' OR 'Russia'): the two occur in one field only in"
            " different paragraphs",
        ),
        (
            {"id": 9, "content": "du gaz pour la France"},
            "energie",
            False,
            "('gaz' OR 'gas') NEAR/3 ('Russie' OR 'Russia'): 'Russia' does not occur",
        ),
    ],
)
def test_explain_says_why(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    item: dict[str, object],
    watchlist: str,
    fires: bool,
    reason: str | None,
) -> None:
    entry = explain(config, item, monkeypatch, capsys)[watchlist]
    assert entry["fires"] is fires
    if reason is None:
        assert entry["hits"]
        assert entry["reasons"] == []
    else:
        assert any(reason in line for line in entry["reasons"]), entry["reasons"]


def _explained(
    config: Path,
    item: dict[str, object],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> Any:
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(item) + "\n"))
    assert (
        main(["--config", str(config), command, *(["--json"] if command == "explain" else [])]) == 0
    )
    (line,) = capsys.readouterr().out.splitlines()
    return json.loads(line)


def test_hit_offsets_index_the_field_as_given_or_the_decoded_text_explain_shows(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/design.md §4 rule 13: a field without markup is indexed as given (double spaces,
    no-break spaces); a field with markup as decoded, the text `explain --json` shows."""
    title = "Ministres réunis  à Bruxelles :  l’OTAN\u00a0et\u00a0NATO"
    item = {
        "id": 9,
        "title": title,
        "content": "<p>Selon  <b>l&rsquo;OTAN</b>&nbsp;:</p><p>rien</p>",
    }
    for command in ("match", "explain"):
        record = _explained(config, item, monkeypatch, capsys, command)
        if command == "explain":
            decoded = record["text"]
            assert decoded == {
                "title": title,
                "summary": "",
                "content": "Selon l’OTAN\u00a0:\n\nrien",
            }
            [otan] = [entry for entry in record["watchlists"] if entry["watchlist"] == "otan"]
            hits = otan["hits"]
        else:
            hits = record["hits"]
        assert [(hit["field"], hit["start"], hit["text"]) for hit in hits] == [
            ("title", 35, "OTAN"),
            ("title", 43, "NATO"),
            ("content", 8, "OTAN"),
        ]
        assert title[35:39] == "OTAN"


def test_explain_shows_the_hits_of_near_groups(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/design.md §4 rule 10: each side of NEAR may be an OR group; the hits name the
    alternative that occurred."""
    item = {"id": 10, "content": "Russia cuts gas, and Russie coupe le gaz"}
    entry = explain(config, item, monkeypatch, capsys)["energie"]
    assert entry["fires"] is True
    hits = [(hit["term"], hit["text"]) for hit in entry["hits"]]  # type: ignore[attr-defined]
    assert hits == [("Russia", "Russia"), ("gas", "gas"), ("Russie", "Russie"), ("gaz", "gaz")]


def test_explain_a_stored_item(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from monitor.config import load_config
    from monitor.daemon.runtime import build_runtime
    from monitor.model import ItemText, PreparedItem
    from monitor.store.feeds import sync_feeds
    from monitor.store.items import store_items

    runtime = build_runtime(load_config(config))
    runtime.prepare_database()
    now = datetime.now(UTC)
    with runtime.engine.begin() as connection:
        sync_feeds(connection, [("https://example.org/rss", "Exemple")], now)
        (stored,) = store_items(
            connection,
            1,
            [PreparedItem("k", None, ItemText(title="Le sommet de l’OTAN"), now, "h")],
            now,
        )
    assert main(["--config", str(config), "explain", "--item", str(stored.id)]) == 0
    out = capsys.readouterr().out
    assert "otan: fires" in out
    assert "'Otan'" in out or "'OTAN'" in out
    assert main(["--config", str(config), "explain", "--item", "999"]) == 1
    assert "no stored item with id 999" in capsys.readouterr().err


FUZZY_CONFIG = """
channels:
  terminal:
    url: console://
watchlists:
  - name: edits
    terms: [{term: Dmitri Peskov, fuzzy: 1, aliases: [{alias: Peskov, fuzzy: translit}]}]
  - name: swaps
    terms: [{term: Dmitri Peskov, fuzzy: translit}, Kremlin]
"""
FUZZY_ITEM = {"id": 9, "title": "M. Peskoff", "content": "Dmitriy Peskow, au Kremlin"}


@pytest.fixture
def fuzzy_config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    text = FUZZY_CONFIG + f"database: sqlite:///{tmp_path / 'monitor.db'}\n"
    path.write_text(text, encoding="utf-8")
    return path


def test_explain_shows_the_edits_of_a_fuzzy_hit(
    fuzzy_config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/design.md §4 rule 9: `explain` says what a fuzzy hit changed, edits or swaps; the
    hits keep their keys and gain `edits` (empty for an exact hit)."""
    entries = explain(fuzzy_config, FUZZY_ITEM, monkeypatch, capsys)
    edits = {(hit["field"], hit["text"]): hit["edits"] for hit in entries["edits"]["hits"]}  # type: ignore[attr-defined]
    assert edits == {
        ("title", "Peskoff"): ["Peskoff ~ Peskov: ff/v"],
        ("content", "Dmitriy Peskow"): ["Dmitriy ~ Dmitri: 1 edit", "Peskow ~ Peskov: 1 edit"],
    }
    swaps = {hit["text"]: hit["edits"] for hit in entries["swaps"]["hits"]}  # type: ignore[attr-defined]
    assert swaps == {
        "Dmitriy Peskow": ["Dmitriy ~ Dmitri: iy/i", "Peskow ~ Peskov: w/v"],
        "Kremlin": [],
    }
    for hit in entries["swaps"]["hits"]:  # type: ignore[attr-defined]
        assert {"watchlist", "term", "field", "start", "end", "text"} <= set(hit)

    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(FUZZY_ITEM) + "\n"))
    assert main(["--config", str(fuzzy_config), "explain"]) == 0
    out = capsys.readouterr().out
    assert "'Dmitriy Peskow' (Dmitriy ~ Dmitri: 1 edit; Peskow ~ Peskov: 1 edit)" in out
    assert "'Peskoff' (Peskoff ~ Peskov: ff/v)" in out
    assert "'Kremlin'\n" in out


def test_explain_names_swaps_from_the_inflected_form_and_terms_as_written() -> None:
    """A translit hit on a plural is swaps from the plural (`Jurnaux` is `journaux` with u/ou,
    not an ending taken for swaps), and a term with `&` is shown as written (rule 14)."""
    specs = [
        WatchlistSpec.model_validate(
            {
                "name": "w",
                "terms": [
                    {"term": "Journal", "fuzzy": "translit"},
                    {"term": "Simon & Schuster", "fuzzy": 1},
                ],
            }
        )
    ]
    item = ItemText(content="les Jurnaux de Simon & Schustr", language="fr")
    (explanation,) = compile_watchlists(specs).explain(item)
    assert explanation.fired
    assert dict(zip((hit.text for hit in explanation.hits), explanation.edits, strict=True)) == {
        "Jurnaux": ("Jurnaux ~ Journal: u/ou",),
        "Simon & Schustr": ("Schustr ~ Schuster: 1 edit",),
    }
