"""`monitor stories`, `items`, `alerts` and `resend` (docs/design.md §7) on a database filled by
a real run: two loopback feeds, a real SMTP server, `poll --once` as the daemon's user runs it,
two watchlists, a story carried by two outlets, and a send the server refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, update

from monitor.cli import main
from monitor.store import ListingFilter, find_feeds, list_alerts, list_items, list_stories
from monitor.store.tables import clusters, items
from tests.feed_server import FeedServer, rss, running_feed_server
from tests.smtp_server import SmtpServer, running_smtp_server
from tests.test_end_to_end import BOTANIQUE_ITEM, OLD_NEWS, OTAN_ITEM, poll, pub_date, write_config

TWO_WATCHLISTS = """
  - name: ukraine
    terms: [Ukraine]
"""
COPY_ITEM = dict(OTAN_ITEM, guid="copie-9", title="Pas de zone d’exclusion, dit l’OTAN")
SUMMIT_ITEM = {
    "guid": "sommet-1",
    "title": "L’OTAN\u202e se réunit à\u2066 Vilnius",  # bidi controls: feed text is hostile
    "link": "https://copie.example.fr/vilnius",
    "description": "Le sommet de l’OTAN s’ouvre à Vilnius.",
    "pubDate": pub_date(),
}


@dataclass(frozen=True)
class Filled:
    config: Path
    first_url: str
    copy_url: str


def fill(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, database: str | None = None
) -> Filled:
    """Seed (OLD_NEWS, stored silently, then made three days old); a story that both
    watchlists hit, sent in one mail; its copy in the second outlet; then a story whose send
    the SMTP server refuses (a retry is pending, its error recorded)."""
    first_url = feed_server.serve("/rss.xml", rss("Presse Exemple", [OLD_NEWS]))
    copy_url = feed_server.serve("/copie.xml", rss("Copie", []))
    config = write_config(tmp_path, [first_url, copy_url], smtp, database, timezone="Europe/Paris")
    config.write_text(config.read_text(encoding="utf-8") + TWO_WATCHLISTS, encoding="utf-8")
    assert poll(config) == 0
    # The seed poll, three days ago: what --since leaves out.
    engine = create_engine(database or f"sqlite:///{tmp_path / 'monitor.db'}")
    with engine.begin() as connection:
        three_days_ago = datetime.now(UTC) - timedelta(days=3)
        connection.execute(update(items).values(first_seen_at=three_days_ago))
        connection.execute(update(clusters).values(created_at=three_days_ago))
    engine.dispose()

    feed_server.serve("/rss.xml", rss("Presse Exemple", [BOTANIQUE_ITEM, OTAN_ITEM, OLD_NEWS]))
    assert poll(config, "--all") == 0
    feed_server.serve("/copie.xml", rss("Copie", [COPY_ITEM]))
    assert poll(config, "--all") == 0
    assert len(smtp.messages) == 1

    smtp.refuse_at, smtp.refusal = "DATA", "451 4.3.0 Try again later"
    feed_server.serve("/copie.xml", rss("Copie", [SUMMIT_ITEM, COPY_ITEM]))
    assert poll(config, "--all") == 0
    assert len(smtp.messages) == 1
    return Filled(config, first_url, copy_url)


def run(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["--config", str(config), *args])
    return code, capsys.readouterr().out.splitlines()


def failing(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """The exit code and what the command said on stderr."""
    capsys.readouterr()
    code = main(["--config", str(config), *args])
    return code, capsys.readouterr().err


def rows(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    code, lines = run(config, capsys, *args, "--json")
    assert code == 0
    return [json.loads(line) for line in lines]


@pytest.fixture
def filled(tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer) -> Filled:
    """A database of its own, for a test that changes it (resend)."""
    return fill(tmp_path, feed_server, smtp)


@pytest.fixture(scope="module")
def filled_once(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    """One filled database shared by the tests that only read it: the real run that fills it
    (four polls, a refused send) is the most of each test's time. Its own servers and state
    home, since the function-scoped fixtures are not there yet."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        running_feed_server() as feed_server,
        running_smtp_server() as smtp,
    ):
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state-home")))
        monkeypatch.delenv("STATE_DIRECTORY", raising=False)
        yield fill(tmp_path_factory.mktemp("listing"), feed_server, smtp)


