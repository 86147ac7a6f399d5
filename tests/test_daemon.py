"""`monitor run` as a real process: reload on SIGHUP, refusal of an invalid reload, clean stop."""

from __future__ import annotations

import asyncio
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from monitor.store.tables import deliveries
from tests.daemon_cli import REPO, Daemon
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer, running_smtp_server
from tests.test_end_to_end import OTAN_ITEM


def write(path: Path, feeds: list[str], extra: str = "") -> None:
    feed_lines = "".join(f"  - url: {url}\n    interval: 1s\n" for url in feeds)
    path.write_text(
        f"database: sqlite:///{path.parent / 'monitor.db'}\npoll_tick: 1s\n"
        f"fetch:\n  allow_private_networks: true\n"
        f"channels:\n  terminal:\n    url: console://\n"
        f"feeds:\n{feed_lines}"
        f"watchlists:\n  - name: otan\n    terms: [OTAN]\n{extra}",
        encoding="utf-8",
    )


@pytest.mark.slow
def test_sighup_reloads_and_an_invalid_reload_keeps_running(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    first = feed_server.serve("/a.xml", rss("A", []))
    second = feed_server.serve("/b.xml", rss("B", []))
    config = tmp_path / "monitor.yaml"
    write(config, [first])
    daemon = Daemon(config)
    try:
        daemon.wait_for("monitor running: 1 feed,")

        config.write_text("watchlist: []\n", encoding="utf-8")
        daemon.process.send_signal(signal.SIGHUP)
        refused = daemon.wait_for("reload refused")
        assert f"{config}:1: watchlist: unknown key" in refused

        # A reload makes the checks of the first load, those of the matcher among them.
        config.write_text("watchlists:\n  - name: w\n    query: a NEAR/ b\n", encoding="utf-8")
        daemon.process.send_signal(signal.SIGHUP)
        refused = daemon.wait_for("reload refused")
        assert f"{config}:3: watchlists[0].query: position 3: expected a number" in refused

        write(config, [first, second])
        daemon.process.send_signal(signal.SIGHUP)
        daemon.wait_for("configuration reloaded")
        deadline = time.monotonic() + 20
        while "/b.xml" not in feed_server.requests and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "/b.xml" in feed_server.requests
    finally:
        status = daemon.stop()
    assert status == 0
    remaining = daemon.log + list(daemon.lines.queue)
    assert any("monitor stopped" in line for line in remaining)


def test_the_daemon_refuses_to_start_on_an_invalid_configuration(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds:\n  - url: ftp://example.org/rss\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"{config}:2: feeds[0].url:" in result.stderr


@pytest.mark.slow
def test_sigterm_lets_the_poll_in_flight_finish(tmp_path: Path, feed_server: FeedServer) -> None:
    slow = feed_server.serve("/slow.xml", rss("Lent", []), delay=2.0)
    waiting = [feed_server.serve(f"/after{n}.xml", rss("Après", [])) for n in range(3)]
    config = tmp_path / "monitor.yaml"
    # One fetch at a time: the slow feed first, the others behind it.
    write(config, [slow, *waiting])
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("fetch:\n", "fetch:\n  max_connections: 1\n"), "utf-8")
    daemon = Daemon(config)
    daemon.wait_for("monitor running")
    deadline = time.monotonic() + 10
    while "/slow.xml" not in feed_server.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert daemon.stop() == 0
    stderr = "\n".join(daemon.log) + "\n" + "\n".join(iter_queue(daemon.lines))
    assert "finishing 1 jobs in flight" in stderr
    assert "CancelledError" not in stderr and "Traceback" not in stderr
    # The slow feed's poll ended and was recorded; the ones behind it were not started.
    assert feed_server.requests.count("/slow.xml") == 1
    assert not any(path.startswith("/after") for path in feed_server.requests)
    report = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "feeds", "--json"],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    assert '"status": "ok"' in report.stdout.splitlines()[0]


def iter_queue(lines: queue.Queue[str]) -> list[str]:
    drained = []
    while True:
        try:
            drained.append(lines.get(timeout=0.5))
        except queue.Empty:
            return drained


