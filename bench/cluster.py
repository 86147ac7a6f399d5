"""Cluster benchmark (issue 14, docs/design.md §5 Concurrency): storing new items on one
PostgreSQL database with 1, 2 and 4 instances side by side in one run, and the 2-instance run
again with the old single global advisory lock. Prints figures; asserts nothing.

    .venv/bin/python bench/cluster.py [--items 4000] [--base 2000] [--rounds 1]
    .venv/bin/python bench/cluster.py --quick      # a smoke run: 300 items, a few seconds each

Each instance is a process of its own running the daemon's storing path on its share of the feed
documents: `DocumentLines.of` then `store_items` in one transaction per document, as
`monitor.pipeline.poll_results` does. Every configuration stores the same documents into a copy
of the same database, so the stories are the same in all, but for a copy near the similarity
threshold, whose story can depend on the order its neighbours are stored. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dedup import COPY_KINDS, StoryWriter, near_copy
from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from monitor.dedup.assign import DocumentLines
from monitor.dedup.exact import content_hash
from monitor.model import ItemText, PreparedItem
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.items import store_items
from monitor.store.tables import feeds

SEED = 20261204
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # the clock of every stored document
FEEDS = 200  # a multiple of every instance count: a feed's documents go to one instance
COPY_SHARE = 0.2  # of the measured items: copies of a story of the document before
WARM_UP_DOCUMENTS = 3  # per instance, untimed: connection, statement caches
# The lock every storing transaction took before per-key story locks (the baseline).
GLOBAL_LOCK = text("SELECT pg_advisory_xact_lock(7253002)")
CONFIGURATIONS = (  # label, instances, global lock
    ("1 instance", 1, False),
    ("2 instances", 2, False),
    ("4 instances", 4, False),
    ("2, global lock", 2, True),
)
DEFAULT_ADMIN_URL = os.environ.get(
    "MONITOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# --- workload ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    documents: list[dict[str, Any]]  # {"feed": index, "items": [item, ...]}, in global order
    copies: list[tuple[str, str]]  # (copy key, original key)
    originals: int


def make_workload(count: int, writer: StoryWriter, rng: random.Random, prefix: str) -> Workload:
    """`count` items in documents of 1-3 items; about `COPY_SHARE` of them copies of a story of
    the document just before, which the next instance stores at the same moment (documents
    are dealt round-robin), so that copies race on their story locks."""
    documents: list[dict[str, Any]] = []
    copies: list[tuple[str, str]] = []
    originals = made = 0
    before: list[dict[str, Any]] = []  # the previous document's new stories
    while made < count:
        number = len(documents)
        items, fresh = [], []
        for _ in range(min(rng.randint(1, 3), count - made)):
            key = f"{prefix}{made}"
            url = f"https://www.site{number % FEEDS}.example.fr/actualites/{key}.html"
            is_copy = bool(before) and rng.random() < COPY_SHARE
            if is_copy:
                kind = COPY_KINDS[len(copies) % len(COPY_KINDS)]
                original = rng.choice(before)
                item_text = near_copy(kind, original["title"], original["content"], writer, rng)
                copies.append((key, original["key"]))
            else:
                title, content = writer.story(rng)
                item_text = ItemText(title, "", content, "fr")
                originals += 1
            item = {
                "key": key,
                "url": url,
                "title": item_text.title,
                "summary": item_text.summary,
                "content": item_text.content,
                "hash": content_hash(item_text, url),
            }
            items.append(item)
            if not is_copy:
                fresh.append(item)
            made += 1
        before = fresh
        documents.append({"feed": number % FEEDS, "items": items})
    return Workload(documents, copies, originals)


def _prepared(document: dict[str, Any]) -> list[PreparedItem]:
    return [
        PreparedItem(
            item["key"],
            item["url"],
            ItemText(item["title"], item["summary"], item["content"], "fr"),
            NOW,
            item["hash"],
        )
        for item in document["items"]
    ]


def store_document(
    connection: Connection, feed_id: int, items: Sequence[PreparedItem], global_lock: bool
) -> None:
    """The poller's storing of one feed document (monitor.pipeline.poll_results `_apply`): the lines
    the document repeats are learnt before the transaction (the ingest plan), the items stored
    in one transaction."""
    document = DocumentLines.of(items)
    with connection.begin():
        if global_lock:
            connection.execute(GLOBAL_LOCK)
        store_items(connection, feed_id, items, NOW, fingerprint_of=document.fingerprint)


# --- one instance ------------------------------------------------------------------------------


def run_instance(database: str, plan_path: Path, instance: int, global_lock: bool) -> int:
    """Warm up, say "ready", wait for "go" on stdin, store this instance's documents, print
    its figures as JSON."""
    plan = json.loads(plan_path.read_text())
    feed_ids: list[int] = plan["feed ids"]
    mine = [
        (feed_ids[document["feed"]], _prepared(document))
        for document in plan["documents"][instance :: plan["instances"]]
    ]
    warm_up = [(feed_ids[d["feed"]], _prepared(d)) for d in plan["warm up"][instance]]
    engine = open_engine(database)
    with engine.connect() as connection:
        backend = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
        connection.commit()
        for feed_id, items in warm_up:
            store_document(connection, feed_id, items, global_lock)
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 1
        backend_cpu, busy = _process_cpu(backend), _machine_busy()
        started, cpu = time.monotonic(), time.process_time()
        for feed_id, items in mine:
            store_document(connection, feed_id, items, global_lock)
        ended, cpu = time.monotonic(), time.process_time() - cpu
        backend_after, busy_after = _process_cpu(backend), _machine_busy()
    engine.dispose()
    print(
        json.dumps(
            {
                "started": started,
                "ended": ended,
                "items": sum(len(items) for _, items in mine),
                "python CPU s": cpu,
                "machine busy": [busy, busy_after],
                "postgres CPU s": None
                if backend_cpu is None or backend_after is None
                else backend_after - backend_cpu,
            }
        ),
        flush=True,
    )
    return 0


def _process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process (its PostgreSQL backend), from /proc; None
    where it cannot be read (another machine, another OS)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float | None:
    """CPU seconds all cores spent busy since boot (/proc/stat): others' work included."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- orchestration -----------------------------------------------------------------------------