def test_stories_list_first_title_outlets_and_alerting_watchlists(
    filled_once: Filled, capsys: pytest.CaptureFixture[str]
) -> None:
    config = filled_once.config
    stories = rows(config, capsys, "stories")
    by_title = {story["title"]: story for story in stories}
    assert len(stories) == 4
    otan = by_title[OTAN_ITEM["title"]]  # its first item's title, not the copy's
    assert (otan["outlets"], otan["watchlists"]) == (2, ["otan", "ukraine"])
    assert by_title[BOTANIQUE_ITEM["title"]]["watchlists"] == []
    summit = by_title["L’OTAN se réunit à Vilnius"]  # the bidi controls dropped
    assert (summit["outlets"], summit["watchlists"]) == (1, ["otan"])
    assert stories[-1]["title"] == OLD_NEWS["title"]  # newest first: the seed is last
    assert otan["first_seen"].endswith("+01:00")  # Europe/Paris in December

    assert [s["story"] for s in rows(config, capsys, "stories", "--watchlist", "ukraine")] == [
        otan["story"]
    ]
    copies = rows(config, capsys, "stories", "--feed", "Outlet 1")
    assert {s["story"] for s in copies} == {otan["story"], summit["story"]}
    by_url = rows(config, capsys, "stories", "--feed", filled_once.copy_url)
    assert by_url == copies
    assert OLD_NEWS["title"] not in {
        s["title"] for s in rows(config, capsys, "stories", "--since", "2d")
    }
    assert rows(config, capsys, "stories", "--limit", "1") == stories[:1]

    code, table = run(config, capsys, "stories")
    assert code == 0
    assert table[0].split() == ["STORY", "FIRST", "SEEN", "OUTLETS", "WATCHLISTS", "TITLE"]
    [line] = [line for line in table if OTAN_ITEM["title"] in line]
    assert line.split()[:6] == [str(otan["story"]), *line.split()[1:3], "CET", "2", "otan,ukraine"]
    assert all("\u202e" not in line and "\u2066" not in line for line in table)


def test_items_list_the_ids_explain_takes(
    filled_once: Filled, capsys: pytest.CaptureFixture[str]
) -> None:
    config = filled_once.config
    found = rows(config, capsys, "items")
    assert [item["title"] for item in found[-1:]] == [OLD_NEWS["title"]]
    by_title = {item["title"]: item for item in found}
    original, copy = by_title[OTAN_ITEM["title"]], by_title[COPY_ITEM["title"]]
    assert original["story"] == copy["story"]
    assert (original["feed"], copy["feed"]) == ("Outlet 0", "Outlet 1")
    assert original["published"] is not None and original["published"].endswith("+01:00")

    assert {i["title"] for i in rows(config, capsys, "items", "--feed", "Outlet 1")} == {
        COPY_ITEM["title"],
        "L’OTAN se réunit à Vilnius",
    }
    assert {i["item"] for i in rows(config, capsys, "items", "--watchlist", "ukraine")} == {
        original["item"],
        copy["item"],
    }
    assert len(rows(config, capsys, "items", "--since", "1d")) == len(found) - 1
    assert rows(config, capsys, "items", "--limit", "2") == found[:2]

    code, table = run(config, capsys, "items")
    assert code == 0
    assert table[0].split() == ["ITEM", "PUBLISHED", "STORY", "FEED", "TITLE"]
    assert any(line.startswith(str(copy["item"])) and "Outlet 1" in line for line in table)

    code, explained = run(config, capsys, "explain", "--item", str(original["item"]))
    assert code == 0 and any("otan" in line for line in explained)


def test_alerts_show_each_channel_delivery(
    filled_once: Filled, capsys: pytest.CaptureFixture[str]
) -> None:
    config = filled_once.config
    listed = rows(config, capsys, "alerts")
    assert [(a["alert"], a["watchlist"]) for a in listed] == [
        (3, "otan"),
        (2, "ukraine"),
        (1, "otan"),
    ]
    refused, ukraine, otan = listed
    assert otan["story"] == ukraine["story"] != refused["story"]
    assert otan["title"] == OTAN_ITEM["title"]
    [sent] = otan["deliveries"]
    assert (sent["channel"], sent["status"], sent["attempts"], sent["next_attempt"]) == (
        "redaction",
        "sent",
        1,
        None,
    )
    [waiting] = refused["deliveries"]
    assert (waiting["status"], waiting["attempts"]) == ("pending", 1)
    assert waiting["next_attempt"] is not None
    assert "451" in waiting["last_error"]

    assert [a["alert"] for a in rows(config, capsys, "alerts", "--status", "pending")] == [3]
    assert [a["alert"] for a in rows(config, capsys, "alerts", "--status", "sent")] == [2, 1]
    assert rows(config, capsys, "alerts", "--status", "failed") == []
    assert [a["alert"] for a in rows(config, capsys, "alerts", "--watchlist", "ukraine")] == [2]
    assert [a["alert"] for a in rows(config, capsys, "alerts", "--feed", "Outlet 1")] == [3]
    assert [a["alert"] for a in rows(config, capsys, "alerts", "--since", "1h")] == [3, 2, 1]
    assert [a["alert"] for a in rows(config, capsys, "alerts", "--limit", "1")] == [3]

    code, table = run(config, capsys, "alerts")
    assert code == 0
    assert table[0].split() == [
        "ALERT", "DECIDED", "WATCHLIST", "STORY", "CHANNEL", "STATUS", "TRIES", "NEXT", "TITLE"
    ]  # fmt: skip
    assert table[1].split()[0] == "3" and "pending" in table[1]
    assert table[2].strip().startswith("error:") and "451" in table[2]
    code, table = run(config, capsys, "alerts", "--status", "failed")
    assert (code, table) == (0, ["no alerts"])


