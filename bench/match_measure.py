"""One benchmark size, measured in the current process: compile, normalize+match throughput,
memory, and the naive one-regex-per-spelling loop over the same items.

Uses only the public matching API (`compile_watchlists`, `Matcher.match`, `html_to_text`,
`ItemText`, the config schema), because the engine behind it is being rewritten.
"""

from __future__ import annotations

import dataclasses
import gc
import re
import resource
import sys
import time
import tracemalloc
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from corpus_fr import RawItem, Vocabulary, make_items
from watchlist_sets import Features, count_spellings, make_watchlists

from monitor.config.schema import TermSpec, WatchlistSpec
from monitor.match import compile_watchlists
from monitor.model import FIELDS, ItemText
from monitor.text.html import html_to_text
from monitor.text.wordfold import fold_words

WARM_UP_ITEMS = 20
# Each item matched this many times in a row for the hot rate: from the second time on, what it
# touches (automaton states, compiled watchlists) is in the CPU caches.
HOT_REPEATS = 10
TRACED_ITEMS = 200  # tracemalloc slows allocation several times: trace a sample, not the run


def detect_features() -> Features:
    return Features(
        fuzzy="fuzzy" in TermSpec.model_fields, query="query" in WatchlistSpec.model_fields
    )


def normalize(raw: RawItem) -> ItemText:
    """What the pipeline does before matching: decode the HTML of every field."""
    return ItemText(
        title=html_to_text(raw.title),
        summary=html_to_text(raw.summary),
        content=html_to_text(raw.content),
        language="fr",
    )


def measure_size(
    size: int, *, seconds: float, pool: int, seed: int, rate_only: bool = False
) -> dict[str, Any]:
    vocabulary = Vocabulary(seed)
    raw_watchlists = make_watchlists(size, vocabulary, detect_features(), seed=seed)
    specs = [WatchlistSpec.model_validate(watchlist) for watchlist in raw_watchlists]
    items = make_items(vocabulary, pool, seed=seed)
    result: dict[str, Any] = {"terms": size, "spellings": count_spellings(raw_watchlists)}

    gc.collect()
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    matcher = compile_watchlists(specs)
    result["compile s"] = time.process_time() - cpu_start
    result["compile wall s"] = time.perf_counter() - wall_start

    def match_one(raw: RawItem) -> int:
        return sum(len(found.hits) for found in matcher.match(normalize(raw)))

    for raw in items[:WARM_UP_ITEMS]:
        match_one(raw)
    run = _run_for(seconds, items, match_one)
    result.update(
        {
            "bare AC items/s": None,
            "yardstick items/s": None,
            "hot items/s": None,
            "items": run.items,
            "CPU s": run.cpu,
            "wall s": run.wall,
            "items/s": run.items / run.cpu,
            "MB/s": run.bytes / run.cpu / 1e6,
            "hits/item": run.hits / run.items,
            "no hit": run.without_hits / run.items,
            "max RSS MB": _max_rss_mb(),
        }
    )

    if rate_only:
        return result
    result["bare AC items/s"] = _bare_automaton_rate(matcher, items, seconds)
    hot_run = _run_for(seconds, items, match_one, repeat=HOT_REPEATS)
    result["hot items/s"] = hot_run.items / hot_run.cpu
    # After the engine's own runs: it builds another automaton, and garbage of its key table.
    result["yardstick items/s"] = _yardstick_rate(matcher, items, seconds)

    naive = _NaiveLoop(specs)
    naive_run = _run_for(seconds, items, naive.match)
    result["naive compile s"] = naive.compile_seconds
    result["naive items"] = naive_run.items
    result["naive items/s"] = naive_run.items / naive_run.cpu
    result["ratio"] = result["items/s"] / result["naive items/s"]
    return result


def _folded_fields(items: Sequence[RawItem]) -> list[list[str]]:
    folded = []
    for raw in items:
        item = normalize(raw)
        folded.append([fold_words(text).text for name in FIELDS if (text := item.field_text(name))])
    return folded


def _engine_search(matcher: Any, language: str | None) -> Callable[[str], Any]:
    """The engine's own automaton, as a function that finds every key (overlapping) in one
    text: an internal, only for the bare pass and the profile."""
    search = matcher._scanner._for(language).automaton.find_matches_as_indexes
    return lambda text: search(text.encode(), True)  # the keys are UTF-8


