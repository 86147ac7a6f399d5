"""The story index in the database: the exact layer's and the near layer's lookups.

Every statement here works on a whole feed document at once: the per-statement cost of a
database round trip, paid per item, was most of the near layer's time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import (
    CompoundSelect,
    Connection,
    Select,
    bindparam,
    delete,
    func,
    or_,
    select,
    union_all,
)

from monitor.dedup.decide import Candidate
from monitor.dedup.fingerprint import Fingerprint, containment_view, fingerprint
from monitor.dedup.index import RECENT_PER_KEY, ExactKey, IndexEntry, rank_candidates
from monitor.dedup.minhash import to_bytes
from monitor.model import ItemText, Outlet
from monitor.store.sql import insert_plain_rows, one_of
from monitor.store.story_locks import StoryLocks
from monitor.store.tables import feeds, items, story_fingerprints, story_keys

# Statements are built once per number of keys (padded, see `_candidate_statement`): these
# run for every feed document with new items, and SQLAlchemy reuses their compiled form.
_KEY_CHUNKS = (8, 32, 128)
# A key no item is filed under (keys are non-negative): pads a chunk.
_NO_KEY = -1

# Rows a document's keys may bring on average before their items are read key by key, the most
# recent first: few keys are shared by more than a handful of items, save a template's.
_ROWS_PER_KEY = 8
_INSERT_FINGERPRINT = story_fingerprints.insert()


# The statements below run for every feed document with new items; built once per dialect
# (`one_of`: on PostgreSQL their text is the same whatever the number of values).
@cache
def _filed(postgres: bool) -> Select[Any]:
    return (
        select(story_keys.c.key, story_keys.c.item_id)
        .join(story_fingerprints, story_fingerprints.c.item_id == story_keys.c.item_id)
        .where(
            one_of(story_keys.c.key, "keys", postgres=postgres),
            story_fingerprints.c.first_seen_at >= bindparam("since"),
        )
        .limit(bindparam("cap"))
    )


@cache
def _same_text_or_link(postgres: bool) -> Select[Any]:
    return (
        select(items.c.cluster_id, items.c.content_hash, items.c.url, items.c.feed_id)
        .where(
            or_(
                one_of(items.c.content_hash, "hashes", postgres=postgres),
                one_of(items.c.url, "urls", postgres=postgres),
            ),
            items.c.first_seen_at >= bindparam("since"),
        )
        .order_by(items.c.id)
    )


@cache
def _texts(postgres: bool) -> Select[Any]:
    return select(items.c.id, items.c.title, items.c.summary, items.c.content).where(
        one_of(items.c.id, "ids", postgres=postgres)
    )


@cache
def _fingerprints(postgres: bool) -> Select[Any]:
    return select(
        story_fingerprints.c.item_id,
        story_fingerprints.c.cluster_id,
        story_fingerprints.c.signature,
        story_fingerprints.c.words,
        story_fingerprints.c.shingles,
    ).where(one_of(story_fingerprints.c.item_id, "ids", postgres=postgres))


@cache
def _candidate_statement(keys: int) -> CompoundSelect[Any]:
    """The items filed under `keys` keys (bound as k0, k1, ...) and first seen since `since`,
    at most the RECENT_PER_KEY most recent of each: one index range read backwards per key,
    so a key that a template's thousands of items share costs no more than any other."""
    recent = [
        select(story_keys.c.key, story_keys.c.item_id)
        .join(story_fingerprints, story_fingerprints.c.item_id == story_keys.c.item_id)
        .where(
            story_keys.c.key == bindparam(f"k{number}"),
            story_fingerprints.c.first_seen_at >= bindparam("since"),
        )
        .order_by(story_keys.c.item_id.desc())
        .limit(RECENT_PER_KEY)
        .subquery()
        for number in range(keys)
    ]
    return union_all(*(select(part.c.key, part.c.item_id) for part in recent))


