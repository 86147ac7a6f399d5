"""Shared fixtures: real loopback servers, real databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import Engine

from monitor.store.database import open_engine, upgrade
from tests.feed_server import FeedServer, running_feed_server
from tests.smtp_server import SmtpServer, running_smtp_server

# The `https_loopback` fixture: Slack and Telegram answered on loopback (tests/https_loopback.py).
pytest_plugins = ("tests.https_loopback",)

SHARED = Path(__file__).resolve().parents[2] / "shared"
POSTGRES_URL = os.environ.get(
    "MONITOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with running_feed_server() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards. Skips with the reason
    when no server is reachable (a user's machine may have none)."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install '.[postgres]')")
    from sqlalchemy.engine import make_url

    admin_url = make_url(POSTGRES_URL)
    try:
        admin = sqlalchemy.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as error:
        pytest.skip(
            f"PostgreSQL unreachable at {admin_url.render_as_string(hide_password=True)}: "
            f"{str(error).splitlines()[0]}"
        )
    name = f"monitor_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Every storage test runs on a SQLite file and on the real PostgreSQL."""
    if request.param == "sqlite":
        (tmp_path / "state").mkdir()
        url = f"sqlite:///{tmp_path / 'state' / 'monitor.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = open_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def travel() -> Iterator[time_machine.Coordinates]:
    """A controlled clock, stopped (it moves only when the test moves it), starting on
    10 November 2026 at 08:30 in Paris."""
    start = datetime(2026, 11, 10, 8, 30, tzinfo=ZoneInfo("Europe/Paris"))
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _own_state_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the user's state directory (~/.local/state/monitor, where a
    configuration without `database:` keeps its database): a database left there by another
    checkout, at another schema, would fail a test that never meant to use it. Subprocesses
    inherit the variable."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state-home")))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