class Databases:
    """The benchmark's own databases on the server, dropped at the end whatever happens."""

    def __init__(self, admin_url: str) -> None:
        self._admin_url = make_url(admin_url).set(drivername="postgresql+psycopg")
        self._admin = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        self._prefix = f"monitor_bench_{uuid.uuid4().hex[:10]}"
        self._made: list[str] = []

    def create(self, suffix: str, template: str | None = None) -> str:
        name = f"{self._prefix}_{suffix}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        self._made.append(name)
        return name

    def url(self, name: str) -> str:
        return self._admin_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        self._made.remove(name)

    def server(self) -> dict[str, str]:
        with self._admin.connect() as connection:
            return {
                setting: str(connection.exec_driver_sql(f"SHOW {setting}").scalar_one())
                for setting in ("server_version", "synchronous_commit", "shared_buffers")
            }

    def close(self) -> None:
        for name in list(self._made):
            self.drop(name)
        self._admin.dispose()


@contextmanager
def databases(admin_url: str) -> Iterator[Databases]:
    made = Databases(admin_url)
    try:
        yield made
    finally:
        made.close()


def build_base(url: str, base: Workload) -> list[int]:
    """Schema, feeds, and the stories already stored when the measurement starts."""
    engine = open_engine(url)
    upgrade(engine)
    urls = [f"https://www.site{n}.example.fr/rss" for n in range(FEEDS)]
    with engine.begin() as connection:
        sync_feeds(connection, [(feed_url, None) for feed_url in urls], NOW)
        ids = {row.url: row.id for row in connection.execute(select(feeds.c.url, feeds.c.id))}
    feed_ids = [int(ids[feed_url]) for feed_url in urls]
    with engine.connect() as connection:
        for document in base.documents:
            store_document(connection, feed_ids[document["feed"]], _prepared(document), False)
    engine.dispose()
    return feed_ids


