"""`monitor feeds --check` (docs/design.md §7), the one line and exit code cron and Nagios read:
judged from the stored feeds at the time of the check, whether a daemon runs or not, on a
database it opens read-only and never creates; what it cannot read is UNKNOWN (exit 3)."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.cli import CONFIG_CHECKS, main
from tests.daemon_cli import REPO, poll_all, write_config
from tests.feed_server import FeedServer, rss
from tests.test_end_to_end import BOTANIQUE_ITEM


def check(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--config", str(config), "feeds", "--check"])
    return code, capsys.readouterr().out


def check_process(config: Path) -> subprocess.CompletedProcess[str]:
    """`monitor feeds --check` as cron or Nagios runs it: a process of its own."""
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "feeds", "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


def move_back(config: Path, span: timedelta, *, columns: tuple[str, ...]) -> None:
    """Every stored feed's `columns` moved `span` into the past, as if that time had gone by."""
    from monitor.config import load_config
    from monitor.daemon.runtime import build_runtime
    from monitor.store.tables import feeds

    runtime = build_runtime(load_config(config, checks=CONFIG_CHECKS))
    try:
        with runtime.engine.begin() as connection:
            for row in connection.execute(feeds.select()).all():
                moved = {c: getattr(row, c) - span for c in columns if getattr(row, c) is not None}
                connection.execute(update(feeds).where(feeds.c.id == row.id).values(**moved))
    finally:
        runtime.engine.dispose()


def two_feeds(tmp_path: Path, feed_server: FeedServer) -> Path:
    urls = [feed_server.serve(f"/{n}.xml", rss(str(n), [BOTANIQUE_ITEM])) for n in (1, 2)]
    return write_config(tmp_path, "feeds:\n" + "".join(f"  - url: {url}\n" for url in urls))