def _bare_automaton_rate(matcher: Any, items: Sequence[RawItem], seconds: float) -> float | None:
    """Items per CPU second of a bare Aho-Corasick pass (ahocorasick_rs) over the folded
    fields (folded beforehand), with the engine's automaton: the floor under the scan."""
    try:
        search = _engine_search(matcher, None)
    except AttributeError:
        return None
    return _rate_over(_folded_fields(items), search, seconds)


def _yardstick_rate(matcher: Any, items: Sequence[RawItem], seconds: float) -> float | None:
    """Items per CPU second of issue 15's own measure of a machine: a bare pyahocorasick pass
    (`Automaton.iter`, every match stepped through) over the folded fields, with the engine's
    automaton keys. The engine left pyahocorasick for a faster automaton, so the bare AC column
    no longer tells a machine like the one the issue's targets were set on, where this read
    ~28,000: this does (bench/README.md, tenth round). None without pyahocorasick (a dev
    dependency) or the engine's key table."""
    try:
        import ahocorasick

        from monitor.match.scanner import _KeyTable

        keys = _KeyTable.of(matcher._scanner.units, (None,)).keys
    except (ImportError, AttributeError):
        return None
    automaton = ahocorasick.Automaton()
    for index, key in enumerate(keys):
        automaton.add_word(key, index)
    automaton.make_automaton()

    def search(text: str) -> None:
        for _ in automaton.iter(text):
            pass

    return _rate_over(_folded_fields(items), search, seconds)


def _rate_over(
    folded: Sequence[Sequence[str]], search: Callable[[str], Any], seconds: float
) -> float:
    """Items per CPU second of `search` over each item's folded fields, cycled."""
    done, started = 0, time.process_time()
    while True:
        for text in folded[done % len(folded)]:
            search(text)
        done += 1
        if time.process_time() - started >= seconds:
            return done / (time.process_time() - started)


def measure_languages(
    size: int, *, languages: Sequence[str], seed: int, traced: bool
) -> dict[str, Any]:
    """Compile, then match TRACED_ITEMS items in each of `languages` in turn: the memory of a
    deployment reading several languages (the automaton covers each one met)."""
    vocabulary = Vocabulary(seed)
    raw_watchlists = make_watchlists(size, vocabulary, detect_features(), seed=seed)
    specs = [WatchlistSpec.model_validate(watchlist) for watchlist in raw_watchlists]
    items = [normalize(raw) for raw in make_items(vocabulary, TRACED_ITEMS, seed=seed)]
    gc.collect()
    if traced:
        tracemalloc.start()
    started = time.process_time()
    matcher = compile_watchlists(specs)
    for language in languages:
        for item in items:
            matcher.match(dataclasses.replace(item, language=language))
    result: dict[str, Any] = {"terms": size, "CPU s": time.process_time() - started}
    if traced:
        result["peak MB"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    result["max RSS MB"] = _max_rss_mb()
    return result


def _max_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def profile_stages(size: int, *, pool: int, seed: int) -> dict[str, float]:
    """Microseconds per item of each stage of normalize + match, each timed apart over the
    same items (best of several rounds), by reaching into the engine: it follows the engine's
    internals and may need changing with them."""
    from monitor.match import scanner as scanner_module

    vocabulary = Vocabulary(seed)
    raw_watchlists = make_watchlists(size, vocabulary, detect_features(), seed=seed)
    specs = [WatchlistSpec.model_validate(watchlist) for watchlist in raw_watchlists]
    raws = make_items(vocabulary, pool, seed=seed)
    matcher = compile_watchlists(specs)
    items = [normalize(raw) for raw in raws]
    folds = [
        {name: fold_words(text) for name in FIELDS if (text := item.field_text(name))}
        for item in items
    ]
    scanner = matcher._scanner
    search = _engine_search(matcher, None)

    def bare(fields: dict[str, Any]) -> None:
        for fold in fields.values():
            search(fold.text)

    def best(function: Callable[[Any], Any], arguments: Sequence[Any]) -> float:
        rounds = []
        for _ in range(5):
            started = time.process_time()
            for argument in arguments:
                function(argument)
            rounds.append(time.process_time() - started)
        return min(rounds) / len(arguments) * 1e6

    stages: dict[str, float] = {}
    stages["HTML to text"] = best(normalize, raws)
    stages["folding"] = best(
        lambda item: {name: fold_words(t) for name in FIELDS if (t := item.field_text(name))},
        items,
    )
    stages["automaton iteration"] = best(bare, folds)
    scan_all = best(lambda fields: scanner.scan(fields, "fr"), folds)
    verify = scanner_module.verify
    scanner_module.verify = lambda tests, anchor, fold, token, language, pattern=None: token
    try:
        scan_without_phrases = best(lambda fields: scanner.scan(fields, "fr"), folds)
    finally:
        scanner_module.verify = verify
    stages["scan loop"] = scan_without_phrases - stages["automaton iteration"]
    stages["phrase checks"] = scan_all - scan_without_phrases
    scanned = {id(item): matcher._scan(item, None) for item in items}
    matcher._scan = lambda item, feed=None: scanned[id(item)]  # type: ignore[method-assign]
    stages["evaluation"] = best(matcher.match, items)  # with the Hit objects it makes
    stages["total"] = sum(stages.values())
    return stages


def measure_traced_peak(size: int, *, seconds: float, pool: int, seed: int) -> dict[str, Any]:
    """The tracemalloc peak of compiling and matching, in a process of its own: caches the
    engine fills on first use must be counted, and tracing makes everything slower."""
    vocabulary = Vocabulary(seed)
    raw_watchlists = make_watchlists(size, vocabulary, detect_features(), seed=seed)
    specs = [WatchlistSpec.model_validate(watchlist) for watchlist in raw_watchlists]
    items = make_items(vocabulary, pool, seed=seed)
    gc.collect()
    tracemalloc.start()
    matcher = compile_watchlists(specs)
    started = time.process_time()
    for raw in items[:TRACED_ITEMS]:
        matcher.match(normalize(raw))
        if time.process_time() - started > seconds:
            break
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"terms": size, "peak MB": peak / 1e6}


