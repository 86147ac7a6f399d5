"""Story folding for `monitor replay` in a second process, a few chunks of documents ahead of
matching and the alert rules. Folding takes most of a replay's time and must run in one
process, in order (each item joins the stories before it); its answers are a story per item,
small to send back. On a machine with two cores a replay then takes about the time of folding
alone (bench/replay.py)."""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import timedelta
from typing import Any

from monitor.dedup.decide import Thresholds
from monitor.model import ReplayItem
from monitor.pipeline import ReplayStories, Story

CHUNK = 1000  # items per request to the folding process
AHEAD = 4  # requests in flight

Document = tuple[Hashable, list[ReplayItem]]

_stories: ReplayStories | None = None  # the folding process's own


def two_cores() -> bool:
    """Whether this process may run on more than one core."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) > 1
    return (os.cpu_count() or 1) > 1


def folded_documents(
    documents: Iterable[Document],
    thresholds: Thresholds,
    window: timedelta,
    document_sizes: Mapping[Any, int],
    earlier: Mapping[Any, Sequence[ReplayItem]],
) -> Iterator[tuple[Hashable, list[ReplayItem], list[Story]]]:
    """The documents in order, each with its items' stories, folded in another process
    (`ReplayStories` with the same arguments)."""
    # spawn: a fresh interpreter, which inherits no open database connection or lock.
    context = multiprocessing.get_context("spawn")
    arguments = (thresholds, window, dict(document_sizes), dict(earlier))
    with ProcessPoolExecutor(1, context, initializer=_start, initargs=arguments) as pool:
        pending: deque[tuple[list[Document], Future[list[list[Story]]]]] = deque()
        chunk: list[Document] = []
        size = 0
        for document in documents:
            chunk.append(document)
            size += len(document[1])
            if size >= CHUNK:
                pending.append((chunk, pool.submit(_fold, chunk)))
                chunk, size = [], 0
                if len(pending) > AHEAD:
                    yield from _answered(*pending.popleft())
        if chunk:
            pending.append((chunk, pool.submit(_fold, chunk)))
        while pending:
            yield from _answered(*pending.popleft())


def _answered(
    chunk: Sequence[Document], future: Future[list[list[Story]]]
) -> Iterator[tuple[Hashable, list[ReplayItem], list[Story]]]:
    for (feed, items), stories in zip(chunk, future.result(), strict=True):
        yield feed, items, stories


def _start(
    thresholds: Thresholds,
    window: timedelta,
    document_sizes: Mapping[Any, int],
    earlier: Mapping[Any, Sequence[ReplayItem]],
) -> None:
    global _stories
    _stories = ReplayStories(thresholds, window, document_sizes, earlier)


def _fold(chunk: Sequence[Document]) -> list[list[Story]]:
    stories = _stories
    assert stories is not None, "the folding process starts with its story index"
    return [stories.document(feed, items) for feed, items in chunk]
