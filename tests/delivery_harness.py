"""For delivery tests: stories decided straight into a real database (a cluster, an item and its
alerts with their outbox rows, written by the real store functions and the real payload writer,
as a poll would), and the daemon's runtime on a configuration file, restartable. Delivery is
what these tests look at, not polling; the clock is time-machine's (the `travel` fixture)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, insert, select

from monitor.cli import CONFIG_CHECKS
from monitor.config import load_config
from monitor.config.schema import Config
from monitor.daemon.runtime import Runtime, build_runtime
from monitor.model import Hit, ItemText, PreparedItem, WatchlistMatch
from monitor.pipeline.payload import alert_payload
from monitor.store import create_alert
from monitor.store.tables import clusters, deliveries, feeds, items, messages

_WORDS = [
    "budget",
    "réforme",
    "sommet",
    "accord",
    "frontière",
    "énergie",
    "élection",
    "grève",
    "tribunal",
    "enquête",
    "port",
    "récolte",
    "vaccin",
    "satellite",
    "pipeline",
    "traité",
    "corridor",
    "sanction",
    "embargo",
    "marché",
    "drone",
]


def decide_story(
    engine: Engine,
    config: Config,
    number: int,
    now: datetime,
    *,
    watchlists: Sequence[str] = ("otan",),
    source: str = "Presse Exemple",
) -> list[int]:
    """Story `number` (its own words, so no two are alike), decided at `now` for `watchlists`;
    returns the alert ids created. The title holds "OTAN" and a unique tag `story-<number>`."""
    words = random.Random(number).sample(_WORDS, 6)
    title = f"OTAN : {' '.join(words[:3])} story-{number}"
    text = f"L’OTAN annonce {' '.join(words)}. Une deuxième phrase sans rapport."
    item = PreparedItem(
        key=f"story-{number}",
        url=f"https://presse.example.fr/story-{number}",
        text=ItemText(title=title, summary=text),
        published=now,
        content_hash=f"hash-{number}",
    )
    created = []
    with engine.begin() as connection:
        feed_id = connection.execute(select(feeds.c.id).where(feeds.c.name == source)).scalar()
        if feed_id is None:
            feed_id = connection.execute(
                insert(feeds)
                .values(
                    url=f"https://{number}.example/rss",
                    name=source,
                    next_check_at=now,
                    created_at=now,
                    status="ok",
                    error_count=0,
                    items_seen=0,
                    active=True,
                )
                .returning(feeds.c.id)
            ).scalar_one()
        cluster_id = connection.execute(
            insert(clusters).values(created_at=now).returning(clusters.c.id)
        ).scalar_one()
        item_id = connection.execute(
            insert(items)
            .values(
                feed_id=feed_id,
                item_key=item.key,
                url=item.url,
                title=title,
                summary=text,
                content="",
                content_hash=item.content_hash,
                published_at=now,
                first_seen_at=now,
                cluster_id=cluster_id,
            )
            .returning(items.c.id)
        ).scalar_one()
        for name in watchlists:
            start = text.index("OTAN")
            hit = Hit(name, "OTAN", "summary", start, start + 4, "OTAN")
            alert_id = create_alert(
                connection,
                watchlist=name,
                cluster_id=cluster_id,
                item_id=item_id,
                payload=alert_payload(item, WatchlistMatch(name, (hit,)), source),
                channels=config.channels_for(next(w for w in config.watchlists if w.name == name)),
                now=now,
            )
            assert alert_id is not None
            created.append(alert_id)
    return created


PARIS = ZoneInfo("Europe/Paris")


def paris(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A wall time in Paris, November 2026 (winter time: UTC+1)."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=PARIS)


class Daemon:
    """The daemon's runtime on the test's configuration, restartable: a restart builds a new
    runtime (and engine) on the same database file, as a new process would."""

    def __init__(self, config: Path) -> None:
        self._config = config
        self.runtime = self._start()

    def _start(self) -> Runtime:
        runtime = build_runtime(load_config(self._config, checks=CONFIG_CHECKS))
        runtime.prepare_database()
        runtime.release_dead_claims()
        return runtime

    def restart(self) -> None:
        self.runtime.engine.dispose()
        self.runtime = self._start()

    def decide(self, number: int, watchlists: tuple[str, ...] = ("otan",)) -> list[int]:
        runtime = self.runtime
        return decide_story(
            runtime.engine, runtime.config, number, runtime.clock(), watchlists=watchlists
        )

    def dispatch(self) -> int:
        """Runs a dispatch pass; returns how many messages it sent."""
        return self.runtime.dispatcher().dispatch_due().messages

    def statuses(self) -> dict[str, int]:
        with self.runtime.engine.connect() as connection:
            rows = connection.execute(
                select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
            ).all()
        return {str(status): int(count) for status, count in rows}

    def send_times(self) -> list[datetime]:
        with self.runtime.engine.connect() as connection:
            return list(
                connection.execute(
                    select(messages.c.created_at).order_by(messages.c.created_at)
                ).scalars()
            )
