"""The pipeline: one polling pass (fetch, parse, plan, store, alert decisions), the schedule,
operations alerts and the outbox dispatcher. Other packages use these names; the modules behind
them are private."""

from typing import TYPE_CHECKING

from monitor.exports import lazy_exports

if TYPE_CHECKING:
    from monitor.pipeline.alert_verdict import AlertFacts, WhyNot, is_history, why_not
    from monitor.pipeline.claims import instance_name
    from monitor.pipeline.dispatch import Dispatcher, DispatchReport, Sender
    from monitor.pipeline.items_json import (
        ItemJsonError,
        StreamDocuments,
        StreamItem,
        item_feed_text_from_json,
        item_text_from_json,
        stream_item_from_json,
    )
    from monitor.pipeline.observe import PollObserver
    from monitor.pipeline.ops import check_stale_feeds
    from monitor.pipeline.payload import hit_json
    from monitor.pipeline.poll import Poller
    from monitor.pipeline.replay import Replay, ReplayAlert, ReplayStories, Story
    from monitor.pipeline.sample_alert import outcome_line, send_sample_alert

__all__ = [
    "AlertFacts",
    "DispatchReport",
    "Dispatcher",
    "ItemJsonError",
    "PollObserver",
    "Poller",
    "Replay",
    "ReplayAlert",
    "ReplayStories",
    "Sender",
    "Story",
    "StreamDocuments",
    "StreamItem",
    "WhyNot",
    "check_stale_feeds",
    "hit_json",
    "instance_name",
    "is_history",
    "item_feed_text_from_json",
    "item_text_from_json",
    "outcome_line",
    "send_sample_alert",
    "stream_item_from_json",
    "why_not",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "alert_verdict": ["AlertFacts", "WhyNot", "is_history", "why_not"],
        "claims": ["instance_name"],
        "dispatch": ["DispatchReport", "Dispatcher", "Sender"],
        "items_json": [
            "ItemJsonError",
            "StreamDocuments",
            "StreamItem",
            "item_feed_text_from_json",
            "item_text_from_json",
            "stream_item_from_json",
        ],
        "observe": ["PollObserver"],
        "ops": ["check_stale_feeds"],
        "payload": ["hit_json"],
        "poll": ["Poller"],
        "replay": ["Replay", "ReplayAlert", "ReplayStories", "Story"],
        "sample_alert": ["outcome_line", "send_sample_alert"],
    },
)
