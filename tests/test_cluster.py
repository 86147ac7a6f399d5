"""Three `monitor run` instances on one PostgreSQL database (issue 14's acceptance): started at
the same moment on a new database, 30 loopback feeds (six of them slow publishers) with news
appearing while they run — stories of one feed and wire stories carried by five —, one instance
killed with SIGKILL mid-run and restarted, a real mail server counting what arrives.

Asserted: no instance exits by itself, no traceback in any log, every story alerted once (none
lost, none twice, but for the sends the killed instance had in flight: counted), no feed fetched
twice within its interval (the feed server logs each request's time by path), and every feed the
killed instance held claimed polled again within 60 s of the kill.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select

from monitor.pipeline.dispatch import _SEND_LEASE as SEND_LEASE
from monitor.store.tables import alerts, deliveries, feeds
from tests.daemon_cli import Daemon, mail_daemon_config
from tests.feed_server import FeedServer
from tests.newsroom import _WORDS as WORDS
from tests.newsroom import Newsroom, received
from tests.smtp_server import SmtpServer

REFERENCE = re.compile(r"REF\d{4}X")
FEEDS = 30
SLOW = {f"/fil{n}.xml" for n in range(0, FEEDS, 5)}  # six publishers that answer after SLOW_S
SLOW_S = 2.0
INTERVAL_S = 5
ROUNDS = 6
KILL_AT_ROUND = 2
TAKEN_OVER_S = 60  # the acceptance: a killed instance's feeds polled again this soon
WAIT = 120.0  # seconds: the bound of every wait, for a loaded machine; none is reached


def wait_until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:g} s: {what}"
        time.sleep(0.05)


class Wire(Newsroom):
    """A newsroom whose wire stories appear in five feeds at once, word for word: one story,
    one alert, whichever instances store its copies. Its slow publishers stay slow."""

    def publish_wire(self, first: int) -> tuple[str, list[str]]:
        """The story's reference and the paths of the feeds that carry it."""
        reference = f"REF{len(self.published) + 1:04d}X"
        words = self._random.sample(WORDS, 40)
        paths = [self.paths[feed % FEEDS] for feed in range(first, first + 5)]
        for path in paths:
            self._items[path].insert(
                0,
                {
                    "guid": f"urn:wire:{reference}:{path}",
                    "title": f"OTAN : {' '.join(words[:6])} {reference}",
                    "link": f"https://agence.example.fr/{reference.lower()}{path}",
                    "description": " ".join(words[6:]) + ".",
                    "pubDate": format_datetime(datetime.now(UTC)),
                },
            )
            self._serve(path)
        self.published[reference] = time.monotonic()
        return reference, paths

    def _serve(self, path: str) -> None:
        super()._serve(path)
        if path in SLOW:
            self.server.resources[path].delay = SLOW_S


