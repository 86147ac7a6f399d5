"""An SMTP outage, the daemon a real process: the mail server down (connections refused), then
hanging (connections accepted, never answered: each send waits for its 15 s timeout), then back.
The alerts pile up in the outbox and all arrive, once each; and polling never waits for the
sends: every feed is polled again and again while the server is down, and while a send hangs.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.daemon_cli import Daemon, mail_daemon_config
from tests.feed_server import FeedServer
from tests.newsroom import Newsroom, received
from tests.smtp_server import running_smtp_server, silent_listener

FEEDS = 3
INTERVAL = "2s"
POLLS_WHILE_DOWN = 3  # polls of each feed the test waits for while the server refuses
POLLS_WHILE_HUNG = 2  # ... and while one send waits for a server that never answers
WAIT = 120.0  # seconds: the bound of every wait, for a loaded machine; none is reached
# The acceptance's outage: at least this long refusing connections, then a hanging send.
REFUSING_AT_LEAST = 60.0  # seconds, then a hanging send
# The longest wait between two polls of a feed during the outage that the test accepts: ten
# intervals, so a loaded machine cannot fail it, while a poll held by the sends (24-30 s
# stretches before the jobs were separated) would.
LONGEST_GAP = 20.0


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.05)


def polls_between(server: FeedServer, path: str, start: float, end: float) -> int:
    with server.lock:
        return sum(1 for at, polled in server.request_times if polled == path and start < at < end)


def every_feed_polled(server: FeedServer, newsroom: Newsroom, times: int, since: float) -> bool:
    now = time.monotonic()
    return all(polls_between(server, path, since, now) >= times for path in newsroom.paths)


def count(database: Path, sql: str) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        [value] = connection.execute(sql).fetchone()
    return int(value or 0)


@pytest.mark.slow
def test_an_smtp_outage_loses_no_alert_and_holds_no_poll(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    newsroom = Newsroom(feed_server, FEEDS, seed=11)
    database = tmp_path / "monitor.db"
    with running_smtp_server() as smtp:
        retries = "delivery:\n  retry_initial: 1s\n  retry_max_interval: 2s\n"
        config = mail_daemon_config(
            tmp_path, newsroom.urls, smtp.mailto_url(), interval=INTERVAL, extra=retries
        )
        daemon = Daemon(config)
        try:
            for _ in newsroom.paths:
                daemon.wait_for("first poll stored 0 items", timeout=WAIT)
            before = newsroom.publish(0)
            wait_until(lambda: before in received(smtp.messages), "the first alert sent")

            # Down: connections refused. Alerts pile up; the sends fail and are retried.
            smtp.stop()
            down_at = time.monotonic()
            for feed in range(FEEDS):
                newsroom.publish(feed)
                newsroom.publish(feed)
            wait_until(
                lambda: (
                    count(database, "SELECT count(*) FROM alerts") == 1 + 2 * FEEDS
                    and count(database, "SELECT sum(attempts) FROM deliveries") > 1
                    and every_feed_polled(feed_server, newsroom, POLLS_WHILE_DOWN, down_at)
                ),
                "the alerts written, a send tried, and every feed polled while it was down",
            )
            time.sleep(max(0.0, REFUSING_AT_LEAST - (time.monotonic() - down_at)))
            assert received(smtp.messages).keys() == {before}

            # Hanging: the server accepts and says nothing; a send waits for its timeout.
            with silent_listener(smtp.port) as silent:
                for feed in range(FEEDS):
                    newsroom.publish(feed)
                wait_until(lambda: bool(silent.accepted_at), "a send to the hanging server")
                hung_at = silent.accepted_at[0]
                wait_until(
                    lambda: every_feed_polled(feed_server, newsroom, POLLS_WHILE_HUNG, hung_at),
                    "every feed polled while a send hangs",
                )
                polled_by = time.monotonic()
                # Those polls happened while the send still waited: it gave up later, if ever.
                assert not silent.closed_at or silent.closed_at[0] > polled_by, (
                    "the polls waited for the hanging send"
                )

            # Back: everything piled up is delivered, with what comes now.
            smtp.start()
            up_at = time.monotonic()
            for feed in range(FEEDS):
                newsroom.publish(feed)
            wait_until(
                lambda: received(smtp.messages).keys() == newsroom.published.keys(),
                "every alert delivered once the server is back",
            )
        finally:
            assert daemon.stop() == 0

    counts = received(smtp.messages)
    assert set(newsroom.published) - set(counts) == set(), "lost"
    assert {reference: n for reference, n in counts.items() if n > 1} == {}, "sent twice"
    log = daemon.read_log()
    # APScheduler says so when it skips a run: "skipped: maximum number of running instances
    # reached", "Run time of job ... was missed by".
    assert [line for line in log if "skipped" in line or "was missed by" in line] == []
    gaps = {path: longest_gap(feed_server, path, down_at, up_at) for path in newsroom.paths}
    assert up_at - down_at >= 60.0
    assert max(gaps.values()) <= LONGEST_GAP, gaps
    piled_up = sum(1 for at in newsroom.published.values() if down_at < at < up_at)
    print(
        f"outage of {up_at - down_at:.1f} s ({piled_up} alerts written meanwhile,"
        f" {len(silent.accepted_at)} sends hung): polls of each feed during it"
        f" {[polls_between(feed_server, path, down_at, up_at) for path in newsroom.paths]},"
        f" longest wait between two polls of a feed {max(gaps.values()):.1f} s"
        f" (interval {INTERVAL})"
    )


def longest_gap(server: FeedServer, path: str, start: float, end: float) -> float:
    with server.lock:
        times = [start] + [at for at, p in server.request_times if p == path and start < at < end]
    return max(later - earlier for earlier, later in zip(times, [*times[1:], end], strict=True))
