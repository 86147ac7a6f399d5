"""`sync_feeds` run by several instances at once (at start, at every reload): they take turns,
insert each feed once, update only what changed, in id order, so that they neither fail on the
unique URL nor deadlock with the feed-state writes of running instances. Real SQLite files and
the real PostgreSQL; the races are arranged with barriers and events, not with timing."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, select, text, update

from monitor.pipeline.state_writes import GroupCommitStateWrites, StateWrite
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.tables import feeds

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
WAIT = 30.0  # seconds: a bound for what should take milliseconds, on a loaded machine
INSTANCES = 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database no instance has migrated yet: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'monitor.db'}"
    return str(request.getfixturevalue("postgres_url"))


def table(engine: Engine) -> list[tuple[str, str | None, bool]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(feeds.c.url, feeds.c.name, feeds.c.active).order_by(feeds.c.url)
        ).all()
    return [(row.url, row.name, row.active) for row in rows]


def all_at_once(url: str, configs: list[list[tuple[str, str | None]]], *, migrate: bool) -> None:
    """One thread per configuration, each its own engine (an instance), released together by a
    barrier to migrate (when `migrate`) and sync; re-raises what any of them raised."""
    barrier = threading.Barrier(len(configs), timeout=WAIT)
    errors: list[BaseException] = []

    def instance(configured: list[tuple[str, str | None]]) -> None:
        engine = open_engine(url)
        try:
            barrier.wait()
            if migrate:
                upgrade(engine)
            with engine.begin() as connection:
                sync_feeds(connection, configured, NOW)
        except BaseException as error:
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=instance, args=(config,)) for config in configs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not any(thread.is_alive() for thread in threads), "an instance hangs"
    if errors:
        raise errors[0]


def shuffled(configured: list[tuple[str, str | None]], seed: int) -> list[tuple[str, str | None]]:
    """The same feeds in another order: each instance walks them differently."""
    copy = list(configured)
    random.Random(seed).shuffle(copy)
    return copy


def test_instances_starting_and_reloading_together_sync_each_feed_once(fresh_url: str) -> None:
    urls = [f"https://presse-{n}.example/rss.xml" for n in range(40)]
    configured: list[tuple[str, str | None]] = [(url, f"Titre {n}") for n, url in enumerate(urls)]
    engine = open_engine(fresh_url)
    # Several processes on one new SQLite file can fail to switch it to WAL at once ("database
    # is locked"): SQLite is for one daemon. There they race the sync alone.
    together = engine.dialect.name == "postgresql"
    if not together:
        upgrade(engine)
    try:
        starts = [shuffled(configured, seed) for seed in range(INSTANCES)]
        all_at_once(fresh_url, starts, migrate=together)
        assert table(engine) == sorted((url, name, True) for url, name in configured)

        # A reload everywhere at once: one feed renamed, one removed, one added.
        reloaded = [(urls[0], "Renommé"), *configured[2:], ("https://neuf.example/rss", None)]
        all_at_once(
            fresh_url, [shuffled(reloaded, seed) for seed in range(INSTANCES)], migrate=False
        )
        expected = sorted(
            [(url, name, True) for url, name in reloaded] + [(urls[1], "Titre 1", False)]
        )
        assert table(engine) == expected
    finally:
        engine.dispose()


def test_sync_feeds_updates_only_the_rows_that_change(engine: Engine) -> None:
    configured: list[tuple[str, str | None]] = [
        (f"https://presse-{n}.example/rss.xml", None) for n in range(5)
    ]
    with engine.begin() as connection:
        sync_feeds(connection, configured, NOW)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", seen)
    with engine.begin() as connection:
        sync_feeds(connection, configured, NOW)  # unchanged: no row written
        assert "UPDATE" not in statements and "INSERT" not in statements
        sync_feeds(connection, [(configured[3][0], "Nommé"), *configured[:3]], NOW)
    event.remove(engine, "before_cursor_execute", seen)
    assert statements.count("UPDATE") == 2  # feed 3 renamed, feed 4 inactive
    names = {url: (name, active) for url, name, active in table(engine)}
    assert names[configured[3][0]] == ("Nommé", True)
    assert names[configured[4][0]] == (None, False)


def waiting_for_a_lock(observer: Engine) -> bool:
    """Whether another session of this PostgreSQL database waits for a lock (a row, an
    advisory lock)."""
    with observer.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


@pytest.mark.postgres
def test_sync_feeds_racing_a_batch_of_state_writes_in_reverse_order_does_not_deadlock(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The polls end in reverse id order. The state writer takes its first row, then holds it
    # until a reload's sync_feeds (another instance renaming every feed) waits for a row: had
    # they taken their rows in different orders, each would now wait for the other.
    running, reloading, observer = (open_engine(postgres_url) for _ in range(3))
    upgrade(running)
    urls = [f"https://presse-{n}.example/rss.xml" for n in range(10)]
    with running.begin() as connection:
        sync_feeds(connection, [(url, None) for url in urls], NOW)
        ids = list(connection.execute(select(feeds.c.id).order_by(feeds.c.id)).scalars())
    first_row_taken = threading.Event()

    def record(feed_id: int) -> StateWrite:
        def write(connection: Connection) -> None:
            connection.execute(
                update(feeds)
                .where(feeds.c.id == feed_id)
                .values(status="not_modified", last_checked_at=NOW)
            )
            if not first_row_taken.is_set():
                first_row_taken.set()
                wait_until(lambda: waiting_for_a_lock(observer))

        return write

    async def in_thread(function: Callable[..., Any], /, *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    async def polls_end() -> None:
        writes = GroupCommitStateWrites(running, in_thread)
        for feed_id in reversed(ids):  # all added before the write starts: one batch
            writes.add(feed_id, record(feed_id))
        await writes.drain()

    sync_errors: list[BaseException] = []

    def reload() -> None:
        try:
            assert first_row_taken.wait(WAIT)
            with reloading.begin() as connection:
                sync_feeds(connection, [(url, f"Renommé {url}") for url in urls], NOW)
        except BaseException as error:
            sync_errors.append(error)

    reloader = threading.Thread(target=reload)
    reloader.start()
    try:
        with caplog.at_level(logging.ERROR, logger="monitor.poll"):
            asyncio.run(polls_end())
    finally:
        reloader.join(WAIT * 2)
    assert not reloader.is_alive()
    assert sync_errors == []
    assert "not recorded" not in caplog.text
    with running.connect() as connection:
        rows = connection.execute(select(feeds.c.status, feeds.c.name, feeds.c.url)).all()
    assert {(row.status, row.name) for row in rows} == {
        ("not_modified", f"Renommé {row.url}") for row in rows
    }
    for engine in (running, reloading, observer):
        engine.dispose()


def test_a_removed_feed_that_comes_back_is_active_again_and_due_as_it_was(engine: Engine) -> None:
    url = "https://presse.example/rss.xml"
    later = NOW + timedelta(hours=1)
    with engine.begin() as connection:
        sync_feeds(connection, [(url, "A")], NOW)
        sync_feeds(connection, [], later)
        sync_feeds(connection, [(url, "A")], later)
        row = connection.execute(select(feeds.c.active, feeds.c.next_check_at)).one()
    assert (row.active, row.next_check_at) == (True, NOW)
