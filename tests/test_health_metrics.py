"""Health and metrics (docs/design.md §9): `monitor run` with `http.listen` on loopback serves
/healthz and /metrics; `feeds --check` gives cron and Nagios an exit code; systemd's STATUS=
carries a one-line summary."""

from __future__ import annotations

import contextlib
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor.cli import CONFIG_CHECKS, main
from tests.daemon_cli import REPO, Daemon, write_config
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import BOTANIQUE_ITEM, OTAN_ITEM

DEADLINE = 60.0


def get(url: str) -> tuple[int, str]:
    """The status and body of a GET, errors included (a 503 is an answer here)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics parsed by prometheus-client's own parser: value by (sample name, labels)."""
    status, text = get(url)
    assert status == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def wait_until(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        time.sleep(0.05)


@pytest.fixture
def notify_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    """A datagram socket standing for systemd's: NOTIFY_SOCKET for the daemons started now."""
    directory = tempfile.mkdtemp(prefix="monitor-notify-")  # short: AF_UNIX paths are limited
    path = str(Path(directory) / "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(0.2)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    try:
        yield listener
    finally:
        listener.close()
        Path(path).unlink(missing_ok=True)
        Path(directory).rmdir()


def notified(listener: socket.socket, seen: list[str], wanted: str) -> bool:
    """Reads what arrived; whether a message has `wanted` now."""
    with contextlib.suppress(TimeoutError):
        seen.append(listener.recv(4096).decode("utf-8"))
    return any(wanted in message for message in seen)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_daemon_serves_health_and_metrics_and_reports_a_database_gone(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpServer,
    postgres_url: str,
    notify_socket: socket.socket,
) -> None:
    feed = feed_server.serve("/presse.xml", rss("Presse", [BOTANIQUE_ITEM]))
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"database: {postgres_url}\npoll_tick: 1s\n"
        "fetch:\n  allow_private_networks: true\n"
        "http:\n  listen: 127.0.0.1:0\n"
        f"channels:\n  redaction:\n    url: {smtp.mailto_url()}\n"
        f"feeds:\n  - url: {feed}\n    interval: 1s\n"
        "watchlists:\n  - name: otan\n    terms: [OTAN]\n",
        encoding="utf-8",
    )
    daemon = Daemon(config)
    try:
        line = daemon.wait_for("serving /healthz and /metrics", timeout=DEADLINE)
        port = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert port is not None, line
        base = f"http://127.0.0.1:{port.group(1)}"
        wait_until(lambda: get(f"{base}/healthz") == (200, "ok\n"), "/healthz 200")
        assert get(f"{base}/nothing")[0] == 404

        # The first poll stores the backlog silently; systemd hears how things are.
        seen: list[str] = []
        wait_until(
            lambda: notified(notify_socket, seen, "STATUS=1 feed: 1 ok, 0 failing; 0 alerts"),
            f"STATUS= after the first poll; got {seen}",
        )
        assert "READY=1" in seen
        # Then an item for the watchlist: one alert, one mail.
        feed_server.serve("/presse.xml", rss("Presse", [OTAN_ITEM, BOTANIQUE_ITEM]))
        wait_until(lambda: len(smtp.messages) == 1, "the alert's mail")
        # Then the feed is gone: dead, checked daily, so the count of polls stops.
        feed_server.serve("/presse.xml", "gone", status=410)

        def metric(name: str, **labels: str) -> float:
            return values.get((name, tuple(sorted(labels.items()))), 0.0)

        def settled() -> bool:
            nonlocal values
            values = samples(f"{base}/metrics")
            return (
                metric("monitor_polls_total", status="dead") == 1
                and metric("monitor_deliveries_total", outcome="sent") == 1
                # A poll is counted when it ends, its feed's state stored by the next group
                # commit: the gauges read from the store see it a moment later.
                and metric("monitor_feeds_failing") == 1
            )

        values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        wait_until(settled, "the dead feed's poll and the delivery counted")
        polls = feed_server.requests.count("/presse.xml")
        assert polls >= 3
        counted = {
            labels[0][1]: value
            for (name, labels), value in values.items()
            if name == "monitor_polls_total"
        }
        assert sum(counted.values()) == polls
        assert counted["ok"] == 2  # the backlog, then the document with the new item
        assert metric("monitor_fetch_duration_seconds_count") == polls
        assert metric("monitor_new_items_total") == 2
        assert metric("monitor_alerts_created_total") == 1
        assert metric("monitor_deliveries_total", outcome="retry") == 0
        assert metric("monitor_deliveries_total", outcome="failed") == 0
        assert metric("monitor_match_seconds_count") == 1  # only the new item is matched
        assert metric("monitor_fold_seconds_count") == 2
        assert metric("monitor_deliveries_pending") == 0
        assert metric("monitor_oldest_pending_delivery_age_seconds") == 0
        assert metric("monitor_feeds_failing") == 1
        assert metric("monitor_feeds") == 1
        wait_until(
            lambda: notified(notify_socket, seen, "STATUS=1 feed: 0 ok, 1 failing; 0 alerts"),
            f"STATUS= once the feed is dead; got {seen}",
        )

        # The database goes away: /healthz says so, /metrics still answers.
        _refuse_connections(postgres_url)
        reply: list[tuple[int, str]] = []
        wait_until(
            lambda: reply.append(get(f"{base}/healthz")) or reply[-1][0] == 503,
            f"/healthz 503; got {reply[-1:]}",
        )
        _, body = reply[-1]
        assert body.startswith("the database does not answer: ")
        assert "not currently accepting connections" in body
        assert len(body.strip().splitlines()) == 1
        assert ("monitor_alerts_created_total", ()) in samples(f"{base}/metrics")
    finally:
        assert daemon.stop() == 0
    assert not any("Traceback" in line for line in daemon.read_log())


def _refuse_connections(url: str) -> None:
    """The test's database refuses new connections, and those open are ended."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
    finally:
        admin.dispose()


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, f"http:\n  listen: 127.0.0.1:{port}\n")
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=REPO,
        )
    assert result.returncode == 1
    assert f"error: http.listen 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("listen", "problem"),
    [
        ("9464", "expected host:port such as 127.0.0.1:9464, got '9464'"),
        ("127.0.0.1:http", "expected host:port such as 127.0.0.1:9464, got '127.0.0.1:http'"),
        ("127.0.0.1:70000", "got '127.0.0.1:70000'"),
    ],
)
def test_http_listen_must_be_host_and_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], listen: str, problem: str
) -> None:
    config = write_config(tmp_path, f"http:\n  listen: '{listen}'\n")
    assert main(["--config", str(config), "check-config"]) == 2
    error = capsys.readouterr().err
    assert f"{config}:6: http.listen: " in error
    assert problem in error


def test_check_config_shows_the_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "http:\n  listen: '[::1]:9464'\n")
    assert main(["--config", str(config), "check-config"]) == 0
    assert "Health and metrics: http://[::1]:9464/healthz and /metrics" in capsys.readouterr().out


def test_metrics_count_story_folds_by_layer_and_deliveries_by_outcome(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    """The poller's observer and the dispatcher's report, in one pass as the daemon runs it."""
    import asyncio

    from monitor.config import load_config
    from monitor.daemon.metrics import Metrics
    from monitor.daemon.runtime import build_runtime

    urls = [feed_server.serve(f"/{n}.xml", rss(str(n), [])) for n in (1, 2)]
    config = write_config(
        tmp_path,
        "feeds:\n"
        + "".join(f"  - url: {url}\n" for url in urls)
        + f"channels:\n  redaction:\n    url: {smtp.mailto_url()}\n"
        + "watchlists:\n  - name: otan\n    terms: [OTAN]\n",
    )
    runtime = build_runtime(load_config(config, checks=CONFIG_CHECKS))
    metrics = Metrics(runtime.vitals)

    async def poll() -> None:
        policy = runtime.fetch_policy
        async with runtime.http_client(policy) as client, runtime.feed_parser() as parser:
            await runtime.poller(client, parser, policy, metrics).poll_due(all_feeds=True)

    def value(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    try:
        runtime.prepare_database()
        asyncio.run(poll())  # both seeded, empty
        for url in urls:  # the same wire story in both outlets
            feed_server.serve(url.removeprefix(feed_server.url("")), rss("x", [OTAN_ITEM]))
        asyncio.run(poll())
        assert value("monitor_new_items_total") == 2
        assert value("monitor_story_folds_total", layer="same_text") == 1
        assert value("monitor_alerts_created_total") == 1  # one story, one alert
        assert value("monitor_deliveries_pending") == 1
        metrics.dispatched(runtime.dispatcher().dispatch_due())
        assert value("monitor_deliveries_total", outcome="sent") == 1
        assert value("monitor_deliveries_pending") == 0
        assert value("monitor_polls_total", status="ok") == 4
        assert value("monitor_feeds_failing") == 0
    finally:
        runtime.engine.dispose()
    assert len(smtp.messages) == 1


def test_health_names_what_is_wrong(tmp_path: Path) -> None:
    """The reasons /healthz gives before the scheduler runs, when its heartbeat is old, and
    while stopping; the database's answer otherwise."""
    from monitor.config import load_config
    from monitor.daemon.runtime import build_runtime
    from monitor.daemon.service import Service

    runtime = build_runtime(load_config(write_config(tmp_path, ""), checks=CONFIG_CHECKS))
    service = Service(runtime)
    try:
        assert service.health() == "starting: the scheduler has not run yet"
        service._heartbeat = time.monotonic()
        assert service.health() is None
        service._heartbeat = time.monotonic() - 125
        assert service.health() == "the scheduler's last heartbeat was 125 s ago"
        service.stop()
        assert service.health() == "stopping"
    finally:
        runtime.engine.dispose()


def test_an_ipv6_listen_address_is_served() -> None:
    import socket
    import urllib.request

    from prometheus_client import CollectorRegistry

    from monitor.config.schema import listen_address
    from monitor.daemon.http import HealthServer

    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6")
    try:
        server = HealthServer(listen_address("[::1]:0"), CollectorRegistry(), lambda: None)
    except Exception as error:  # a machine without ::1
        pytest.skip(f"no IPv6 loopback here: {error}")
    server.start()
    try:
        with urllib.request.urlopen(f"http://[::1]:{server.port}/healthz", timeout=30) as answer:
            assert (answer.status, answer.read()) == (200, b"ok\n")
    finally:
        server.stop()


def test_a_listen_port_in_other_digits_is_refused() -> None:
    from monitor.config.schema import listen_address

    with pytest.raises(ValueError, match="expected host:port"):
        listen_address("127.0.0.1:\u0663")  # ARABIC-INDIC DIGIT THREE


def test_health_says_when_poll_passes_stop_ending_while_feeds_are_due(tmp_path: Path) -> None:
    """On SQLite, `SELECT 1` on the pool's connection hardly ever fails: /healthz also says when
    no poll pass has ended for 10 ticks (at least 5 minutes) while feeds are due. A real SQLite
    file; the pass times set on the service, as the heartbeat's are above, so nothing waits."""
    from sqlalchemy import update

    from monitor.config import load_config
    from monitor.daemon.runtime import build_runtime
    from monitor.daemon.service import Service
    from monitor.store.tables import feeds

    config = write_config(tmp_path, "poll_tick: 15s\nfeeds:\n  - url: http://127.0.0.1:9/rss\n")
    runtime = build_runtime(load_config(config, checks=CONFIG_CHECKS))
    service = Service(runtime)
    try:
        runtime.prepare_database()  # the feed is added, due now
        now = time.monotonic()
        service._heartbeat = now
        service._polled = now - 240  # past 10 ticks of 15 s, not yet 5 minutes
        assert service.health() is None
        service._polled = now - 360
        reason = service.health()
        assert reason is not None
        assert re.fullmatch(
            r"no poll pass has completed for 6m( \d+s)? while 1 feed is due", reason
        )
        with runtime.engine.begin() as connection:  # a long pass holds it claimed: not due
            connection.execute(
                update(feeds).values(next_check_at=runtime.clock() + timedelta(minutes=10))
            )
        assert service.health() is None
    finally:
        runtime.engine.dispose()


def test_stalled_polling_counts_ticks_and_minutes() -> None:
    from monitor.daemon.health import stalled_polling

    def due() -> int:
        return 3

    minute = timedelta(minutes=1)
    assert stalled_polling(5 * minute, timedelta(seconds=15), due) is None
    assert stalled_polling(5 * minute + timedelta(seconds=1), timedelta(seconds=15), due) == (
        "no poll pass has completed for 5m 1s while 3 feeds are due"
    )
    assert stalled_polling(10 * minute, minute, due) is None  # 10 ticks of a minute
    assert stalled_polling(11 * minute, minute, due) is not None
    assert stalled_polling(11 * minute, minute, lambda: 0) is None
