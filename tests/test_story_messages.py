"""One message per story and channel (docs/design.md §6): when several watchlists hit one story,
the channel gets one message naming them all, while the alert rows stay one per watchlist and
story. Real feeds on loopback, a real SMTP server, a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select

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
    assert "n’enverra pas de troupes en Ukraine" in body_text(message)
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
