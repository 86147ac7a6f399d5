"""The items table: one row per (feed, item key), each attached to a story cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, or_, select, text, update

from monitor.dedup.decide import DEFAULT_THRESHOLDS, Thresholds, best_match
from monitor.dedup.fingerprint import Fingerprint
from monitor.model import ItemText, PreparedItem
from monitor.store.stories import SqlStoryIndex
from monitor.store.tables import clusters, items


@dataclass(frozen=True)
class StoredItem:
    id: int
    cluster_id: int
    is_new: bool
    item: PreparedItem
    similarity: float | None = None  # how it joined an earlier story; None: a story's first


# Stories older than this are not joined: a link or a text seen months ago is news again.
STORY_WINDOW = timedelta(days=7)


def _existing_cluster(
    connection: Connection, feed_id: int, item: PreparedItem, now: datetime, window: timedelta
) -> int | None:
    """The exact layer of story folding: the same text in any feed, or the same canonical link
    in another feed, seen within the window, is the same story. A link shared inside one feed
    says nothing: some feeds point every item at their home page."""
    row = connection.execute(
        _SAME_TEXT_OR_LINK,
        {"hash": item.content_hash, "url": item.url, "feed": feed_id, "since": now - window},
    ).first()
    return None if row is None else int(row[0])


# Statements run for every new item, built once (SQLAlchemy then reuses their compiled form).
# A NULL url compares unequal to everything, so one statement serves items without a link.
_SAME_TEXT_OR_LINK = (
    select(items.c.cluster_id)
    .where(
        or_(
            items.c.content_hash == bindparam("hash"),
            and_(items.c.url == bindparam("url"), items.c.feed_id != bindparam("feed")),
        ),
        items.c.first_seen_at >= bindparam("since"),
    )
    .order_by(items.c.id)
    .limit(1)
)
_INSERT_CLUSTER = clusters.insert().returning(clusters.c.id)
_INSERT_ITEM = items.insert().returning(items.c.id)


# An arbitrary constant: the advisory lock that makes story assignment one writer at a time.
_STORY_LOCK = 7253002


def _serialize_story_assignment(connection: Connection) -> None:
    """On PostgreSQL, two feeds stored at once could each miss the other's uncommitted copy of a
    story and open two clusters (two alerts). A transaction-scoped advisory lock makes story
    assignment take turns across connections and instances; the transactions are short. SQLite
    needs none: its writers already take turns (BEGIN IMMEDIATE)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _STORY_LOCK})


def store_items(
    connection: Connection,
    feed_id: int,
    prepared: Sequence[PreparedItem],
    now: datetime,
    *,
    fingerprint_of: Callable[[PreparedItem], Fingerprint] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    window: timedelta = STORY_WINDOW,
) -> list[StoredItem]:
    """Insert new items and refresh changed ones. A new item joins the story of an earlier item
    with the same link or text (exact layer), else of a near-copy (fingerprints, when
    `fingerprint_of` is given: computed for new items only), else starts its own. An item
    updated in place (same key, new text) stays the same item and story: never new again."""
    known = {
        row.item_key: row
        for row in connection.execute(
            select(items.c.id, items.c.item_key, items.c.cluster_id, items.c.content_hash).where(
                items.c.feed_id == feed_id,
                items.c.item_key.in_([item.key for item in prepared]),
            )
        )
    }
    if any(item.key not in known for item in prepared):
        _serialize_story_assignment(connection)
    index = SqlStoryIndex(connection, now - window)
    stored: list[StoredItem] = []
    seen_keys: set[str] = set()
    for item in prepared:
        if item.key in seen_keys:  # feeds do repeat an entry within one document
            continue
        seen_keys.add(item.key)
        row = known.get(item.key)
        if row is not None:
            if row.content_hash != item.content_hash:
                connection.execute(
                    update(items)
                    .where(items.c.id == row.id)
                    .values(**_text_columns(item), updated_at=now)
                )
            stored.append(StoredItem(row.id, row.cluster_id, False, item))
            continue
        cluster_id = _existing_cluster(connection, feed_id, item, now, window)
        similarity = None if cluster_id is None else 1.0
        found = fingerprint_of(item) if fingerprint_of is not None else None
        if cluster_id is None and found is not None:
            match = best_match(found, index.candidates(found), thresholds)
            if match is not None:
                cluster_id, similarity = match.cluster_id, match.similarity
        if cluster_id is None:
            cluster_id = int(connection.execute(_INSERT_CLUSTER, {"created_at": now}).scalar_one())
        item_id = int(
            connection.execute(
                _INSERT_ITEM,
                {
                    "feed_id": feed_id,
                    "item_key": item.key,
                    "first_seen_at": now,
                    "cluster_id": cluster_id,
                    **_text_columns(item),
                },
            ).scalar_one()
        )
        if found is not None:
            index.add(item_id, cluster_id, found, now)
        stored.append(StoredItem(item_id, cluster_id, True, item, similarity))
    return stored


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
