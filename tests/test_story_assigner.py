"""One story assigner for the daemon and `monitor dedup`: one stream of items, fed through
`monitor dedup` and through the daemon's path (`store_items` on a real database, one feed
document after another), folds into the same stories; templated items (one sentence frame,
other towns) stay apart, and the work per item is bounded whatever the feed."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from monitor.dedup.assign import DocumentLines
from monitor.dedup.decide import story_similarity
from monitor.dedup.exact import content_hash
from monitor.dedup.fingerprint import fingerprint, names_differ
from monitor.dedup.index import MAX_CANDIDATES, RECENT_PER_KEY, IndexEntry
from monitor.dedup.memory import MemoryStoryIndex
from monitor.feeds.urls import canonical_url
from monitor.model import ItemText, PreparedItem
from monitor.offline import run_dedup
from monitor.pipeline.items_json import item_text_from_json
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.items import store_items
from monitor.store.stories import SqlStoryIndex
from monitor.store.tables import feeds

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
EVAL_ITEMS = Path(__file__).parent / "dedup_eval" / "items.jsonl"

BUDGET = (
    "Le conseil municipal de {town} a adopté jeudi son budget primitif pour 2027. Les dépenses"
    " de fonctionnement atteignent {a} millions d'euros, en hausse de {b} % sur un an, et les"
    " investissements {c} millions d'euros. Le maire de {town} a défendu une hausse de la taxe"
    " foncière de 3 %, que l'opposition a jugée excessive."
)
STORY = (
    "La préfecture de la Gironde a ordonné mardi l'évacuation de trois campings du littoral"
    " menacés par l'incendie qui progresse depuis dimanche dans la forêt de la Teste-de-Buch."
    " Plus de 6 000 personnes ont été mises à l'abri dans des gymnases de la région, selon les"
    " pompiers, qui engagent 1 200 hommes et huit avions bombardiers d'eau contre le feu."
)
FOOTER = "Retrouvez toute l'actualité de votre région sur notre application gratuite"


def _item(item_id: str, feed: str, content: str, url: str | None = None) -> dict[str, Any]:
    return {"id": item_id, "feed": feed, "url": url, "title": content[:60], "content": content}


def _budget(town: str, a: object = 120, b: object = 4, c: object = 35) -> str:
    return BUDGET.format(town=town, a=a, b=b, c=c)


def _masked(text: str) -> str:
    """What a content farm does to numbers."""
    return re.sub(r"\d+", "XNUMX", text)


# Consecutive items of one feed are one document, for `monitor dedup` and for the daemon.
STREAM = [
    # A council-budget feed: one frame, a town per item; its footer is on every item.
    _item("a1", "budgets", f"{_budget('Lyon')}\n{FOOTER}", "https://budgets.test/lyon"),
    _item("a2", "budgets", f"{_budget('Nantes', 80, 2, 11)}\n{FOOTER}"),
    _item("a3", "budgets", f"{_budget('Rennes', 95, 6, 20)}\n{FOOTER}"),
    _item("a4", "budgets", f"{STORY}\n{FOOTER}", "https://budgets.test/feux"),
    # Another feed: copies, and more towns.
    _item("b1", "copies", _masked(_budget("Lyon"))),  # numbers masked: still Lyon's
    _item("b2", "copies", STORY, "https://copies.test/feux"),  # the story without the footer
    _item("b3", "copies", "Incendie en Gironde", "https://budgets.test/feux"),  # its link
    _item("b4", "copies", _budget("Marseille", 400, 1, 90)),  # another town
    _item("b5", "copies", _budget("Lyon", 121, 5, 36)),  # other numbers: still Lyon's
    # Back to the first feed: a link it gave before says nothing (home-page links).
    _item("a5", "budgets", _budget("Brest", 60, 3, 9), "https://budgets.test/lyon"),
    _item("a6", "budgets", _budget("Brest", 60, 3, 9) + " Fin."),  # a copy in the document
    _item("a7", "budgets", "Lire la suite"),  # too short to fold
]
EXPECTED = ["a1", "a2", "a3", "a4", "a1", "a4", "a4", "b4", "a1", "a5", "a5", "a7"]


def _documents(stream: Sequence[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    documents: list[tuple[str, list[dict[str, Any]]]] = []
    for entry in stream:
        if documents and documents[-1][0] == entry["feed"]:
            documents[-1][1].append(entry)
        else:
            documents.append((entry["feed"], [entry]))
    return documents


def _prepared(entry: dict[str, Any]) -> PreparedItem:
    """What the daemon would have prepared of the entry."""
    key = str(entry["id"])
    _, text = item_text_from_json(json.dumps(entry))
    url = canonical_url(entry["url"]) if entry.get("url") else None
    return PreparedItem(key, url, text, NOW, content_hash(text, key))


def through_the_daemon(engine: Engine, stream: Sequence[dict[str, Any]]) -> list[tuple[Any, Any]]:
    """Each item's story (its first item's id) and similarity, stored document by document."""
    documents = _documents(stream)
    with engine.begin() as connection:
        sync_feeds(connection, [(feed, None) for feed in {feed for feed, _ in documents}], NOW)
        feed_ids = {row.url: row.id for row in connection.execute(select(feeds.c.url, feeds.c.id))}
    first_of: dict[int, Any] = {}
    found = []
    for feed, entries in documents:
        prepared = [_prepared(entry) for entry in entries]
        document = DocumentLines.of(prepared)
        with engine.begin() as connection:
            stored = store_items(
                connection,
                feed_ids[feed],
                prepared,
                NOW,
                fingerprint_of=document.fingerprint,
            )
        for entry, done in zip(entries, stored, strict=True):
            first_of.setdefault(done.cluster_id, entry["id"])
            found.append((first_of[done.cluster_id], done.similarity))
    return found


def through_monitor_dedup(stream: Sequence[dict[str, Any]]) -> list[tuple[Any, Any]]:
    source = io.StringIO("".join(json.dumps(entry) + "\n" for entry in stream))
    out, errors = io.StringIO(), io.StringIO()
    assert run_dedup(source, out, errors) == 0, errors.getvalue()
    return [(r["cluster"], r["similarity"]) for r in map(json.loads, out.getvalue().splitlines())]


def test_monitor_dedup_and_the_daemon_fold_one_stream_into_the_same_stories(
    engine: Engine,
) -> None:
    daemon = through_the_daemon(engine, STREAM)
    offline = through_monitor_dedup(STREAM)
    assert offline == daemon
    assert [story for story, _ in offline] == EXPECTED
    similarities = {entry["id"]: s for entry, (_, s) in zip(STREAM, offline, strict=True)}
    assert similarities["b3"] == 1.0  # by its link, in another feed
    # By its text, not a link: the footer is a line of its own now that plain text keeps its line
    # breaks (docs/design.md §4 rule 13), and a line its feed repeats is not story.
    assert similarities["b2"] == 1.0


@pytest.mark.slow
def test_the_evaluation_set_folds_the_same_through_the_cli_and_the_daemon(
    tmp_path: Path,
) -> None:
    """The real command (`python -m monitor dedup`) against `store_items` on a SQLite file,
    on the labelled evaluation set followed by the stream above."""
    stream = [json.loads(line) for line in EVAL_ITEMS.read_text().splitlines() if line.strip()]
    stream += STREAM
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "channels:\n  terminal:\n    url: console://\n"
        "watchlists:\n  - name: budget\n    terms: [budget]\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "dedup"],
        input="".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in stream),
        capture_output=True,
        text=True,
        check=True,
    )
    offline = [(r["cluster"], r["similarity"]) for r in map(json.loads, done.stdout.splitlines())]
    engine = open_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    upgrade(engine)
    try:
        daemon = through_the_daemon(engine, stream)
    finally:
        engine.dispose()
    assert offline == daemon
    assert len({story for story, _ in offline}) < len(stream)  # the copies did fold


TOWNS = ["Lyon", "Nantes", "Rennes", "Lille", "Dijon", "Nancy", "Metz", "Tours", "Caen", "Pau"]


def test_towns_stay_apart_and_numbers_alone_do_not_part_a_story() -> None:
    lyon = fingerprint(ItemText("", "", _budget("Lyon")))
    assert story_similarity(fingerprint(ItemText("", "", _budget("Nantes"))), lyon) is None
    for copy in (_masked(_budget("Lyon")), _budget("Lyon", 9, 9, 9), "Budget.\n" + _budget("Lyon")):
        assert story_similarity(fingerprint(ItemText("", "", copy)), lyon) is not None
    # A summary names fewer names: it differs only where both name someone.
    assert not names_differ(fingerprint(ItemText("", "", STORY.split(". ")[0])), lyon)
    # A name of several words takes one place; one that merely runs on is the same name.
    saint_etienne = fingerprint(ItemText("", "", _budget("Saint-Étienne")))
    assert names_differ(fingerprint(ItemText("", "", _budget("Saint-Nazaire"))), saint_etienne)
    assert names_differ(fingerprint(ItemText("", "", _budget("Boulogne-sur-Mer"))), lyon)
    run_on = _budget("Lyon").replace("Le maire de Lyon", "Le maire de Lyon Partager")
    assert not names_differ(fingerprint(ItemText("", "", run_on)), lyon)


def test_a_budget_watchlist_sees_every_town(engine: Engine) -> None:
    """Every town's budget item is a story of its own, however many came before."""
    stream = [_item(f"t{n}", f"feed {n % 3}", _budget(town, n, n, n)) for n, town in
              enumerate(TOWNS)]  # fmt: skip
    stream += [_item("copy", "copies", _masked(_budget("Dijon")))]
    expected = [f"t{n}" for n in range(len(TOWNS))] + ["t4"]
    assert [story for story, _ in through_monitor_dedup(stream)] == expected
    assert [story for story, _ in through_the_daemon(engine, stream)] == expected


