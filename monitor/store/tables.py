"""Table definitions (docs/design.md §2). Unique keys, not application checks, make "one alert
per story" and "one delivery per channel" hold under crashes and several instances."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend: SQLite stores no zone, so we normalise on
    the way in and re-attach UTC on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("name", Text),
    Column("title", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    # The digest of the last parsed document's entries: new bytes, same entries, nothing to do.
    Column("entries_hash", String(64)),
    Column("next_check_at", UTCDateTime, nullable=False),
    Column("last_checked_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    # Set once the first successful poll has stored the feed's backlog: items seen before that
    # never alert, so adding a feed does not flood the user with old news.
    Column("seeded_at", UTCDateTime),
    Column("status", String(32), nullable=False, default="new"),  # a FeedStatus
    Column("error_kind", String(32)),  # of an `error` status: timeout, http_status, ...
    Column("error_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("items_seen", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    # Where the feed is fetched after a permanent redirect, until the configuration follows.
    Column("fetch_url", Text),
    # The RSS <ttl> of the last parsed document, in seconds.
    Column("ttl_seconds", Integer),
    # When a poll last stored a new item; since when the feed is stale (an operations alert
    # said so), NULL while it is not.
    Column("last_item_at", UTCDateTime),
    Column("stale_since", UTCDateTime),
    # Until when a poll pass holds the feed (its claim), and which instance's pass: NULL once
    # the poll is recorded (monitor/store/claims.py).
    Column("claimed_until", UTCDateTime),
    Column("claimed_by", Text),
)
Index("ix_feeds_due", feeds.c.active, feeds.c.next_check_at)

clusters = Table(
    "clusters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("item_key", Text, nullable=False),
    Column("url", Text),
    # Decoded plain text: hit offsets stored with alerts point into these strings.
    Column("title", Text, nullable=False, default=""),
    Column("summary", Text, nullable=False, default=""),
    Column("content", Text, nullable=False, default=""),
    Column("language", Text),
    Column("content_hash", String(64), nullable=False),
    Column("published_at", UTCDateTime),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("cluster_id", Integer, ForeignKey("clusters.id"), nullable=False),
    UniqueConstraint("feed_id", "item_key"),
)
Index("ix_items_url", items.c.url)
Index("ix_items_content_hash", items.c.content_hash)
Index("ix_items_cluster_id", items.c.cluster_id)
Index("ix_items_first_seen_at", items.c.first_seen_at)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("watchlist", Text, nullable=False),
    # Both NULL for an operations alert (a feed stale or recovered): about a feed, not a story.
    Column("cluster_id", Integer, ForeignKey("clusters.id")),
    Column("item_id", Integer, ForeignKey("items.id")),
    # What the message shows, frozen when the alert is decided: terms, hits and the quoted sentence.
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # An operations alert's event, e.g. `stale:<feed id>:<silent since>`: the same for every
    # instance that sees it, so that one alert is recorded (NULL for a story alert).
    Column("ops_key", Text),
    UniqueConstraint("watchlist", "cluster_id"),
)
# Unique where not NULL: SQLite and PostgreSQL both let NULLs repeat in a unique index.
Index("ix_alerts_ops_key", alerts.c.ops_key, unique=True)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("alert_id", Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("channel", Text, nullable=False),
    # pending -> sending -> sent | pending (retry) | failed
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    # Sends that were in flight when a process died and were sent again (at-least-once).
    Column("resends", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # Why the delivery waits for a digest (digest, quiet_hours, rate_limit); NULL: it goes alone.
    Column("hold", String(16)),
    # The message (send) that last carried it.
    Column("message_id", Integer),
    UniqueConstraint("alert_id", "channel"),
)
Index("ix_deliveries_due", deliveries.c.status, deliveries.c.next_attempt_at)

# One row a send to a channel: a story, a digest, or the operations alerts of one dispatch. The
# sends of the last minutes are what a rate limit counts (those in flight included).
messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", Text, nullable=False),
    Column("kind", String(16), nullable=False),  # story, digest, ops
    # sending -> sent | retry | failed | interrupted (its process died)
    Column("status", String(16), nullable=False),
    Column("alerts", Integer, nullable=False),  # how many deliveries it carries
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("error", Text),
)
Index("ix_messages_channel_created_at", messages.c.channel, messages.c.created_at)
Index("ix_deliveries_message_id", deliveries.c.message_id)

# The channels that refused an alert for good (credentials, token, unknown chat), until a send
# to them succeeds again: one operations alert each, across restarts and `poll --once` runs.
channel_refusals = Table(
    "channel_refusals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", Text, nullable=False, unique=True),
    Column("since", UTCDateTime, nullable=False),
    Column("error", Text, nullable=False),
)

# The near-duplicate layer (docs/design.md §5): a MinHash signature per recent item, and the
# LSH band and lead keys it is filed under. Persisted, so start-up rebuilds nothing; pruned past the
# story window.
story_fingerprints = Table(
    "story_fingerprints",
    metadata,
    Column("item_id", Integer, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True),
    Column("cluster_id", Integer, nullable=False),
    Column("signature", LargeBinary, nullable=False),
    Column("first_seen_at", UTCDateTime, nullable=False),
    # The fingerprint's word and shingle counts (NULL in rows stored before 0003).
    Column("words", Integer),
    Column("shingles", Integer),
)
Index("ix_story_fingerprints_first_seen_at", story_fingerprints.c.first_seen_at)

story_keys = Table(
    "story_keys",
    metadata,
    Column("key", BigInteger, primary_key=True),
    Column("item_id", Integer, primary_key=True),
    sqlite_with_rowid=False,
)
Index("ix_story_keys_item_id", story_keys.c.item_id)
