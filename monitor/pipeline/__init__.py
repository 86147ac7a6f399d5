"""The pipeline: one polling pass (fetch, parse, plan, store, alert decisions), the schedule,
operations alerts and the outbox dispatcher. Other packages use these names; the modules behind
them are private."""

from typing import TYPE_CHECKING

from monitor.exports import lazy_exports

if TYPE_CHECKING:
    from monitor.pipeline.dispatch import Dispatcher, DispatchReport, Sender
    from monitor.pipeline.items_json import ItemJsonError, item_text_from_json
    from monitor.pipeline.ops import check_stale_feeds
    from monitor.pipeline.poll import Poller
    from monitor.pipeline.sample_alert import outcome_line, send_sample_alert

__all__ = [
    "DispatchReport",
    "Dispatcher",
    "ItemJsonError",
    "Poller",
    "Sender",
    "check_stale_feeds",
    "item_text_from_json",
    "outcome_line",
    "send_sample_alert",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "dispatch": ["DispatchReport", "Dispatcher", "Sender"],
        "items_json": ["ItemJsonError", "item_text_from_json"],
        "ops": ["check_stale_feeds"],
        "poll": ["Poller"],
        "sample_alert": ["outcome_line", "send_sample_alert"],
    },
)