def _templated(count: int) -> list[PreparedItem]:
    """Items of one frame and one town, other numbers: they share every key (numbers are
    masked), and are one story."""
    made = []
    for number in range(count):
        text = ItemText("", "", _budget("Lyon", number, number, number))
        made.append(PreparedItem(f"k{number}", None, text, NOW, content_hash(text, f"k{number}")))
    return made


def test_both_indexes_read_only_the_most_recent_items_of_a_shared_key(engine: Engine) -> None:
    """Bounded work per item: of 150 items sharing every key, a new one is compared with the
    RECENT_PER_KEY most recent only (at most MAX_CANDIDATES), the same ones in memory and in
    the database."""
    items = _templated(151)
    fingerprints = [fingerprint(item.text) for item in items]
    memory = MemoryStoryIndex()
    memory.add("feed", [IndexEntry(n + 1, 1, i, f) for n, (i, f) in
                        enumerate(zip(items[:150], fingerprints, strict=False))])  # fmt: skip
    with engine.begin() as connection:
        sync_feeds(connection, [("feed", None)], NOW)
        feed_id = connection.execute(select(feeds.c.id)).scalar_one()
        stored = store_items(
            connection,
            feed_id,
            items[:150],
            NOW,
            fingerprint_of=lambda item: fingerprint(item.text),
        )
        assert len({done.cluster_id for done in stored}) == 1  # numbers alone: one story
        index = SqlStoryIndex(connection, now=NOW, since=NOW)
        (in_database,) = index.candidates([fingerprints[150]])
    (in_memory,) = memory.candidates([fingerprints[150]])
    position = {done.id: n for n, done in enumerate(stored)}
    compared = min(RECENT_PER_KEY, MAX_CANDIDATES)
    assert [c.item_id - 1 for c in in_memory] == list(range(149, 149 - compared, -1))
    assert [position[c.item_id] for c in in_database] == [c.item_id - 1 for c in in_memory]


def test_monitor_dedup_without_feeds_answers_document_by_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Items without a feed are one run of one feed: cut at the daemon's most entries per
    # document, so the answers come as the input goes, in bounded memory.
    monkeypatch.setattr("monitor.feeds.parse.MAX_ENTRIES", 3)
    out = io.StringIO()
    seen_before_line: dict[int, int] = {}

    def lines() -> Iterator[str]:
        for number in range(1, 8):
            seen_before_line[number] = out.getvalue().count("\n")
            yield json.dumps({"id": number, "title": f"Brève numéro {number}"}) + "\n"

    assert run_dedup(lines(), out, io.StringIO()) == 0  # type: ignore[arg-type]
    assert seen_before_line == {1: 0, 2: 0, 3: 0, 4: 3, 5: 3, 6: 3, 7: 6}
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == list(range(1, 8))