def test_a_reload_that_changes_the_fetch_policy_gets_a_client_built_for_it(tmp_path: Path) -> None:
    # The client's connection gate is built from the fetch policy: a reload that changes the
    # policy must not leave the polls on a client built for the old one.
    from monitor.cli import CONFIG_CHECKS
    from monitor.config import load_config
    from monitor.daemon.runtime import build_runtime
    from monitor.daemon.service import _PolicyClient

    config = tmp_path / "monitor.yaml"
    settings = f"database: sqlite:///{tmp_path / 'monitor.db'}\nfetch:\n  user_agent: {{}}\n"
    config.write_text(settings.format("first/1.0"), encoding="utf-8")
    runtime = build_runtime(load_config(config, checks=CONFIG_CHECKS))
    runtime.prepare_database()
    clients = _PolicyClient(runtime)

    async def reload_twice() -> None:
        first, first_policy = await clients.current()
        runtime.reconfigure(load_config(config, checks=CONFIG_CHECKS))
        assert await clients.current() == (first, first_policy)  # the same policy, client
        config.write_text(settings.format("second/2.0"), encoding="utf-8")
        runtime.reconfigure(load_config(config, checks=CONFIG_CHECKS))
        second, second_policy = await clients.current()
        assert first.is_closed and not second.is_closed
        assert second.headers["User-Agent"] == second_policy.user_agent == "second/2.0"
        await clients.aclose()
        assert second.is_closed

    asyncio.run(reload_twice())


def write_mail_config(directory: Path, url: str, smtp: SmtpServer) -> Path:
    """One feed polled every second, alerts on OTAN to the mail channel `redaction`."""
    config = directory / "monitor.yaml"
    config.write_text(
        f"database: sqlite:///{directory / 'monitor.db'}\npoll_tick: 1s\n"
        "fetch:\n  allow_private_networks: true\n"
        f"channels:\n  redaction:\n    url: {smtp.mailto_url()}\n"
        f"feeds:\n  - url: {url}\n    interval: 1s\n"
        "watchlists:\n  - name: otan\n    terms: [OTAN]\n",
        encoding="utf-8",
    )
    return config


def stored_deliveries(directory: Path) -> list[Any]:
    """The deliveries the daemon's database holds, read after it stopped."""
    engine = create_engine(f"sqlite:///{directory / 'monitor.db'}")
    with engine.connect() as connection:
        rows = connection.execute(select(deliveries)).all()
    engine.dispose()
    return list(rows)


