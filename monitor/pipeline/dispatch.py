"""The outbox dispatcher: claim due deliveries, render, send one at a time, record the outcome.

It decides retry-or-give-up here, where the failure is understood; the sender only reports."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from sqlalchemy import Engine

from monitor.config.schema import Config
from monitor.model import Message, Outlet, SendOutcome
from monitor.notify.render import Rendered, channel_kind, render
from monitor.pipeline.ops import OPS_WATCHLIST, alert_operations, channel_refused_payload
from monitor.pipeline.payload import story_message
from monitor.pipeline.schedule import next_delivery_attempt
from monitor.store import (
    DeliveryJob,
    claim_due_deliveries,
    mark_failed,
    mark_retry,
    mark_sent,
    other_outlets,
)

log = logging.getLogger("monitor.dispatch")

# A claimed batch must be sent well within its lease, or another dispatcher could claim the
# same rows: 10 sends of at most ~16 s (timeout plus pacing) fit in 5 minutes. If the process
# dies mid-send, the delivery is retried after the lease (at-least-once).
_SEND_LEASE = timedelta(minutes=5)


class Sender(Protocol):
    def send(self, url: str, rendered: Rendered) -> SendOutcome: ...

    def privacy_url(self, url: str) -> str: ...


def deliver(sender: Sender, url: str, message: Message, zone: tzinfo) -> SendOutcome:
    """One message to one channel: rendered for the channel's kind with times in `zone`, sent,
    the outcome classified by the sender. What the dispatcher and `monitor test-alert` both
    do."""
    return sender.send(url, render(message, channel_kind(url), zone))


class BrokenChannels:
    """The channels that refused an alert for good, so that one operations alert says so, not
    one per alert; a send that succeeds again takes a channel off. Kept by the runtime across
    dispatch passes (a restart reports a channel still broken once more)."""

    def __init__(self) -> None:
        self._channels: set[str] = set()
        self._lock = threading.Lock()

    def newly_broken(self, channel: str) -> bool:
        with self._lock:
            new = channel not in self._channels
            self._channels.add(channel)
            return new

    def works(self, channel: str) -> None:
        with self._lock:
            self._channels.discard(channel)


@dataclass(frozen=True)
class DispatchReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        sender: Sender,
        clock: Callable[[], datetime],
        broken: BrokenChannels | None = None,
    ) -> None:
        self._engine = engine
        self._config = config
        self._sender = sender
        self._clock = clock
        self._broken = broken or BrokenChannels()

    def dispatch_due(self, should_stop: Callable[[], bool] = lambda: False) -> DispatchReport:
        """Send every delivery that is due now, until none is left or `should_stop()` says so
        (a shutdown must not wait for a whole backlog). Safe to run in several processes at
        once: each claim is a leased row."""
        counts = {"sent": 0, "retry": 0, "failed": 0, "lost": 0}
        while not should_stop():
            with self._engine.begin() as connection:
                jobs = claim_due_deliveries(connection, self._clock(), _SEND_LEASE, limit=1)
            if not jobs:
                break
            counts[self._deliver(jobs[0])] += 1
        return DispatchReport(counts["sent"], counts["retry"], counts["failed"])

    def _deliver(self, job: DeliveryJob) -> str:
        channel = self._config.channels.get(job.channel)
        if channel is None or channel.url is None:
            return self._give_up(job, f"channel {job.channel!r} is no longer configured")
        with self._engine.connect() as connection:
            outlets = other_outlets(connection, job.cluster_id, job.item_id)
        message = story_message(
            (job.alert_id,),
            (job.watchlist,),
            (job.payload,),
            [Outlet(name) for name in outlets],
            job.alert_created_at,
        )
        # Until the configured timezone is wired here: the machine's.
        zone = self._clock().astimezone().tzinfo or UTC
        outcome = deliver(self._sender, channel.url, message, zone)
        now = self._clock()
        if outcome.ok:
            self._broken.works(job.channel)
            with self._engine.begin() as connection:
                recorded = mark_sent(connection, job, now)
            if not recorded:
                return self._lost(job)
            log.info("alert %d sent to %s (attempt %d)", job.alert_id, job.channel, job.attempts)
            return "sent"
        error = outcome.error or "send failed"
        if outcome.permanent:  # a retry would meet the same refusal
            return self._refused(job, channel.url, error, now)
        policy = self._config.delivery
        if now - job.alert_created_at >= policy.give_up_after:
            return self._give_up(job, f"{error} (gave up after {job.attempts} attempts)")
        retry_at = next_delivery_attempt(
            now,
            job.attempts,
            initial=policy.retry_initial,
            maximum=policy.retry_max_interval,
            retry_after=outcome.retry_after,
        )
        with self._engine.begin() as connection:
            recorded = mark_retry(connection, job, retry_at, error)
        if not recorded:
            return self._lost(job)
        log.warning(
            "alert %d to %s: attempt %d failed: %s; retrying at %s",
            job.alert_id,
            job.channel,
            job.attempts,
            error,
            retry_at.isoformat(timespec="seconds"),
        )
        return "retry"

    def _refused(self, job: DeliveryJob, url: str, error: str, now: datetime) -> str:
        """Failed at once, with an operations alert the first time the channel refuses (not
        for an operations alert itself: its channel may be the broken one)."""
        reason = f"{error} (refused for good: not retried)"
        with self._engine.begin() as connection:
            recorded = mark_failed(connection, job, reason)
            if (
                recorded
                and job.watchlist != OPS_WATCHLIST
                and self._broken.newly_broken(job.channel)
            ):
                shown = self._sender.privacy_url(url)
                payload = channel_refused_payload(job.channel, shown, job.alert_id, error, now)
                alert_operations(connection, self._config, payload, now)
        if not recorded:
            return self._lost(job)
        log.error("alert %d to %s FAILED for good: %s", job.alert_id, job.channel, reason)
        return "failed"

    def _give_up(self, job: DeliveryJob, error: str) -> str:
        with self._engine.begin() as connection:
            recorded = mark_failed(connection, job, error)
        if not recorded:
            return self._lost(job)
        log.error("alert %d to %s FAILED for good: %s", job.alert_id, job.channel, error)
        return "failed"

    def _lost(self, job: DeliveryJob) -> str:
        log.warning(
            "alert %d to %s: the send took longer than its lease; another dispatcher owns it now",
            job.alert_id,
            job.channel,
        )
        return "lost"