def test_feeds_check_exits_0_1_2_for_all_ok_some_failing_none_ok(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    good = feed_server.serve("/good.xml", rss("Bon", [BOTANIQUE_ITEM]))
    bad = feed_server.serve("/bad.xml", "no", status=500)
    config = write_config(tmp_path, f"feeds:\n  - url: {good}\n  - url: {bad}\n")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    # A database the daemon never filled: nothing was polled, which is no reason to be calm.
    assert check(config, capsys) == (
        1,
        "WARNING: no feed polled yet; 2 feeds: 0 ok, 0 failing, 2 not polled yet\n",
    )

    poll_all(config)
    assert check(config, capsys) == (1, "WARNING: 2 feeds: 1 ok, 1 failing\n")

    feed_server.serve("/good.xml", "gone", status=410)
    poll_all(config)
    assert check(config, capsys) == (2, "CRITICAL: 2 feeds: 0 ok, 2 failing\n")

    feed_server.serve("/bad.xml", rss("Réparé", [BOTANIQUE_ITEM]))
    config = write_config(tmp_path, f"feeds:\n  - url: {bad}\n")
    poll_all(config)
    assert check(config, capsys) == (0, "OK: 1 feed: 1 ok, 0 failing\n")


def test_a_feed_the_stale_check_marked_is_a_warning(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from monitor.config import load_config
    from monitor.daemon.runtime import build_runtime
    from monitor.store.tables import feeds

    config = two_feeds(tmp_path, feed_server)
    poll_all(config)
    # As the daemon's stale check marks a feed silent past its stale_after.
    runtime = build_runtime(load_config(config, checks=CONFIG_CHECKS))
    with runtime.engine.begin() as connection:
        first = connection.execute(feeds.select().order_by(feeds.c.id)).first()
        assert first is not None
        connection.execute(
            update(feeds).where(feeds.c.id == first.id).values(stale_since=runtime.clock())
        )
    runtime.engine.dispose()
    assert check(config, capsys) == (1, "WARNING: 2 feeds: 1 ok, 0 failing, 1 stale\n")


def test_a_daemon_stopped_for_64_days_is_critical(tmp_path: Path, feed_server: FeedServer) -> None:
    """The review's case: every time moved back 64 days, nothing marked stale (no daemon ran
    the stale check); the feeds were due two months ago."""
    config = two_feeds(tmp_path, feed_server)
    poll_all(config)
    columns = ("created_at", "last_checked_at", "last_success_at", "last_item_at", "next_check_at")
    move_back(config, timedelta(days=64), columns=columns)
    result = check_process(config)
    assert result.returncode == 2, result
    line = result.stdout.strip()
    assert line.startswith("CRITICAL: no poll since 20"), line
    assert line.endswith(" (64d ago), 2 feeds overdue; 2 feeds: 0 ok, 0 failing, 2 stale")
    assert result.stderr == ""


def test_no_successful_poll_past_stale_after_is_stale_in_the_check_and_the_table(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stale worked out when read, from the last success, not only from the daemon's mark;
    `feeds` counts as `--check` does (each feed polled daily: not overdue)."""
    urls = [feed_server.serve(f"/{n}.xml", rss(str(n), [BOTANIQUE_ITEM])) for n in (1, 2)]
    config = write_config(
        tmp_path,
        "ops:\n  stale_after: 6h\nfeeds:\n"
        + "".join(f"  - url: {url}\n    interval: 1d\n" for url in urls),
    )
    poll_all(config)
    move_back(config, timedelta(hours=7), columns=("last_checked_at", "last_success_at"))
    assert check(config, capsys) == (2, "CRITICAL: 2 feeds: 0 ok, 0 failing, 2 stale\n")
    assert main(["--config", str(config), "feeds"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[-1] == "2 feeds: 0 ok, 0 failing, 2 stale"
    assert sum(line.startswith("ok, stale ") for line in table) == 2


def test_feeds_the_daemon_added_and_never_polled_become_critical(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """A daemon that added its feeds and polled none: a warning at first (it may have just
    started), critical once they are due for longer than twice their interval (10 min)."""
    from monitor.config import load_config
    from monitor.daemon.runtime import build_runtime

    config = two_feeds(tmp_path, feed_server)
    runtime = build_runtime(load_config(config, checks=CONFIG_CHECKS))
    runtime.prepare_database()
    runtime.engine.dispose()
    assert check(config, capsys)[0] == 1
    move_back(config, timedelta(minutes=19), columns=("next_check_at",))
    assert check(config, capsys)[0] == 1
    move_back(config, timedelta(minutes=2), columns=("next_check_at",))
    code, line = check(config, capsys)
    assert code == 2
    # Since they were due (none was ever polled): 21 minutes ago, and the seconds the test took.
    assert re.fullmatch(
        r"CRITICAL: no poll since \S+ \(2[12]m ago\), 2 feeds overdue;"
        r" 2 feeds: 0 ok, 0 failing, 2 not polled yet\n",
        line,
    ), line


def test_no_database_at_the_state_directory_is_unknown_and_none_is_made(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    state = tmp_path / "state"
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"state_dir: {state}\nfeeds:\n  - url: {feed_server.url('/1.xml')}\n", encoding="utf-8"
    )
    result = check_process(config)
    assert (result.returncode, result.stdout) == (
        3,
        f"UNKNOWN: no database at {state}/monitor.db\n",
    )
    assert not state.exists()


def test_a_database_at_another_schema_is_unknown_and_left_alone(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = two_feeds(tmp_path, feed_server)
    sqlite3.connect(tmp_path / "monitor.db").close()  # a file, no tables
    code, out = check(config, capsys)
    assert code == 3
    assert out.startswith("UNKNOWN: the database sqlite:///") and "at schema none" in out
    assert len(out.splitlines()) == 1
    with sqlite3.connect(tmp_path / "monitor.db") as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_configuration_errors_are_unknown_under_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.yaml"
    code, out = check(missing, capsys)
    assert code == 3
    assert out.startswith(f"UNKNOWN: no configuration file at {missing} (given by --config)")
    assert len(out.splitlines()) == 1

    config = write_config(tmp_path, "feeds:\n  - url: ftp://example.org/x\n  - nom: y\n")
    result = check_process(config)
    assert result.returncode == 3, result
    assert result.stdout.startswith(f"UNKNOWN: {config}:")
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == ""
    # Without --check, the same error is a usage error on stderr, as before.
    assert main(["--config", str(config), "feeds"]) == 2
    assert capsys.readouterr().out == ""


def test_the_verdict_at_the_limits() -> None:
    """check_verdict alone: overdue past twice the interval, when that is above 15 minutes."""
    from monitor.daemon.health import FeedLimits, check_verdict
    from monitor.model import FeedStatus
    from monitor.store import FeedHealth

    now = datetime(2025, 3, 1, 12, tzinfo=UTC)
    limits = [FeedLimits(interval=timedelta(hours=1), stale_after=timedelta(days=1))]

    def polled(next_check: timedelta) -> list[FeedHealth]:
        before = now - timedelta(hours=1)
        return [
            FeedHealth(
                "https://example.org/rss", None, None, FeedStatus.OK, None, None, 0,
                before, before, now + next_check, 3,
            )
        ]  # fmt: skip

    assert check_verdict(polled(timedelta(hours=-2)), limits, now)[0] == 0
    code, line = check_verdict(polled(timedelta(hours=-2, seconds=-1)), limits, now)
    assert code == 2
    assert line == (
        "CRITICAL: no poll since 2025-03-01T11:00:00+00:00 (1h ago), 1 feed overdue;"
        " 1 feed: 1 ok, 0 failing"
    )