class SqlStoryIndex:
    """The `StoryIndex` of the items stored within the story window: items first seen since
    `since`. Candidates come with their stored signature and counts; their shingle sets,
    needed for the containment check only, are recomputed from their stored text (`load`).
    Only SQL here: the decisions are `monitor.dedup.assign`'s. On PostgreSQL it locks the keys
    it reads and files (`monitor.store.story_locks`): one per feed document, in its transaction.
    SQLite needs none: its writers take turns (BEGIN IMMEDIATE)."""

    def __init__(self, connection: Connection, *, now: datetime, since: datetime) -> None:
        self._connection = connection
        self._postgres = connection.dialect.name == "postgresql"
        self._locks = StoryLocks(connection) if self._postgres else None
        self._now = now
        self._since = since
        # Candidates loaded for this document's items: its items share many of them.
        self._loaded: dict[int, Fingerprint] = {}

    def exact(
        self, feed: Hashable, hashes: Collection[str], urls: Collection[str]
    ) -> Mapping[ExactKey, int]:
        if self._locks is not None:
            self._locks.exact(hashes, urls)
        rows = self._connection.execute(
            _same_text_or_link(self._postgres),
            {"hashes": list(hashes), "urls": list(urls), "since": self._since},
        )
        found: dict[ExactKey, int] = {}
        for row in rows:
            if row.content_hash in hashes:
                found.setdefault(("hash", row.content_hash), int(row.cluster_id))
            if row.url and row.feed_id != feed:
                found.setdefault(("url", row.url), int(row.cluster_id))
        return found

    def reserve(self, fingerprints: Sequence[Fingerprint]) -> None:
        if self._locks is not None:
            self._locks.near(fingerprints)

    def candidates(self, new: Sequence[Fingerprint]) -> list[list[Candidate]]:
        """For each fingerprint, its candidates (`rank_candidates`)."""
        keys = sorted({key for found in new for key in (*found.bands, *found.probes)})
        if not keys:
            return [[] for _ in new]
        filed: defaultdict[int, list[int]] = defaultdict(list)
        for key, item_id in self._filed_under(keys):
            filed[key].append(item_id)
        for ids in filed.values():
            ids.sort()
        ranked = [rank_candidates(filed, found) for found in new]
        # Only the ranked candidates' fingerprints are read: a template's frame files many
        # more items under the document's keys than are compared.
        stored = self._candidates({item_id for ids in ranked for item_id in ids})
        return [[stored[item_id] for item_id in ids] for ids in ranked]

    def _candidates(self, ids: Collection[int]) -> dict[int, Candidate]:
        if not ids:
            return {}
        stored: dict[int, Candidate] = {}
        legacy: list[int] = []
        for row in self._connection.execute(_fingerprints(self._postgres), {"ids": sorted(ids)}):
            signature = np.frombuffer(row.signature, dtype="<u4")
            if row.words is None:  # stored before the counts were kept
                legacy.append(row.item_id)
            stored[row.item_id] = Candidate(
                row.item_id, row.cluster_id, signature, row.words or 0, row.shingles or 0
            )
        if legacy:
            for item_id, full in self._fingerprints(legacy).items():
                stored[item_id] = Candidate.of(item_id, stored[item_id].cluster_id, full)
        return stored

    def _filed_under(self, keys: Sequence[int]) -> Sequence[Any]:
        """(key, item id) rows: every item of the window filed under `keys` when they are few
        (one plain statement, the common case), else the most recent of each key. Either way
        `rank_candidates` ranks the same items: it reads the most recent of each key only."""
        cap = len(keys) * _ROWS_PER_KEY
        rows = self._connection.execute(
            _filed(self._postgres), {"keys": list(keys), "since": self._since, "cap": cap + 1}
        ).all()
        return rows if len(rows) <= cap else list(self._recent_under(keys))

    def _recent_under(self, keys: Sequence[int]) -> Iterator[Any]:
        for start in range(0, len(keys), _KEY_CHUNKS[-1]):
            chunk = keys[start : start + _KEY_CHUNKS[-1]]
            size = next(size for size in _KEY_CHUNKS if size >= len(chunk))
            padded = [*chunk, *[_NO_KEY] * (size - len(chunk))]
            values: dict[str, Any] = {f"k{number}": key for number, key in enumerate(padded)}
            values["since"] = self._since
            yield from self._connection.execute(_candidate_statement(size), values)

    def load(self, candidates: Sequence[Candidate]) -> Mapping[int, Fingerprint]:
        """What the containment check needs of candidates (`containment_view`), from their
        stored text."""
        wanted = [c.item_id for c in candidates if c.item_id not in self._loaded]
        if wanted:
            for row in self._connection.execute(_texts(self._postgres), {"ids": wanted}):
                text = ItemText(row.title, row.summary, row.content)
                self._loaded[row.id] = containment_view(text)
        return {c.item_id: self._loaded[c.item_id] for c in candidates if c.item_id in self._loaded}

    def _fingerprints(self, ids: Sequence[int]) -> dict[int, Fingerprint]:
        rows = self._connection.execute(_texts(self._postgres), {"ids": list(ids)})
        return {row.id: fingerprint(ItemText(row.title, row.summary, row.content)) for row in rows}

    def add(self, feed: Hashable, entries: Sequence[IndexEntry]) -> None:
        """File new items under their keys (one statement per table for them all); the exact
        layer reads the items table itself."""
        filed = [
            (entry, entry.fingerprint)
            for entry in entries
            if entry.fingerprint is not None and entry.fingerprint.words
        ]
        if not filed:
            return
        self._connection.execute(
            _INSERT_FINGERPRINT,
            [
                {
                    "item_id": entry.item_id,
                    "cluster_id": entry.cluster_id,
                    "signature": to_bytes(found.signature),
                    "first_seen_at": self._now,
                    "words": found.words,
                    "shingles": found.shingle_count,
                }
                for entry, found in filed
            ],
        )
        # In key order: neighbouring keys share index pages.
        rows = sorted({(key, entry.item_id) for entry, found in filed for key in found.keys})
        insert_plain_rows(self._connection, story_keys, ("key", "item_id"), rows)


def prune_story_index(connection: Connection, before: datetime) -> int:
    """Forget the fingerprints of items first seen before `before` (the story window)."""
    old = select(story_fingerprints.c.item_id).where(story_fingerprints.c.first_seen_at < before)
    connection.execute(delete(story_keys).where(story_keys.c.item_id.in_(old)))
    result = connection.execute(
        delete(story_fingerprints).where(story_fingerprints.c.first_seen_at < before)
    )
    return int(result.rowcount or 0)


def story_outlets(
    connection: Connection, cluster_id: int | None, item_id: int | None
) -> list[Outlet]:
    """The other feeds that carried the same story, each with its copy's link, for "also
    published by": one per feed (its first copy), sorted by name."""
    if cluster_id is None or item_id is None:
        return []
    own_feed = select(items.c.feed_id).where(items.c.id == item_id).scalar_subquery()
    rows = connection.execute(
        select(func.coalesce(feeds.c.name, feeds.c.title, feeds.c.url), items.c.url, items.c.id)
        .join(items, items.c.feed_id == feeds.c.id)
        .where(items.c.cluster_id == cluster_id, items.c.feed_id != own_feed)
        .order_by(items.c.id)
    ).all()
    first_copy: dict[str, str | None] = {}
    for name, url, _ in rows:
        first_copy.setdefault(str(name), url)
    return [Outlet(name, first_copy[name]) for name in sorted(first_copy)]
