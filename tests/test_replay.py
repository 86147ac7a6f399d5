"""`monitor replay`, the backtest (docs/design.md §7): the daemon's decisions over items held in
memory — story folding, matching, the alert rules — with nothing written and nothing sent.

The rules as a table over `Replay` itself, the command over JSON Lines, and the acceptance: over
the items a real run stored (loopback feeds, a real SMTP server), replay finds exactly the
alerts the daemon decided, plus those a candidate watchlist adds."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from monitor.cli import main
from monitor.dedup.decide import DEFAULT_THRESHOLDS
from monitor.match import compile_watchlists
from monitor.model import ItemText, PreparedItem, ReplayItem
from monitor.pipeline import Replay
from monitor.store.tables import alerts, items
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import BOTANIQUE_ITEM, OLD_NEWS, poll, pub_date, write_config

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
WIRE = (
    "Le secrétaire général de l’Alliance atlantique a répété jeudi à Bruxelles que l’OTAN "
    "n’instaurerait pas de zone d’exclusion aérienne au-dessus de l’Ukraine, malgré les appels "
    "répétés de Kiev. Les ministres des affaires étrangères des trente pays membres se sont "
    "réunis pendant deux jours pour coordonner leur aide militaire et humanitaire."
)


def watchlists(*extra: dict[str, Any]) -> Any:
    from monitor.config.schema import WatchlistSpec

    specs = [
        {"name": "otan", "terms": [{"term": "OTAN", "aliases": ["NATO"]}]},
        {"name": "ukraine", "terms": ["Ukraine"], "exclude": ["football"]},
        *extra,
    ]
    return [WatchlistSpec.model_validate(spec) for spec in specs]


def item(
    item_id: int,
    feed: str,
    title: str,
    body: str = "",
    *,
    seen: datetime = T0,
    published: datetime | None = None,
    url: str | None = None,
    backlog: bool = False,
) -> ReplayItem:
    text = ItemText(title, "", body, "fr")
    digest = hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()
    prepared = PreparedItem(str(item_id), url, text, published or seen, digest)
    return ReplayItem(item_id, feed, feed, prepared, seen, backlog)


def replay(
    documents: list[list[ReplayItem]], *, max_age: timedelta = timedelta(days=2), **extra: Any
) -> list[tuple[object, str, object]]:
    """(story, watchlist, item) of each alert, in order."""
    engine = Replay(
        compile_watchlists(watchlists(*extra.get("more", ()))).match,
        max_age=max_age,
        thresholds=DEFAULT_THRESHOLDS,
        window=timedelta(days=7),
    )
    decided = []
    for document in documents:
        for alert in engine.document(document[0].feed, document):
            decided.append((alert.story, alert.watchlist, alert.item.item_id))
    return decided


def test_first_copy_of_a_story_alerts_and_its_copies_fold_into_it() -> None:
    original = item(1, "lemonde", "L’OTAN dit non", WIRE)
    copy = item(2, "farm", "NATO refuses", "Spread the love\n" + WIRE, seen=T0 + timedelta(hours=1))
    again = item(
        3, "other", "Encore l’OTAN", WIRE + "\nLeave A Reply", seen=T0 + timedelta(hours=2)
    )
    assert replay([[original], [copy], [again]]) == [(1, "otan", 1), (1, "ukraine", 1)]


def test_a_copy_that_matches_a_watchlist_its_story_did_not_alerts_for_it_alone() -> None:
    first = item(1, "a", "Réunion à Bruxelles", WIRE.replace("l’OTAN", "l’organisation"))
    assert replay([[first]]) == [(1, "ukraine", 1)]  # the original does not name OTAN
    copy = item(2, "b", "L’OTAN dit non", WIRE.replace("l’OTAN", "l’organisation"))
    assert replay([[first], [copy]]) == [(1, "ukraine", 1), (1, "otan", 2)]


def test_backlog_never_alerts_but_its_story_is_known() -> None:
    backlog = item(1, "a", "L’OTAN dit non", WIRE, backlog=True)
    copy = item(2, "b", "NATO says no", WIRE + "\nPartager", seen=T0 + timedelta(hours=1))
    # The backlog decided no alert: its copy, new, is the story's first alerting copy.
    assert replay([[backlog], [copy]]) == [(1, "otan", 2), (1, "ukraine", 2)]


def test_max_age_is_measured_against_each_items_own_time() -> None:
    fresh = item(1, "a", "L’OTAN", seen=T0, published=T0 - timedelta(days=1))
    stale = item(2, "b", "NATO", seen=T0, published=T0 - timedelta(days=3))
    # Both were seen a month ago: the fresh one was news then.
    assert replay([[fresh, stale]]) == [(1, "otan", 1)]
    assert replay([[fresh, stale]], max_age=timedelta(hours=12)) == []


def test_a_copy_beyond_the_story_window_is_news_again() -> None:
    first = item(1, "a", "L’OTAN dit non", WIRE)
    late = item(2, "b", "NATO", WIRE + "\nPartager", seen=T0 + timedelta(days=8))
    assert replay([[first], [late]]) == [
        (1, "otan", 1),
        (1, "ukraine", 1),
        (2, "otan", 2),
        (2, "ukraine", 2),
    ]


def test_excluded_and_unmatched_items_do_not_alert() -> None:
    excluded = item(1, "a", "Ukraine : le football reprend")
    botanique = item(2, "a", "Le jardin botanique rouvre ses serres")
    assert replay([[excluded, botanique]]) == []


FOOTER = (
    "Notre rédaction vous propose chaque matin une sélection des informations les plus importantes"
    " du jour, rédigée par nos journalistes à Paris, à Bruxelles et dans nos bureaux régionaux,"
    " avec des analyses, des reportages et des entretiens exclusifs pour comprendre le monde."
)


@pytest.mark.parametrize(("sizes", "stories"), [({"a": 4}, 2), ({}, 1)])
def test_a_feeds_repeated_lines_are_counted_over_its_earlier_items_too(
    sizes: dict[str, int], stories: int
) -> None:
    """The daemon saw the whole feed document: a footer its entries all repeat is left out of
    fingerprints even when a poll stores one new item. Replay counts the feed's earlier items
    with the new one (as many as the feed's first poll stored): two short stories that share
    only the footer stay two stories; without the earlier items, they would fold into one."""
    engine = Replay(
        compile_watchlists(watchlists()).match,
        max_age=timedelta(days=2),
        thresholds=DEFAULT_THRESHOLDS,
        window=timedelta(days=7),
        document_sizes=sizes,
    )
    seed = [
        item(n, "a", f"Brève {n}", f"Brève numéro {n} : la météo du jour à Lyon.\n{FOOTER}",
             backlog=True)
        for n in (1, 2, 3)
    ]  # fmt: skip
    engine.document("a", seed)
    vilnius = "Les alliés de l’OTAN se réunissent à Vilnius.\n" + FOOTER
    kiev = "Kiev demande à l’OTAN des avions de combat.\n" + FOOTER
    first = item(4, "a", "L’OTAN à Vilnius", vilnius, seen=T0 + timedelta(hours=1))
    second = item(5, "a", "L’OTAN et Kiev", kiev, seen=T0 + timedelta(hours=2))
    decided = [alert.item.item_id for alert in engine.document("a", [first])]
    decided += [alert.item.item_id for alert in engine.document("a", [second])]
    assert decided == [4, 5][:stories]


# --- the command over JSON Lines --------------------------------------------------------------


def write_candidate(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "candidate.yaml"
    path.write_text(
        f"""
database: sqlite:///{tmp_path / "unused.db"}
timezone: Europe/Paris
channels:
  desk:
    url: console://
watchlists:
  - name: otan
    notify: [desk]
    terms:
      - term: OTAN
        aliases: [NATO]
  - name: jardins
    notify: []
    terms: [botanique]
{extra}""",
        encoding="utf-8",
    )
    return path


def json_lines(*records: dict[str, Any]) -> str:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


STREAM = json_lines(
    {"id": "a", "feed": "lemonde", "title": "L’OTAN dit non", "content": WIRE,
     "published": "2026-11-02T08:00:00Z"},
    {"id": "b", "feed": "farm", "title": "NATO refuses", "content": "<p>Spread the love</p>" + WIRE,
     "published": "2026-11-02T09:00:00+00:00"},
    {"id": "c", "feed": "jardin", "title": "Le jardin botanique rouvre",
     "published": "2026-11-03T10:00:00Z"},
    {"id": "d", "feed": "archives", "title": "L’OTAN en 1999", "published": "1999-03-24T00:00:00Z",
     "seen": "2026-11-03T11:00:00Z"},
)  # fmt: skip


def test_replay_of_json_lines_prints_alerts_then_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(STREAM, encoding="utf-8")
    config = write_candidate(tmp_path)
    assert main(["--config", str(config), "replay", str(source)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["TIME", "STORY", "ITEM", "WATCHLIST", "SOURCE", "HITS", "TITLE"]
    rows = [line.split() for line in out[1 : out.index("")]]
    assert [(row[3], row[4], row[5], row[6]) for row in rows] == [
        ("a", "a", "otan", "lemonde"),  # the copy "b" folds into "a"; "d" is history
        ("c", "c", "jardins", "jardin"),
    ]
    assert out[1].startswith("2026-11-02 09:00 CET")  # the configured timezone
    summary = out[out.index("") + 1 :]
    assert summary[0].split() == ["WATCHLIST", "DAY", "ALERTS"]
    assert summary[1].split() == ["jardins", "2026-11-03", "1"]
    assert summary[2].split() == ["otan", "2026-11-02", "1"]
    assert summary[-1] == (
        "2 alerts from 4 items in 3 stories; nothing was written or sent;"
        " watchlists without a channel store their alerts only: jardins"
    )
    assert not (tmp_path / "unused.db").exists()  # nothing written, not even a database


def test_replay_json_from_stdin_one_watchlist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(STREAM + "not json\n"))
    config = write_candidate(tmp_path)
    code = main(["--config", str(config), "replay", "-", "--json", "--watchlist", "otan"])
    captured = capsys.readouterr()
    assert code == 1  # a bad line: said, skipped, and the exit status tells
    assert captured.err.strip() == "stdin:5: invalid JSON: Expecting value at column 1"
    records = [json.loads(line) for line in captured.out.splitlines()]
    alert, summary = records
    assert alert["kind"] == "alert"
    assert (alert["story"], alert["item"], alert["watchlist"], alert["source"]) == (
        "a", "a", "otan", "lemonde"
    )  # fmt: skip
    assert alert["time"] == "2026-11-02T09:00:00+01:00"
    assert alert["channels"] == ["desk"]
    assert {hit["text"] for hit in alert["hits"]} == {"OTAN"}
    assert summary == {"kind": "summary", "watchlist": "otan", "day": "2026-11-02", "alerts": 1}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["replay", "--watchlist", "nope", "-"], "error: no watchlist 'nope' in"),
        (["replay", "missing.jsonl"], "error: cannot read missing.jsonl: No such file"),
        (["replay", "--since", "2d", "items.jsonl"], "replay --since reads stored items"),
    ],
)
def test_replay_usage_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    arguments: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    config = write_candidate(tmp_path)
    with pytest.raises(SystemExit) if "--since" in arguments else _no_raise() as raised:
        code = main(["--config", str(config), *arguments])
    code = raised.value.code if raised else code
    assert code == 2
    assert message in capsys.readouterr().err


class _no_raise:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return False


# --- the acceptance: replay over what a real run stored -----------------------------------------

WIRE_A = {
    "guid": "wire-a",
    "title": "L’OTAN refuse une zone d’exclusion aérienne",
    "link": "https://presse.example.fr/otan-zone",
    "description": f"<p>{WIRE}</p>",
    "pubDate": pub_date(),
}
WIRE_B = {  # the same wire text, republished by a content farm
    "guid": "wire-b",
    "title": "NATO : pas de zone d’exclusion au-dessus de l’Ukraine",
    "link": "https://ferme.example.com/nato-no-fly?utm_source=rss",
    "description": f"<p>Spread the love</p><p>{WIRE}</p><p>Leave A Reply</p>",
    "pubDate": pub_date(),
}
KIEV = {
    "guid": "kiev-1",
    "title": "Ukraine : Kiev reconstruit ses ponts",
    "link": "https://regions.example.fr/kiev-ponts",
    "description": "<p>Les ingénieurs ukrainiens rebâtissent trois ponts sur le Dniepr.</p>",
    "pubDate": pub_date(),
}
ARCHIVES = {  # stored now, published three days ago: history
    "guid": "archives-1",
    "title": "Archives : l’OTAN au Kosovo en 1999",
    "link": "https://regions.example.fr/archives",
    "description": "<p>L’OTAN intervient au Kosovo.</p>",
    "pubDate": pub_date(timedelta(days=3)),
}
VILNIUS = {
    "guid": "vilnius-1",
    "title": "Sommet de l’OTAN à Vilnius",
    "link": "https://regions.example.fr/vilnius",
    "description": "<p>Les dirigeants de l’Alliance atlantique arrivent à Vilnius.</p>",
    "pubDate": pub_date(),
}
JARDINS = "\n  - name: jardins\n    terms: [botanique]\n"


def stored_run(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, database: str | None = None
) -> Path:
    """Three outlets: a seed poll (a matching item among the backlog), then a wire story, its
    republication elsewhere a poll later, a Ukraine item, history, a botanique item, a summit."""
    urls = [feed_server.serve(f"/{name}.xml", rss(name, [])) for name in ("a", "b", "c")]
    feed_server.serve("/a.xml", rss("a", [OLD_NEWS]))
    config = write_config(tmp_path, urls, smtp, database)
    config.write_text(
        config.read_text(encoding="utf-8") + "  - name: ukraine\n    terms: [Ukraine]\n",
        encoding="utf-8",
    )
    assert poll(config) == 0
    feed_server.serve("/a.xml", rss("a", [WIRE_A, OLD_NEWS]))
    feed_server.serve("/c.xml", rss("c", [KIEV, ARCHIVES, BOTANIQUE_ITEM]))
    assert poll(config, "--all") == 0
    feed_server.serve("/b.xml", rss("b", [WIRE_B]))
    feed_server.serve("/c.xml", rss("c", [VILNIUS, KIEV, ARCHIVES, BOTANIQUE_ITEM]))
    assert poll(config, "--all") == 0
    return config


def database_of(config: Path) -> str:
    import yaml

    return str(yaml.safe_load(config.read_text(encoding="utf-8"))["database"])


def story_alerts_stored(config: Path) -> set[tuple[str, int]]:
    engine = create_engine(database_of(config))
    with engine.connect() as connection:
        rows = connection.execute(
            select(alerts.c.watchlist, alerts.c.item_id).where(alerts.c.cluster_id.is_not(None))
        ).all()
    engine.dispose()
    return {(watchlist, item_id) for watchlist, item_id in rows}


def item_ids(config: Path) -> dict[str, int]:
    engine = create_engine(database_of(config))
    with engine.connect() as connection:
        rows = connection.execute(select(items.c.item_key, items.c.id)).all()
    engine.dispose()
    return {key.rsplit("/", 1)[-1]: item_id for key, item_id in rows}  # by guid


def replayed(config: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert main(["replay", "--config", str(config), "--since", "1d", "--json", *flags]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.mark.slow  # three polls with deliveries, then three replays: seconds under load
@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_replay_over_stored_items_finds_the_alerts_the_daemon_sent_and_a_candidates(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    backend: str,
) -> None:
    database = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    config = stored_run(tmp_path, feed_server, smtp, database)
    sent = story_alerts_stored(config)
    ids = item_ids(config)
    wire_a, kiev, vilnius = ids["wire-a"], ids["kiev-1"], ids["vilnius-1"]
    # What the daemon decided: the wire story once (its copy folded), never the seed's backlog,
    # the history or the botanique item.
    assert sent == {("otan", wire_a), ("ukraine", wire_a), ("ukraine", kiev), ("otan", vilnius)}
    assert len(smtp.messages) == 3  # the wire story's two watchlists in one message

    records = replayed(config, capsys)
    found = {(r["watchlist"], r["item"]) for r in records if r["kind"] == "alert"}
    assert found == sent
    stories = {r["item"]: r["story"] for r in records if r["kind"] == "alert"}
    assert stories == {wire_a: wire_a, kiev: kiev, vilnius: vilnius}
    assert len(smtp.messages) == 3  # nothing sent

    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(config.read_text(encoding="utf-8") + JARDINS, encoding="utf-8")
    botanique = ids[BOTANIQUE_ITEM["guid"]]
    records = replayed(candidate, capsys)
    found = {(r["watchlist"], r["item"]) for r in records if r["kind"] == "alert"}
    assert found == sent | {("jardins", botanique)}
    assert replayed(candidate, capsys, "--watchlist", "jardins")[0]["item"] == botanique
    assert story_alerts_stored(config) == sent  # nothing written


@pytest.mark.slow  # a run, then a second interpreter started
def test_replay_folding_in_a_second_process_decides_the_same(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    import io

    from monitor.config import load_config
    from monitor.daemon.replay import replay_stored

    config = stored_run(tmp_path, feed_server, smtp)
    loaded = load_config(config).config
    engine = create_engine(database_of(config))
    printed = []
    for parallel in (False, True):
        out = io.StringIO()
        with engine.connect() as connection:
            replay_stored(connection, loaded, out, since=None, as_json=True, parallel=parallel)
        printed.append(out.getvalue())
    engine.dispose()
    assert printed[0] == printed[1]
    assert printed[0].count('"kind": "alert"') == 4


def test_replay_of_a_file_that_is_not_utf8_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "items.jsonl"
    source.write_bytes(b'{"id": 1, "title": "L\xe2\x80\x99OTAN"}\n\xff\xfe\n')
    assert main(["--config", str(write_candidate(tmp_path)), "replay", str(source)]) == 1
    assert capsys.readouterr().err == "error: the input is not UTF-8 text\n"


# --- review fixes: document lines across documents, bad input, the database only read ------------


def captured_repeated(stories: Any, feed: str, items: list[ReplayItem]) -> frozenset[str]:
    """The repeated lines `ReplayStories` gives the daemon's assigner for a document."""
    seen: list[frozenset[str]] = []
    add_document = stories._stream.add_document

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs["lines"].repeated)
        return add_document(*args, **kwargs)

    stories._stream.add_document = spy
    stories.document(feed, items)
    stories._stream.add_document = add_document
    return seen[0]


