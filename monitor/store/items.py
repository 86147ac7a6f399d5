"""The items table: one row per (feed, item key), each attached to a story cluster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, update

from monitor.dedup.assign import FingerprintOf, assign_stories, log_fold
from monitor.dedup.decide import DEFAULT_THRESHOLDS, Thresholds
from monitor.dedup.index import IndexEntry
from monitor.model import ItemText, PreparedItem
from monitor.store.sql import one_of
from monitor.store.stories import SqlStoryIndex
from monitor.store.tables import clusters, items


@dataclass(frozen=True)
class StoredItem:
    id: int
    cluster_id: int
    is_new: bool
    item: PreparedItem
    similarity: float | None = None  # how it joined an earlier story; None: a story's first
    layer: str | None = None  # by which rule it joined it (StoryDecision.layer)


# Stories older than this are not joined: a link or a text seen months ago is news again.
STORY_WINDOW = timedelta(days=7)


# Statements run for every feed document with new items, built once (SQLAlchemy then reuses
# their compiled form).
@cache
def _known_statement(postgres: bool) -> Select[Any]:
    return select(
        items.c.id, items.c.item_key, items.c.cluster_id, items.c.content_hash, items.c.url
    ).where(
        items.c.feed_id == bindparam("feed"), one_of(items.c.item_key, "keys", postgres=postgres)
    )


_INSERT_CLUSTERS = clusters.insert().returning(clusters.c.id)
_INSERT_ITEMS = items.insert().returning(items.c.id, items.c.item_key)


def store_items(
    connection: Connection,
    feed_id: int,
    prepared: Sequence[PreparedItem],
    now: datetime,
    *,
    fingerprint_of: FingerprintOf | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    window: timedelta = STORY_WINDOW,
) -> list[StoredItem]:
    """Insert new items and refresh changed ones: the daemon's entry point for one feed
    document. New items get their stories from `monitor.dedup.assign.assign_stories` against
    the items stored within `window`: the exact layer, then near-copies when `fingerprint_of`
    is given (`DocumentLines.of(document).fingerprint`, computed for new items only). An item
    updated in place (same key, new text) stays the same item and story: never new again.
    On PostgreSQL, one call per transaction: story assignment locks the keys of the new items
    only, an order that holds within one document (`monitor.store.story_locks`)."""
    by_key: dict[str, PreparedItem] = {}
    for item in prepared:
        by_key.setdefault(item.key, item)  # feeds do repeat an entry within one document
    unique = list(by_key.values())
    known = _known(connection, feed_id, [item.key for item in unique])
    # A feed that gives another item (another link, another text) an id it used before: that
    # item is new, not the old one updated, and is filed under its id and its link.
    reused = {item.key for item in unique if _reuses_an_id(known.get(item.key), item)}
    if reused:
        unique = [
            replace(item, key=f"{item.key}{_REUSED_ID_MARK}{item.url}")
            if item.key in reused
            else item
            for item in unique
        ]
        known |= _known(connection, feed_id, [item.key for item in unique if item.key not in known])
    new = [item for item in unique if item.key not in known]
    fresh = _store_new(connection, feed_id, new, now, fingerprint_of, thresholds, window)
    stored = {done.item.key: done for done in fresh}
    for item in unique:
        row = known.get(item.key)
        if row is None:
            continue
        if row.content_hash != item.content_hash:
            connection.execute(
                update(items)
                .where(items.c.id == row.id)
                .values(**_text_columns(item), updated_at=now)
            )
        stored[item.key] = StoredItem(row.id, row.cluster_id, False, item)
    return [stored[item.key] for item in unique]


# Separates a reused id from the link that tells its items apart, in an item key.
_REUSED_ID_MARK = " \x1freused-id-for "


def stored_content_hashes(
    connection: Connection, feed_id: int, keys: Sequence[str]
) -> dict[str, str]:
    """The content hash of each of `keys` that the feed's stored items have, by key: read
    before a poll's write transaction, to plan it."""
    return {key: row.content_hash for key, row in _known(connection, feed_id, keys).items()}


def _known(connection: Connection, feed_id: int, keys: Sequence[str]) -> dict[str, Any]:
    statement = _known_statement(connection.dialect.name == "postgresql")
    rows = connection.execute(statement, {"feed": feed_id, "keys": list(keys)})
    return {row.item_key: row for row in rows}


def _reuses_an_id(row: Any, item: PreparedItem) -> bool:
    return (
        row is not None
        and bool(row.url and item.url)
        and row.url != item.url
        and row.content_hash != item.content_hash
    )


def _store_new(
    connection: Connection,
    feed_id: int,
    new: Sequence[PreparedItem],
    now: datetime,
    fingerprint_of: FingerprintOf | None,
    thresholds: Thresholds,
    window: timedelta,
) -> list[StoredItem]:
    """Decide the story of each new item of one feed document, then write them all."""
    if not new:
        return []
    index = SqlStoryIndex(connection, now=now, since=now - window)
    decisions = assign_stories(
        feed_id, new, index, fingerprint_of=fingerprint_of, thresholds=thresholds
    )
    placeholders = sorted({d.cluster for d in decisions if d.cluster < 0}, reverse=True)
    cluster_of: dict[int, int] = {}
    if placeholders:
        created = connection.execute(_INSERT_CLUSTERS, [{"created_at": now}] * len(placeholders))
        cluster_of.update(zip(placeholders, (int(row.id) for row in created), strict=True))
    clusters_ = [cluster_of[d.cluster] if d.cluster < 0 else d.cluster for d in decisions]
    rows = connection.execute(
        _INSERT_ITEMS,
        [
            {
                "feed_id": feed_id,
                "item_key": item.key,
                "first_seen_at": now,
                "cluster_id": cluster,
                **_text_columns(item),
            }
            for item, cluster in zip(new, clusters_, strict=True)
        ],
    )
    item_ids = {row.item_key: int(row.id) for row in rows}
    index.add(
        feed_id,
        [
            IndexEntry(item_ids[item.key], cluster, item, decision.fingerprint)
            for item, cluster, decision in zip(new, clusters_, decisions, strict=True)
        ],
    )
    for item, cluster, decision in zip(new, clusters_, decisions, strict=True):
        log_fold(item_ids[item.key], cluster, decision.layer, decision.similarity)
    return [
        StoredItem(item_ids[item.key], cluster, True, item, decision.similarity, decision.layer)
        for item, cluster, decision in zip(new, clusters_, decisions, strict=True)
    ]


def _text_columns(item: PreparedItem) -> dict[str, object]:
    return {
        "url": item.url,
        "title": item.text.title,
        "summary": item.text.summary,
        "content": item.text.content,
        "language": item.text.language,
        "content_hash": item.content_hash,
        "published_at": item.published,
    }


def load_item_text(connection: Connection, item_id: int) -> ItemText | None:
    """A stored item's decoded text, as the matcher saw it (`monitor explain --item`)."""
    row = connection.execute(
        select(items.c.title, items.c.summary, items.c.content, items.c.language).where(
            items.c.id == item_id
        )
    ).first()
    if row is None:
        return None
    return ItemText(row.title, row.summary, row.content, row.language)
