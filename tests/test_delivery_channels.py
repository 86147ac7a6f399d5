"""Delivery to Slack and Telegram through the requests Apprise really sends, answered by a
loopback HTTPS server (tests/https_loopback.py), with the dispatcher as the daemon runs it and a
controlled clock: a refused token fails at once with one operations alert, Telegram's
retry_after is honoured, and a Telegram group's default rate limit is never exceeded, the
overflow folded into digests, nothing lost."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import select

from monitor.store.tables import deliveries, messages
from tests.delivery_harness import Daemon, paris
from tests.https_loopback import HttpsLoopback, telegram_flood_wait
from tests.smtp_server import SmtpServer
from tests.test_send_slack_telegram import (
    HOOK_PATH,
    HOOK_TOKEN,
    SLACK_HOOK,
    TELEGRAM_PATH,
    TELEGRAM_TOKEN,
)

TELEGRAM_OK = {"ok": True, "result": {}}


def write_config(directory: Path, channels: str, ops: str = "") -> Path:
    path = directory / "monitor.yaml"
    path.write_text(
        f"""
database: sqlite:///{directory / "monitor.db"}
timezone: Europe/Paris
delivery:
  retry_initial: 1s
channels:
{channels}
{ops}
watchlists:
  - name: otan
    notify: [desk]
    terms: [OTAN]
""",
        encoding="utf-8",
    )
    return path


def test_an_invalid_slack_token_fails_at_once_with_one_operations_alert(
    tmp_path: Path,
    https_loopback: HttpsLoopback,
    smtp: SmtpServer,
    travel: time_machine.Coordinates,
) -> None:
    https_loopback.answer("hooks.slack.com", HOOK_PATH, status=403, text="invalid_token")
    config = write_config(
        tmp_path,
        f"  desk:\n    url: {SLACK_HOOK}\n  ops-mail:\n    url: {smtp.mailto_url()}",
        "ops:\n  notify: [ops-mail]",
    )
    daemon = Daemon(config)
    daemon.decide(1)
    daemon.dispatch()
    with daemon.runtime.engine.connect() as connection:
        [(status, attempts, error)] = connection.execute(
            select(deliveries.c.status, deliveries.c.attempts, deliveries.c.last_error).where(
                deliveries.c.channel == "desk"
            )
        ).all()
    assert (status, attempts) == ("failed", 1)
    assert "authentication refused by hooks.slack.com" in error and HOOK_TOKEN not in error
    [notice] = smtp.messages
    assert "desk" in notice["Subject"] and HOOK_TOKEN not in notice.as_string()

    daemon.restart()  # the refusal is a row: still known after a restart (or a cron run)
    travel.shift(timedelta(minutes=1))
    daemon.decide(2)
    daemon.decide(3)
    daemon.dispatch()
    assert len(smtp.messages) == 1  # the channel is known broken: no second operations alert
    assert len(https_loopback.requests_to("hooks.slack.com")) == 2  # one try per message
    assert daemon.statuses() == {"failed": 3, "sent": 1}


def test_telegram_retry_after_is_honoured(
    tmp_path: Path, https_loopback: HttpsLoopback, travel: time_machine.Coordinates
) -> None:
    https_loopback.answer_once(
        "api.telegram.org",
        TELEGRAM_PATH,
        status=429,
        json=telegram_flood_wait(11),
    )
    https_loopback.answer("api.telegram.org", TELEGRAM_PATH, json=TELEGRAM_OK)
    daemon = Daemon(write_config(tmp_path, f"  desk:\n    url: tgram://{TELEGRAM_TOKEN}/12315544/"))
    travel.move_to(paris(10, 9, 0))
    daemon.decide(1)
    assert daemon.dispatch() == 0
    with daemon.runtime.engine.connect() as connection:
        next_attempt = connection.execute(select(deliveries.c.next_attempt_at)).scalar_one()
    assert next_attempt == paris(10, 9, 0, 11)  # not after retry_initial (1 s): as asked
    travel.move_to(paris(10, 9, 0, 10))
    assert daemon.dispatch() == 0
    travel.move_to(paris(10, 9, 0, 11))
    assert daemon.dispatch() == 1
    assert len(https_loopback.requests_to("api.telegram.org")) == 2


def test_a_telegram_group_gets_at_most_20_messages_a_minute_the_rest_in_digests(
    tmp_path: Path, https_loopback: HttpsLoopback, travel: time_machine.Coordinates
) -> None:
    """200 stories in ten minutes, in bursts, to a group chat (its chat id starts with '-'),
    whose default limit is 20 messages a minute; the dispatcher runs every 10 seconds."""
    https_loopback.answer("api.telegram.org", TELEGRAM_PATH, json=TELEGRAM_OK)
    daemon = Daemon(
        write_config(tmp_path, f"  desk:\n    url: tgram://{TELEGRAM_TOKEN}/-1001234567890/")
    )
    start = paris(10, 9, 0)
    bursts = [7, 0, 1, 2, 0, 5]  # stories arriving in each 10 s of a minute: 15 a minute...
    number = 0
    received_by_tick = []  # requests the server had received after each tick
    for tick in range(66):  # ...and 50 more in one burst in the middle
        travel.move_to(start + timedelta(seconds=10 * tick))
        arriving = (bursts[tick % 6] + (50 if tick == 30 else 0)) if tick < 60 else 0
        for _ in range(arriving):
            daemon.decide(number)
            number += 1
        daemon.dispatch()
        received_by_tick.append(len(https_loopback.requests_to("api.telegram.org")))
        if tick == 40:
            daemon.restart()
    assert number == 200
    assert daemon.statuses() == {"sent": 200}  # nothing lost, nothing left behind
    with daemon.runtime.engine.connect() as connection:
        sends = connection.execute(select(messages.c.created_at, messages.c.kind)).all()
    times: list[datetime] = [when for when, _ in sends]
    for first in times:
        assert sum(1 for t in times if first <= t < first + timedelta(minutes=1)) <= 20
    assert any(kind == "digest" for _, kind in sends)  # the overflow was folded
    # As the server saw them: six ticks make a minute (the window excludes its start).
    before = [0, *received_by_tick]
    for tick in range(len(received_by_tick)):
        assert before[min(tick + 6, len(received_by_tick))] - before[tick] <= 20
    received = https_loopback.requests_to("api.telegram.org")
    assert len(received) == len(sends)
    assert all(len(json.loads(request.body)["text"]) <= 4096 for request in received)
