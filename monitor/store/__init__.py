"""Storage: the tables and their migrations, the engine, and repositories for feeds, items and
their stories, alerts and the outbox. Other packages use these names; the modules behind them
are private."""

from typing import TYPE_CHECKING

from monitor.exports import lazy_exports

if TYPE_CHECKING:
    from monitor.store.alerts import create_alert
    from monitor.store.database import DatabaseError, default_database_url, open_engine, upgrade
    from monitor.store.feeds import (
        FeedHealth,
        FeedState,
        StaleChange,
        claim_due_feeds,
        feed_health,
        mark_stale,
        record_poll,
        release_feed_claims,
        stale_changes,
        sync_feeds,
    )
    from monitor.store.items import load_item_text, store_items, stored_content_hashes
    from monitor.store.messages import (
        CarriedAlert,
        channel_works,
        message_alerts,
        open_message,
        recent_sends,
        refused_for_good,
    )
    from monitor.store.outbox import (
        DeliveryJob,
        OutboxCounts,
        claim_channel_deliveries,
        hold_deliveries,
        outbox_counts,
        record_failed,
        record_retry,
        record_sent,
        release_deliveries,
        release_send_leases,
        retry_channel_now,
    )
    from monitor.store.stories import SqlStoryIndex, prune_story_index, story_outlets

__all__ = [
    "CarriedAlert",
    "DatabaseError",
    "DeliveryJob",
    "FeedHealth",
    "FeedState",
    "OutboxCounts",
    "SqlStoryIndex",
    "StaleChange",
    "channel_works",
    "claim_channel_deliveries",
    "claim_due_feeds",
    "create_alert",
    "default_database_url",
    "feed_health",
    "hold_deliveries",
    "load_item_text",
    "mark_stale",
    "message_alerts",
    "open_engine",
    "open_message",
    "outbox_counts",
    "prune_story_index",
    "recent_sends",
    "record_failed",
    "record_poll",
    "record_retry",
    "record_sent",
    "refused_for_good",
    "release_deliveries",
    "release_feed_claims",
    "release_send_leases",
    "retry_channel_now",
    "stale_changes",
    "store_items",
    "stored_content_hashes",
    "story_outlets",
    "sync_feeds",
    "upgrade",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "alerts": ["create_alert"],
        "database": ["DatabaseError", "default_database_url", "open_engine", "upgrade"],
        "feeds": [
            "FeedHealth",
            "FeedState",
            "StaleChange",
            "claim_due_feeds",
            "feed_health",
            "mark_stale",
            "record_poll",
            "release_feed_claims",
            "stale_changes",
            "sync_feeds",
        ],
        "items": ["load_item_text", "store_items", "stored_content_hashes"],
        "messages": [
            "CarriedAlert",
            "channel_works",
            "message_alerts",
            "open_message",
            "recent_sends",
            "refused_for_good",
        ],
        "outbox": [
            "DeliveryJob",
            "OutboxCounts",
            "claim_channel_deliveries",
            "hold_deliveries",
            "outbox_counts",
            "record_failed",
            "record_retry",
            "record_sent",
            "release_deliveries",
            "release_send_leases",
            "retry_channel_now",
        ],
        "stories": ["SqlStoryIndex", "prune_story_index", "story_outlets"],
    },
)
