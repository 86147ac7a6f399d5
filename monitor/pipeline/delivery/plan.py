"""Schedule: which batches go now, as which messages, and which wait for a digest. Pure: the
channel's policy, the clock and the channel's recent sends are passed in.

The algebra, for the batches claimed for one channel at `now`:

- An operations batch always goes now (operations alerts are urgent), and all of them in one
  message, even past the rate limit: it takes a place, and the stories make room for it.
- A story batch whose hold has ended (it was held, it is due) goes in the digest, unless it is
  now in quiet hours (a retried digest, a rate-limit hold ending at 22:00:10): then it waits
  for their end, unless urgent.
- Any other story batch asks the policy: `hold_until(now, urgent=...)` None → it goes alone now;
  a time → it is held until then, for a digest (`quiet_hours` when `now` is in quiet hours,
  else `digest`). A batch is urgent when any of its watchlists is.
- The rate limit counts messages, not stories: with `allowance` messages allowed now and more
  wanted (operations message + singles + one digest when any story is due for it), the
  operations message goes first, then the oldest singles up to one short of the allowance, and
  every other story folds into one digest (reason `rate_limit` when a single was folded). With
  no allowance left, every story waits until the window frees a place (`next_free`, counting
  the operations message planned now), held for a digest: overflow is folded, never dropped.
- A digest of one story goes as that story's own message: nothing was folded into it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from monitor.pipeline.delivery.group import Batch
from monitor.store import DeliveryJob


class RateWindow(Protocol):
    def allowance(self, recent_sends: Sequence[datetime], now: datetime) -> int: ...

    def next_free(self, recent_sends: Sequence[datetime], now: datetime) -> datetime: ...


class HoldPolicy(Protocol):
    """What the plan needs of a channel's delivery policy (monitor.notify.policy)."""

    @property
    def rate_limit(self) -> RateWindow | None: ...

    def hold_until(self, now: datetime, *, urgent: bool) -> datetime | None: ...

    def in_quiet_hours(self, now: datetime) -> bool: ...

    def quiet_hours_end(self, now: datetime) -> datetime: ...


@dataclass(frozen=True)
class PlannedMessage:
    """One message: `story` (one batch), `digest` (several, with why they were held) or `ops`."""

    kind: str
    batches: tuple[Batch, ...]
    reason: str | None = None

    @property
    def jobs(self) -> tuple[DeliveryJob, ...]:
        return tuple(job for batch in self.batches for job in batch.jobs)


@dataclass(frozen=True)
class Hold:
    batch: Batch
    until: datetime
    reason: str  # digest, quiet_hours, rate_limit


@dataclass(frozen=True)
class DeliveryPlan:
    messages: tuple[PlannedMessage, ...]
    holds: tuple[Hold, ...]


def plan_deliveries(
    batches: Sequence[Batch],
    policy: HoldPolicy,
    now: datetime,
    *,
    recent_sends: Sequence[datetime] = (),
    is_urgent: Callable[[str], bool] = lambda watchlist: False,
) -> DeliveryPlan:
    ops = [batch for batch in batches if batch.is_ops]
    singles: list[Batch] = []
    digest: list[Batch] = []
    holds: list[Hold] = []
    for batch in batches:
        if batch.is_ops:
            continue
        urgent = any(is_urgent(watchlist) for watchlist in batch.watchlists)
        if batch.hold is not None:
            if policy.in_quiet_hours(now) and not urgent:
                holds.append(Hold(batch, policy.quiet_hours_end(now), "quiet_hours"))
            else:
                digest.append(batch)
            continue
        until = policy.hold_until(now, urgent=urgent)
        if until is None or until <= now:
            singles.append(batch)
        else:
            reason = "quiet_hours" if policy.in_quiet_hours(now) else "digest"
            holds.append(Hold(batch, until, reason))
    singles.sort(key=lambda batch: batch.decided_at)
    digest_reason = next((batch.hold for batch in digest if batch.hold), None)

    sends: list[PlannedMessage] = []
    if ops:
        sends.append(PlannedMessage("ops", tuple(ops)))
    limit = policy.rate_limit
    wanted = len(singles) + (1 if digest else 0)
    allowance = limit.allowance(recent_sends, now) - len(sends) if limit is not None else wanted
    if wanted > allowance:
        if allowance <= 0:
            planned_now = [now] * len(sends)
            until = limit.next_free([*recent_sends, *planned_now], now) if limit else now
            holds += [Hold(batch, until, "rate_limit") for batch in singles + digest]
            return DeliveryPlan(tuple(sends), tuple(holds))
        folded = singles[allowance - 1 :]
        singles = singles[: allowance - 1]
        digest = digest + folded
        digest_reason = "rate_limit"
    sends += [PlannedMessage("story", (batch,)) for batch in singles]
    if len(digest) == 1:
        sends.append(PlannedMessage("story", (digest[0],)))
    elif digest:
        sends.append(PlannedMessage("digest", tuple(digest), digest_reason or "digest"))
    return DeliveryPlan(tuple(sends), tuple(holds))
