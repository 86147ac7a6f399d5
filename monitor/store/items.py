"""The items table: one row per (feed, item key), each attached to a story cluster."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select, text, update

from monitor.dedup.decide import DEFAULT_THRESHOLDS, Thresholds, best_match
from monitor.dedup.fingerprint import Fingerprint
from monitor.dedup.memory import MemoryStoryIndex
from monitor.model import ItemText, PreparedItem
from monitor.store.stories import IndexEntry, SqlStoryIndex
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


@dataclass(frozen=True)
class _Decision:
    cluster: int  # a stored cluster's id, or a new cluster's placeholder (negative)
    similarity: float | None
    # What the story index must file the item under; None when its text is a story's already
    # (an exact copy), since an exact copy's fingerprint would repeat the original's keys.
    fingerprint: Fingerprint | None


# Statements run for every feed document with new items, built once (SQLAlchemy then reuses
# their compiled form). A NULL url compares unequal to everything, so items without a link
# need no other statement.
_SAME_TEXT_OR_LINK = (
    select(items.c.cluster_id, items.c.content_hash, items.c.url, items.c.feed_id)
    .where(
        or_(
            items.c.content_hash.in_(bindparam("hashes", expanding=True)),
            items.c.url.in_(bindparam("urls", expanding=True)),
        ),
        items.c.first_seen_at >= bindparam("since"),
    )
    .order_by(items.c.id)
)
_KNOWN = select(
    items.c.id, items.c.item_key, items.c.cluster_id, items.c.content_hash, items.c.url
).where(
    items.c.feed_id == bindparam("feed"), items.c.item_key.in_(bindparam("keys", expanding=True))
)
_INSERT_CLUSTERS = clusters.insert().returning(clusters.c.id)
_INSERT_ITEMS = items.insert().returning(items.c.id, items.c.item_key)


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
    updated in place (same key, new text) stays the same item and story: never new again.
    Earlier items of the same document count as earlier: a feed may carry two copies."""
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


def known_item_keys(connection: Connection, feed_id: int, keys: Sequence[str]) -> set[str]:
    """Which of `keys` the feed's stored items have."""
    return set(_known(connection, feed_id, keys))


def _known(connection: Connection, feed_id: int, keys: Sequence[str]) -> dict[str, Any]:
    rows = connection.execute(_KNOWN, {"feed": feed_id, "keys": list(keys)})
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
    fingerprint_of: Callable[[PreparedItem], Fingerprint] | None,
    thresholds: Thresholds,
    window: timedelta,
) -> list[StoredItem]:
    """Decide the story of each new item of one feed document, then write them all."""
    if not new:
        return []
    _serialize_story_assignment(connection)
    since = now - window
    index = SqlStoryIndex(connection, since)
    decisions = _decide_stories(connection, feed_id, new, fingerprint_of, index, since, thresholds)
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
        [
            IndexEntry(item_ids[item.key], cluster, decision.fingerprint)
            for item, cluster, decision in zip(new, clusters_, decisions, strict=True)
            if decision.fingerprint is not None
        ],
        now,
    )
    return [
        StoredItem(item_ids[item.key], cluster, True, item, decision.similarity)
        for item, cluster, decision in zip(new, clusters_, decisions, strict=True)
    ]


def _decide_stories(
    connection: Connection,
    feed_id: int,
    new: Sequence[PreparedItem],
    fingerprint_of: Callable[[PreparedItem], Fingerprint] | None,
    index: SqlStoryIndex,
    since: datetime,
    thresholds: Thresholds,
) -> list[_Decision]:
    """Each new item's story: an earlier one's (stored, or earlier in this document), or a new
    one (a negative placeholder until the cluster is written). Fingerprints are computed and
    looked up only for items the exact layer does not place."""
    exact = _exact_layer(connection, feed_id, new, since)
    by_text: dict[str, int] = {}  # this document's texts, by hash
    texts_seen: set[str] = set()
    exact_clusters: list[int | None] = []
    found: list[Fingerprint | None] = []
    for item in new:
        by_hash = exact.get(("hash", item.content_hash))
        same_text = by_hash is not None or item.content_hash in texts_seen
        texts_seen.add(item.content_hash)
        exact_clusters.append(by_hash or exact.get(("url", item.url)))
        fingerprint_ = None if same_text or fingerprint_of is None else fingerprint_of(item)
        # Too short a text can never near-match (a bare title, "Lire la suite"), and short
        # texts repeat: filed, thousands would share every key.
        if fingerprint_ is not None and fingerprint_.words < thresholds.min_words:
            fingerprint_ = None
        found.append(fingerprint_)
    lookups = [
        (position, fingerprint_)
        for position, fingerprint_ in enumerate(found)
        if fingerprint_ is not None and exact_clusters[position] is None
    ]
    candidates_found = index.candidates([fingerprint_ for _, fingerprint_ in lookups])
    stored_candidates = {
        position: found_ for (position, _), found_ in zip(lookups, candidates_found, strict=True)
    }
    earlier = MemoryStoryIndex()  # this document's items decided so far
    decisions: list[_Decision] = []
    for position, item in enumerate(new):
        fingerprint_ = found[position]
        cluster = exact_clusters[position] or by_text.get(item.content_hash)
        decision = _Decision(cluster, 1.0, fingerprint_) if cluster is not None else None
        if decision is None and fingerprint_ is not None:
            candidates = [*stored_candidates[position], *earlier.candidates(fingerprint_)]
            match = best_match(fingerprint_, candidates, thresholds, load=index.load)
            if match is not None:
                decision = _Decision(match.cluster_id, match.similarity, fingerprint_)
        if decision is None:
            decision = _Decision(-(position + 1), None, fingerprint_)
        decisions.append(decision)
        by_text.setdefault(item.content_hash, decision.cluster)
        if fingerprint_ is not None:
            earlier.add(-(position + 1), decision.cluster, fingerprint_)
    return decisions


def _exact_layer(
    connection: Connection, feed_id: int, new: Sequence[PreparedItem], since: datetime
) -> dict[tuple[str, str | None], int]:
    """The exact layer of story folding: the same text in any feed, or the same canonical link
    in another feed, seen within the window, is the same story, the earliest's. A link shared
    inside one feed says nothing: some feeds point every item at their home page."""
    rows = connection.execute(
        _SAME_TEXT_OR_LINK,
        {
            "hashes": list({item.content_hash for item in new}),
            "urls": list({item.url for item in new if item.url}),
            "since": since,
        },
    )
    hashes = {item.content_hash for item in new}
    found: dict[tuple[str, str | None], int] = {}
    for row in rows:
        if row.content_hash in hashes:
            found.setdefault(("hash", row.content_hash), int(row.cluster_id))
        if row.url and row.feed_id != feed_id:
            found.setdefault(("url", row.url), int(row.cluster_id))
    return found


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
