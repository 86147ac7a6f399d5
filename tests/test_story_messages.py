"""One message per story and channel (docs/design.md §6): when several watchlists hit one story,
the channel gets one message naming them all, while the alert rows stay one per watchlist and
story. Real feeds on loopback, a real SMTP server, a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from monitor.cli import main
from monitor.store.tables import alerts, deliveries, messages
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import OTAN_ITEM, body_text, poll, write_config

TWO_WATCHLISTS = """
  - name: ukraine
    terms: [Ukraine]
"""


def test_a_story_two_watchlists_hit_is_one_message_naming_both(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    url = feed_server.serve("/rss.xml", rss("Presse Exemple", []))
    config = write_config(tmp_path, [url], smtp)
    config.write_text(config.read_text(encoding="utf-8") + TWO_WATCHLISTS, encoding="utf-8")
    assert poll(config) == 0  # seeded silently
    feed_server.serve("/rss.xml", rss("Presse Exemple", [OTAN_ITEM]))
    assert poll(config, "--all") == 0

    assert len(smtp.messages) == 1
    [message] = smtp.messages
    assert "otan" in message["Subject"] and "ukraine" in message["Subject"]
    assert "n’enverra pas de troupes en" in body_text(message)
    engine = create_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    with engine.connect() as connection:
        watchlists = sorted(connection.execute(select(alerts.c.watchlist)).scalars())
        statuses = connection.execute(select(deliveries.c.status, deliveries.c.message_id)).all()
        sent = connection.execute(select(messages.c.kind, messages.c.alerts)).all()
    engine.dispose()
    assert watchlists == ["otan", "ukraine"]  # one alert row per watchlist and story
    assert [status for status, _ in statuses] == ["sent", "sent"]
    assert len({message_id for _, message_id in statuses}) == 1  # carried by one message
    assert sent == [("story", 2)]


def test_alerts_lists_what_a_message_carried(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = feed_server.serve("/rss.xml", rss("Presse Exemple", []))
    config = write_config(tmp_path, [url], smtp)
    config.write_text(config.read_text(encoding="utf-8") + TWO_WATCHLISTS, encoding="utf-8")
    assert poll(config) == 0
    feed_server.serve("/rss.xml", rss("Presse Exemple", [OTAN_ITEM]))
    assert poll(config, "--all") == 0
    assert (
        "outbox: 0 pending (0 held for a digest), 2 sent, 0 failed, 0 sent again after a crash"
        in capsys.readouterr().out.splitlines()
    )

    assert main(["--config", str(config), "alerts", "--message", "1", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["alert"], row["watchlist"], row["status"]) for row in listed] == [
        (1, "otan", "sent"),
        (2, "ukraine", "sent"),
    ]
    assert listed[0]["title"] == OTAN_ITEM["title"]

    assert main(["--config", str(config), "alerts", "--message", "1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["ALERT", "WATCHLIST", "DECIDED", "STATUS", "SOURCE", "TITLE"]
    assert "https://presse.example.fr/ukraine-zone?id=2" in table[2].strip()

    assert main(["--config", str(config), "alerts", "--message", "99"]) == 1
    assert "no message with id 99" in capsys.readouterr().err
