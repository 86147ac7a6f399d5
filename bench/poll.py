"""Polling benchmark (the acceptance "10,000 feeds in one cycle: at most 60 CPU seconds and 300 MB
peak memory for the daemon"): a local server simulates the feeds, the daemon's Poller polls them
all twice, and the second cycle is measured. Prints figures; asserts nothing.

    .venv/bin/python bench/poll.py [--feeds 10000] [--hosts 100] [--profile]
    .venv/bin/python bench/poll.py --quick          # 500 feeds

Cycle 1 seeds the database (every feed answers 200 with its body; 60% send an ETag and a
Last-Modified). Cycle 2 is the one measured: the feeds with validators answer 304, 30% send the
same body again without validators, 10% carry 1 to 5 new items on top. The feed server runs in a
process of its own, on the other cores, so its CPU time is not counted; each cycle runs in a
fresh interpreter, so its max RSS is its own. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import email.utils
import io
import json
import os
import platform
import pstats
import random
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from corpus_fr import Vocabulary, make_items
from pinning import pin_to_one_core

SEED = 20261126
ITEMS_PER_FEED = (20, 50)  # items in a feed document, uniform
DESCRIPTION_BYTES = (250, 3500, 700)  # triangular (low, high, mode) of an item's description
NEW_ITEMS = (1, 5)  # new items on top of a changed feed in cycle 2
SHARE_304 = 0.6  # feeds that send validators and answer 304 in cycle 2
SHARE_UNCHANGED = 0.3  # the same body again, without validators
WATCHLIST_TERMS = 200  # 20 watchlists of 10 terms (bench/watchlist_sets.py)
TARGET_CPU_S = 60.0  # for 10,000 feeds
TARGET_PEAK_MB = 300.0
TARGET_FEEDS = 10_000
_SENTENCE_END = re.compile(r"(?<=[.?!:]) ")


# --- the feed server -------------------------------------------------------------------------


def feed_class(number: int) -> str:
    """What feed `number` does in cycle 2: `304`, `unchanged` or `new` (a multiplicative hash,
    so the shares hold for any count and the classes are interleaved)."""
    fraction = (number * 2654435761 % 2**32) / 2**32
    if fraction < SHARE_304:
        return "304"
    return "unchanged" if fraction < SHARE_304 + SHARE_UNCHANGED else "new"


class FeedWriter:
    """Deterministic RSS 2.0 documents of French-like news: feed N is the same bytes every time
    it is written for the same cycle. Every item is a distinct story (a fresh title and lead),
    its description HTML made of sentences cut out of corpus_fr items (entities, inline markup,
    elisions, NBSP, « guillemets »)."""

    def __init__(self, seed: int, epoch: float) -> None:
        vocabulary = Vocabulary(seed)
        rng = random.Random(seed)
        self._seed = seed
        self._epoch = epoch  # publication times count back from here
        self._words = [vocabulary.token(rng) for _ in range(100_000)]
        pool: list[str] = []
        for raw in make_items(vocabulary, 400, seed=seed):
            for paragraph in raw.content.split("</p>"):
                text = paragraph.strip().removeprefix("<p>")
                pool += [sentence for sentence in _SENTENCE_END.split(text) if sentence]
        self._pool = pool

    def document(self, number: int, cycle: int, now: float) -> bytes:
        rng = random.Random(self._seed * 100_003 + number)
        count = rng.randint(*ITEMS_PER_FEED)
        items = [
            self._item(rng, number, f"{number}-{serial}", self._epoch - 600 * (serial + 1) - 60)
            for serial in range(count)
        ]
        built = self._epoch
        if cycle >= 2 and feed_class(number) == "new":
            fresh = random.Random(self._seed * 100_003 + number + 10**9 * cycle)
            added = fresh.randint(*NEW_ITEMS)
            new = [
                self._item(fresh, number, f"{number}-c{cycle}-{serial}", now - 30 * serial)
                for serial in range(added)
            ]
            items = new + items[: count - added]  # a feed keeps its length: the oldest go
            built = now
        site = f"https://www.site{number}.example.fr"
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>\n'
            f"<title>Site {number} — Actualités</title><link>{site}/</link>\n"
            f"<description>Les dernières actualités du site {number}</description>"
            f"<language>fr</language><lastBuildDate>{_rfc822(built)}</lastBuildDate>\n"
        )
        return (head + "".join(items) + "</channel></rss>\n").encode()

    def _item(self, rng: random.Random, number: int, serial: str, published: float) -> str:
        title = self._fresh(rng, rng.randint(6, 12), end="")
        target = int(rng.triangular(*DESCRIPTION_BYTES))
        parts = [self._fresh(rng, rng.randint(15, 25))]
        size = len(parts[0]) + 7
        paragraph = 0
        while size < target:
            sentence = rng.choice(self._pool)
            paragraph += 1
            if paragraph % 4 == 0:
                sentence = "</p><p>" + sentence
            parts.append(sentence)
            size += len(sentence.encode()) + 1
        description = "<p>" + " ".join(parts) + "</p>"
        slug = "-".join(title.lower().split()[:6])
        link = f"https://www.site{number}.example.fr/actualites/{escape(slug)}-{serial}.html"
        return (
            f"<item><title>{escape(title)}</title><link>{link}</link>"
            f'<guid isPermaLink="true">{link}</guid><pubDate>{_rfc822(published)}</pubDate>'
            f"<category>International</category>"
            f"<description>{escape(description)}</description></item>\n"
        )

    def _fresh(self, rng: random.Random, words: int, end: str = ".") -> str:
        sentence = " ".join(rng.choices(self._words, k=words))
        return sentence[0].upper() + sentence[1:] + end


def _rfc822(moment: float) -> str:
    return email.utils.formatdate(moment, usegmt=True)


class FeedServer:
    """A small HTTP/1.1 server (keep-alive, GET only) on several loopback addresses: the Poller
    allows `max_per_host` fetches per host name, and a real deployment's feeds come from many
    publishers. /feed/N.xml on any of them is feed N; /control/cycle/C switches cycle;
    /control/stats gives the counts of responses."""

    def __init__(self, writer: FeedWriter, epoch: float) -> None:
        self.writer = writer
        self.cycle = 1
        self.switched_at = epoch
        self.last_modified = _rfc822(epoch - 3600)
        self.stats: Counter[str] = Counter()

    def answer(self, head: bytes) -> bytes:
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        path = parts[1] if len(parts) > 1 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if path.startswith("/control/"):
            return self._control(path)
        found = re.fullmatch(r"/feed/(\d+)\.xml", path)
        if parts[0] != "GET" or not found:
            return _response("404 Not Found", b"not found\n", {"Content-Type": "text/plain"})
        number = int(found.group(1))
        kind = feed_class(number)
        extra = {"Content-Type": "application/rss+xml; charset=UTF-8"}
        if kind == "304":
            etag = f'"{number:x}-{SEED:x}"'
            extra |= {"ETag": etag, "Last-Modified": self.last_modified}
            if self.cycle >= 2 and headers.get("if-none-match") == etag:
                self.stats[f"cycle {self.cycle} 304"] += 1
                return _response("304 Not Modified", b"", extra, length=False)
        body = self.writer.document(number, self.cycle, self.switched_at)
        self.stats[f"cycle {self.cycle} 200"] += 1
        self.stats[f"cycle {self.cycle} bytes"] += len(body)
        return _response("200 OK", body, extra)

    def _control(self, path: str) -> bytes:
        if path.startswith("/control/cycle/"):
            self.cycle = int(path.rsplit("/", 1)[1])
            self.switched_at = time.time()
            for key in [key for key in self.stats if key.startswith(f"cycle {self.cycle} ")]:
                del self.stats[key]  # a repeated cycle counts its own answers
        body = json.dumps({"cycle": self.cycle, **self.stats}).encode()
        return _response("200 OK", body, {"Content-Type": "application/json"})


def _response(status: str, body: bytes, headers: dict[str, str], length: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items())]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Connection(asyncio.Protocol):
    def __init__(self, server: FeedServer) -> None:
        self._server = server
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while b"\r\n\r\n" in self._buffer:  # GET requests: no body
            head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
            assert self._transport is not None
            self._transport.write(self._server.answer(head))


def serve(hosts: int, avoid_core: int | None, epoch: float | None, port: int) -> None:
    """The server process: prints its addresses as one JSON line, then serves until killed.
    The same `epoch` and `port` serve the same documents at the same addresses (--seeded)."""
    if avoid_core is not None and hasattr(os, "sched_setaffinity"):
        others = set(range(os.cpu_count() or 1)) - {avoid_core}
        if others:
            os.sched_setaffinity(0, others)
    epoch = epoch or float(int(time.time()))
    server = FeedServer(FeedWriter(SEED, epoch), epoch)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        addresses = []
        for index in range(hosts):
            host = f"127.77.{index // 250}.{index % 250 + 1}"
            try:
                listening = await loop.create_server(lambda: _Connection(server), host, port)
            except OSError:  # only 127.0.0.1 is up (macOS): every feed on one host
                host = "127.0.0.1"
                listening = await loop.create_server(lambda: _Connection(server), host, port)
                addresses.append([host, listening.sockets[0].getsockname()[1]])
                break
            addresses.append([host, listening.sockets[0].getsockname()[1]])
        cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        print(json.dumps({"hosts": addresses, "cores": cores, "epoch": epoch}), flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- the daemon side -------------------------------------------------------------------------


def feed_urls(addresses: Sequence[Sequence[Any]], count: int) -> list[str]:
    return [
        f"http://{addresses[n % len(addresses)][0]}:{addresses[n % len(addresses)][1]}/feed/{n}.xml"
        for n in range(count)
    ]


def build_config(urls: Sequence[str], directory: Path, args: argparse.Namespace) -> Any:
    from watchlist_sets import Features, make_watchlists

    from monitor.config import LoadedConfig
    from monitor.config.schema import Config

    fetch: dict[str, Any] = {"allow_private_networks": True}
    if args.max_connections:
        fetch["max_connections"] = args.max_connections
    if args.max_per_host:
        fetch["max_per_host"] = args.max_per_host
    watchlists = make_watchlists(
        WATCHLIST_TERMS, Vocabulary(SEED), Features(fuzzy=True, query=True), SEED
    )
    config = Config.model_validate(
        {
            "database": f"sqlite:///{directory / 'monitor.db'}",
            "feeds": [{"url": url, "interval": "1h", "language": "fr"} for url in urls],
            "channels": {"terminal": {"url": "console://"}},
            "fetch": fetch,
            "watchlists": watchlists,
        }
    )
    return LoadedConfig(config, directory / "monitor.yaml", ())


def run_cycle(args: argparse.Namespace) -> dict[str, Any]:
    """One polling pass over every feed, in this fresh process: what `monitor poll --once
    --all` does before delivering (no delivery here)."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        os.environ.pop(name, None)  # loopback, never through a proxy
    started_cpu = _cpu()
    from monitor.daemon.runtime import build_runtime
    from monitor.sandbox import DEFAULT_PROCESSES

    addresses = json.loads(args.addresses)
    loaded = build_config(feed_urls(addresses, args.feeds), Path(args.directory), args)
    runtime = build_runtime(loaded)  # compiles the watchlists
    runtime.prepare_database()  # migrate, sync the feeds table
    setup_cpu = _cpu() - started_cpu

    steps = _time_steps()
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        # cProfile sees one thread: run the Poller's to_thread work (parse is not in it, but
        # ingest and the database writes are) in the event loop's thread instead.
        async def inline(function: Any, /, *call_args: Any, **kwargs: Any) -> Any:
            return function(*call_args, **kwargs)

        asyncio.to_thread = inline  # type: ignore[assignment]

    parse_peaks: list[float] = []

    async def poll() -> list[Any]:
        policy = runtime.fetch_policy
        async with runtime.http_client(policy) as client, runtime.feed_parser() as parser:
            poller = runtime.poller(client, parser, policy)
            reports: list[Any] = await poller.poll_due(all_feeds=True)
            parse_peaks.extend(_children_peak_mb())  # before the parse processes end
            return reports

    children_cpu = _children_cpu()
    wall, cpu = time.perf_counter(), _cpu()
    if profiler:
        profiler.enable()
    reports = asyncio.run(poll())
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    # The parse processes ended with the cycle: their CPU time is counted now.
    steps["parse (child processes)"] = _children_cpu() - children_cpu
    statuses = Counter(report.status.value for report in reports)
    errors = Counter(report.message for report in reports if report.status == "error")
    from sqlalchemy import text

    with runtime.engine.connect() as connection:
        items = connection.execute(text("SELECT COUNT(*) FROM items")).scalar_one()
        alerts_total = connection.execute(text("SELECT COUNT(*) FROM alerts")).scalar_one()
    runtime.engine.dispose()
    result = {
        "wall s": wall,
        "CPU s": cpu,
        "setup CPU s": setup_cpu,
        "max RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "parse process max RSS MB": max(parse_peaks, default=0.0),
        "parse processes": DEFAULT_PROCESSES,
        "statuses": dict(statuses),
        "errors": dict(errors.most_common(3)),
        "new items": sum(report.new_items for report in reports),
        "alerts": sum(report.alerts for report in reports),
        "items stored": items,
        "alerts stored": alerts_total,
        "database MB": _database_bytes(Path(args.directory)) / 1e6,
        "steps": dict(steps),
    }
    if profiler:
        report = io.StringIO()
        stats = pstats.Stats(profiler, stream=report)
        stats.sort_stats("cumulative").print_stats(30)
        stats.sort_stats("tottime").print_stats(20)
        result["profile"] = report.getvalue()
    return result