def run_configuration(
    url: str, plan: dict[str, Any], instances: int, global_lock: bool, folder: Path
) -> dict[str, Any]:
    plan_path = folder / f"plan-{instances}.json"
    plan_path.write_text(json.dumps(plan | {"instances": instances}))
    command = [sys.executable, str(Path(__file__).resolve()), "--database", url]
    command += ["--plan", str(plan_path)] + (["--global-lock"] if global_lock else [])
    workers = [
        subprocess.Popen(
            [*command, "--instance", str(number)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for number in range(instances)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None
            if worker.stdout.readline().strip() != "ready":
                raise RuntimeError(f"an instance failed before starting (exit {worker.wait()})")
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            output, _ = worker.communicate()
            if worker.returncode != 0:
                raise RuntimeError(f"an instance failed (exit {worker.returncode})")
            results.append(json.loads(output.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    backends = [r["postgres CPU s"] for r in results]
    # The machine's busy CPU from the first start to the last end: each instance reads it.
    busy = [r["machine busy"] for r in results]
    machine = (
        None
        if None in (value for pair in busy for value in pair)
        else max(end for _, end in busy) - min(start for start, _ in busy)
    )
    return {
        "wall s": wall,
        "items": sum(r["items"] for r in results),
        "python CPU s": sum(r["python CPU s"] for r in results),
        "postgres CPU s": None if None in backends else sum(backends),
        "machine CPU s": machine,
        "instance walls": [r["ended"] - r["started"] for r in results],
    }


def count_stories(url: str, workload: Workload, prefix: str) -> dict[str, int]:
    """Stories of the measured items, copies found in their original's story, and stored
    items; whatever the number of instances, the same."""
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT item_key, cluster_id FROM items WHERE item_key LIKE :prefix"),
            {"prefix": f"{prefix}%"},
        ).all()
    engine.dispose()
    story = {row.item_key: row.cluster_id for row in rows}
    return {
        "items": len(story),
        "stories": len(set(story.values())),
        "folded": sum(story.get(copy) == story.get(original) for copy, original in workload.copies),
        "copies": len(workload.copies),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.instance is not None:
        return run_instance(args.database, Path(args.plan), args.instance, args.global_lock)
    try:
        return measure(args)
    except (SQLAlchemyError, RuntimeError) as error:
        print(f"cluster benchmark: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1


def measure(args: argparse.Namespace) -> int:
    writer, rng = StoryWriter(SEED), random.Random(SEED)
    base = make_workload(args.base, writer, rng, "b:")
    workload = make_workload(args.items, writer, rng, "w:")
    warm_up = [
        make_workload(WARM_UP_DOCUMENTS * 2, writer, rng, f"warm{n}:").documents
        for n in range(max(n for _, n, _ in CONFIGURATIONS))
    ]
    with databases(args.postgres) as made, tempfile.TemporaryDirectory() as folder:
        server = made.server()
        _print_header(args, server, workload)
        name = made.create("base")
        started = time.perf_counter()
        feed_ids = build_base(made.url(name), base)
        print(f"  base: {args.base:,} items stored in {time.perf_counter() - started:.1f} s")
        plan = {"feed ids": feed_ids, "documents": workload.documents, "warm up": warm_up}
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in CONFIGURATIONS}
        print()
        print(HEADER, flush=True)
        for round_ in range(args.rounds):
            for label, instances, global_lock in CONFIGURATIONS:
                copy = made.create(f"{round_}_{instances}{'g' if global_lock else ''}", name)
                run = run_configuration(made.url(copy), plan, instances, global_lock, Path(folder))
                run |= count_stories(made.url(copy), workload, "w:")
                made.drop(copy)
                runs[label].append(run)
                _print_row(label, instances, run, runs["1 instance"][-1])
        _print_summary(runs, workload)
    return 0


HEADER = (
    "configuration   instances  items/s  ratio  wall s  Python CPU s  PostgreSQL CPU s"
    "  CPU ms/item  cores busy (ours)  stories  copies folded"
)


def _rate(run: dict[str, Any]) -> float:
    return float(run["items"]) / float(run["wall s"])


def _print_row(label: str, instances: int, run: dict[str, Any], one: dict[str, Any]) -> None:
    postgres = run["postgres CPU s"]
    ours = run["python CPU s"] + (postgres or 0.0)
    machine = run["machine CPU s"]
    busy = "?" if machine is None else f"{machine / run['wall s']:.2f}"
    print(
        f"{label:<15} {instances:>9} {_rate(run):>8,.0f} {_rate(run) / _rate(one):>5.2f}x"
        f" {run['wall s']:>7.2f} {run['python CPU s']:>13.2f}"
        f" {'?' if postgres is None else f'{postgres:.2f}':>17}"
        f" {ours / run['items'] * 1e3:>12.2f} {busy:>11} ({ours / run['wall s']:.2f})"
        f" {run['stories']:>8,} {run['folded']:>8,}/{run['copies']:,}",
        flush=True,
    )


def _print_summary(runs: dict[str, list[dict[str, Any]]], workload: Workload) -> None:
    rate = {label: statistics.median(_rate(run) for run in done) for label, done in runs.items()}
    one = rate["1 instance"]
    print()
    rounds = len(runs["1 instance"])
    print(f"  items/s, median of {rounds} round{'s' * (rounds > 1)}:", end="")
    print(
        " "
        + ", ".join(f"{label} {value:,.0f} ({value / one:.2f}x)" for label, value in rate.items())
    )
    print(
        f"  2 instances / 1 instance: {rate['2 instances'] / one:.2f}x (acceptance: at least"
        f" 1.6x); per-key story locks / the global lock, 2 instances:"
        f" {rate['2 instances'] / rate['2, global lock']:.2f}x"
    )
    if rounds > 1:
        # On a shared machine other work takes cores at random moments: each configuration's
        # best round is its least disturbed one.
        best = {label: max(_rate(run) for run in done) for label, done in runs.items()}
        print(
            "  best round of each: "
            + ", ".join(
                f"{label} {value:,.0f} ({value / best['1 instance']:.2f}x)"
                for label, value in best.items()
            )
        )
    _print_profile(runs["1 instance"], runs["2 instances"])
    stories = {run["stories"] for done in runs.values() for run in done}
    stored = {run["items"] for done in runs.values() for run in done}
    print(
        f"  stories: {', '.join(f'{s:,}' for s in sorted(stories))} "
        + (
            "(the same in every configuration)"
            if len(stories) == 1
            else "(differing: a copy near the threshold can fold or not depending on the order"
            " the instances store its story's other copies)"
        )
        + f"; new stories written {workload.originals:,}; items stored"
        f" {', '.join(f'{s:,}' for s in sorted(stored))}"
    )


def _print_profile(one: list[dict[str, Any]], two: list[dict[str, Any]]) -> None:
    """Where the 2-instance rate comes from: items/s is the cores the instances and their
    backends kept busy divided by the CPU time an item costs, so its ratio splits into those."""

    def totals(done: list[dict[str, Any]]) -> tuple[float, float, float, float]:
        items, wall = sum(r["items"] for r in done), sum(r["wall s"] for r in done)
        python = sum(r["python CPU s"] for r in done)
        postgres = sum(r["postgres CPU s"] or 0.0 for r in done)
        return (python + postgres) / wall, python / items * 1e3, postgres / items * 1e3, wall

    cores_1, python_1, postgres_1, _ = totals(one)
    cores_2, python_2, postgres_2, _ = totals(two)
    per_item = (python_2 + postgres_2) / (python_1 + postgres_1)
    print(
        f"  where it goes, 2 instances / 1: {cores_2 / cores_1:.2f}x the cores kept busy"
        f" ({cores_1:.2f} -> {cores_2:.2f}), {per_item:.2f}x the CPU per item"
        f" (Python {python_1:.2f} -> {python_2:.2f} ms, PostgreSQL {postgres_1:.2f} ->"
        f" {postgres_2:.2f} ms): {cores_2 / cores_1 / per_item:.2f}x the items/s"
    )


def _print_header(args: argparse.Namespace, server: dict[str, str], workload: Workload) -> None:
    cores = os.cpu_count() or 0
    print("monitor cluster benchmark (PostgreSQL)")
    print(
        f"  python {platform.python_version()}, PostgreSQL {server['server_version']}"
        f" (synchronous_commit {server['synchronous_commit']}, shared_buffers"
        f" {server['shared_buffers']}) on this same machine, {cores} CPU cores: the"
        f" instances share them with PostgreSQL"
        + (
            f" (4 instances share {cores} cores)"
            if cores < max(n for _, n, _ in CONFIGURATIONS)
            else ""
        )
    )
    print(
        f"  workload: {args.items:,} new items of ~3 KB in {len(workload.documents):,} feed"
        f" documents of 1-3 items from {FEEDS} feeds, {len(workload.copies):,} of them copies"
        f" ({', '.join(COPY_KINDS)}) of a story of the document before, dealt to the next"
        f" instance; {args.base:,} items stored before"
    )
    print(
        "  each instance: a process storing every n-th document, one transaction per document"
        " (DocumentLines + store_items, as monitor.pipeline.poll_results), after"
        f" {WARM_UP_DOCUMENTS} untimed documents; every configuration on a fresh copy of the"
        " same database; '2, global lock' also takes pg_advisory_xact_lock(7253002) first in"
        " each transaction (the lock before per-key story locks)"
    )
    print(
        "  items/s: all items over the wall time from the first instance's start to the last"
        " one's end; CPU: the instances' processes and their PostgreSQL backends; cores busy:"
        " the whole machine's (others' work included), ours in brackets"
    )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--items", type=int, help="new items per configuration (4000)")
    parser.add_argument("--base", type=int, help="items stored before the measurement (2000)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every configuration")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 300 items")
    parser.add_argument(
        "--postgres",
        default=DEFAULT_ADMIN_URL,
        help="a database URL on the server, to create and drop the benchmark's own databases",
    )
    parser.add_argument("--instance", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--global-lock", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.items = args.items or (300 if args.quick else 4000)
    args.base = args.base if args.base is not None else (100 if args.quick else 2000)
    return args


if __name__ == "__main__":
    sys.exit(main())
