"""`monitor explain --item` on a database filled by a real run (loopback feeds, aiosmtpd,
`poll --once`): for each watchlist, whether an alert went out for the item, and if not, why."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.pipeline import AlertFacts, WhyNot, why_not
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import (
    BOTANIQUE_ITEM,
    OLD_NEWS,
    OLD_OTAN_ITEM,
    OTAN_ITEM,
    poll,
    pub_date,
    write_config,
)

# `sport` hits the same items as `otan` but excludes Ukraine; `muet` goes to no channel.
MORE_WATCHLISTS = """
  - name: sport
    terms: [OTAN]
    exclude: [Ukraine]
  - name: muet
    terms: [OTAN]
    notify: []
"""
COPY_ITEM = dict(OTAN_ITEM, guid="copie-9", title="Pas de zone d’exclusion, dit l’OTAN")
TEN_DAYS_OLD = dict(
    OLD_OTAN_ITEM,
    guid="story-ten",
    title="Archives : l’OTAN à Madrid",
    link="https://presse.example.fr/archives-madrid",
    description="Le sommet de l’OTAN à Madrid.",
    pubDate=pub_date(timedelta(days=10)),
)


@pytest.fixture
def config(tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer) -> Path:
    """Seed (OLD_NEWS, stored silently); then a story that alerts `otan` (and `muet`, which has
    no channel), a non-matching one and one ten days old; then the story's copy elsewhere."""
    first_url = feed_server.serve("/rss.xml", rss("Presse Exemple", [OLD_NEWS]))
    copy_url = feed_server.serve("/copie.xml", rss("Copie", []))
    path = write_config(tmp_path, [first_url, copy_url], smtp)
    path.write_text(path.read_text(encoding="utf-8") + MORE_WATCHLISTS, encoding="utf-8")
    assert poll(path) == 0
    feed_server.serve(
        "/rss.xml", rss("Presse Exemple", [BOTANIQUE_ITEM, OTAN_ITEM, TEN_DAYS_OLD, OLD_NEWS])
    )
    assert poll(path, "--all") == 0
    feed_server.serve("/copie.xml", rss("Copie", [COPY_ITEM]))
    assert poll(path, "--all") == 0
    assert len(smtp.messages) == 1
    return path


def output(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    capsys.readouterr()
    assert main(["--config", str(config), *args]) == 0
    return capsys.readouterr().out.splitlines()


def item_ids(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    lines = output(config, capsys, "items", "--json")
    return {row["title"]: row["item"] for row in map(json.loads, lines)}


def explained(config: Path, capsys: pytest.CaptureFixture[str], item: int) -> dict[str, Any]:
    (line,) = output(config, capsys, "explain", "--item", str(item), "--json")
    record: dict[str, Any] = json.loads(line)
    return record


def verdicts(record: dict[str, Any]) -> dict[str, str | None]:
    return {entry["watchlist"]: entry["why_not"] for entry in record["watchlists"]}


def test_each_reason_on_a_real_run(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ids = item_ids(config, capsys)

    alerted = explained(config, capsys, ids[OTAN_ITEM["title"]])
    assert alerted["id"] == ids[OTAN_ITEM["title"]]
    assert alerted["item"]["title"] == OTAN_ITEM["title"]
    assert alerted["item"]["feed"] == "Outlet 0"
    assert verdicts(alerted) == {"otan": None, "sport": "excluded", "muet": "no_channel"}
    otan = next(entry for entry in alerted["watchlists"] if entry["watchlist"] == "otan")
    assert otan["fires"] is True and otan["hits"]  # the matcher's keys are kept
    alert = otan["alert"]
    assert alert["item"] == ids[OTAN_ITEM["title"]]
    [delivery] = alert["deliveries"]
    assert (delivery["channel"], delivery["status"]) == ("redaction", "sent")

    copy = explained(config, capsys, ids[COPY_ITEM["title"]])
    assert copy["item"]["story"] == alerted["item"]["story"]
    assert copy["item"]["feed"] == "Outlet 1"
    assert verdicts(copy)["otan"] == "copy"
    copied = next(entry for entry in copy["watchlists"] if entry["watchlist"] == "otan")
    assert copied["alert"]["id"] == alert["id"]

    assert verdicts(explained(config, capsys, ids[OLD_NEWS["title"]])) == {
        "otan": "backlog",
        "sport": "backlog",
        "muet": "backlog",
    }
    assert verdicts(explained(config, capsys, ids[TEN_DAYS_OLD["title"]]))["otan"] == "too_old"
    assert verdicts(explained(config, capsys, ids[BOTANIQUE_ITEM["title"]])) == {
        "otan": "no_match",
        "sport": "no_match",
        "muet": "no_match",
    }


def test_the_table_keeps_the_matchers_lines_and_adds_a_verdict(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = item_ids(config, capsys)
    lines = output(config, capsys, "explain", "--item", str(ids[OTAN_ITEM["title"]]))
    assert lines[0] == f"item {ids[OTAN_ITEM['title']]}: {OTAN_ITEM['title']}"
    assert lines[1].startswith("  feed Outlet 0, story ")
    assert "  otan: fires" in lines
    assert any(
        line.startswith("    => alerted: alert ") and "redaction sent" in line for line in lines
    )
    assert any("excluded: 'Ukraine' occurs in the title" in line for line in lines)
    assert "    => no alert: excluded by a term (above)" in lines
    assert "    => no alert: the watchlist has no channel" in lines

    copy = output(config, capsys, "explain", "--item", str(ids[COPY_ITEM["title"]]))
    assert any("=> no alert: a copy of story" in line for line in copy)
    old = output(config, capsys, "explain", "--item", str(ids[TEN_DAYS_OLD["title"]]))
    assert any("more than max_age (2d) before it was seen" in line for line in old)
    backlog = output(config, capsys, "explain", "--item", str(ids[OLD_NEWS["title"]]))
    assert any("the backlog of its feed's first poll" in line for line in backlog)


def facts(**given: bool) -> AlertFacts:
    values = dict.fromkeys(AlertFacts.__dataclass_fields__, False)
    values["has_channel"] = True
    values.update(given)
    return AlertFacts(**values)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"alerted_item": True, "delivered": True, "matches": True}, None),
        # The first fact that holds decides, in the order the daemon applies its rules.
        ({"alerted_story": True, "backlog": True, "matches": True}, WhyNot.COPY),
        ({"backlog": True, "too_old": True, "matches": True}, WhyNot.BACKLOG),
        ({"too_old": True, "out_of_scope": True}, WhyNot.TOO_OLD),
        # Out of scope, the watchlist is not even looked at: neither its match nor its excludes.
        ({"out_of_scope": True, "excluded": True, "matches": True}, WhyNot.OUT_OF_SCOPE),
        ({"out_of_scope": True}, WhyNot.OUT_OF_SCOPE),
        ({"too_old": True, "excluded": True}, WhyNot.TOO_OLD),
        ({"excluded": True}, WhyNot.EXCLUDED),
        ({}, WhyNot.NO_MATCH),
        ({"matches": True, "has_channel": False}, WhyNot.NO_CHANNEL),
        # Decided, but with no delivery: the watchlist had no channel then.
        ({"alerted_item": True, "matches": True}, WhyNot.NO_CHANNEL),
        ({"matches": True}, WhyNot.MATCHED_LATER),
    ],
)
def test_why_not_takes_the_first_fact_that_holds(
    given: dict[str, bool], expected: WhyNot | None
) -> None:
    assert why_not(facts(**given)) is expected