FOOTER_A = "Retrouvez toutes nos vidéos et nos podcasts sur notre site et nos applications mobiles."
FOOTER_B = "Cet article vous a plu ? Partagez-le avec vos proches et suivez-nous sur les réseaux."


def footed(number: int, footer: str, **extra: Any) -> ReplayItem:
    return item(
        number, "f", f"Titre {number}", f"Texte numéro {number} du jour.\n{footer}", **extra
    )


def test_a_document_larger_than_the_first_poll_still_counts_for_the_next() -> None:
    """A feed whose first poll stored 3 entries: after a poll of 3 new items with a new
    footer, the next single item's document holds the last two of them, as the daemon's did."""
    from monitor.dedup.assign import DocumentLines, item_lines
    from monitor.pipeline import ReplayStories

    stories = ReplayStories(DEFAULT_THRESHOLDS, timedelta(days=7), {"f": 3})
    stories.document("f", [footed(n, FOOTER_A, backlog=True) for n in (1, 2, 3)])
    stories.document("f", [footed(n, FOOTER_B) for n in (4, 5, 6)])
    last = footed(7, FOOTER_B)
    daemon = DocumentLines.of([footed(5, FOOTER_B).item, footed(6, FOOTER_B).item, last.item])
    assert captured_repeated(stories, "f", [last]) == daemon.repeated
    assert daemon.repeated == {item_lines(last.item)[-1]}


