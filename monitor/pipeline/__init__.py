"""The pipeline: one polling pass (fetch, parse, plan, store, alert decisions), the schedule,
operations alerts and the outbox dispatcher. Other packages use these names; the modules behind
them are private."""

from typing import TYPE_CHECKING

from monitor.exports import lazy_exports

if TYPE_CHECKING:
    from monitor.pipeline.alert_verdict import AlertFacts, WhyNot, why_not
    from monitor.pipeline.dispatch import Dispatcher, DispatchReport, Sender
    from monitor.pipeline.ingest_plan import is_history
    from monitor.pipeline.items_json import ItemJsonError, item_text_from_json
    from monitor.pipeline.ops import check_stale_feeds
    from monitor.pipeline.poll import Poller
    from monitor.pipeline.sample_alert import outcome_line, send_sample_alert

__all__ = [
    "AlertFacts",
    "DispatchReport",
    "Dispatcher",
    "ItemJsonError",
    "Poller",
    "Sender",
    "WhyNot",
    "check_stale_feeds",
    "is_history",
    "item_text_from_json",
    "outcome_line",
    "send_sample_alert",
    "why_not",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "alert_verdict": ["AlertFacts", "WhyNot", "why_not"],
        "dispatch": ["DispatchReport", "Dispatcher", "Sender"],
        "ingest_plan": ["is_history"],
        "items_json": ["ItemJsonError", "item_text_from_json"],
        "ops": ["check_stale_feeds"],
        "poll": ["Poller"],
        "sample_alert": ["outcome_line", "send_sample_alert"],
    },
)