def _time_steps() -> Counter[str]:
    """CPU seconds by step, filled while the cycle runs: each kind of work the Poller hands to
    a thread (`_ingest`: store, match and alert a changed feed; `run`: a feed's state written
    after a 304, an unchanged body or an error; `_claim`: the due feeds). The feed parse, in
    child processes, is added after the cycle; the rest is fetching and the event loop."""
    steps: Counter[str] = Counter()
    to_thread = asyncio.to_thread

    async def timed_to_thread(function: Any, /, *call_args: Any, **kwargs: Any) -> Any:
        def timed() -> Any:
            started = time.thread_time()
            try:
                return function(*call_args, **kwargs)
            finally:
                steps[getattr(function, "__name__", "other")] += time.thread_time() - started

        return await to_thread(timed)

    asyncio.to_thread = timed_to_thread  # type: ignore[assignment]
    return steps


def _cpu() -> float:
    """User + system CPU seconds of this process (all threads) and of its children that have
    ended: the daemon's parse processes, which end with the cycle."""
    return _own_cpu() + _children_cpu()


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_peak_mb() -> list[float]:
    """The peak RSS (VmHWM) of each living child of this process. Not RUSAGE_CHILDREN's
    ru_maxrss: a child's counts the parent's pages it shared between fork and exec."""
    mine = str(os.getpid())
    peaks = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            if stat[1] != mine:
                continue
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        peaks.extend(
            int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")
        )
    return peaks


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _database_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.glob("monitor.db*"))