@pytest.mark.slow
def test_a_channel_that_keeps_the_daemon_waiting_does_not_hold_polling(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # The mail server answers the alert only after the feed has been polled twice more: a
    # poll that waited for the send would never get there, and the send would time out.

    url = feed_server.serve("/fil.xml", rss("Le Fil", []))
    with running_smtp_server() as smtp:
        config = write_mail_config(tmp_path, url, smtp)
        daemon = Daemon(config)
        try:
            daemon.wait_for("first poll stored 0 items")
            polled = feed_server.requests.count("/fil.xml")
            # The poll that finds the item alerts; two more must happen while the send waits.
            smtp.release_when = lambda: feed_server.requests.count("/fil.xml") >= polled + 3
            feed_server.serve("/fil.xml", rss("Le Fil", [OTAN_ITEM]))
            daemon.wait_for("sent to redaction", timeout=60)
        finally:
            assert daemon.stop() == 0
    assert len(smtp.messages) == 1
    # Sent at the first try: no timeout while the polls went on.
    assert [(row.status, row.attempts) for row in stored_deliveries(tmp_path)] == [("sent", 1)]


@pytest.mark.slow
def test_a_send_in_flight_when_the_daemon_is_killed_goes_out_at_the_restart(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # SIGKILL while the mail server holds the message: the restarted daemon sends it again at
    # once (its send lease is five minutes), and counts it as a resend.

    url = feed_server.serve("/fil.xml", rss("Le Fil", []))
    with running_smtp_server() as smtp:
        config = write_mail_config(tmp_path, url, smtp)
        smtp.release_when = lambda: smtp.data_attempts >= 2  # the first send is held
        first = Daemon(config)
        try:
            first.wait_for("first poll stored 0 items")
            feed_server.serve("/fil.xml", rss("Le Fil", [OTAN_ITEM]))
            deadline = time.monotonic() + 60
            while smtp.data_attempts < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert smtp.data_attempts == 1, "the alert never reached the mail server"
        finally:
            first.process.kill()
            first.process.wait(timeout=30)
        second = Daemon(config)
        try:
            second.wait_for("sending them again now")
            second.wait_for("sent to redaction", timeout=60)
        finally:
            assert second.stop() == 0
    assert 1 <= len(smtp.messages) <= 2  # the held one may arrive too: at least once
    assert [(row.status, row.resends) for row in stored_deliveries(tmp_path)] == [("sent", 1)]


@pytest.mark.slow
def test_feeds_a_killed_daemon_claimed_are_polled_at_the_restart(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # SIGKILL while one slow feed holds the only fetch slot: it and the next feed were claimed
    # (a batch of two per fetch worker), for a lease; the restarted daemon polls them at once.
    slow = feed_server.serve("/slow.xml", rss("Lent", []), delay=30.0)
    waiting = [feed_server.serve(f"/after{n}.xml", rss("Après", [])) for n in range(3)]
    config = tmp_path / "monitor.yaml"
    write(config, [slow, *waiting])
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("fetch:\n", "fetch:\n  max_connections: 1\n"), "utf-8")
    first = Daemon(config)
    try:
        first.wait_for("monitor running")
        deadline = time.monotonic() + 60
        while "/slow.xml" not in feed_server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "/slow.xml" in feed_server.requests
    finally:
        first.process.kill()
        first.process.wait(timeout=30)
    assert not any(path.startswith("/after") for path in feed_server.requests)
    feed_server.serve("/slow.xml", rss("Lent", []))  # answers at once from now on
    second = Daemon(config)
    try:
        second.wait_for("2 feeds the last run took were not polled: polling them now")
        deadline = time.monotonic() + 60
        while len({p for p in feed_server.requests if p.startswith("/after")}) < 3:
            assert time.monotonic() < deadline, feed_server.requests
            time.sleep(0.05)
    finally:
        assert second.stop() == 0


def test_a_kick_while_the_job_runs_runs_it_once_more_right_after() -> None:
    # Alerts a poll writes while a dispatch pass ends its last claim must not wait for the
    # next tick; a poll pass longer than the tick is followed at once, not skipped.
    from monitor.daemon.service import _OneAtATime

    async def scenario() -> list[str]:
        runs: list[str] = []
        first_may_end = asyncio.Event()
        in_flight: set[asyncio.Task[Any]] = set()

        async def job() -> None:
            runs.append("run")
            if len(runs) == 1:
                await first_may_end.wait()

        one_at_a_time = _OneAtATime(job, in_flight, asyncio.Event())
        one_at_a_time.kick()
        await asyncio.sleep(0)
        for _ in range(3):  # three kicks during the run: one more run, not three
            one_at_a_time.kick()
        assert runs == ["run"] and len(in_flight) == 1
        first_may_end.set()
        await asyncio.gather(*in_flight)
        return runs

    assert asyncio.run(scenario()) == ["run", "run"]


def test_a_failing_job_is_logged_and_runs_again_at_the_next_kick(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from monitor.daemon.service import _OneAtATime

    async def scenario() -> int:
        calls = 0

        async def broken() -> None:
            nonlocal calls
            calls += 1
            raise RuntimeError("database is locked")

        in_flight: set[asyncio.Task[Any]] = set()
        one_at_a_time = _OneAtATime(broken, in_flight, asyncio.Event())
        for _ in range(2):
            one_at_a_time.kick()
            await asyncio.gather(*in_flight)
        return calls

    assert asyncio.run(scenario()) == 2
    assert "broken failed; will run again at the next tick" in caplog.text
