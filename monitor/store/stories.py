"""The story index in the database: the near-duplicate layer's candidate lookup (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, select

from monitor.dedup.decide import Candidate
from monitor.dedup.fingerprint import Fingerprint, fingerprint
from monitor.dedup.minhash import to_bytes
from monitor.model import ItemText
from monitor.store.tables import items, story_fingerprints, story_keys

# Few candidates are ever true copies; past this many, the most recent are checked.
_MAX_CANDIDATES = 50


# Built once: this runs for every new item.
_CANDIDATES = (
    select(story_fingerprints.c.item_id, story_fingerprints.c.cluster_id)
    .distinct()
    .join(story_keys, story_keys.c.item_id == story_fingerprints.c.item_id)
    .where(
        story_keys.c.key.in_(bindparam("keys", expanding=True)),
        story_fingerprints.c.first_seen_at >= bindparam("since"),
    )
    .order_by(story_fingerprints.c.item_id.desc())
    .limit(bindparam("limit"))
)
_INSERT_KEY = story_keys.insert()


class SqlStoryIndex:
    """Candidates are items filed under one of the new item's keys and first seen since
    `since`; their fingerprints are recomputed from their stored text, which also gives the
    shingle sets the containment check needs."""

    def __init__(self, connection: Connection, since: datetime) -> None:
        self._connection = connection
        self._since = since

    def candidates(self, new: Fingerprint) -> list[Candidate]:
        keys = list({*new.bands, *new.probes})
        if not keys:
            return []
        rows = self._connection.execute(
            _CANDIDATES, {"keys": keys, "since": self._since, "limit": _MAX_CANDIDATES}
        ).all()
        if not rows:
            return []
        clusters = {row.item_id: row.cluster_id for row in rows}
        texts = self._connection.execute(
            select(items.c.id, items.c.title, items.c.summary, items.c.content).where(
                items.c.id.in_(list(clusters))
            )
        ).all()
        return [
            Candidate(
                row.id, clusters[row.id], fingerprint(ItemText(row.title, row.summary, row.content))
            )
            for row in texts
        ]

    def add(self, item_id: int, cluster_id: int, found: Fingerprint, now: datetime) -> None:
        if not found.words:
            return
        self._connection.execute(
            story_fingerprints.insert().values(
                item_id=item_id,
                cluster_id=cluster_id,
                signature=to_bytes(found.signature),
                first_seen_at=now,
            )
        )
        # One cached statement, many parameter sets: a multi-row VALUES would be compiled
        # anew for every item.
        self._connection.execute(
            _INSERT_KEY, [{"key": key, "item_id": item_id} for key in set(found.keys)]
        )


def prune_story_index(connection: Connection, before: datetime) -> int:
    """Forget the fingerprints of items first seen before `before` (the story window)."""
    old = select(story_fingerprints.c.item_id).where(story_fingerprints.c.first_seen_at < before)
    connection.execute(delete(story_keys).where(story_keys.c.item_id.in_(old)))
    result = connection.execute(
        delete(story_fingerprints).where(story_fingerprints.c.first_seen_at < before)
    )
    return int(result.rowcount or 0)
