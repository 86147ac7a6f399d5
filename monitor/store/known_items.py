"""What a feed's stored items hold, read before a poll's write transaction to plan it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, select

from monitor.store.tables import items

_CONTENT_HASHES = select(items.c.item_key, items.c.content_hash).where(
    items.c.feed_id == bindparam("feed"), items.c.item_key.in_(bindparam("keys", expanding=True))
)


def stored_content_hashes(
    connection: Connection, feed_id: int, keys: Sequence[str]
) -> dict[str, str]:
    """The content hash of each of `keys` that the feed's stored items have, by key."""
    rows = connection.execute(_CONTENT_HASHES, {"feed": feed_id, "keys": list(keys)})
    return {row.item_key: row.content_hash for row in rows}
