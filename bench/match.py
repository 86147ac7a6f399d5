"""Matching benchmark (docs/design.md §4, performance): compile time, throughput and memory of the
watchlist matcher at several watchlist sizes, against a naive one-regex-per-term loop, and the
start-up time of `monitor match`. Prints figures; asserts nothing.

    .venv/bin/python bench/match.py [--sizes 100,1000,10000] [--seconds 2] [--quick]

Each size runs in a fresh Python process, so compile caches and the process's max RSS belong to
that size alone. See bench/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from corpus_fr import RawItem, Vocabulary, make_items
from match_measure import (
    HOT_REPEATS,
    TRACED_ITEMS,
    detect_features,
    measure_languages,
    measure_size,
    measure_traced_peak,
    normalize,
    profile_stages,
)
from pinning import pin_to_one_core
from watchlist_sets import count_spellings, make_watchlists

from monitor.compiled import PURE_PYTHON_VARIABLE, engine_state, environment

SEED = 20240611
CLI_ITEMS = 10

COLUMNS = (
    ("terms", 7, "{:>7,}"),
    ("spellings", 9, "{:>9,}"),
    ("compile s", 9, "{:>9.3f}"),
    ("items/s", 9, "{:>9,.0f}"),
    ("source items/s", 14, "{:>14,.0f}"),
    ("MB/s", 6, "{:>6.2f}"),
    ("items", 7, "{:>7,}"),
    ("CPU s", 6, "{:>6.2f}"),
    ("wall s", 6, "{:>6.2f}"),
    ("hits/item", 9, "{:>9.1f}"),
    ("no hit", 6, "{:>6.0%}"),
    ("peak MB", 7, "{:>7.1f}"),
    ("max RSS MB", 10, "{:>10.1f}"),
    ("naive items/s", 13, "{:>13,.2f}"),
    ("ratio", 8, "{:>7,.0f}x"),
    ("bare AC items/s", 15, "{:>15,.0f}"),
    ("yardstick items/s", 17, "{:>17,.0f}"),
    ("hot items/s", 11, "{:>11,.0f}"),
    ("3 lang peak MB", 14, "{:>14.1f}"),
    ("3 lang RSS MB", 13, "{:>13.1f}"),
)
# Items in these languages one after the other, for the memory of a multilingual deployment.
LANGUAGES = ("fr", "de", "es")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    if args.worker is not None:
        print(json.dumps(_worker(args)))
        return 0
    pinned = pin_to_one_core()
    _print_header(args, pinned)
    _print_row({name: name for name, _, _ in COLUMNS}, header=True)
    for size in args.sizes:
        row = _run_worker(size, args, trace=False)
        if "error" not in row:
            source = _run_worker(size, args, extra=["--rate-only"], pure_python=True)
            row["source items/s"] = source.get("items/s")
            traced = _run_worker(size, args, trace=True)
            row["peak MB"] = traced.get("peak MB")
            languages = _run_worker(size, args, extra=["--languages", "--trace"])
            row["3 lang peak MB"] = languages.get("peak MB")
            languages = _run_worker(size, args, extra=["--languages"])
            row["3 lang RSS MB"] = languages.get("max RSS MB")
        _print_row(row)
    if args.profile:
        _print_profile(args)
    _print_cli_start(max(args.sizes), args.cli_runs)
    return 0


def _worker(args: argparse.Namespace) -> dict[str, Any]:
    if args.profile_stages:
        return profile_stages(args.worker, pool=args.pool, seed=SEED)
    if args.languages:
        return measure_languages(args.worker, languages=LANGUAGES, seed=SEED, traced=args.trace)
    if args.trace:
        return measure_traced_peak(args.worker, seconds=args.seconds, pool=args.pool, seed=SEED)
    return measure_size(
        args.worker, seconds=args.seconds, pool=args.pool, seed=SEED, rate_only=args.rate_only
    )


def _print_profile(args: argparse.Namespace) -> None:
    """Where the time of normalize + match goes, per stage, at each size."""
    print()
    print("profile: CPU microseconds per item of each stage, timed apart (best of 5 rounds)")
    profiles = {size: _run_worker(size, args, extra=["--profile-stages"]) for size in args.sizes}
    stages = next(iter(profiles.values())).keys()
    print(f"  {'stage':<20}" + "".join(f"{size:>10,}" for size in profiles))
    for stage in stages:
        cells = "".join(f"{profile.get(stage, 0):>10.1f}" for profile in profiles.values())
        print(f"  {stage:<20}{cells}")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", default="100,1000,10000", help="total terms per run, comma-separated"
    )
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="CPU seconds of matching per size"
    )
    parser.add_argument("--pool", type=int, default=500, help="distinct items, cycled through")
    parser.add_argument("--cli-runs", type=int, default=3, help="times to run `monitor match`")
    parser.add_argument("--quick", action="store_true", help="a small run, for a smoke test")
    parser.add_argument(
        "--profile", action="store_true", help="also time each stage of matching apart"
    )
    parser.add_argument("--languages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-stages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.seconds, args.pool, args.cli_runs = "100,1000", 0.2, 40, 1
    args.sizes = [int(size.replace("_", "")) for size in str(args.sizes).split(",") if size.strip()]
    return args


def _print_header(args: argparse.Namespace, pinned: str) -> None:
    vocabulary = Vocabulary(SEED)
    sample = make_items(vocabulary, min(args.pool, 200), seed=SEED)
    mean_bytes = sum(item.size_bytes for item in sample) / len(sample)
    features = detect_features()
    print("monitor matching benchmark")
    print(f"  python {platform.python_version()} on {platform.machine()}, {pinned}")
    print(
        f"  {engine_state()}; source items/s: the same run with the engine's Python source"
        f" ({PURE_PYTHON_VARIABLE}=1)"
    )
    print(
        f"  items: {args.pool} distinct French-like items of {mean_bytes:,.0f} bytes on average"
        f" (UTF-8 of the raw HTML fields), cycled; seed {SEED}"
    )
    print(
        f"  normalize alone (html_to_text of every field): {_normalize_rate(sample):,.0f} items/s"
    )
    print(
        f"  schema: fuzzy terms {'on' if features.fuzzy else 'off'},"
        f" queries {'on' if features.query else 'off'}"
    )
    print(
        f"  items/s and MB/s per CPU second (time.process_time) of normalize+match,"
        f" over >= {args.seconds:g} CPU s; MB = 10^6 bytes"
    )
    print(
        "  peak MB: tracemalloc peak of compile + matching; max RSS: the whole process"
        " (Python, corpus, matcher)"
    )
    print(
        "  naive: one re.compile(r'\\b<spelling>\\b', re.I) per spelling over the folded text;"
        " ratio = items/s / naive items/s"
    )
    print(
        "  bare AC: the engine's automaton iterated over the same items' folded fields (folded"
        f" beforehand); 3 lang: {TRACED_ITEMS} items in each of {', '.join(LANGUAGES)}"
    )
    print(
        "  yardstick: issue 15's measure of a machine, a bare pyahocorasick pass over the same"
        " folded fields with the engine's keys (~28,000 on the machine its targets were set on)"
    )
    print(
        f"  hot: items/s with each item matched {HOT_REPEATS} times in a row, so what it touches"
        " stays in the CPU caches: the rate without the memory's latency, to compare machines"
    )
    print()


def _normalize_rate(items: Sequence[RawItem]) -> float:
    """The ceiling of normalize+match: what decoding the HTML alone costs."""
    started = time.process_time()
    for raw in items:
        normalize(raw)
    return len(items) / (time.process_time() - started)


def _run_worker(
    size: int,
    args: argparse.Namespace,
    *,
    trace: bool = False,
    extra: Sequence[str] = (),
    pure_python: bool = False,
) -> dict[str, Any]:
    """Measure one size in a fresh interpreter: its caches and max RSS are that size's alone.
    `pure_python` runs the engine's Python source where the install compiled it."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", str(size)]
    command += ["--seconds", str(args.seconds), "--pool", str(args.pool)]
    command += ["--trace"] if trace else []
    command += list(extra)
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env=environment(pure_python=pure_python),
    )
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-3:]
        return {
            "terms": size,
            "error": f"worker failed (exit {done.returncode}): {' | '.join(tail)}",
        }
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _print_row(row: dict[str, Any], *, header: bool = False) -> None:
    if "error" in row:
        print(f"{row['terms']:>7,}  {row['error']}", flush=True)
        return
    cells = []
    for name, width, number in COLUMNS:
        value = row.get(name)
        if header:
            cells.append(f"{name:>{width}}")
        elif value is None:
            cells.append(f"{'-':>{width}}")
        else:
            cells.append(number.format(value))
    print("  ".join(cells), flush=True)


