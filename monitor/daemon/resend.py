"""`monitor resend ALERT_ID [--channel C]`: a new delivery of a stored alert. Its delivery rows
go back to the outbox (pending, due now, no hold; their attempts are kept as history), then one
dispatch pass runs, as `poll --once` ends with, and each channel's outcome is read back from
its row: the dispatcher recorded it there, classified."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from monitor.daemon.listing import shown
from monitor.daemon.runtime import Runtime
from monitor.store import (
    DeliveryRow,
    alert_channels,
    alert_deliveries,
    requeue_alert,
    upgrade,
)


class UnknownTarget(Exception):
    """No stored alert with that id, or no delivery of it to that channel: a usage error."""


@dataclass(frozen=True)
class ResendOutcome:
    channel: str
    sent: bool
    line: str


def resend_alert(runtime: Runtime, alert_id: int, channel: str | None) -> list[ResendOutcome]:
    upgrade(runtime.engine)
    with runtime.engine.begin() as connection:
        channels = alert_channels(connection, alert_id)
        if channels is None:
            raise UnknownTarget(f"no stored alert with id {alert_id}")
        if channel is not None and channel not in channels:
            known = ", ".join(channels) or "none"
            raise UnknownTarget(
                f"alert {alert_id} has no delivery to {channel!r} (its channels: {known})"
            )
        chosen = channels if channel is None else (channel,)
        requeue_alert(connection, alert_id, chosen, runtime.clock())
    runtime.dispatcher().dispatch_due()
    with runtime.engine.connect() as connection:
        found = {row.channel: row for row in alert_deliveries(connection, alert_id)}
    zone = runtime.config.zone()
    return [_outcome(alert_id, found[name], zone) for name in chosen]


def _outcome(alert_id: int, delivery: DeliveryRow, zone: tzinfo) -> ResendOutcome:
    head = f"alert {alert_id} to {delivery.channel}:"
    if delivery.status == "sent":
        return ResendOutcome(delivery.channel, True, f"{head} sent")
    when = (
        ""
        if delivery.next_attempt is None
        else delivery.next_attempt.astimezone(zone).strftime(" %Y-%m-%d %H:%M %Z")
    )
    if delivery.status == "failed":
        detail = f"failed: {shown(delivery.last_error or 'no reason recorded')}"
    elif delivery.hold:
        detail = f"held for a digest ({delivery.hold}) until{when}"
    elif delivery.last_error:
        detail = f"not sent, retrying at{when}: {shown(delivery.last_error)}"
    else:
        detail = f"not sent yet ({delivery.status})"
    return ResendOutcome(delivery.channel, False, f"{head} {detail}")


def all_sent(outcomes: Sequence[ResendOutcome]) -> bool:
    return all(outcome.sent for outcome in outcomes)
