"""Feed claims (monitor/store/claims.py, monitor/pipeline/claims.py): bounded batches with an
owner and an expiry, renewed while held; a late writer is refused and its items are not taken
for a first poll's backlog; whether a feed is seeded is read when the result is written. Real
SQLite files and the real PostgreSQL, a real loopback feed server, real parse processes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select, update

from monitor.config import load_config
from monitor.daemon.runtime import Runtime, build_runtime
from monitor.model import FeedStatus, PollOutcome
from monitor.pipeline.claims import CLAIM_LEASE, PassClaims
from monitor.store.claims import (
    claim_due_feeds,
    drop_feed_claims,
    hold_feed_claim,
    renew_feed_claims,
)
from monitor.store.feeds import record_poll, sync_feeds
from monitor.store.tables import alerts, feeds, items
from tests.feed_server import FeedServer, rss
from tests.test_store import _migrate

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
LEASE = timedelta(seconds=45)
WAIT = 30.0  # seconds: a bound for what should take milliseconds, on a loaded machine


def five_feeds(engine: Engine) -> None:
    with engine.begin() as connection:
        sync_feeds(connection, [(f"http://{n}.test/rss", None) for n in range(5)], NOW)


def claims(engine: Engine) -> list[tuple[str | None, datetime | None, datetime]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(feeds.c.claimed_by, feeds.c.claimed_until, feeds.c.next_check_at).order_by(
                feeds.c.id
            )
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_due_feeds_are_claimed_in_bounded_batches_by_an_owner(engine: Engine) -> None:
    five_feeds(engine)
    with engine.begin() as connection:
        first = claim_due_feeds(connection, NOW, LEASE, owner="a", limit=2)
        rest = claim_due_feeds(connection, NOW, LEASE, owner="b", limit=10)
        none = claim_due_feeds(connection, NOW, LEASE, owner="c", limit=10)
    assert (len(first), len(rest), none) == (2, 3, [])
    owners = [owner for owner, _, _ in claims(engine)]
    assert sorted(owners) == ["a", "a", "b", "b", "b"]
    # A claim is not the schedule: the feeds stay due when they were.
    assert {(until, due) for _, until, due in claims(engine)} == {(NOW + LEASE, NOW)}


def test_an_expired_claim_is_taken_and_the_late_writer_is_refused(engine: Engine) -> None:
    five_feeds(engine)
    with engine.begin() as connection:
        (feed,) = claim_due_feeds(connection, NOW, LEASE, owner="a", limit=1)
        assert claim_due_feeds(connection, NOW + LEASE - timedelta(seconds=1), LEASE, limit=9)
        # Instance a went silent: past its lease, b takes the feed.
        later = NOW + LEASE + timedelta(seconds=1)
        (taken,) = claim_due_feeds(connection, later, LEASE, owner="b", limit=1)
        assert taken.id == feed.id
        assert hold_feed_claim(connection, feed.id, "a") is None
        assert hold_feed_claim(connection, feed.id, "b") is False  # not seeded yet
        polled = PollOutcome(feed.url, FeedStatus.OK, later, later + timedelta(minutes=10))
        assert record_poll(connection, feed.id, polled, owner="a") is False
        row = connection.execute(select(feeds).where(feeds.c.id == feed.id)).one()
        assert (row.claimed_by, row.seeded_at, row.status) == ("b", None, "new")
        assert record_poll(connection, feed.id, polled, owner="b") is True
        row = connection.execute(select(feeds).where(feeds.c.id == feed.id)).one()
    assert (row.claimed_by, row.claimed_until, row.seeded_at) == (None, None, later)
    assert row.next_check_at == later + timedelta(minutes=10)


def test_renewed_claims_hold_and_dropped_ones_are_due_at_once(engine: Engine) -> None:
    five_feeds(engine)
    with engine.begin() as connection:
        held = [f.id for f in claim_due_feeds(connection, NOW, LEASE, owner="a", limit=3)]
        assert renew_feed_claims(connection, "a", held, NOW + 2 * LEASE) == 3
        assert renew_feed_claims(connection, "b", held, NOW + 3 * LEASE) == 0  # not b's
        # Past the first lease, within the renewed one: only the two never claimed are free.
        assert len(claim_due_feeds(connection, NOW + LEASE, LEASE, owner="b", limit=9)) == 2
        assert drop_feed_claims(connection, "a", held[:1]) == 1
        (again,) = claim_due_feeds(connection, NOW + LEASE, LEASE, owner="c", limit=9)
    assert again.id == held[0]


def test_a_pass_renews_its_claims_until_it_ends(engine: Engine) -> None:
    five_feeds(engine)

    async def in_thread(function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    def until() -> set[datetime | None]:
        return {until for owner, until, _ in claims(engine) if owner == "a"}

    async def scenario() -> None:
        clock = [NOW]
        pass_claims = PassClaims(
            engine, "a", in_thread, lambda: clock[0], lease=timedelta(seconds=0.3)
        )
        claimed = await pass_claims.claim(2)
        pass_claims.done(claimed[1].id)  # polled: no longer renewed
        clock[0] = NOW + timedelta(hours=1)
        renewing = asyncio.ensure_future(pass_claims.keep_renewed())
        deadline = asyncio.get_running_loop().time() + WAIT
        while NOW + timedelta(hours=1, seconds=0.3) not in until():
            assert asyncio.get_running_loop().time() < deadline, until()
            await asyncio.sleep(0.05)
        renewing.cancel()
        assert until() == {NOW + timedelta(hours=1, seconds=0.3), NOW + timedelta(seconds=0.3)}

    asyncio.run(scenario())


def test_migration_0011_adds_the_claim_owner_and_takes_it_away(engine: Engine) -> None:
    def columns() -> set[str]:
        with engine.connect() as connection:
            return {column["name"] for column in inspect(connection).get_columns("feeds")}

    _migrate(engine, "downgrade", "0010")
    assert "claimed_by" not in columns() and "claimed_until" in columns()
    with engine.begin() as connection:  # a feed claimed before: no owner
        connection.execute(
            feeds.insert().values(
                url="http://a.test/rss",
                active=True,
                next_check_at=NOW,
                claimed_until=NOW + LEASE,
                status="new",
                created_at=NOW,
            )
        )
    _migrate(engine, "upgrade", "head")
    assert "claimed_by" in columns()
    assert claims(engine) == [(None, NOW + LEASE, NOW)]
    with engine.begin() as connection:
        connection.execute(update(feeds).values(claimed_by="host/1/abc"))
    _migrate(engine, "downgrade", "0010")
    assert "claimed_by" not in columns()
    _migrate(engine, "upgrade", "head")
    assert claims(engine) == [(None, NOW + LEASE, NOW)]


# Two pollers (two instances) on one database, with a clock the test moves.


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def instances(tmp_path: Path, engine: Engine, url: str, clock: Clock) -> list[Runtime]:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"database: {engine.url.render_as_string(hide_password=False)}\n"
        "fetch:\n  allow_private_networks: true\n"
        f"feeds:\n  - url: {url}\n    interval: 5m\n"
        "channels:\n  redaction:\n    url: json://localhost/\n"
        "watchlists:\n  - name: otan\n    terms: [OTAN]\n",
        encoding="utf-8",
    )
    loaded = load_config(config)
    runtimes = [build_runtime(loaded, clock=clock) for _ in range(2)]
    runtimes[0].prepare_database()
    return runtimes


async def until(condition: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT
    while not condition():
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)


def run_polls(runtimes: list[Runtime], scenario: Callable[..., Awaitable[None]]) -> None:
    async def main() -> None:
        policy = runtimes[0].fetch_policy
        async with runtimes[0].http_client(policy) as client, runtimes[0].feed_parser() as parser:
            pollers = [runtime.poller(client, parser, policy) for runtime in runtimes]
            await scenario(*pollers)

    asyncio.run(main())
    for runtime in runtimes:
        runtime.engine.dispose()


def counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(items)).scalar_one()
        alerted = connection.execute(select(func.count()).select_from(alerts)).scalar_one()
    return int(stored), int(alerted)


def story(n: int, title: str) -> dict[str, str]:
    return {"guid": f"s{n}", "title": title, "link": f"https://example.org/{n}"}


def test_a_late_writer_is_refused_and_its_items_are_no_backlog(
    tmp_path: Path, engine: Engine, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    # Instance a polls a feed never seeded; its answer comes only once b asks too. Meanwhile
    # a's claim expired and b took the feed: b's first poll stores the backlog, a's result is
    # dropped (it would have stored its items as a backlog too). The next new item alerts.
    path = "/lent.xml"
    url = feed_server.serve(
        path,
        rss("Lent", [story(1, "Sommet de l'OTAN"), story(2, "Météo")]),
        release_when=lambda: feed_server.requests.count(path) >= 2,
    )
    clock = Clock()
    runtimes = instances(tmp_path, engine, url, clock)

    async def scenario(a: Any, b: Any) -> None:
        late = asyncio.ensure_future(a.poll_due())
        await until(lambda: feed_server.resources[path].holding == 1)
        clock.now += CLAIM_LEASE + timedelta(seconds=1)
        (taken,) = await b.poll_due()
        (dropped,) = await late
        assert (taken.status, taken.new_items) == (FeedStatus.OK, 2)
        assert (dropped.new_items, dropped.message) == (
            0,
            "claim lost to another instance; result dropped",
        )
        assert counts(engine) == (2, 0)
        feed_server.serve(
            path, rss("Lent", [story(3, "L'OTAN se réunit"), story(1, "Sommet de l'OTAN")])
        )
        clock.now += timedelta(minutes=6)
        (polled,) = await a.poll_due()
        assert (polled.new_items, polled.alerts) == (1, 1)

    with caplog.at_level(logging.INFO, logger="monitor.poll"):
        run_polls(runtimes, scenario)
    lost = [r.getMessage() for r in caplog.records if "claim lost" in r.getMessage()]
    assert lost == [f"feed {url}: claim lost to another instance; result dropped"]
    assert counts(engine) == (3, 1)


def test_whether_a_feed_is_seeded_is_read_when_its_items_are_written(
    tmp_path: Path, engine: Engine, feed_server: FeedServer
) -> None:
    # The claim read the feed unseeded; by the time its items are written the database says
    # seeded (an earlier poll's backlog): the new item alerts instead of joining a backlog.
    path = "/flux.xml"
    url = feed_server.serve(
        path, rss("Flux", [story(1, "Sommet de l'OTAN")]), release_when=lambda: done[0]
    )
    done = [False]
    clock = Clock()
    runtimes = instances(tmp_path, engine, url, clock)

    async def scenario(a: Any, _: Any) -> None:
        polling = asyncio.ensure_future(a.poll_due())
        await until(lambda: feed_server.resources[path].holding == 1)
        with engine.begin() as connection:
            connection.execute(update(feeds).values(seeded_at=clock.now))
        done[0] = True
        (polled,) = await polling
        assert (polled.new_items, polled.alerts) == (1, 1)

    run_polls(runtimes, scenario)
    assert counts(engine) == (1, 1)
