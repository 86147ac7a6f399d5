"""Replay benchmark (docs/design.md §7 `monitor replay`, §8): `monitor replay` over stored items,
as a user runs it (a fresh process reading an SQLite database), side by side in the same run
with its parts over the same items: reading them alone, story folding alone, matching alone.
Prints figures; asserts nothing.

    .venv/bin/python bench/replay.py                  # 100,000 items over 30 days, 200 terms
    .venv/bin/python bench/replay.py --items 20000 --terms 1000
    .venv/bin/python bench/replay.py --quick          # 5,000 items: a smoke run
    .venv/bin/python bench/replay.py --keep DIR       # keep (and reuse) the built database

The database is built fast (rows written directly, without fingerprints, which replay does not
read): 300 feeds, each seeded by a first poll of 20 items, then polls of 1 to 5 items; one item
in five a near copy (the kinds bench/dedup.py makes) of a recent story from another feed; 2% of
items published more than `max_age` before they were seen.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from corpus_fr import Vocabulary
from dedup import COPY_KINDS, StoryWriter, near_copy
from pinning import pin_to_one_core
from watchlist_sets import Features, count_spellings, make_watchlists

from monitor.dedup.exact import content_hash
from monitor.model import ItemText
from monitor.store import open_engine, upgrade

SEED = 20261204
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
DAYS = 30
FEEDS = 300
BACKLOG = 20  # items of each feed's first poll (fewer for a small run)
COPY_EVERY = 5
OLD_SHARE = 0.02
FORMAT = 2  # of a kept database: bump when the build changes
_PARTS = {
    "read": "read the stored items",
    "fold": "read + story folding",
    "match": "read + matching",
    "replay": "replay (in process)",
}
# The cores this process may use before it pins itself to one.
ALL = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def build(path: Path, size: int) -> None:
    for stale in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    engine = open_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    writer, rng = StoryWriter(SEED), random.Random(SEED)
    database = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=DELETE", "synchronous=OFF"):
        database.execute(f"PRAGMA {pragma}")
    start = NOW - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / size
    feeds, clusters, items = [], [], []
    recent: list[tuple[int, str, str]] = []  # (feed, title, body) of recent originals
    item_id, moment = 0, start
    backlog = max(1, min(BACKLOG, size // (FEEDS * 4)))
    for feed in range(1, FEEDS + 1):  # first polls: the backlogs, silently stored
        seeded = start + timedelta(seconds=feed)
        feeds.append((feed, f"https://www.site{feed}.example.fr/rss", f"site {feed}",
                      _sql(start), _sql(seeded)))  # fmt: skip
        for _ in range(backlog):
            item_id += 1
            title, body = writer.story(rng)
            items.append(_item(item_id, feed, ItemText(title, "", body, "fr"), seeded, rng))
            clusters.append((item_id, _sql(seeded)))
    while item_id < size:
        feed = rng.randrange(1, FEEDS + 1)
        moment += step * rng.randint(1, 5)
        for _ in range(min(rng.randint(1, 5), size - item_id)):
            item_id += 1
            if item_id % COPY_EVERY == 0 and recent:
                _, title, body = recent[rng.randrange(len(recent))]
                kind = COPY_KINDS[item_id % len(COPY_KINDS)]
                text = near_copy(kind, title, body, writer, rng)
            else:
                title, body = writer.story(rng)
                text = ItemText(title, "", body, "fr")
                recent = [*recent[-199:], (feed, title, body)]
            items.append(_item(item_id, feed, text, moment, rng))
            clusters.append((item_id, _sql(moment)))
    with _transaction(database):
        database.executemany(
            "INSERT INTO feeds (id, url, name, active, next_check_at, status, error_count,"
            " items_seen, created_at, seeded_at) VALUES (?, ?, ?, 1, ?, 'ok', 0, 0, ?, ?)",
            [(f, url, name, created, created, seeded) for f, url, name, created, seeded in feeds],
        )
        database.executemany("INSERT INTO clusters (id, created_at) VALUES (?, ?)", clusters)
        database.executemany(
            "INSERT INTO items (id, feed_id, item_key, url, title, summary, content, language,"
            " content_hash, published_at, first_seen_at, cluster_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'fr', ?, ?, ?, ?)",
            items,
        )
    database.execute("PRAGMA journal_mode=WAL")
    database.close()


def _item(
    item_id: int, feed: int, text: ItemText, seen: datetime, rng: random.Random
) -> tuple[Any, ...]:
    url = f"https://www.site{feed}.example.fr/a/{item_id}.html"
    age = (
        timedelta(days=rng.randint(3, 30))
        if rng.random() < OLD_SHARE
        else timedelta(minutes=rng.randint(0, 180))
    )
    return (item_id, feed, url, url, text.title, text.summary, text.content,
            content_hash(text, url), _sql(seen - age), _sql(seen), item_id)  # fmt: skip


def _sql(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@contextmanager
def _transaction(database: sqlite3.Connection) -> Iterator[None]:
    database.execute("BEGIN")
    yield
    database.execute("COMMIT")


def write_config(directory: Path, database: Path, terms: int) -> Path:
    features = Features(fuzzy=True, query=True)
    watchlists = make_watchlists(terms, Vocabulary(SEED), features, SEED)
    config = {
        "database": f"sqlite:///{database}",
        "timezone": "Europe/Paris",
        "channels": {"desk": {"url": "console://"}},
        "feeds": [{"url": f"https://www.site{f}.example.fr/rss"} for f in range(1, 4)],
        "watchlists": [{**watchlist, "notify": ["desk"]} for watchlist in watchlists],
    }
    path = directory / f"replay-{terms}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


# --- measured, each in a process of its own ---------------------------------------------------


def part(name: str, config_path: Path) -> dict[str, Any]:
    """One part of the replay over every stored item, in this process."""
    from sqlalchemy import text

    from monitor.config import load_config
    from monitor.daemon.replay import replay_stored, stored_documents
    from monitor.daemon.runtime import database_url
    from monitor.dedup.decide import Thresholds
    from monitor.match import compile_watchlists
    from monitor.pipeline import ReplayStories
    from monitor.store import feed_document_sizes, stored_items_seen

    cpu, wall = time.process_time(), time.perf_counter()
    config = load_config(config_path).config
    engine = open_engine(database_url(config))
    count, alerts = 0, 0
    with engine.connect() as connection:
        if name == "read":
            count = sum(1 for _ in stored_items_seen(connection, None))
        elif name == "match":
            matcher = compile_watchlists(config.watchlists)
            for item in stored_items_seen(connection, None):
                count += 1
                alerts += len(matcher.match(item.item.text))
        elif name == "fold":
            stories = ReplayStories(
                Thresholds.of(config.dedup), config.dedup.window, feed_document_sizes(connection)
            )
            for feed, document in stored_documents(stored_items_seen(connection, None)):
                count += len(document)
                stories.document(feed, document)
        else:
            count = connection.execute(text("SELECT COUNT(*) FROM items")).scalar_one()
            with open("/dev/null", "w") as out:
                replay_stored(connection, config, out, since=None, as_json=True)
    return {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
            "items": count, "matches": alerts, "rss": _max_rss()}  # fmt: skip


def _max_rss() -> float:
    """This process's peak resident memory in MB, since it started its program: VmHWM, which
    exec resets (ru_maxrss would count the pages of the parent it was forked from)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# `monitor replay` as a user runs it, telling its peak memory (VmHWM) on stderr's last line.
