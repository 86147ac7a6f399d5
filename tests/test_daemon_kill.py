"""kill -9 at random moments of a run, the daemon a real process sending to a real mail server:
while a feed's answer is awaited (a poll pass in flight); while the mail server holds a message,
or its answer to the QUIT after it (a send in flight, delivered or not); between polls with
nothing in flight; and at any moment at all, the start-up included. Restarted at once each
time. The acceptance: no alert lost, duplicates no more than the sends in flight (the database
counts them: `deliveries.resends`), and no alert later than the feed's interval plus 30 s after
the restart that follows a kill.

MONITOR_TEST_KILLS sets how many kills (30 by default), MONITOR_TEST_KILL_SEED the seed that
picks the moments and the news.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.daemon_cli import Daemon, mail_daemon_config
from tests.feed_server import FeedServer
from tests.newsroom import Newsroom, received, references_in
from tests.smtp_server import SmtpServer, running_smtp_server

KILLS = int(os.environ.get("MONITOR_TEST_KILLS", "30"))
SEED = int(os.environ.get("MONITOR_TEST_KILL_SEED", "20261205"))
FEEDS = 3
INTERVAL_S = 2
LATE_S = INTERVAL_S + 30  # the acceptance: an alert arrives this soon after a restart
WAIT = 120.0  # seconds: the bound of every wait, for a loaded machine; none is reached
MOMENTS = ("polling", "sending", "idle", "any")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.02)


@dataclass
class Run:
    """The daemon restarted after each kill, and what happened to it."""

    config: Path
    daemon: Daemon
    starts: list[float] = field(default_factory=list)  # time.monotonic() of each start
    kills: Counter[str] = field(default_factory=Counter)  # by moment

    def kill_and_restart(self, moment: str, release: threading.Event) -> None:
        self.daemon.kill()
        release.set()  # what the test held for the kill answers now, to nobody
        self.kills[moment] += 1
        self.daemon = Daemon(self.config)
        self.starts.append(self.daemon.started_at)


def kill_while_polling(run: Run, newsroom: Newsroom, rng: random.Random) -> None:
    """A feed's answer held until the kill: the pass that asked for it is in flight, the other
    feeds of the pass done or not."""
    feed = rng.randrange(FEEDS)
    newsroom.publish(feed)
    release = threading.Event()
    newsroom.hold(feed, release.is_set)
    resource = newsroom.resource(feed)
    wait_until(lambda: resource.holding > 0, "a poll of the held feed")
    time.sleep(rng.uniform(0, 0.5))  # a random moment of the pass, not a wait for anything
    run.kill_and_restart("polling", release)
    newsroom.hold(feed, None)


def kill_while_sending(run: Run, newsroom: Newsroom, smtp: SmtpServer, rng: random.Random) -> None:
    """The mail server holds its answer until the kill: to the message (not delivered), or to
    the QUIT after it (delivered, but the daemon cannot know: a duplicate when sent again)."""
    release = threading.Event()
    newsroom.publish()
    if rng.random() < 0.5:
        attempts = smtp.data_attempts
        smtp.release_when = release.is_set
        wait_until(lambda: smtp.data_attempts > attempts, "a message reaching the mail server")
        smtp.release_when = None  # for the restarted daemon's sends; the held one keeps its own
        run.kill_and_restart("message held", release)
    else:
        quits = smtp.quits
        smtp.quit_release_when = release.is_set
        wait_until(lambda: smtp.quits > quits, "a message delivered, its QUIT held")
        smtp.quit_release_when = None
        run.kill_and_restart("QUIT held", release)


def kill_when_idle(run: Run, newsroom: Newsroom, smtp: SmtpServer) -> None:
    """Everything published is delivered and the feeds were polled since: nothing in flight."""
    wait_until(
        lambda: received(smtp.messages).keys() == newsroom.published.keys(),
        "the alerts so far delivered",
    )
    server = newsroom.server
    polls = len(server.requests)
    wait_until(lambda: len(server.requests) >= polls + FEEDS, "the next polls")
    run.kill_and_restart("idle", threading.Event())


def kill_at_any_moment(run: Run, newsroom: Newsroom, rng: random.Random) -> None:
    for _ in range(rng.randrange(1, 4)):
        newsroom.publish()
    # From the start of this daemon: its start-up, a pass, a send or nothing at all.
    time.sleep(max(0.0, run.daemon.started_at + rng.uniform(0, 4) - time.monotonic()))
    run.kill_and_restart("any", threading.Event())


def resends(database: Path) -> int:
    with sqlite3.connect(database, timeout=30) as connection:
        [value] = connection.execute("SELECT sum(resends) FROM deliveries").fetchone()
    return int(value or 0)


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_no_alert_and_delays_none(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    rng = random.Random(SEED)
    newsroom = Newsroom(feed_server, FEEDS, seed=SEED)
    with running_smtp_server() as smtp:
        config = mail_daemon_config(
            tmp_path, newsroom.urls, smtp.mailto_url(), interval=f"{INTERVAL_S}s"
        )
        run = Run(config, Daemon(config))
        run.starts.append(run.daemon.started_at)
        try:
            for _ in newsroom.paths:
                run.daemon.wait_for("first poll stored 0 items", timeout=WAIT)
            for _ in range(KILLS):
                moment = rng.choice(MOMENTS)
                if moment == "polling":
                    kill_while_polling(run, newsroom, rng)
                elif moment == "sending":
                    kill_while_sending(run, newsroom, smtp, rng)
                elif moment == "idle":
                    kill_when_idle(run, newsroom, smtp)
                else:
                    kill_at_any_moment(run, newsroom, rng)
            newsroom.publish()  # and one more for the last daemon, which is not killed
            wait_until(
                lambda: received(smtp.messages).keys() == newsroom.published.keys(),
                "every alert delivered after the last restart",
                timeout=LATE_S + WAIT,
            )
        finally:
            assert run.daemon.stop() == 0

    counts = received(smtp.messages)
    lost = sorted(set(newsroom.published) - set(counts))
    duplicates = sum(counts.values()) - len(counts)
    in_flight = resends(tmp_path / "monitor.db")
    late = late_alerts(newsroom, smtp, run.starts)
    print(
        f"{sum(run.kills.values())} kills ({dict(run.kills)}): {len(newsroom.published)} alerts,"
        f" {len(lost)} lost, {duplicates} duplicates, {in_flight} sends in flight at a kill"
        f" (deliveries.resends), {len(late)} late; longest wait"
        f" {max(wait_after_restart(newsroom, smtp, run.starts).values()):.1f} s"
    )
    assert lost == []
    assert duplicates <= in_flight
    assert late == {}


def first_arrivals(smtp: SmtpServer) -> dict[str, float]:
    arrivals: dict[str, float] = {}
    for message, at in zip(list(smtp.messages), list(smtp.received_at), strict=True):
        for reference in references_in(message):
            arrivals.setdefault(reference, at)
    return arrivals


def wait_after_restart(
    newsroom: Newsroom, smtp: SmtpServer, starts: list[float]
) -> dict[str, float]:
    """How long each alert took from its publication, or from the start of the daemon that
    was running when it arrived, whichever came later."""
    waits = {}
    for reference, arrived in first_arrivals(smtp).items():
        started = max(start for start in starts if start <= arrived)
        waits[reference] = arrived - max(newsroom.published[reference], started)
    return waits


def late_alerts(newsroom: Newsroom, smtp: SmtpServer, starts: list[float]) -> dict[str, float]:
    waits = wait_after_restart(newsroom, smtp, starts)
    return {reference: wait for reference, wait in waits.items() if wait > LATE_S}
