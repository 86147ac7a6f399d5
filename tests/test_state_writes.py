"""Feed state writes of polls that stored nothing, by group commit: each written as its poll
ends (not at the end of the pass), those that arrive during a write together in the next one,
and a failed write reported without stopping the others."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, select, update

from monitor.pipeline.state_writes import GroupCommitStateWrites, StateWrite
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.tables import feeds
from tests.daemon_cli import poll_all, write_config
from tests.feed_server import FeedServer, rss

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
WAIT = 30.0  # seconds: a bound for what should take milliseconds, on a loaded machine


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = open_engine(f"sqlite:///{tmp_path / 'monitor.db'}")
    upgrade(engine)
    with engine.begin() as connection:
        sync_feeds(connection, [(f"https://example.org/{n}.xml", None) for n in range(10)], NOW)
    return engine


def set_status(feed_id: int, status: str) -> StateWrite:
    def write(connection: Connection) -> None:
        connection.execute(
            update(feeds).where(feeds.c.id == feed_id).values(status=status, last_checked_at=NOW)
        )

    return write


async def in_thread(function: Callable[..., Any], /, *args: Any) -> Any:
    return await asyncio.to_thread(function, *args)


def statuses(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(feeds.c.status).order_by(feeds.c.id)).scalars())


def count_transactions(engine: Engine) -> list[int]:
    """Transactions begun from now on (a read begins one too)."""
    transactions: list[int] = []
    event.listen(engine, "begin", lambda connection: transactions.append(1))
    return transactions


async def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_a_state_is_written_without_waiting_for_drain(engine: Engine) -> None:
    async def one_poll_ends() -> None:
        writes = GroupCommitStateWrites(engine, in_thread)
        writes.add(3, set_status(3, "not_modified"))
        # The pass goes on (no drain): the state is written meanwhile.
        await wait_until(lambda: statuses(engine)[2] == "not_modified")
        await writes.drain()

    asyncio.run(one_poll_ends())


def test_states_that_arrive_during_a_write_go_together_in_the_next(engine: Engine) -> None:
    transactions = count_transactions(engine)
    first_started, first_may_end = threading.Event(), threading.Event()

    def slow_first(connection: Connection) -> None:
        set_status(1, "not_modified")(connection)
        first_started.set()
        assert first_may_end.wait(WAIT)

    async def pass_of_ten() -> None:
        writes = GroupCommitStateWrites(engine, in_thread)
        writes.add(1, slow_first)
        await wait_until(first_started.is_set)
        for feed_id in range(2, 11):  # nine polls end while the first write runs
            writes.add(feed_id, set_status(feed_id, "unchanged"))
            await asyncio.sleep(0)
        first_may_end.set()
        await writes.drain()

    asyncio.run(pass_of_ten())
    assert len(transactions) == 2
    assert statuses(engine) == ["not_modified"] + ["unchanged"] * 9


def test_a_batch_holds_at_most_max_batch_states(engine: Engine) -> None:
    transactions = count_transactions(engine)

    async def ten_at_once() -> None:
        writes = GroupCommitStateWrites(engine, in_thread, max_batch=4)
        for feed_id in range(1, 11):
            writes.add(feed_id, set_status(feed_id, "not_modified"))
        await writes.drain()

    asyncio.run(ten_at_once())
    assert len(transactions) == 3  # 4 + 4 + 2
    assert statuses(engine) == ["not_modified"] * 10


def test_a_failed_write_is_reported_and_the_next_ones_are_written(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(connection: Connection) -> None:
        raise RuntimeError("disk I/O error")

    async def two_writes() -> None:
        writes = GroupCommitStateWrites(engine, in_thread)
        writes.add(1, set_status(1, "unchanged"))
        writes.add(1, broken)  # in the same transaction as feed 1's write: both lost
        await writes.drain()
        writes.add(2, set_status(2, "not_modified"))
        await writes.drain()

    with caplog.at_level(logging.ERROR, logger="monitor.poll"):
        asyncio.run(two_writes())
    assert statuses(engine)[:2] == ["new", "not_modified"]
    assert "feed state of 2 polls not recorded (disk I/O error)" in caplog.text
    assert "polled again when their claim expires" in caplog.text


def test_a_feed_state_is_recorded_while_the_pass_still_runs(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # The second pass: the quick feed answers 304 at once, the held one only once the quick
    # feed's state is in the database. Recorded at the end of the pass, it never would be.
    quick = feed_server.serve("/quick.xml", rss("Vite", []))
    held = feed_server.serve("/held.xml", rss("Retenu", []))
    config = write_config(tmp_path, f"feeds:\n  - url: {quick}\n  - url: {held}\n")
    assert poll_all(config) == 0  # seeds both

    def quick_recorded() -> bool:
        # A reader of its own: WAL lets it read while the poller writes.
        with sqlite3.connect(tmp_path / "monitor.db", timeout=WAIT) as database:
            [status] = database.execute(
                "SELECT status FROM feeds WHERE url = ?", (quick,)
            ).fetchone()
        return bool(status == "not_modified")

    feed_server.resources["/held.xml"].release_when = quick_recorded
    assert poll_all(config) == 0
    assert feed_server.resources["/held.xml"].released is True
