"""Operations alerts are unique per event (`alerts.ops_key`): two instances deciding the same
stale episode at once record one alert and one delivery per channel; a new episode alerts again.
Real SQLite files and the real PostgreSQL; the race is arranged with a barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, inspect, select, update
from sqlalchemy.exc import IntegrityError

from monitor.config import Config, load_config
from monitor.pipeline.ops import check_stale_feeds
from monitor.store.alerts import create_alert
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.tables import alerts, deliveries, feeds
from tests.test_store import _migrate

NOW = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
WAIT = 30.0  # seconds: a bound for what should take milliseconds, on a loaded machine
FEED = "https://presse.example/rss.xml"


def ops_config(tmp_path: Path) -> Config:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"feeds:\n  - url: {FEED}\n    name: Le Quotidien\n    stale_after: 1h\n"
        "channels:\n  admin:\n    url: json://localhost/a\n  pager:\n    url: json://localhost/p\n"
        "ops:\n  notify: [admin, pager]\n"
    )
    return load_config(path).config


def ops_alerts(engine: Engine) -> list[tuple[str, str, int]]:
    """(title, key, deliveries) of each operations alert, oldest first."""
    carried = (
        select(func.count())
        .where(deliveries.c.alert_id == alerts.c.id)
        .correlate(alerts)
        .scalar_subquery()
    )
    with engine.connect() as connection:
        rows = connection.execute(
            select(alerts.c.payload, alerts.c.ops_key, carried).order_by(alerts.c.id)
        ).all()
    return [(row[0]["title"], row[1], row[2]) for row in rows]


def both_decide_at_once(engines: list[Engine], config: Config, now: datetime) -> list[int]:
    """Each engine (an instance) runs the stale check in its own thread; both read the feeds
    before either writes (a barrier after the read), so both see the same change."""
    barrier = threading.Barrier(len(engines), timeout=WAIT)

    def after_the_read(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "stale_since" in statement:
            barrier.wait()

    changed: list[int] = []
    errors: list[BaseException] = []

    def instance(engine: Engine) -> None:
        try:
            changed.append(check_stale_feeds(engine, config, lambda: now))
        except BaseException as error:
            errors.append(error)

    for engine in engines:
        event.listen(engine, "after_cursor_execute", after_the_read)
    threads = [threading.Thread(target=instance, args=(engine,)) for engine in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT * 2)
    finally:
        for engine in engines:
            event.remove(engine, "after_cursor_execute", after_the_read)
    assert not any(thread.is_alive() for thread in threads)
    if errors:
        raise errors[0]
    return changed


@pytest.mark.postgres
def test_two_instances_deciding_the_same_stale_episode_send_one_alert(
    postgres_url: str, tmp_path: Path
) -> None:
    config = ops_config(tmp_path)
    engines = [open_engine(postgres_url) for _ in range(2)]
    upgrade(engines[0])
    with engines[0].begin() as connection:
        sync_feeds(connection, [(FEED, "Le Quotidien")], NOW)
        feed_id = connection.execute(select(feeds.c.id)).scalar_one()

    # Silent since it was added, for more than its hour: both see it stale.
    assert both_decide_at_once(engines, config, NOW + timedelta(hours=2)) == [1, 1]
    stale_key = f"stale:{feed_id}:{NOW.isoformat()}"
    assert ops_alerts(engines[0]) == [("Feed Le Quotidien is stale", stale_key, 2)]
    with engines[0].connect() as connection:
        marked = connection.execute(select(feeds.c.stale_since)).scalar_one()

    # A new item: both see it recovered from the staleness marked then.
    item_at = NOW + timedelta(hours=3)
    with engines[0].begin() as connection:
        connection.execute(update(feeds).values(last_item_at=item_at))
    assert both_decide_at_once(engines, config, item_at + timedelta(minutes=1)) == [1, 1]
    recovered = ("Feed Le Quotidien recovered", f"recovered:{feed_id}:{marked.isoformat()}", 2)
    assert ops_alerts(engines[0])[1:] == [recovered]

    # Silent again past its hour: a new episode, a new alert (one).
    assert both_decide_at_once(engines, config, item_at + timedelta(hours=2)) == [1, 1]
    again = ("Feed Le Quotidien is stale", f"stale:{feed_id}:{item_at.isoformat()}", 2)
    assert ops_alerts(engines[0])[2:] == [again]
    for engine in engines:
        engine.dispose()


def test_an_ops_alert_is_recorded_once_per_key(engine: Engine) -> None:
    def alert(key: str | None) -> Callable[[], int | None]:
        def create() -> int | None:
            with engine.begin() as connection:
                return create_alert(
                    connection,
                    watchlist="operations",
                    cluster_id=None,
                    item_id=None,
                    payload={"title": key or "no key"},
                    channels=("admin", "pager"),
                    now=NOW,
                    ops_key=key,
                )

        return create

    assert alert("refused:desk:2026-12-04T08:00:00+00:00")() is not None
    assert alert("refused:desk:2026-12-04T08:00:00+00:00")() is None  # another instance
    assert alert("refused:desk:2026-12-04T09:30:00+00:00")() is not None  # a later refusal
    # Without a key (written before migration 0010), as many as are made.
    assert alert(None)() is not None and alert(None)() is not None
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(alerts)).scalar_one() == 4
        assert connection.execute(select(func.count()).select_from(deliveries)).scalar_one() == 8


def test_migration_0010_adds_the_ops_key_and_takes_it_away(engine: Engine) -> None:
    def columns() -> set[str]:
        with engine.connect() as connection:
            return {column["name"] for column in inspect(connection).get_columns("alerts")}

    def count() -> int:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(alerts)).scalar_one())

    _migrate(engine, "downgrade", "0009")
    assert "ops_key" not in columns()
    with engine.begin() as connection:  # an operations alert of before: no key
        connection.execute(
            alerts.insert().values(watchlist="operations", payload={}, created_at=NOW)
        )
    _migrate(engine, "upgrade", "head")
    assert "ops_key" in columns() and count() == 1
    with engine.begin() as connection:
        connection.execute(
            alerts.insert().values(watchlist="operations", payload={}, created_at=NOW, ops_key="k")
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            alerts.insert().values(watchlist="operations", payload={}, created_at=NOW, ops_key="k")
        )
    _migrate(engine, "downgrade", "0009")
    assert "ops_key" not in columns() and count() == 2
    _migrate(engine, "upgrade", "head")
