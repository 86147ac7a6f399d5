"""Matching for `monitor replay` in a second process, a few chunks of items ahead of story
folding. Folding must run in one process, in order (each item joins the stories before it),
and takes most of a replay's time; matching is independent per item. On a machine with two
cores the backtest then takes about the time of folding alone (bench/replay.py)."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from monitor.config.schema import WatchlistSpec
from monitor.match import Matcher, compile_watchlists
from monitor.model import ItemText, ReplayItem, WatchlistMatch

CHUNK = 500  # items per request to the matching process
AHEAD = 3  # requests in flight

Document = tuple[Hashable, list[ReplayItem]]
Matched = list[tuple[WatchlistMatch, ...] | None]

_matcher: Matcher | None = None  # the matching process's own


def two_cores() -> bool:
    """Whether this process may run on more than one core."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) > 1
    return (os.cpu_count() or 1) > 1


def matched_documents(
    documents: Iterable[Document],
    watchlists: Sequence[WatchlistSpec],
    may_alert: Callable[[ReplayItem], bool],
) -> Iterator[tuple[Hashable, list[ReplayItem], Matched]]:
    """The documents in order, each with what its items match (None: an item that may not
    alert, left unmatched), matched in another process."""
    # spawn: a fresh interpreter, which inherits no open database connection or lock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, context, initializer=_start, initargs=(list(watchlists),)) as pool:
        pending: deque[tuple[list[Document], Future[list[Matched]]]] = deque()
        chunk: list[Document] = []
        size = 0
        for document in documents:
            chunk.append(document)
            size += len(document[1])
            if size >= CHUNK:
                pending.append((chunk, pool.submit(_match_chunk, _texts(chunk, may_alert))))
                chunk, size = [], 0
                if len(pending) > AHEAD:
                    yield from _answered(*pending.popleft())
        if chunk:
            pending.append((chunk, pool.submit(_match_chunk, _texts(chunk, may_alert))))
        while pending:
            yield from _answered(*pending.popleft())


def _texts(
    chunk: Sequence[Document], may_alert: Callable[[ReplayItem], bool]
) -> list[list[ItemText | None]]:
    return [[item.item.text if may_alert(item) else None for item in items] for _, items in chunk]


def _answered(
    chunk: Sequence[Document], future: Future[list[Matched]]
) -> Iterator[tuple[Hashable, list[ReplayItem], Matched]]:
    for (feed, items), matched in zip(chunk, future.result(), strict=True):
        yield feed, items, matched


def _start(watchlists: Sequence[WatchlistSpec]) -> None:
    global _matcher
    _matcher = compile_watchlists(watchlists)


def _match_chunk(documents: Sequence[Sequence[ItemText | None]]) -> list[Matched]:
    matcher = _matcher
    assert matcher is not None, "the matching process starts with its watchlists"
    return [
        [None if text is None else tuple(matcher.match(text)) for text in texts]
        for texts in documents
    ]
