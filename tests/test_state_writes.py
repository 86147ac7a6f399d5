"""Feed state writes of polls that stored nothing, batched: all written by the end of a pass, in
few transactions, and a failed batch reported without stopping the others."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, select, update

from monitor.pipeline.state_writes import BatchedStateWrites, StateWrite
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.tables import feeds

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


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


async def in_thread(function: Callable[..., None], /, *args: Any) -> None:
    await asyncio.to_thread(function, *args)


def statuses(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(select(feeds.c.status).order_by(feeds.c.id)).scalars())


def test_every_write_is_recorded_by_drain_in_batches(engine: Engine) -> None:
    transactions = []
    event.listen(engine, "begin", lambda connection: transactions.append(1))

    async def pass_of_ten() -> None:
        writes = BatchedStateWrites(engine, in_thread, batch_size=4)
        for feed_id in range(1, 11):
            writes.add(set_status(feed_id, "not_modified"))
            await asyncio.sleep(0)  # the polls of a pass end one after the other
        await writes.drain()

    asyncio.run(pass_of_ten())
    assert statuses(engine) == ["not_modified"] * 10
    assert 2 <= len(transactions) <= 4  # not one per feed


def test_a_failed_batch_is_reported_and_the_next_ones_are_written(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(connection: Connection) -> None:
        raise RuntimeError("disk I/O error")

    async def two_batches() -> None:
        writes = BatchedStateWrites(engine, in_thread, batch_size=2)
        writes.add(set_status(1, "unchanged"))
        writes.add(broken)  # the first batch, with feed 1's write, is lost
        await writes.drain()
        writes.add(set_status(2, "not_modified"))
        await writes.drain()

    with caplog.at_level(logging.ERROR, logger="monitor.poll"):
        asyncio.run(two_batches())
    assert statuses(engine)[:2] == ["new", "not_modified"]
    assert "feed state of 2 polls not recorded (disk I/O error)" in caplog.text
    assert "polled again when their claim expires" in caplog.text
