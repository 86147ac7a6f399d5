"""Dedup benchmark (docs/design.md §5, §8): with 100,000 and 1,000,000 items in the story window
of an SQLite database, the throughput of the dedup path, the start-up time, the database size per
item and the memory. Prints figures; asserts nothing.

    .venv/bin/python bench/dedup.py [--sizes 100000,1000000] [--items 3000] [--keep DIR]
    .venv/bin/python bench/dedup.py --quick        # 10,000 items in the window
    .venv/bin/python bench/dedup.py --templated    # templated items: 4,000 then 8,000

Each size's database is built fast (rows written directly in big transactions, with the
fingerprints the real code computes), then start-up and the dedup path are measured in fresh
processes. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import itertools
import json
import platform
import pstats
import random
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from corpus_fr import Vocabulary, make_items
from pinning import pin_to_one_core
from sqlalchemy import Engine, text

from monitor.dedup import assign as assign_module
from monitor.dedup.assign import DocumentLines
from monitor.dedup.exact import content_hash
from monitor.dedup.fingerprint import fingerprint
from monitor.dedup.minhash import to_bytes
from monitor.model import ItemText, PreparedItem
from monitor.store.database import open_engine, upgrade
from monitor.store.items import STORY_WINDOW, StoredItem, store_items
from monitor.store.stories import SqlStoryIndex
from monitor.text.html import html_to_text

SEED = 20261125
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # the clock of every measured poll
STATE_FORMAT = 5  # of a kept database: bump when the build changes
FEEDS = 300
BATCH = 20  # items per feed poll, stored in one transaction
WARM_UP_BATCHES = 3
COPY_SHARE = 0.2
COPIES_OF_PLANTED = 0.25  # share of the measured copies whose story already has copies
COPY_KINDS = ("boilerplate", "trimmed", "masked", "summary", "exact")
POOL_ITEMS = 1000  # corpus_fr items cut into the sentence pool
TOKEN_DRAWS = 200_000  # words drawn from corpus_fr's vocabulary for titles and leads
# Stored items get the real content hash every this many ids (the targets of exact copies); the
# others a stand-in of the same shape, since the real one costs 0.5 ms and only equality counts.
REAL_HASH_EVERY = 20
BUILD_CHUNK = 20_000  # items per build transaction
PLANTED_STORY_SIZES = (1, 1, 2, 3, 5, 10, 25)  # copies per planted story, cycled
_SENTENCE_END = re.compile(r"(?<=[.?!:]) ")
_DIGITS = re.compile(r"\d+")
_NOT_SLUG = re.compile(r"\W+")


class StoryWriter:
    """Distinct French-like stories of about 3 KB of decoded text, fast enough for a million: a
    fresh title and lead per story (so no two share lead keys), then sentences drawn from a pool
    cut out of corpus_fr's items (elisions, NBSP, numbers, « guillemets »)."""

    def __init__(self, seed: int) -> None:
        vocabulary = Vocabulary(seed)
        pool: list[str] = []
        for raw in make_items(vocabulary, POOL_ITEMS, seed=seed):
            pool += _SENTENCE_END.split(html_to_text(raw.content).replace("\n", " "))
        self._pool = [sentence for sentence in pool if sentence]
        # Words drawn once with corpus_fr's Zipf weights, then picked uniformly: the same
        # distribution at a tenth of the cost of drawing each word.
        rng = random.Random(seed)
        self._words = [vocabulary.token(rng) for _ in range(TOKEN_DRAWS)]

    def title(self, rng: random.Random) -> str:
        return self._fresh(rng, rng.randint(6, 12), end="")

    def story(self, rng: random.Random) -> tuple[str, str]:
        lead = " ".join(self._fresh(rng, rng.randint(16, 24)) for _ in range(3))
        paragraphs, size = [lead], len(lead.encode())
        target = int(rng.triangular(2300, 3300, 2800))
        while size < target:
            paragraph = " ".join(rng.choices(self._pool, k=rng.randint(2, 4)))
            paragraphs.append(paragraph)
            size += len(paragraph.encode()) + 1
        return self.title(rng), "\n".join(paragraphs)

    def _fresh(self, rng: random.Random, words: int, end: str = ".") -> str:
        sentence = " ".join(rng.choices(self._words, k=words))
        return sentence[0].upper() + sentence[1:] + end