def _print_cli_start(size: int, runs: int) -> None:
    """Time `python -m monitor --config monitor.yaml match` on CLI_ITEMS items: interpreter
    start, imports, configuration load, compile of `size` terms, matching, output."""
    vocabulary = Vocabulary(SEED)
    watchlists = make_watchlists(size, vocabulary, detect_features(), seed=SEED)
    items = make_items(vocabulary, CLI_ITEMS, seed=SEED + 1)
    lines = "".join(
        json.dumps(
            {"id": f"item-{index}", "title": item.title, "content": item.content, "language": "fr"},
            ensure_ascii=False,
        )
        + "\n"
        for index, item in enumerate(items)
    )
    print()
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as directory:
        config = Path(directory) / "monitor.yaml"
        config.write_text(
            yaml.safe_dump({"watchlists": watchlists}, allow_unicode=True, sort_keys=False),
            encoding="utf-8",
        )
        print(
            f"CLI: python -m monitor --config monitor.yaml match, {size:,} terms"
            f" ({count_spellings(watchlists):,} spellings, {config.stat().st_size / 1e3:,.0f} kB"
            f" of YAML), {CLI_ITEMS} items on stdin"
        )
        command = [sys.executable, "-m", "monitor", "--config", str(config), "match"]
        # A cache of its own: the first run compiles and fills it, the next ones read it.
        cli_env = {**os.environ, "XDG_CACHE_HOME": str(Path(directory) / "cache")}
        cli_env.pop("CACHE_DIRECTORY", None)
        for run in range(1, runs + 1):
            cpu_before, started = _children_cpu(), time.perf_counter()
            done = subprocess.run(
                command,
                input=lines,
                capture_output=True,
                text=True,
                cwd=directory,
                env=cli_env,
                check=False,
            )
            wall, cpu = time.perf_counter() - started, _children_cpu() - cpu_before
            outcome = f"{len(done.stdout.splitlines())} output lines"
            if done.returncode != 0:
                outcome = f"FAILED (exit {done.returncode}): {done.stderr.strip()[-300:]}"
            print(
                f"  run {run}: {wall:.2f} s wall, {cpu:.2f} s CPU"
                f" (start + load + compile + match, {'compiled' if run == 1 else 'cached'}),"
                f" {outcome}"
            )


def _children_cpu() -> float:
    """CPU seconds of the finished child processes: unlike wall time, not inflated by other
    processes sharing the core."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    sys.exit(main())
