"""Digests, quiet hours and rate limits (docs/design.md §6) with a controlled clock
(time-machine), a real SMTP server, a real SQLite file, and restarts in between: held alerts
are rows, so a restarted daemon sends them in the next digest. Stories are decided straight into
the database (tests/stories.py); what is under test is the dispatcher, as the daemon runs it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select, update

from monitor.store.tables import alerts, deliveries
from tests.delivery_harness import Daemon, paris
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import body_text


def write_config(directory: Path, smtp: SmtpServer, policy: str, watchlists: str = "") -> Path:
    path = directory / "monitor.yaml"
    path.write_text(
        f"""
database: sqlite:///{directory / "monitor.db"}
timezone: Europe/Paris
channels:
  desk:
    url: {smtp.mailto_url()}
{policy}
watchlists:
  - name: otan
    terms: [OTAN]
{watchlists}
""",
        encoding="utf-8",
    )
    return path


def test_200_stories_in_ten_minutes_to_an_hourly_digest_are_one_message(
    tmp_path: Path, smtp: SmtpServer, travel: time_machine.Coordinates
) -> None:
    daemon = Daemon(write_config(tmp_path, smtp, "    digest: {every: 1h}"))
    for minute in range(10):
        travel.move_to(paris(10, 9, minute, 30))
        for n in range(20):
            daemon.decide(minute * 20 + n)
        assert daemon.dispatch() == 0
        if minute == 4:
            daemon.restart()  # the held alerts are rows: none is lost
    assert daemon.statuses() == {"pending": 200}
    travel.move_to(paris(10, 9, 59, 59))
    assert daemon.dispatch() == 0
    daemon.restart()
    travel.move_to(paris(10, 10, 0))
    assert daemon.dispatch() == 1
    assert daemon.statuses() == {"sent": 200}
    [message] = smtp.messages
    assert message["Subject"].startswith("Digest for desk: 200 stories")
    body = body_text(message)
    assert "story-199" in body  # newest first
    assert "monitor alerts --message 1" in body  # the cap says how to list the rest
    assert daemon.dispatch() == 0


def test_quiet_hours_hold_alerts_for_one_digest_at_their_end_and_urgent_ones_go_at_once(
    tmp_path: Path, smtp: SmtpServer, travel: time_machine.Coordinates
) -> None:
    config = write_config(
        tmp_path,
        smtp,
        '    quiet_hours: {from: "22:00", to: "07:00"}',
        "  - name: alerte\n    urgent: true\n    terms: [OTAN]\n",
    )
    daemon = Daemon(config)
    travel.move_to(paris(10, 21, 59))
    daemon.decide(1)
    assert daemon.dispatch() == 1  # before quiet hours: at once
    travel.move_to(paris(10, 23, 0))
    daemon.decide(2)
    daemon.decide(3, watchlists=("alerte",))
    assert daemon.dispatch() == 1  # the urgent one only
    assert "story-3" in smtp.messages[-1]["Subject"]
    travel.move_to(paris(11, 3, 30))
    daemon.decide(4)
    assert daemon.dispatch() == 0
    daemon.restart()
    travel.move_to(paris(11, 6, 59, 59))
    assert daemon.dispatch() == 0
    travel.move_to(paris(11, 7, 0))
    assert daemon.dispatch() == 1  # the two held: one digest
    assert len(smtp.messages) == 3
    digest = body_text(smtp.messages[-1])
    assert "story-2" in digest and "story-4" in digest and "quiet hours" in digest
    assert daemon.statuses() == {"sent": 4}


def test_a_rate_limit_folds_the_overflow_into_a_digest_and_drops_nothing(
    tmp_path: Path, smtp: SmtpServer, travel: time_machine.Coordinates
) -> None:
    daemon = Daemon(write_config(tmp_path, smtp, "    rate_limit: 3/min"))
    travel.move_to(paris(10, 9, 0))
    for n in range(10):
        daemon.decide(n)
    assert daemon.dispatch() == 3  # two stories alone, the eight others in one digest
    assert smtp.messages[-1]["Subject"].startswith("Digest for desk: 8 stories")
    travel.move_to(paris(10, 9, 0, 30))
    daemon.decide(10)
    daemon.decide(11)
    assert daemon.dispatch() == 0  # no room left in this minute: held
    daemon.restart()
    travel.move_to(paris(10, 9, 0, 59))
    assert daemon.dispatch() == 0
    travel.move_to(paris(10, 9, 1, 0))
    assert daemon.dispatch() == 1  # both in one digest when the minute frees a place
    assert daemon.statuses() == {"sent": 12}
    times = daemon.send_times()
    for start in times:  # never more than 3 in any minute
        assert sum(1 for t in times if start <= t < start + timedelta(minutes=1)) <= 3
    bodies = " ".join(body_text(message) for message in smtp.messages)
    assert all(f"story-{n}" in bodies for n in range(12))


def test_a_channel_back_after_an_outage_gets_its_waiting_retries_at_once(
    tmp_path: Path, smtp: SmtpServer, travel: time_machine.Coordinates
) -> None:
    daemon = Daemon(write_config(tmp_path, smtp, ""))
    smtp.stop()
    travel.move_to(paris(10, 9, 0))
    daemon.decide(1)
    for minute in range(0, 40, 5):  # retried with backoff while the server is down
        travel.move_to(paris(10, 9, minute))
        assert daemon.dispatch() == 0
    assert daemon.statuses() == {"pending": 1}
    smtp.start()
    travel.move_to(paris(10, 9, 41))
    daemon.decide(2)
    assert daemon.dispatch() == 2  # the new alert, then the one that was waiting its backoff
    assert daemon.statuses() == {"sent": 2}
    assert sorted("story-1" in m["Subject"] for m in smtp.messages) == [False, True]


def test_a_failing_channel_is_tried_once_a_pass_not_once_a_message(
    tmp_path: Path, smtp: SmtpServer, travel: time_machine.Coordinates
) -> None:
    smtp.refuse_at, smtp.refusal = "DATA", "451 4.3.0 try again later"
    daemon = Daemon(write_config(tmp_path, smtp, ""))
    travel.move_to(paris(10, 9, 0))
    for number in range(3):
        daemon.decide(number)
    assert daemon.dispatch() == 0
    assert smtp.data_attempts == 1  # the two others wait with the one that failed
    with daemon.runtime.engine.connect() as connection:
        waiting = connection.execute(
            select(deliveries.c.status, deliveries.c.next_attempt_at, deliveries.c.attempts)
        ).all()
    assert {(status, attempts) for status, _, attempts in waiting} == {
        ("pending", 1),
        ("pending", 0),
    }
    assert len({at for _, at, _ in waiting}) == 1  # all due at the failed one's retry
    smtp.refuse_at = None
    travel.move_to(paris(10, 9, 1))
    assert daemon.dispatch() == 3
    assert daemon.statuses() == {"sent": 3}


def test_a_digest_that_keeps_failing_gives_up_each_alert_at_its_own_age(
    tmp_path: Path, smtp: SmtpServer, travel: time_machine.Coordinates
) -> None:
    smtp.refuse_at, smtp.refusal = "DATA", "451 4.3.0 try again later"
    config = write_config(tmp_path, smtp, "    digest: {every: 1h}")
    config.write_text(
        config.read_text(encoding="utf-8")
        + "delivery:\n  retry_initial: 1m\n  retry_max_interval: 5m\n  give_up_after: 1h\n",
        encoding="utf-8",
    )
    daemon = Daemon(config)
    travel.move_to(paris(10, 9, 10))
    daemon.decide(1)
    travel.move_to(paris(10, 10, 0))
    assert daemon.dispatch() == 0  # its digest time: tried, refused, to be retried
    travel.move_to(paris(10, 10, 30))
    daemon.decide(2)
    assert daemon.dispatch() == 0  # held for 11:00
    travel.move_to(paris(10, 11, 0))
    assert daemon.dispatch() == 0  # one digest of both, refused again
    with daemon.runtime.engine.connect() as connection:
        rows = dict(
            connection.execute(
                select(deliveries.c.alert_id, deliveries.c.status).order_by(deliveries.c.alert_id)
            ).all()
        )
    # The alert of 9:10 is an hour old: given up. The one of 10:30 is not: retried.
    assert rows == {1: "failed", 2: "pending"}


def test_a_message_that_cannot_be_built_fails_alone_and_blocks_nothing(
    tmp_path: Path, smtp: SmtpServer, travel: time_machine.Coordinates
) -> None:
    daemon = Daemon(write_config(tmp_path, smtp, ""))
    travel.move_to(paris(10, 9, 0))
    [broken] = daemon.decide(1)
    daemon.decide(2)
    with daemon.runtime.engine.begin() as connection:  # a row no version of us could read
        connection.execute(
            update(alerts).where(alerts.c.id == broken).values(payload={"published": "tomorrow"})
        )
    assert daemon.dispatch() == 1
    with daemon.runtime.engine.connect() as connection:
        rows = dict(
            connection.execute(select(deliveries.c.alert_id, deliveries.c.last_error)).all()
        )
    assert daemon.statuses() == {"failed": 1, "sent": 1}
    assert "could not build the message" in rows[broken]
    assert "story-2" in smtp.messages[0]["Subject"]