# On all cores, its folding process holds the story index: about the "read + story folding"
# row's peak.
_COMMAND = """
import sys
from pathlib import Path
from monitor.cli import main

def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0

try:
    status = main(sys.argv[1:])
finally:
    print(f"max RSS MB {peak():.1f}", file=sys.stderr)
sys.exit(status)
"""


def _in_child(arguments: list[str], cores: set[int] | None = None) -> dict[str, Any]:
    """Run a process (on `cores`, default this one's); its wall and CPU seconds, and the
    output. A forked child's ru_maxrss would count its parent's pages: each child says its
    own peak instead."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run(
        arguments,
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=None if cores is None else (lambda: os.sched_setaffinity(0, cores)),
    )
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{done.stderr[-2000:]}")
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "stdout": done.stdout,
        "stderr": done.stderr,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--terms", type=int, default=200, help="terms in all watchlists")
    parser.add_argument("--quick", action="store_true", help="5,000 items (with --items: those)")
    parser.add_argument("--keep", metavar="DIR", help="keep the database there, and reuse it")
    parser.add_argument("--part", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(part(args.part, Path(args.config))))
        return 0
    size = args.items if not args.quick else min(args.items, 5000)
    version = platform.python_version()
    pinned = pin_to_one_core()  # the parts, and the command's first run; the second has all
    print(f"replay benchmark: {size:,} stored items over {DAYS} days, {FEEDS} feeds, "
          f"{args.terms} terms; {pinned}; Python {version}")  # fmt: skip
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(args.keep or scratch)
        directory.mkdir(parents=True, exist_ok=True)
        database = directory / f"replay-{size}-v{FORMAT}.db"
        if not database.exists():
            began = time.perf_counter()
            build(database, size)
            print(f"built the database in {time.perf_counter() - began:.0f} s")
        else:  # kept from an earlier run, maybe of an older schema: replay reads only the newest
            engine = open_engine(f"sqlite:///{database}")
            upgrade(engine)
            engine.dispose()
        config = write_config(directory, database, args.terms)
        spellings = count_spellings(yaml.safe_load(config.read_text())["watchlists"])
        megabytes = database.stat().st_size / 1e6
        print(f"{spellings} spellings in {args.terms} terms; database {megabytes:.0f} MB")
        rows = []
        for name in ("read", "fold", "match", "replay"):
            figures = _in_child([sys.executable, __file__, "--part", name, "--config", str(config)])
            inside = json.loads(figures["stdout"])
            rows.append(
                (_PARTS[name], inside["items"], inside["cpu"], inside["wall"], inside["rss"])
            )
        command = [sys.executable, "-c", _COMMAND, "--config", str(config), "replay",
                   "--since", f"{DAYS + 1}d", "--json"]  # fmt: skip
        alerts = 0
        for label, cores in (("monitor replay, 1 core", None), ("monitor replay, all cores", ALL)):
            run = _in_child(command, cores)
            peak = float(run["stderr"].strip().splitlines()[-1].rsplit(" ", 1)[1])
            rows.append((label, size, run["cpu"], run["wall"], peak))
            alerts = sum('"kind": "alert"' in line for line in run["stdout"].splitlines())
    print()
    header = ("run", "items", "items/s CPU", "CPU s", "wall s", "max RSS MB")
    print(f"{header[0]:<26} {header[1]:>8} {header[2]:>12} {header[3]:>7} {header[4]:>7} "
          f"{header[5]:>11}")  # fmt: skip
    for label, items, cpu, wall, peak in rows:
        print(f"{label:<26} {items:>8,} {items / cpu:>12,.0f} {cpu:>7.1f} {wall:>7.1f} "
              f"{peak:>11.0f}")  # fmt: skip
    print(
        f"\nmonitor replay --since {DAYS + 1}d: {alerts:,} alerts from {size:,} items; "
        "the goal: under 60 s of wall time for 100,000 items on all cores"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