def test_filters_refuse_what_they_cannot_read(
    filled_once: Filled, capsys: pytest.CaptureFixture[str]
) -> None:
    config = filled_once.config
    code, error = failing(config, capsys, "stories", "--feed", "Nowhere")
    assert code == 2 and "no feed named or at 'Nowhere'" in error
    for bad in (["items", "--since", "2"], ["alerts", "--limit", "0"], ["alerts", "--status", "x"]):
        with pytest.raises(SystemExit) as exited:
            main(["--config", str(config), *bad])
        assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "alerts", "--message", "1", "--status", "sent"])
    assert exited.value.code == 2


def test_resend_delivers_a_stored_alert_again(
    filled: Filled, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = filled.config
    code, error = failing(config, capsys, "resend", "99")
    assert code == 2 and "no stored alert with id 99" in error
    code, error = failing(config, capsys, "resend", "1", "--channel", "pager")
    assert code == 2 and "has no delivery to 'pager'" in error

    # The server still refuses: the classified error, exit 1.
    code, lines = run(config, capsys, "resend", "3")
    assert code == 1
    assert lines == [lines[0]] and lines[0].startswith("alert 3 to redaction: not sent, retrying")
    assert "451" in lines[0]

    smtp.refuse_at = None
    code, lines = run(config, capsys, "resend", "3", "--channel", "redaction")
    assert (code, lines) == (0, ["alert 3 to redaction: sent"])
    assert len(smtp.messages) == 2 and "Vilnius" in smtp.messages[-1]["Subject"]

    # A sent alert goes again: the mail arrives a second time, its attempts kept and counted.
    code, lines = run(config, capsys, "resend", "1")
    assert (code, lines) == (0, ["alert 1 to redaction: sent"])
    assert len(smtp.messages) == 3
    assert "Stoltenberg" in smtp.messages[-1]["Subject"]  # the otan alert alone this time
    [again] = [a for a in rows(config, capsys, "alerts") if a["alert"] == 1]
    assert [(d["status"], d["attempts"]) for d in again["deliveries"]] == [("sent", 2)]


def test_store_listings_on_both_databases(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, engine: Engine
) -> None:
    """The listing queries on SQLite and on the real PostgreSQL, over the same real run."""
    fill(tmp_path, feed_server, smtp, engine.url.render_as_string(hide_password=False))
    now = datetime.now(UTC)
    with engine.connect() as connection:
        stories = list_stories(connection, ListingFilter())
        assert sorted((s.outlets, s.watchlists) for s in stories) == [
            (1, ()),
            (1, ()),
            (1, ("otan",)),
            (2, ("otan", "ukraine")),
        ]
        copies = find_feeds(connection, "Outlet 1")
        assert len(copies) == 1
        assert len(list_items(connection, ListingFilter(feed_ids=copies))) == 2
        assert len(list_items(connection, ListingFilter(since=now - timedelta(days=1)))) == 4
        [ukraine] = list_stories(connection, ListingFilter(watchlist="ukraine", limit=5))
        assert ukraine.title == OTAN_ITEM["title"]
        # Ids are not compared: PostgreSQL's sequences skip those a conflicting insert took.
        [waiting] = list_alerts(connection, ListingFilter(feed_ids=copies), "pending")
        assert (waiting.watchlist, waiting.title) == (
            "otan",
            "L’OTAN\u202e se réunit à\u2066 Vilnius",
        )
        assert [d.status for d in waiting.deliveries] == ["pending"]
        newest = list_alerts(connection, ListingFilter(limit=2))
        assert len(newest) == 2 and newest[0].alert_id == waiting.alert_id
        assert newest[1].deliveries[0].status == "sent"