def near_copy(
    kind: str, title: str, body: str, writer: StoryWriter, rng: random.Random
) -> ItemText:
    """A syndicated copy of a stored story, made the ways docs/design.md §5 lists."""
    paragraphs = body.split("\n")
    if kind == "exact":  # the same text under another headline: the exact layer's case
        return ItemText(writer.title(rng), "", body, "fr")
    if kind == "summary":  # the 50-word RSS teaser of the full text, same headline
        return ItemText(title, " ".join(body.split()[:50]) + " […]", "", "fr")
    if kind == "trimmed":  # a paragraph dropped, a share line on top
        if len(paragraphs) > 2:
            del paragraphs[rng.randrange(1, len(paragraphs))]
        paragraphs.insert(0, "Spread the love")
    elif kind == "masked":  # a content farm: numbers masked, typography flattened
        paragraphs = [
            _DIGITS.sub("XNUMX", line).replace("’", "'").replace("\u00a0", " ")
            for line in paragraphs
        ]
    else:  # another site's boilerplate around the same text
        paragraphs[0] += " (Avec AFP)"
        paragraphs += [f"Lire aussi : {writer.title(rng)}", "Partager cet article"]
    return ItemText(writer.title(rng), "", "\n".join(paragraphs), "fr")


def _url(feed_id: int, title: str, serial: str) -> str:
    slug = _NOT_SLUG.sub("-", title.lower()).strip("-")[:60]
    return f"https://www.site{feed_id}.example.fr/actualites/{slug}-{serial}.html"


