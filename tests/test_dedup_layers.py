"""Story folding made visible: which layer joined each item (`monitor dedup`'s `layer`), and
the DEBUG line each fold logs, in `monitor dedup` and in the daemon's path."""

from __future__ import annotations

import io
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.dedup.assign import DocumentLines
from monitor.dedup.exact import content_hash
from monitor.feeds.urls import canonical_url
from monitor.model import PreparedItem
from monitor.pipeline.items_json import item_text_from_json
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.items import store_items
from monitor.store.tables import feeds

NOW = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
SHORT = (
    "Le secrétaire général de l’Otan a déclaré mercredi à Bruxelles que l’Alliance "
    "n’enverra pas de troupes en Ukraine, et qu’une zone d’exclusion aérienne signifierait "
    "une guerre avec la Russie, ce que les alliés veulent éviter à tout prix."
)
FULL = SHORT + (
    " Le sommet extraordinaire de jeudi réunira les trente chefs d’État et de gouvernement, "
    "qui devraient annoncer quatre nouveaux groupements tactiques dans l’est de l’Europe, "
    "a précisé le porte-parole devant les journalistes réunis au siège de l’organisation. "
    "Les ministres de la Défense se retrouveront ensuite pour examiner les demandes de Kiev."
)
WEATHER = (
    "Beau temps demain sur la Bretagne, avec des éclaircies le matin et un vent faible "
    "venu de l’ouest toute la journée, avant des averses en soirée sur les côtes."
)
LINK = "https://wire.test/otan"

# Consecutive items of one feed are one document.
STREAM: list[dict[str, Any]] = [
    {"id": "a", "feed": "wire", "title": "L’Otan dit non", "content": FULL, "url": LINK},
    {"id": "b", "feed": "copy", "title": "Reprise", "content": FULL},
    {"id": "c", "feed": "teaser", "title": "L’Otan", "content": "Lire la suite.", "url": LINK},
    {"id": "d", "feed": "meteo", "title": "Météo", "content": WEATHER},
    {"id": "e", "feed": "meteo", "title": "Météo (bis)", "content": WEATHER},
    {"id": "f", "feed": "edit", "title": "Bruxelles", "content": FULL.replace("mercredi", "hier")},
    {"id": "g", "feed": "brief", "title": "En bref", "content": SHORT},
]
LAYERS = {
    "a": None,
    "b": "same_text",
    "c": "same_link",
    "d": None,
    "e": "same_document",
    "f": "similar_text",
    "g": "summary",
}


def run_dedup_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *options: str
) -> list[dict[str, Any]]:
    lines = "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in STREAM)
    monkeypatch.setattr(sys, "stdin", io.StringIO(lines))
    assert main([*options, "dedup"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.fixture
def no_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)


@pytest.mark.usefixtures("no_config")
def test_each_line_says_which_layer_joined_the_item(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    records = run_dedup_command(monkeypatch, capsys)
    assert {r["id"]: r["layer"] for r in records} == LAYERS
    assert [r["cluster"] for r in records] == ["a", "a", "a", "d", "d", "a", "a"]
    # The keys the design fixes keep their values: an exact copy is 1.0, a first item null.
    by_id = {r["id"]: r for r in records}
    assert [by_id[i]["similarity"] for i in "abcde"] == [None, 1.0, 1.0, None, 1.0]
    assert 0.5 <= by_id["f"]["similarity"] < 1.0
    assert by_id["g"]["similarity"] >= 0.7
    assert list(by_id["a"]) == ["id", "cluster", "similarity", "layer"]


@pytest.mark.usefixtures("no_config")
def test_verbose_logs_each_fold_once(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.dedup")
    records = run_dedup_command(monkeypatch, capsys, "-v")
    similarity = {r["id"]: r["similarity"] for r in records}
    folds = [r.getMessage() for r in caplog.records if r.name == "monitor.dedup"]
    assert folds == [
        "item b folded into story a by the same text",
        "item c folded into story a by the same link",
        "item e folded into story d by the same text in its document",
        f"item f folded into story a by similarity {similarity['f']:.2f}",
        f"item g folded into story a by containment {similarity['g']:.2f}",
    ]


def test_the_daemon_logs_its_folds_with_the_stored_ids(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    upgrade(engine)
    caplog.set_level(logging.DEBUG, logger="monitor.dedup")
    try:
        with engine.begin() as connection:
            sync_feeds(
                connection, [("https://wire.test/rss", None), ("https://b.test/rss", None)], NOW
            )
            feed_ids = [row.id for row in connection.execute(feeds.select().order_by(feeds.c.id))]
        stored = []
        for feed_id, entry in zip(feed_ids, [STREAM[0], STREAM[-1]], strict=True):
            prepared = [_prepared(entry)]
            with engine.begin() as connection:
                stored += store_items(
                    connection,
                    feed_id,
                    prepared,
                    NOW,
                    fingerprint_of=DocumentLines.of(prepared).fingerprint,
                )
    finally:
        engine.dispose()
    original, summary = stored
    assert summary.cluster_id == original.cluster_id
    [line] = [r.getMessage() for r in caplog.records if r.name == "monitor.dedup"]
    assert line == (
        f"item {summary.id} folded into story {original.cluster_id}"
        f" by containment {summary.similarity:.2f}"
    )


def _prepared(entry: dict[str, Any]) -> PreparedItem:
    key = str(entry["id"])
    _, text = item_text_from_json(json.dumps(entry))
    url = canonical_url(entry["url"]) if entry.get("url") else None
    return PreparedItem(key, url, text, NOW, content_hash(text, key))