@pytest.mark.slow
@pytest.mark.postgres
def test_three_instances_share_the_feeds_survive_a_kill_and_lose_nothing(
    tmp_path: Path, postgres_url: str, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    started = time.monotonic()
    news = Wire(feed_server, FEEDS, seed=20261205)
    config = mail_daemon_config(tmp_path, news.urls, smtp.mailto_url(), interval=f"{INTERVAL_S}s")
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(f"sqlite:///{tmp_path / 'monitor.db'}", postgres_url), encoding="utf-8"
    )
    database = create_engine(postgres_url)

    def seeded() -> int:
        with database.connect() as connection:
            query = select(func.count()).where(feeds.c.seeded_at.is_not(None))
            return int(connection.execute(query).scalar_one())

    def claimed_by(pid: int) -> set[str]:
        with database.connect() as connection:
            rows = connection.execute(
                select(feeds.c.url).where(feeds.c.claimed_by.like(f"%/{pid}/%"))
            ).scalars()
            return {url.removeprefix(feed_server.url("")) for url in rows}

    def kill_holding_claims(victim: Daemon) -> set[str]:
        """SIGKILL the victim while it holds claims; the feeds it held. Once it is seen holding
        some, it is frozen (SIGSTOP) while they are read again, so that it cannot release them
        between that read and the kill; frozen only then, so that it polls undisturbed."""
        pid = victim.process.pid
        deadline = time.monotonic() + WAIT
        while True:
            while not claimed_by(pid):
                assert time.monotonic() < deadline, (
                    f"the victim (exit status {victim.process.poll()}) held no claim in"
                    f" {WAIT:g} s; its log:\n" + "\n".join(victim.read_log()[-40:])
                )
                time.sleep(0.02)
            victim.freeze()
            held = claimed_by(pid)
            if held:
                victim.kill()
                return held
            victim.thaw()

    def fetched_since(path: str, since: float) -> bool:
        with feed_server.lock:
            return any(p == path and at > since for at, p in feed_server.request_times)

    def delivered() -> set[str]:
        """Stories mailed, or being sent by the killed instance: its send lease holds them
        past the end of the test (they are sent again, and counted, after it). Not those a
        running instance is sending: one stopped before it sends them gives them back to the
        outbox, unsent (they would go at its next start)."""
        return set(received(smtp.messages)) | killed_sends()

    def killed_sends() -> set[str]:
        # Claimed before the kill: the running instances' claims since then end later.
        return set() if killed_clock is None else sending_references(database, killed_clock)

    daemons = [Daemon(config) for _ in range(3)]  # at the same moment, on a new database
    victim = daemons[0]
    restarted: Daemon | None = None
    held: set[str] = set()
    killed_at = 0.0
    killed_clock: datetime | None = None  # the same moment, on the daemons' clock
    try:
        for daemon in daemons:
            daemon.wait_for("monitor running", timeout=WAIT)
        wait_until(lambda: seeded() == FEEDS, "every feed's first poll")
        for number in range(ROUNDS):
            published_at = time.monotonic()
            _, paths = news.publish_wire(5 * number + 1)
            news.publish(number)
            news.publish()
            if number == KILL_AT_ROUND:
                held = kill_holding_claims(victim)
                killed_at, killed_clock = time.monotonic(), datetime.now(UTC)
                restarted = Daemon(config)
            # The next round once this one's wire copies are polled (those the killed
            # instance held included: taken over when their claims expire).
            wait_until(
                lambda: all(fetched_since(path, published_at) for path in paths),  # noqa: B023
                "the wire story's feeds polled",
            )
        wait_until(
            lambda: all(fetched_since(path, killed_at) for path in held),
            "the killed instance's feeds polled again",
        )
        wait_until(lambda: delivered() >= news.published.keys(), "every story's alert")
        running = [*daemons[1:], restarted]
        assert all(d is not None and d.process.poll() is None for d in running), "one exited"
    finally:
        for daemon in [*daemons, *([restarted] if restarted else [])]:
            daemon.stop()
    in_flight = killed_sends()
    database.dispose()
    logs = [line for daemon in [*daemons, restarted] if daemon for line in daemon.read_log()]
    assert not [line for line in logs if "Traceback" in line or "Violation" in line], logs
    assert not [line for line in logs if "deadlock" in line.lower()], logs

    counts = received(smtp.messages)
    assert set(counts) | in_flight == set(news.published)
    assert {ref: n for ref, n in counts.items() if n > 1} == {}, "an alert sent twice"
    with feed_server.lock:
        requests = list(feed_server.request_times)
    repolled = {
        path: min(at for at, p in requests if p == path and at > killed_at) for path in held
    }
    assert held and max(repolled.values()) - killed_at <= TAKEN_OVER_S, repolled
    early = []
    for path in news.paths:
        times = sorted(at for at, p in requests if p == path)
        early += [
            (path, round(b - a, 1)) for a, b in itertools.pairwise(times) if b - a < INTERVAL_S - 1
        ]
    assert early == [], "a feed fetched twice within its interval"
    print(
        f"cluster: {len(news.published)} stories, {len(held)} feeds taken over within"
        f" {max(repolled.values()) - killed_at:.1f} s of the kill, {len(in_flight)} sends in"
        f" flight, {time.monotonic() - started:.0f} s"
    )


def sending_references(database: Engine, claimed_by: datetime) -> set[str]:
    """The stories whose deliveries are being sent (status `sending`) under a claim made by
    `claimed_by`: its lease ends by then plus the send lease."""
    with database.connect() as connection:
        payloads = connection.execute(
            select(alerts.c.payload)
            .join(deliveries, deliveries.c.alert_id == alerts.c.id)
            .where(
                deliveries.c.status == "sending",
                deliveries.c.lease_until <= claimed_by + SEND_LEASE,
            )
        ).scalars()
        return {ref for payload in payloads for ref in REFERENCE.findall(json.dumps(payload))}
