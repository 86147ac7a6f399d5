"""Classify: what a send's outcome means for the deliveries it carried. Pure.

The sender says what happened, and whether the service refused for good, and whether for this
message alone (it understands the service's answer); here that becomes a decision: sent, retried
later with backoff (never sooner than the service asked), or failed at once. A delivery that
keeps failing is given up when its own alert is `give_up_after` old, not when the oldest alert
of its message is: a digest may carry an alert of two days and one of two minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.config.schema import DeliverySpec
from monitor.model import SendOutcome
from monitor.pipeline.schedule import next_delivery_attempt


@dataclass(frozen=True)
class Verdict:
    status: str  # sent, retry, failed
    error: str | None = None  # the sender's one line
    retry_at: datetime | None = None
    # Failed because the channel refuses every alert (credentials, token, unknown chat), not
    # only this message: an operations alert says so.
    channel_refused: bool = False


def verdict_for(
    outcome: SendOutcome, *, now: datetime, attempts: int, delivery: DeliverySpec
) -> Verdict:
    """`attempts`: the message's attempt count (its most tried delivery's)."""
    if outcome.ok:
        return Verdict("sent")
    error = outcome.error or "send failed"
    if outcome.permanent:  # a retry would meet the same refusal
        return Verdict("failed", error, channel_refused=not outcome.refused_message)
    retry_at = next_delivery_attempt(
        now,
        attempts,
        initial=delivery.retry_initial,
        maximum=delivery.retry_max_interval,
        retry_after=outcome.retry_after,
    )
    return Verdict("retry", error, retry_at)


def given_up(decided_at: datetime, now: datetime, delivery: DeliverySpec) -> bool:
    """Whether a delivery whose alert was decided at `decided_at` has failed long enough."""
    return now - decided_at >= delivery.give_up_after