# --- the measuring process -------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.serve:
        serve(args.hosts, args.avoid_core, args.epoch, args.port)
        return 0
    if args.worker:
        print(json.dumps(run_cycle(args)))
        return 0
    pinned = pin_to_one_core()
    core = min(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    seeded = _seeded_state(args)
    command = [sys.executable, str(Path(__file__).resolve()), "--serve", "--hosts", str(args.hosts)]
    command += [] if core is None else ["--avoid-core", str(core)]
    command += ["--port", str(seeded["port"] if seeded else args.port)]
    command += ["--epoch", str(seeded["epoch"])] if seeded else []
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        ready = json.loads(server.stdout.readline())
        addresses = ready["hosts"]
        _print_header(args, pinned, ready["cores"], len(addresses))
        with tempfile.TemporaryDirectory(prefix="monitor-bench-poll-") as directory:
            seeding = Path(args.seeded) if args.seeded else Path(directory) / "seeded"
            if not seeded:
                seeding.mkdir(parents=True, exist_ok=True)
                first = _worker(args, addresses, str(seeding))
                _print_cycle("cycle 1 (seeding, not the target)", first)
                if args.seeded:
                    state = {"epoch": ready["epoch"], "port": addresses[0][1]}
                    (seeding / "seeded.json").write_text(json.dumps(state | {"feeds": args.feeds}))
                stats = _control(addresses[0], "/control/stats")
                print(f"  server: {_served(stats, 1)}")
            else:
                print(f"cycle 1: the database seeded before in {seeding}")
            runs = []
            for run in range(args.repeat):
                _control(addresses[0], "/control/cycle/2")
                measured = Path(directory) / f"cycle2-{run}"
                measured.mkdir()
                for path in seeding.glob("monitor.db*"):  # each run from the seeded state
                    shutil.copy2(path, measured / path.name)
                second = _worker(args, addresses, str(measured), profile=args.profile)
                _print_cycle("cycle 2 (measured)", second)
                stats = _control(addresses[0], "/control/stats")
                print(f"  server: {_served(stats, 2)}")
                runs.append(second)
                shutil.rmtree(measured)
        for second in runs:
            _print_targets(args.feeds, second)
        if "profile" in runs[-1]:
            print()
            print("profile of cycle 2 (to_thread work run inline; figures inflated):")
            print(runs[-1]["profile"])
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


def _seeded_state(args: argparse.Namespace) -> dict[str, Any] | None:
    """The epoch and port of a database seeded before in --seeded DIR, or None (seed now)."""
    if not args.seeded:
        return None
    recorded = Path(args.seeded) / "seeded.json"
    if not recorded.exists():
        args.port = args.port or _free_port()
        return None
    state: dict[str, Any] = json.loads(recorded.read_text())
    if state["feeds"] != args.feeds:
        raise SystemExit(f"{args.seeded} was seeded with {state['feeds']} feeds, not {args.feeds}")
    return state


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _worker(
    args: argparse.Namespace, addresses: list[Any], directory: str, *, profile: bool = False
) -> dict[str, Any]:
    """One cycle in a fresh interpreter (its caches, max RSS and CPU time are its own)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--feeds"]
    command += [str(args.feeds), "--addresses", json.dumps(addresses), "--directory", directory]
    command += ["--max-connections", str(args.max_connections or 0)]
    command += ["--max-per-host", str(args.max_per_host or 0)]
    if profile:
        command.append("--profile")
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker failed (exit {done.returncode})")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _control(address: Sequence[Any], path: str) -> dict[str, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{address[0]}:{address[1]}{path}", timeout=30) as response:
        stats: dict[str, Any] = json.loads(response.read())
        return stats


def _served(stats: dict[str, Any], cycle: int) -> str:
    full = stats.get(f"cycle {cycle} 200", 0)
    size = stats.get(f"cycle {cycle} bytes", 0)
    mean = f", mean {size / full / 1e3:.0f} KB" if full else ""
    return (
        f"{full:,} bodies ({size / 1e6:,.0f} MB{mean}), "
        f"{stats.get(f'cycle {cycle} 304', 0):,} answers 304"
    )


def _print_header(
    args: argparse.Namespace, pinned: str, server_cores: list[int] | None, hosts: int
) -> None:
    from monitor.config.schema import FetchSpec

    fetch = FetchSpec()
    print("monitor polling benchmark (one cycle of every feed against a local server)")
    print(f"  python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {pinned}")
    print(
        f"  feed server: its own process on cores {server_cores}, {hosts} loopback hosts;"
        f" Poller: fetch.max_connections {args.max_connections or fetch.max_connections},"
        f" max_per_host {args.max_per_host or fetch.max_per_host}"
    )
    print(
        f"  {args.feeds:,} feeds, RSS 2.0 of {ITEMS_PER_FEED[0]}-{ITEMS_PER_FEED[1]} items"
        f" (descriptions of {DESCRIPTION_BYTES[0]}-{DESCRIPTION_BYTES[1]} bytes of HTML);"
        f" cycle 2: {SHARE_304:.0%} answer 304, {SHARE_UNCHANGED:.0%} the same body without"
        f" validators, {1 - SHARE_304 - SHARE_UNCHANGED:.0%} {NEW_ITEMS[0]}-{NEW_ITEMS[1]} new"
        f" items; {WATCHLIST_TERMS // 10} watchlists of 10 terms; SQLite in a temporary folder"
    )
    print()


def _print_cycle(name: str, run: dict[str, Any]) -> None:
    statuses = dict(run["statuses"])
    errors = sum(count for status, count in statuses.items() if status.startswith("error"))
    print(
        f"{name}: {run['wall s']:,.1f} s wall, {run['CPU s']:,.1f} s CPU,"
        f" max RSS {run['max RSS MB']:,.0f} MB (and {run['parse processes']} parse processes"
        f" of at most {run['parse process max RSS MB']:,.0f} MB: {_peak_mb(run):,.0f} MB in all)"
    )
    print(
        f"  statuses: ok {statuses.get('ok', 0):,}, not_modified"
        f" {statuses.get('not_modified', 0):,}, unchanged {statuses.get('unchanged', 0):,},"
        f" errors {errors:,}" + (f" {run['errors']}" if errors else "")
    )
    steps = dict(run["steps"])
    other = run["CPU s"] - sum(steps.values())
    print(
        "  CPU s by step: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in sorted(steps.items()))
        + f", fetch and event loop {other:.1f}"
    )
    print(
        f"  new items {run['new items']:,}, alerts {run['alerts']:,}; stored in all: items"
        f" {run['items stored']:,}, alerts {run['alerts stored']:,}; database"
        f" {run['database MB']:,.0f} MB; before the cycle (imports, config, compile, migrate +"
        f" sync feeds) {run['setup CPU s']:.1f} s CPU",
        flush=True,
    )


def _print_targets(feeds: int, run: dict[str, Any]) -> None:
    scale = TARGET_FEEDS / feeds
    cpu, peak = run["CPU s"], _peak_mb(run)
    print()
    print(
        f"targets for {TARGET_FEEDS:,} feeds: <= {TARGET_CPU_S:.0f} CPU s and <="
        f" {TARGET_PEAK_MB:.0f} MB peak; cycle 2: {cpu:,.1f} CPU s"
        + ("" if feeds == TARGET_FEEDS else f" ({cpu * scale:,.1f} s scaled to {TARGET_FEEDS:,})")
        + f", {peak:,.0f} MB peak ({cpu / feeds * 1e3:.2f} CPU ms/feed)"
    )


def _peak_mb(run: dict[str, Any]) -> float:
    """The daemon's peak memory, at most: its own max RSS and every parse process at the
    largest max RSS any of them reached."""
    return float(run["max RSS MB"] + run["parse processes"] * run["parse process max RSS MB"])


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--feeds", type=int, help="feeds polled in each cycle (10000)")
    parser.add_argument("--quick", action="store_true", help="500 feeds")
    parser.add_argument("--hosts", type=int, default=100, help="loopback hosts serving the feeds")
    parser.add_argument("--max-connections", type=int, help="fetch.max_connections (default 16)")
    parser.add_argument("--max-per-host", type=int, help="fetch.max_per_host (default 2)")
    parser.add_argument("--profile", action="store_true", help="cProfile cycle 2")
    parser.add_argument(
        "--seeded",
        metavar="DIR",
        help="keep the seeded database in DIR, and reuse it when DIR holds one (skips cycle 1)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="measure cycle 2 N times")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--epoch", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--avoid-core", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--addresses", help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.feeds = args.feeds or (500 if args.quick else TARGET_FEEDS)
    return args


if __name__ == "__main__":
    sys.exit(main())
