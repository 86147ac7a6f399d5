"""Classify: what a send's outcome means for the deliveries it carried. Pure.

The sender says what happened and whether the service refused for good (it understands the
service's answer); here it becomes a decision: sent, retried later with backoff (never sooner
than the service asked), or failed — at once when refused for good, after `give_up_after` when
it kept failing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.config.schema import DeliverySpec
from monitor.model import SendOutcome
from monitor.pipeline.schedule import next_delivery_attempt


@dataclass(frozen=True)
class Verdict:
    status: str  # sent, retry, failed
    error: str | None = None
    retry_at: datetime | None = None
    refused: bool = False  # failed because the channel refused for good


def classify(
    outcome: SendOutcome,
    *,
    now: datetime,
    first_decided_at: datetime,
    attempts: int,
    delivery: DeliverySpec,
) -> Verdict:
    """`first_decided_at`: when the oldest alert of the message was decided; `attempts`: the
    message's attempt count (its most tried delivery's)."""
    if outcome.ok:
        return Verdict("sent")
    error = outcome.error or "send failed"
    if outcome.permanent:  # a retry would meet the same refusal
        return Verdict("failed", f"{error} (refused for good: not retried)", refused=True)
    if now - first_decided_at >= delivery.give_up_after:
        return Verdict("failed", f"{error} (gave up after {attempts} attempts)")
    retry_at = next_delivery_attempt(
        now,
        attempts,
        initial=delivery.retry_initial,
        maximum=delivery.retry_max_interval,
        retry_after=outcome.retry_after,
    )
    return Verdict("retry", error, retry_at)
