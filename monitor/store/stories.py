"""The story index in the database: the near-duplicate layer's candidate lookup (DESIGN §5).

Every statement here works on a whole feed document at once: the per-statement cost of a
database round trip, paid per item, was most of the near layer's time."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, bindparam, delete, select

from monitor.dedup.decide import Candidate
from monitor.dedup.fingerprint import Fingerprint, containment_view, fingerprint
from monitor.dedup.minhash import to_bytes
from monitor.model import ItemText
from monitor.store.sql import insert_plain_rows
from monitor.store.tables import items, story_fingerprints, story_keys

# Few candidates are ever true copies; past this many, those sharing the most keys with the
# new item are checked (the most recent first among equals).
_MAX_CANDIDATES = 50


@dataclass(frozen=True)
class IndexEntry:
    item_id: int
    cluster_id: int
    fingerprint: Fingerprint


# Built once: these run for every feed document with new items.
_CANDIDATES = (
    select(
        story_keys.c.key,
        story_fingerprints.c.item_id,
        story_fingerprints.c.cluster_id,
        story_fingerprints.c.signature,
        story_fingerprints.c.words,
        story_fingerprints.c.shingles,
    )
    .join(story_keys, story_keys.c.item_id == story_fingerprints.c.item_id)
    .where(
        story_keys.c.key.in_(bindparam("keys", expanding=True)),
        story_fingerprints.c.first_seen_at >= bindparam("since"),
    )
)
_TEXTS = select(items.c.id, items.c.title, items.c.summary, items.c.content).where(
    items.c.id.in_(bindparam("ids", expanding=True))
)
_INSERT_FINGERPRINT = story_fingerprints.insert()


class SqlStoryIndex:
    """Candidates are items filed under one of a new item's keys and first seen since `since`.
    They come with their stored signature and counts; their shingle sets, needed for the
    containment check only, are recomputed from their stored text (`load`)."""

    def __init__(self, connection: Connection, since: datetime) -> None:
        self._connection = connection
        self._since = since
        # Candidates loaded for this document's items: its items share many of them.
        self._loaded: dict[int, Fingerprint] = {}

    def candidates(self, new: Sequence[Fingerprint]) -> list[list[Candidate]]:
        """For each fingerprint, its candidates, those sharing the most keys with it first, then
        the most recent: one query for them all."""
        keys = list({key for found in new for key in (*found.bands, *found.probes)})
        if not keys:
            return [[] for _ in new]
        filed: defaultdict[int, list[int]] = defaultdict(list)
        stored: dict[int, Candidate] = {}
        legacy: list[int] = []
        for row in self._connection.execute(_CANDIDATES, {"keys": keys, "since": self._since}):
            filed[row.key].append(row.item_id)
            if row.item_id in stored:
                continue
            signature = np.frombuffer(row.signature, dtype="<u4")
            if row.words is None:  # stored before the counts were kept
                legacy.append(row.item_id)
            stored[row.item_id] = Candidate(
                row.item_id, row.cluster_id, signature, row.words or 0, row.shingles or 0
            )
        if legacy:
            for item_id, full in self._fingerprints(legacy).items():
                stored[item_id] = Candidate.of(item_id, stored[item_id].cluster_id, full)
        found = []
        for fingerprint_ in new:
            shared = Counter(item_id for key in (*fingerprint_.bands, *fingerprint_.probes)
                             for item_id in filed.get(key, ()))  # fmt: skip
            # A copy shares many keys (several bands, or the lead anchors of the text a
            # summary was cut from); an item that only shares a common sentence, one or two.
            ranked = sorted(shared, key=lambda item_id: (-shared[item_id], -item_id))
            found.append([stored[item_id] for item_id in ranked[:_MAX_CANDIDATES]])
        return found

    def load(self, candidates: Sequence[Candidate]) -> Mapping[int, Fingerprint]:
        """What the containment check needs of candidates (`containment_view`), from their
        stored text."""
        wanted = [c.item_id for c in candidates if c.item_id not in self._loaded]
        if wanted:
            for row in self._connection.execute(_TEXTS, {"ids": wanted}):
                text = ItemText(row.title, row.summary, row.content)
                self._loaded[row.id] = containment_view(text)
        return {c.item_id: self._loaded[c.item_id] for c in candidates if c.item_id in self._loaded}

    def _fingerprints(self, ids: Sequence[int]) -> dict[int, Fingerprint]:
        rows = self._connection.execute(_TEXTS, {"ids": list(ids)})
        return {row.id: fingerprint(ItemText(row.title, row.summary, row.content)) for row in rows}

    def add(self, entries: Sequence[IndexEntry], now: datetime) -> None:
        """File new items under their keys (one statement per table for them all)."""
        entries = [entry for entry in entries if entry.fingerprint.words]
        if not entries:
            return
        self._connection.execute(
            _INSERT_FINGERPRINT,
            [
                {
                    "item_id": entry.item_id,
                    "cluster_id": entry.cluster_id,
                    "signature": to_bytes(entry.fingerprint.signature),
                    "first_seen_at": now,
                    "words": entry.fingerprint.words,
                    "shingles": entry.fingerprint.shingle_count,
                }
                for entry in entries
            ],
        )
        # In key order: neighbouring keys share index pages.
        rows = sorted({(key, entry.item_id) for entry in entries for key in entry.fingerprint.keys})
        insert_plain_rows(self._connection, story_keys, ("key", "item_id"), rows)


def prune_story_index(connection: Connection, before: datetime) -> int:
    """Forget the fingerprints of items first seen before `before` (the story window)."""
    old = select(story_fingerprints.c.item_id).where(story_fingerprints.c.first_seen_at < before)
    connection.execute(delete(story_keys).where(story_keys.c.item_id.in_(old)))
    result = connection.execute(
        delete(story_fingerprints).where(story_fingerprints.c.first_seen_at < before)
    )
    return int(result.rowcount or 0)