def _sql_time(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite (monitor.store.tables.UTCDateTime)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _seen_at(item_id: int, size: int) -> datetime:
    """Built items are spread evenly over the window, oldest first, all inside it at NOW."""
    span = STORY_WINDOW - timedelta(hours=2)
    return NOW - STORY_WINDOW + timedelta(hours=1) + span * (item_id / size)


# --- build -------------------------------------------------------------------------------------


def build(path: Path, size: int, planted: int) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    for stale in (path, *(path.with_name(path.name + end) for end in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)  # a kept database of another format
    engine = open_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    writer, rng = StoryWriter(SEED), random.Random(SEED)
    database = sqlite3.connect(path, isolation_level=None)
    # A bulk load that nobody reads meanwhile: no journal, no fsync, a cache for the key index.
    for pragma in ("journal_mode=DELETE", "synchronous=OFF", "cache_size=-2000000"):
        database.execute(f"PRAGMA {pragma}")
    created = _sql_time(NOW - STORY_WINDOW)
    with _transaction(database):
        database.executemany(
            "INSERT INTO feeds (id, url, name, active, next_check_at, status, error_count,"
            " items_seen, created_at) VALUES (?, ?, ?, 1, ?, 'ok', 0, 0, ?)",
            [(f, f"https://www.site{f}.example.fr/rss", f"site {f}", created, created) for f in
             range(1, FEEDS + 1)],
        )  # fmt: skip
    for first in range(1, size + 1, BUILD_CHUNK):
        _build_chunk(database, range(first, min(first + BUILD_CHUNK, size + 1)), size, writer, rng)
        print(
            f"  built {min(first + BUILD_CHUNK - 1, size):,} / {size:,}",
            file=sys.stderr,
            flush=True,
        )
    database.execute("PRAGMA journal_mode=WAL")
    database.close()
    engine = open_engine(f"sqlite:///{path}")
    heads, copies, joined = _plant_copies(engine, size, planted, writer, rng)
    with engine.connect() as connection:
        last_item = connection.execute(text("SELECT MAX(id) FROM items")).scalar_one()
        last_cluster = connection.execute(text("SELECT MAX(id) FROM clusters")).scalar_one()
    engine.dispose()
    return {
        "format": STATE_FORMAT,
        "size": size,
        "build s": time.perf_counter() - wall,
        "build CPU s": time.process_time() - cpu,
        "planted stories": heads,
        "planted copies": copies,
        "planted joined": joined,
        "last item": last_item,
        "last cluster": last_cluster,
    }


@contextmanager
def _transaction(database: sqlite3.Connection) -> Iterator[None]:
    database.execute("BEGIN")
    yield
    database.execute("COMMIT")


def _build_chunk(
    database: sqlite3.Connection,
    ids: range,
    size: int,
    writer: StoryWriter,
    rng: random.Random,
) -> None:
    clusters, items, fingerprints, keys = [], [], [], []
    for item_id in ids:
        seen = _sql_time(_seen_at(item_id, size))
        title, content = writer.story(rng)
        feed_id = rng.randrange(1, FEEDS + 1)
        url = _url(feed_id, title, str(item_id))
        item_text = ItemText(title, "", content, "fr")
        found = fingerprint(item_text)
        if item_id % REAL_HASH_EVERY == 0:
            digest = content_hash(item_text, url)
        else:
            digest = hashlib.sha256(f"{title}\n{content}".encode()).hexdigest()
        clusters.append((item_id, seen))
        items.append((item_id, feed_id, url, url, title, content, digest, seen, seen, item_id))
        fingerprints.append(
            (item_id, item_id, to_bytes(found.signature), seen, found.words, found.shingle_count)
        )
        keys += [(key, item_id) for key in set(found.keys)]
    keys.sort()  # B-tree inserts in key order touch each page once
    with _transaction(database):
        database.executemany("INSERT INTO clusters (id, created_at) VALUES (?, ?)", clusters)
        database.executemany(
            "INSERT INTO items (id, feed_id, item_key, url, title, summary, content, language,"
            " content_hash, published_at, first_seen_at, cluster_id)"
            " VALUES (?, ?, ?, ?, ?, '', ?, 'fr', ?, ?, ?, ?)",
            items,
        )
        database.executemany(
            "INSERT INTO story_fingerprints (item_id, cluster_id, signature, first_seen_at,"
            " words, shingles) VALUES (?, ?, ?, ?, ?, ?)",
            fingerprints,
        )
        database.executemany("INSERT INTO story_keys (key, item_id) VALUES (?, ?)", keys)


def _plant_copies(
    engine: Engine, size: int, planted: int, writer: StoryWriter, rng: random.Random
) -> tuple[list[int], list[int], int]:
    """Stories that already have copies, the copies stored through the real path (store_items):
    the stories' first items, the copies, and how many copies joined their story."""
    copies_per_story: list[int] = []
    for copies in itertools.cycle(PLANTED_STORY_SIZES):
        if sum(copies_per_story) >= planted:
            break
        copies_per_story.append(copies)
    heads = rng.sample(range(1, size + 1), len(copies_per_story))
    originals = _load_items(engine, heads)
    stored_copies, joined = [], 0
    for head, copies in zip(heads, copies_per_story, strict=True):
        title, body, cluster_id, feed_id = originals[head]
        for number in range(copies):
            kind = COPY_KINDS[number % len(COPY_KINDS)]
            copy = near_copy(kind, title, body, writer, rng)
            other_feed = feed_id % FEEDS + 1
            url = _url(other_feed, copy.title, f"{head}-{number}")
            now = min(_seen_at(head, size) + timedelta(minutes=10 * (number + 1)), NOW)
            with engine.begin() as connection:
                stored = store_items(
                    connection,
                    other_feed,
                    [PreparedItem(url, url, copy, None, content_hash(copy, url))],
                    now,
                    fingerprint_of=lambda item: fingerprint(item.text),
                )
            joined += stored[0].cluster_id == cluster_id
            stored_copies.append(stored[0].id)
    return heads, stored_copies, joined


def _load_items(engine: Engine, ids: Sequence[int]) -> dict[int, tuple[str, str, int, int]]:
    """id -> (title, body, cluster id, feed id) of stored items."""
    found: dict[int, tuple[str, str, int, int]] = {}
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            chunk = ",".join(str(int(item_id)) for item_id in ids[start : start + 500])
            for row in connection.execute(
                text(
                    "SELECT id, title, summary, content, cluster_id, feed_id FROM items"
                    f" WHERE id IN ({chunk})"
                )
            ):
                found[row.id] = (row.title, row.content or row.summary, row.cluster_id, row.feed_id)
    return found


# --- measure -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewItem:
    prepared: PreparedItem
    kind: str  # "new", or how it copies a stored story
    story: int | None  # the cluster a copy belongs in


class Steps:
    """CPU time spent in each step of the dedup path, by wrapping the functions store_items
    calls (a wrapper costs about a microsecond; the steps cost tens or hundreds). CPU, not wall:
    the figures should not depend on what else runs on the machine."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.candidates: list[int] = []

    def timed(self, step: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            result = function(*args, **kwargs)
            self.seconds[step] += time.process_time() - started
            if step == "candidate lookup":
                self.candidates += [len(found) for found in result]
            return result

        return timed

    def install(self) -> None:
        for owner, name, step in (
            (SqlStoryIndex, "candidates", "candidate lookup"),
            (SqlStoryIndex, "add", "index write"),
            (SqlStoryIndex, "load", "candidate texts"),
            (SqlStoryIndex, "exact", "exact layer"),
            (assign_module, "best_match", "decision"),
        ):
            setattr(owner, name, self.timed(step, getattr(owner, name)))

    def reset(self) -> None:
        self.seconds.clear()
        self.candidates.clear()


def measure(path: Path, count: int, profile: bool) -> dict[str, Any]:
    meta = json.loads(path.with_suffix(".json").read_text())
    engine = open_engine(f"sqlite:///{path}")
    upgrade(engine)
    _forget_earlier_runs(engine, meta)
    writer, rng = StoryWriter(SEED), random.Random(SEED + 1)
    hashing = [0.0]
    warm_up = _workload(engine, meta, WARM_UP_BATCHES * BATCH, 0.0, writer, rng, hashing)
    work = _workload(engine, meta, count, COPY_SHARE, writer, rng, hashing)
    steps = Steps()
    steps.install()
    for feed_id, batch in _batches(warm_up, rng):
        _poll(engine, feed_id, [item.prepared for item in batch], steps)
    steps.reset()
    profiler = cProfile.Profile() if profile else None
    stored: list[tuple[NewItem, StoredItem]] = []
    written = _written_bytes()
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    for feed_id, batch in _batches(work, rng):
        done = _poll(engine, feed_id, [item.prepared for item in batch], steps)
        stored += zip(batch, done, strict=True)
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if written is not None:
        written = (_written_bytes() or 0) - written
    result = _outcomes(stored) | {
        "items": count,
        "wall s": wall,
        "CPU s": cpu,
        "hash ms": hashing[0] / (len(warm_up) + count) * 1e3,
        "steps ms": {step: seconds / count * 1e3 for step, seconds in steps.seconds.items()},
        "candidates": steps.candidates,
        "written KB": None if written is None else written / count / 1024,
        "max RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if profiler:
        report = io.StringIO()
        pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(30)
        result["profile"] = report.getvalue()
    return result


def _written_bytes() -> int | None:
    """Bytes this process has written so far (Linux: WAL frames, checkpoints, statement
    journals spilled to temporary files), else None."""
    try:
        io_counters = Path("/proc/self/io").read_text()
    except OSError:
        return None
    fields = dict(line.split(": ") for line in io_counters.splitlines())
    return int(fields["wchar"])


def _forget_earlier_runs(engine: Engine, meta: dict[str, Any]) -> None:
    """A kept database is measured again from its built state: rows stored by an earlier
    measurement (ids past the built ones) are removed first."""
    last_item, last_cluster = {"last": meta["last item"]}, {"last": meta["last cluster"]}
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM story_keys WHERE item_id > :last"), last_item)
        connection.execute(text("DELETE FROM story_fingerprints WHERE item_id > :last"), last_item)
        connection.execute(text("DELETE FROM items WHERE id > :last"), last_item)
        connection.execute(text("DELETE FROM clusters WHERE id > :last"), last_cluster)


def _workload(
    engine: Engine,
    meta: dict[str, Any],
    count: int,
    copy_share: float,
    writer: StoryWriter,
    rng: random.Random,
    hashing: list[float],
) -> list[NewItem]:
    """`count` new items, a `copy_share` of them copies of stored stories, shuffled."""
    size = int(meta["size"])
    copies = round(count * copy_share)
    targets: list[tuple[str, int]] = []
    for number in range(copies):
        kind = COPY_KINDS[number % len(COPY_KINDS)]
        if kind == "exact":  # only these stored items have their real content hash
            target = rng.randrange(1, size // REAL_HASH_EVERY + 1) * REAL_HASH_EVERY
        elif rng.random() < COPIES_OF_PLANTED:
            target = rng.choice([*meta["planted stories"], *meta["planted copies"]])
        else:
            target = rng.randrange(1, size + 1)
        targets.append((kind, target))
    originals = _load_items(engine, [target for _, target in targets])
    made: list[tuple[ItemText, str, int | None]] = []
    for kind, target in targets:
        title, body, cluster_id, _ = originals[target]
        made.append((near_copy(kind, title, body, writer, rng), kind, cluster_id))
    for _ in range(count - copies):
        title, content = writer.story(rng)
        made.append((ItemText(title, "", content, "fr"), "new", None))
    rng.shuffle(made)
    urls = [
        _url(rng.randrange(1, FEEDS + 1), item_text.title, f"n{rng.getrandbits(48):x}")
        for item_text, _, _ in made
    ]
    # What prepare_entry does before dedup, timed apart in one loop (timing each call would
    # add the timer's own cost to a ~50 µs function).
    started = time.process_time()
    texts = [item_text for item_text, _, _ in made]
    digests = [content_hash(item_text, url) for item_text, url in zip(texts, urls, strict=True)]
    hashing[0] += time.process_time() - started
    return [
        NewItem(PreparedItem(url, url, item_text, NOW, digest), kind, story)
        for (item_text, kind, story), url, digest in zip(made, urls, digests, strict=True)
    ]


def _batches(work: Sequence[NewItem], rng: random.Random) -> Iterator[tuple[int, list[NewItem]]]:
    for start in range(0, len(work), BATCH):
        yield rng.randrange(1, FEEDS + 1), list(work[start : start + BATCH])


def _poll(
    engine: Engine, feed_id: int, prepared: Sequence[PreparedItem], steps: Steps
) -> list[StoredItem]:
    """What monitor.pipeline.poll_results does with one feed document's items, dedup-wise: learn the
    lines the document repeats, then store the items in one transaction."""
    with engine.connect() as connection:
        with connection.begin():
            document = steps.timed("repeated lines", DocumentLines.of)(prepared)
            stored = store_items(
                connection,
                feed_id,
                prepared,
                NOW,
                fingerprint_of=steps.timed("fingerprint", document.fingerprint),
            )
            committing = time.process_time()
        steps.seconds["commit"] += time.process_time() - committing
    return stored


def _outcomes(stored: Sequence[tuple[NewItem, StoredItem]]) -> dict[str, Any]:
    copies: Counter[str] = Counter()
    found: Counter[str] = Counter()
    merged = 0
    for new, done in stored:
        if new.story is None:
            merged += done.similarity is not None
        else:
            copies[new.kind] += 1
            found[new.kind] += done.cluster_id == new.story
    return {"copies": dict(copies), "found": dict(found), "false merges": merged}


# --- orchestration -----------------------------------------------------------------------------

STARTUP = """
import json, resource, sys, time
started = time.perf_counter()
from datetime import datetime
from monitor.dedup.fingerprint import fingerprint
from monitor.model import ItemText
from monitor.store.database import open_engine, upgrade
from monitor.store.items import STORY_WINDOW
from monitor.store.stories import SqlStoryIndex
imported = time.perf_counter()
engine = open_engine(sys.argv[1])
upgrade(engine)
migrated = time.perf_counter()
probe = json.loads(sys.argv[2])
with engine.connect() as connection:
    now = datetime.fromisoformat(probe["now"])
    index = SqlStoryIndex(connection, now=now, since=now - STORY_WINDOW)
    found = index.candidates([fingerprint(ItemText(probe["title"], "", probe["body"]))])[0]
ready = time.perf_counter()
print(json.dumps({
    "imports": imported - started, "open+upgrade": migrated - imported,
    "lookup": ready - migrated, "candidates": len(found),
    "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def measure_startup(path: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """A fresh interpreter up to its first candidate lookup, for a stored story's text."""
    engine = open_engine(f"sqlite:///{path}")
    title, body, _, _ = _load_items(engine, [int(meta["size"]) // 2])[int(meta["size"]) // 2]
    engine.dispose()
    probe = json.dumps({"now": NOW.isoformat(), "title": title, "body": body})
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", STARTUP, f"sqlite:///{path}", probe],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"start-up run failed: {done.stderr.strip()[-500:]}")
    timings: dict[str, Any] = json.loads(done.stdout)
    return {"wall": wall, **timings}


def database_size(path: Path) -> dict[str, float]:
    """Bytes on disk by part, from the pages each table and index holds (dbstat)."""
    with closing(sqlite3.connect(path)) as database:
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        owner = dict(database.execute("SELECT name, tbl_name FROM sqlite_schema"))
        pages: defaultdict[str, int] = defaultdict(int)
        for name, size in database.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            table = owner.get(name, name)
            pages[table if table in ("items", "story_fingerprints", "story_keys") else "other"] += (
                size
            )
        count, text_bytes = database.execute(
            "SELECT COUNT(*), SUM(LENGTH(CAST(title || summary || content AS BLOB))) FROM items"
        ).fetchone()
        keys = database.execute("SELECT COUNT(*) FROM story_keys").fetchone()[0]
    return {
        "items": count,
        "file": path.stat().st_size,
        "text/item": text_bytes / count,
        "keys/item": keys / count,
        **{f"{part}/item": size / count for part, size in pages.items()},
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.worker == "templated":
        import templated

        print(json.dumps(templated.measure_one(args.templated_sizes, args.templated_path)))
        return 0
    if args.worker:
        path = Path(args.db)
        if args.worker == "build":
            print(json.dumps(build(path, args.worker_size, args.planted)))
        else:
            print(json.dumps(measure(path, args.items, args.profile)))
        return 0
    pinned = pin_to_one_core()
    if args.templated:
        import templated

        print(
            f"monitor dedup benchmark, templated items (SQLite {sqlite3.sqlite_version}, {pinned})"
        )
        runs = {
            path: [
                _worker(["templated", "--templated-path", path, "--templated-sizes", sizes], args)
                for _ in range(args.templated_runs)
            ]
            for path in ("dedup", "daemon")
            for sizes in [",".join(map(str, args.templated_sizes))]
        }
        rows = []
        for number, size in enumerate(sorted(args.templated_sizes)):
            row: dict[str, Any] = {"items": size, "runs": args.templated_runs}
            for path, done in runs.items():
                best = min(done, key=lambda run: run["seconds"][number])
                row[f"{path} s"] = best["seconds"][number]
                row[f"{path} stories"] = best["stories"][number]
            rows.append(row)
        templated.print_rows(rows)
        return 0
    _print_header(args, pinned)
    rows = []
    with _state_dir(args.keep) as directory:
        for size in args.sizes:
            rows.append(_run_size(directory / f"dedup-{size}.db", size, args))
            if args.keep is None:
                for leftover in directory.glob(f"dedup-{size}.*"):
                    leftover.unlink()
    _print_summary(rows)
    return 0


def _run_size(path: Path, size: int, args: argparse.Namespace) -> dict[str, Any]:
    print(f"{size:,} items in the window", flush=True)
    meta = _kept_state(path, size)
    if meta is None:
        meta = _worker(["build", "--db", str(path), "--worker-size", str(size)], args)
        path.with_suffix(".json").write_text(json.dumps(meta))
        print(f"  build: {meta['build s']:,.1f} s wall, {meta['build CPU s']:,.1f} s CPU", end="")
    else:
        print(f"  build: reused {path} (built in {meta['build s']:,.1f} s)", end="")
    print(
        f"; planted {len(meta['planted copies'])} copies of {len(meta['planted stories'])}"
        f" stories through store_items, {meta['planted joined']} joined their story"
    )
    starts = [measure_startup(path, meta) for _ in range(args.startup_runs)]
    first = starts[0]
    print(
        f"  start-up, fresh `python -c` to its first lookup: {_range([s['wall'] for s in starts])}"
        f" s wall (runs: {len(starts)}); first run: imports {first['imports']:.2f} s,"
        f" open_engine + upgrade {first['open+upgrade']:.3f} s, first lookup"
        f" {first['lookup'] * 1e3:.1f} ms ({first['candidates']} candidate), max RSS"
        f" {first['rss']:.0f} MB"
    )
    run = _worker(["measure", "--db", str(path), "--items", str(args.items)], args)
    _print_run(run)
    sizes = database_size(path)
    _print_sizes(sizes)
    return {"size": size, "build": meta["build s"], "start": starts, "run": run, "db": sizes}


def _kept_state(path: Path, size: int) -> dict[str, Any] | None:
    meta_path = path.with_suffix(".json")
    if not (path.exists() and meta_path.exists()):
        return None
    meta: dict[str, Any] = json.loads(meta_path.read_text())
    return meta if meta.get("format") == STATE_FORMAT and meta.get("size") == size else None


def _worker(command: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Run one step in a fresh interpreter: its caches and max RSS are its own. Its stderr
    (build progress) passes through."""
    extra = ["--planted", str(args.planted)] + (["--profile"] if args.profile else [])
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", *command, *extra],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"worker {command[0]} failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


STEP_ORDER = (
    "repeated lines",
    "fingerprint",
    "exact layer",
    "candidate SQL",
    "candidate texts",
    "decision",
    "index write",
    "commit",
)


def _print_run(run: dict[str, Any]) -> None:
    items, steps = run["items"], dict(run["steps ms"])
    copies, found = sum(run["copies"].values()), sum(run["found"].values())
    cpu_ms = run["CPU s"] / items * 1e3
    print(
        f"  dedup path: {items:,} new items ({copies} copies) in polls of {BATCH}:"
        f" {items / run['CPU s']:,.0f} items/s CPU ({cpu_ms:.2f} ms/item),"
        f" {items / run['wall s']:,.0f} items/s wall"
        + ("" if run["written KB"] is None else f", {run['written KB']:,.0f} KB written/item")
    )
    # The decision loads candidates' texts (to recompute their shingles) when it needs them.
    steps["candidate SQL"] = steps.pop("candidate lookup", 0.0)
    steps["decision"] = steps.get("decision", 0.0) - steps.get("candidate texts", 0.0)
    steps["other store_items"] = cpu_ms - sum(steps.values())
    parts = [
        f"{step} {steps[step]:.3f} ({steps[step] / cpu_ms:.0%})"
        for step in (*STEP_ORDER, "other store_items")
        if step in steps
    ]
    print(f"    CPU ms/item: {', '.join(parts)}")
    by_kind = ", ".join(
        f"{kind} {run['found'].get(kind, 0)}/{n}" for kind, n in run["copies"].items()
    )
    candidates = run["candidates"]
    print(
        f"    copies found in their story: {found}/{copies} ({by_kind}); new stories merged by"
        f" mistake: {run['false merges']}/{items - copies}; candidates per lookup: mean"
        f" {statistics.fmean(candidates or [0]):.2f}, max {max(candidates or [0])}"
    )
    with_hash = 1e3 / (cpu_ms + run["hash ms"])
    print(
        f"    content_hash (in prepare_entry, before dedup; the exact layer's key):"
        f" {run['hash ms']:.3f} CPU ms/item, with it {with_hash:,.0f} items/s CPU."
        f" Max RSS {run['max RSS MB']:.0f} MB"
    )
    if "profile" in run:
        print(run["profile"])


def _print_sizes(sizes: dict[str, float]) -> None:
    total = sizes["file"] / sizes["items"]
    print(
        f"  database: {sizes['file'] / 1e6:,.0f} MB for {sizes['items']:,.0f} items ="
        f" {total:,.0f} bytes/item: items {sizes.get('items/item', 0):,.0f} (text"
        f" {sizes['text/item']:,.0f}), story_keys {sizes.get('story_keys/item', 0):,.0f}"
        f" ({sizes['keys/item']:.1f} keys), story_fingerprints"
        f" {sizes.get('story_fingerprints/item', 0):,.0f}, other {sizes.get('other/item', 0):,.0f}",
        flush=True,
    )
    print()


def _print_summary(rows: Sequence[dict[str, Any]]) -> None:
    columns = (
        ("window items", "{:>12,}"),
        ("build s", "{:>7,.0f}"),
        ("start-up s", "{:>10.2f}"),
        ("items/s CPU", "{:>11,.0f}"),
        ("items/s wall", "{:>12,.0f}"),
        ("recall", "{:>6.1%}"),
        ("false merges", "{:>12}"),
        ("bytes/item", "{:>10,.0f}"),
        ("RSS MB", "{:>6.0f}"),
    )
    print("  ".join(f"{name:>{len(name)}}" for name, _ in columns))
    for row in rows:
        run = row["run"]
        values = (
            row["size"],
            row["build"],
            statistics.median(start["wall"] for start in row["start"]),
            run["items"] / run["CPU s"],
            run["items"] / run["wall s"],
            sum(run["found"].values()) / max(1, sum(run["copies"].values())),
            run["false merges"],
            row["db"]["file"] / row["db"]["items"],
            run["max RSS MB"],
        )
        print(
            "  ".join(form.format(value) for (_, form), value in zip(columns, values, strict=True))
        )


def _range(values: Sequence[float]) -> str:
    median = statistics.median(values)
    return (
        f"{median:.2f}"
        if len(values) == 1
        else f"{median:.2f} ({min(values):.2f}-{max(values):.2f})"
    )


@contextmanager
def _state_dir(keep: str | None) -> Iterator[Path]:
    if keep is not None:
        Path(keep).mkdir(parents=True, exist_ok=True)
        yield Path(keep)
        return
    with tempfile.TemporaryDirectory(prefix="monitor-bench-dedup-") as directory:
        yield Path(directory)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", help="items in the window, comma-separated (100000,1000000)")
    parser.add_argument("--items", type=int, help="new items through the dedup path (3000)")
    parser.add_argument("--planted", type=int, default=300, help="stored copies of stored stories")
    parser.add_argument("--startup-runs", type=int, default=3, help="fresh start-up processes")
    parser.add_argument("--keep", help="keep (and reuse) the built databases in this folder")
    parser.add_argument("--profile", action="store_true", help="cProfile the dedup path")
    parser.add_argument("--quick", action="store_true", help="10,000 items in the window only")
    parser.add_argument(
        "--templated", action="store_true", help="story folding of templated items, both paths"
    )
    parser.add_argument(
        "--templated-sizes", default="4000,8000", help="templated items, comma-separated"
    )
    parser.add_argument(
        "--templated-runs", type=int, default=3, help="runs of each, the least CPU time kept"
    )
    parser.add_argument(
        "--worker", choices=("build", "measure", "templated"), help=argparse.SUPPRESS
    )
    parser.add_argument("--templated-path", choices=("dedup", "daemon"), help=argparse.SUPPRESS)
    parser.add_argument("--worker-size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = args.sizes or ("10000" if args.quick else "100000,1000000")
    args.sizes = [int(size.replace("_", "")) for size in args.sizes.split(",") if size.strip()]
    args.items = args.items or (1000 if args.quick else 3000)
    args.templated_sizes = [int(size) for size in args.templated_sizes.split(",") if size.strip()]
    return args


def _print_header(args: argparse.Namespace, pinned: str) -> None:
    print("monitor dedup benchmark (SQLite)")
    print(f"  python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {pinned}")
    print(
        f"  stored items: French-like stories of ~2.8 KB decoded text with a title, first seen"
        f" over the {STORY_WINDOW.days}-day window; fingerprints by monitor.dedup; {FEEDS} feeds"
    )
    print(
        f"  dedup path: {args.items:,} new items ({COPY_SHARE:.0%} copies of stored stories:"
        f" {', '.join(COPY_KINDS)}), polls of {BATCH} items, each one transaction:"
        " repeated lines + fingerprint + store_items; target >= 1,000 items/s, start-up < 3 s"
    )
    print()


if __name__ == "__main__":
    sys.exit(main())