def test_replay_since_starts_with_each_feeds_last_items_before_it() -> None:
    from monitor.dedup.assign import item_lines
    from monitor.pipeline import ReplayStories

    earlier = {"f": [footed(n, FOOTER_A) for n in (1, 2)]}
    stories = ReplayStories(DEFAULT_THRESHOLDS, timedelta(days=7), {"f": 3}, earlier)
    first = footed(3, FOOTER_A)
    assert captured_repeated(stories, "f", [first]) == {item_lines(first.item)[-1]}
    alone = ReplayStories(DEFAULT_THRESHOLDS, timedelta(days=7), {"f": 3})
    assert captured_repeated(alone, "f", [first]) == frozenset()


def test_feed_text_in_ids_cannot_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "items.jsonl"
    hostile = "x\u001b]0;pwned\u0007\nFAKE  row"
    source.write_text(json_lines({"id": hostile, "title": "L’OTAN dit non"}), encoding="utf-8")
    assert main(["--config", str(write_candidate(tmp_path)), "replay", str(source)]) == 0
    out = capsys.readouterr().out
    assert "\u001b" not in out and "\u0007" not in out
    assert not any(line.startswith("FAKE") for line in out.splitlines())


def test_times_outside_the_calendar_are_read_as_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(
        json_lines(
            {"id": "go", "title": "L’OTAN", "published": "0001-01-01T00:00:00Z"},
            {"id": "far", "title": "NATO", "seen": "9999-12-31T23:00:00Z"},
        ),
        encoding="utf-8",
    )
    config = write_candidate(tmp_path)
    assert main(["--config", str(config), "replay", "--json", str(source)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    alerted = [(r["item"], r["time"]) for r in records if r["kind"] == "alert"]
    assert alerted == [("go", None), ("far", None)]  # undated, as an item without a date
    assert main(["--config", str(config), "replay", "--since", "1000000d"]) == 1  # no database
    assert "error: no database at" in capsys.readouterr().err


def test_replay_never_creates_nor_migrates_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_candidate(tmp_path)  # its database does not exist
    assert main(["--config", str(config), "replay"]) == 1
    assert capsys.readouterr().err.startswith(f"error: no database at {tmp_path / 'unused.db'}")
    assert not (tmp_path / "unused.db").exists()
    import sqlite3

    sqlite3.connect(tmp_path / "unused.db").close()  # a database without our tables
    assert main(["--config", str(config), "replay"]) == 1
    error = capsys.readouterr().err
    assert "is at schema none, not " in error and "run `monitor db upgrade`" in error
    with sqlite3.connect(tmp_path / "unused.db") as connection:
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_a_replay_reading_holds_no_lock_a_daemon_would_wait_for(tmp_path: Path) -> None:
    from monitor.store import open_engine, upgrade

    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    writer = open_engine(url)
    upgrade(writer)
    with writer.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO feeds (url, active, next_check_at, status, error_count, items_seen,"
            " created_at) VALUES ('https://a.example/rss', 1, '2026-12-01 00:00:00.000000', 'new',"
            " 0, 0, '2026-12-01 00:00:00.000000')"
        )
    reader = open_engine(url, read_only=True)
    with reader.connect() as reading:
        rows = reading.exec_driver_sql("SELECT id FROM feeds")
        assert rows.fetchone() is not None  # a read in progress, its transaction open
        with writer.begin() as connection:  # would wait 30 s for a write lock held by the reader
            connection.exec_driver_sql("UPDATE feeds SET status = 'ok'")
        with pytest.raises(Exception, match="readonly"):
            reading.exec_driver_sql("UPDATE feeds SET status = 'new'")
    reader.dispose()
    writer.dispose()


@pytest.mark.slow  # a second interpreter started
def test_folding_in_a_second_process_starts_from_the_same_earlier_items() -> None:
    from monitor.daemon.replay_fold import folded_documents
    from monitor.pipeline import ReplayStories

    earlier = {"f": [footed(n, FOOTER_A) for n in (1, 2)]}
    documents = [("f", [footed(3, FOOTER_A)]), ("g", [item(4, "g", "L’OTAN dit non", WIRE)])]
    documents += [
        ("f", [item(5, "f", "NATO", WIRE + "\n" + FOOTER_A, seen=T0 + timedelta(hours=1))])
    ]
    here = ReplayStories(DEFAULT_THRESHOLDS, timedelta(days=7), {"f": 3}, earlier)
    expected = [here.document(feed, items) for feed, items in documents]
    there = folded_documents(documents, DEFAULT_THRESHOLDS, timedelta(days=7), {"f": 3}, earlier)
    assert [stories for _, _, stories in there] == expected
    assert expected == [[(0, 3)], [(1, 4)], [(1, 4)]]  # the copy in f joins g's story
