"""A feed's date at the edge of what a datetime holds (9999-12-31T23:30Z, a typo or a wrong
clock) breaks no message: times render whatever the zone (in UTC when the zone cannot hold
them), and an item dated more than a day ahead is prepared as undated, so it neither passes
`max_age` forever nor sorts first in every digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.cli import main
from monitor.model import FeedEntry, Message
from monitor.notify import render
from monitor.notify.render.when import full_time, short_time, since_time
from monitor.pipeline.prepare import credible_published, prepare_entry
from tests.feed_server import FeedServer, rss
from tests.render_messages import PARIS, digest, digest_story, notice, ops, story
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import body_text, pub_date, write_config

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
LAST = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
EDGES = [
    LAST,
    datetime.max.replace(tzinfo=UTC),
    datetime.min.replace(tzinfo=UTC),
    datetime.max,  # naive: read as UTC
    datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),  # before year 1 in UTC
    datetime.max.replace(tzinfo=timezone(timedelta(hours=-14))),  # after 9999 in UTC
]
ZONES: list[tzinfo] = [
    PARIS,
    ZoneInfo("Pacific/Kiritimati"),  # UTC+14
    ZoneInfo("America/Los_Angeles"),
    UTC,
    timezone(timedelta(hours=-12)),
]
KINDS = ["email", "slack", "telegram", "text", "console"]


@pytest.mark.parametrize("zone", ZONES, ids=str)
@pytest.mark.parametrize("moment", EDGES, ids=repr)
def test_every_time_renders_in_every_zone(moment: datetime, zone: tzinfo) -> None:
    for shown in (
        full_time(moment, zone),
        short_time(moment, zone, None),
        short_time(moment, zone, NOW),
        short_time(NOW, zone, moment),
        since_time(moment, zone, moment),
    ):
        assert shown


def test_a_time_past_what_the_zone_holds_is_shown_in_utc() -> None:
    assert full_time(LAST, PARIS) == "31 Dec 9999, 23:30 UTC"
    assert full_time(LAST - timedelta(days=1), PARIS) == "31 Dec 9999, 00:30 CET"


def edge_messages(moment: datetime) -> list[Message]:
    return [
        story(published=moment),
        story(published=None, first_seen=moment),
        digest(
            (
                digest_story(1, published=moment, first_seen=NOW),
                digest_story(2, published=NOW, first_seen=moment),
                digest_story(3, published=moment.replace(tzinfo=None), first_seen=None),
            ),
            since=moment,
        ),
        ops(notice(1, at=moment)),
    ]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("moment", EDGES, ids=repr)
def test_every_message_renders_with_an_edge_date(kind: str, moment: datetime) -> None:
    for message in edge_messages(moment):
        rendered = render(message, kind, PARIS)
        assert rendered.body


@pytest.mark.parametrize(
    ("published", "kept"),
    [
        (None, False),
        (NOW - timedelta(days=400), True),
        (NOW, True),
        # A publisher's clock a little fast, or a time zone written wrong: still its date.
        (NOW + timedelta(hours=23), True),
        (NOW + timedelta(days=1), True),
        (NOW + timedelta(days=1, seconds=1), False),
        (LAST, False),
    ],
)
def test_a_date_more_than_a_day_ahead_is_no_date(published: datetime | None, kept: bool) -> None:
    assert credible_published(published, NOW) == (published if kept else None)


def entry_on(published: datetime) -> FeedEntry:
    return FeedEntry("g", "https://example.fr/a", "L'OTAN", "", "", published)


def test_an_entry_from_the_year_9999_is_prepared_undated() -> None:
    assert prepare_entry(entry_on(LAST), "fr", now=NOW).published is None
    tomorrow = NOW + timedelta(hours=20)
    assert prepare_entry(entry_on(tomorrow), "fr", now=NOW).published == tomorrow


def test_an_item_dated_9999_alerts_once_dated_when_it_was_found(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    item = {
        "guid": "typo-1",
        "title": "L’OTAN se réunit demain",
        "link": "https://presse.example.fr/otan-demain",
        "description": "Les alliés de l’OTAN se réunissent.",
        "pubDate": "Fri, 31 Dec 9999 23:30:00 GMT",
    }
    dated = {
        "guid": "dated-1",
        "title": "L’OTAN hier soir",
        "link": "https://presse.example.fr/otan-hier",
        "description": "Les alliés de l’OTAN se sont réunis.",
        "pubDate": pub_date(),
    }
    url = feed_server.serve("/rss.xml", rss("Presse", []))
    config = write_config(tmp_path, [url], smtp, named=False, timezone="Europe/Paris")
    poll = ["--config", str(config), "poll", "--once", "--all"]
    assert main(poll) == 0  # seeded silently
    feed_server.serve("/rss.xml", rss("Presse", [item, dated]))
    assert main(poll) == 0

    bodies = {str(message["Subject"]): body_text(message) for message in smtp.messages}
    assert len(bodies) == 2
    [typo] = [body for subject, body in bodies.items() if "demain" in subject]
    assert "9999" not in typo
    assert "found " in typo  # dated by when it was found
    capsys.readouterr()
    listed = []
    for message_id in ("1", "2"):
        assert main(["--config", str(config), "alerts", "--message", message_id, "--json"]) == 0
        listed += [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    published = {row["title"]: row["published"] for row in listed}
    assert published[item["title"]] is None
    assert published[dated["title"]] is not None