class _Run:
    def __init__(self) -> None:
        self.items = self.bytes = self.hits = self.without_hits = 0
        self.cpu = self.wall = 0.0


def _run_for(
    seconds: float,
    items: Sequence[RawItem],
    match_one: Callable[[RawItem], int],
    *,
    repeat: int = 1,
) -> _Run:
    """Match items in turn (cycling), each `repeat` times in a row, until `seconds` of CPU time
    are spent; at least one item."""
    run = _Run()
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    while True:
        raw = items[run.items // repeat % len(items)]
        hits = match_one(raw)
        run.items += 1
        run.bytes += raw.size_bytes
        run.hits += hits
        run.without_hits += hits == 0
        run.cpu = time.process_time() - cpu_start
        if run.cpu >= seconds:
            break
    run.wall = time.perf_counter() - wall_start
    return run


_SEPARATORS = str.maketrans({char: " " for char in "'’ʼ‘´`-‐‑‒–—―−\u00a0\u202f"})


def _fold(text: str) -> str:
    """Case- and accent-folded text with apostrophes and hyphens as spaces (docs/design.md §4 rules
    2-4), done with whole-string C calls: the baseline should pay for regexes, not folding."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(letters.translate(_SEPARATORS).split())


class _NaiveLoop:
    """The loop a first implementation writes: one compiled regex per spelling, each searched
    over every field of every item."""

    def __init__(self, specs: Sequence[WatchlistSpec]) -> None:
        started = time.process_time()
        spellings = [
            _fold(spelling)
            for spec in specs
            for term in spec.terms
            for spelling in term.spellings()
            if _fold(spelling)
        ]
        self._patterns = [
            re.compile(r"\b" + re.escape(spelling) + r"\b", re.IGNORECASE) for spelling in spellings
        ]
        self.compile_seconds = time.process_time() - started

    def match(self, raw: RawItem) -> int:
        item = normalize(raw)
        texts = [_fold(item.field_text(field)) for field in FIELDS]
        return sum(
            1 for pattern in self._patterns for text in texts for _ in pattern.finditer(text)
        )
