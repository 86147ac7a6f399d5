"""The outbox dispatcher: delivery as composed stages, Alertmanager's notify pipeline the model.

    claim (store) → group → schedule → build → render → send → classify → record (store)

Each stage is a small unit in monitor/pipeline/delivery/ or monitor/notify/ passing one frozen
value to the next; this module only composes them, one channel at a time. It decides retry or
give-up in the classify stage, where the failure is understood; the sender only reports."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Protocol

from sqlalchemy import Engine

from monitor.config.schema import ChannelSpec, Config
from monitor.model import Message, SendOutcome
from monitor.notify.policy import policy_for
from monitor.notify.render import Rendered, channel_kind, render
from monitor.pipeline.delivery.build import build_message
from monitor.pipeline.delivery.group import group_by_story
from monitor.pipeline.delivery.plan import DeliveryPlan, Send, plan_deliveries
from monitor.pipeline.delivery.verdict import Verdict, classify
from monitor.pipeline.ops import alert_operations, channel_refused_payload
from monitor.store import (
    DeliveryJob,
    claim_channel_deliveries,
    hold_deliveries,
    open_message,
    recent_sends,
    record_failed,
    record_retry,
    record_sent,
    release_deliveries,
    retry_channel_now,
    story_outlets,
)

log = logging.getLogger("monitor.dispatch")

# A claim must be sent well within its lease, or another dispatcher could claim the same rows:
# a pass sends at most this many messages of one claim (each at most ~16 s: timeout plus
# pacing) and gives the rest back, to be claimed again at once. If the process dies mid-send,
# the delivery is retried after the lease, or at once at the next start on SQLite.
_SEND_LEASE = timedelta(minutes=5)
_MESSAGES_PER_CLAIM = 10
# How far back a rate limit looks: its period, at most this (a limit per hour is unusual).
_LONGEST_RATE_WINDOW = timedelta(hours=1)


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
    """Deliveries (alert × channel) sent, to be retried, failed, and held for a digest; and
    the messages that carried the sent ones."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    messages: int = 0


class _Counts:
    def __init__(self) -> None:
        self.by_status = {"sent": 0, "retry": 0, "failed": 0, "held": 0, "messages": 0}

    def add(self, status: str, deliveries: int) -> None:
        self.by_status[status] += deliveries

    def report(self) -> DispatchReport:
        counts = self.by_status
        return DispatchReport(
            counts["sent"], counts["retry"], counts["failed"], counts["held"], counts["messages"]
        )


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
        self._urgent = {watchlist.name for watchlist in config.watchlists if watchlist.urgent}
        self._zone = config.zone()

    def dispatch_due(self, should_stop: Callable[[], bool] = lambda: False) -> DispatchReport:
        """Send everything that is due now, a channel at a time, until nothing is left or
        `should_stop()` says so (a shutdown must not wait for a whole backlog). Safe to run in
        several processes at once: each claim is a leased row."""
        counts = _Counts()
        while not should_stop():
            now = self._clock()
            with self._engine.begin() as connection:
                jobs = claim_channel_deliveries(connection, now, _SEND_LEASE)
            if not jobs:
                break
            self._dispatch_channel(jobs, now, counts, should_stop)
        return counts.report()

    def _dispatch_channel(
        self,
        jobs: Sequence[DeliveryJob],
        now: datetime,
        counts: _Counts,
        should_stop: Callable[[], bool],
    ) -> None:
        channel = jobs[0].channel
        spec = self._config.channels.get(channel)
        if spec is None or spec.url is None:
            error = f"channel {channel!r} is no longer configured"
            with self._engine.begin() as connection:
                record_failed(connection, jobs, error)
            log.error("%d alerts to %s FAILED for good: %s", len(jobs), channel, error)
            counts.add("failed", len(jobs))
            return
        plan = self._plan(channel, spec, jobs, now)
        sends, later = plan.sends[:_MESSAGES_PER_CLAIM], plan.sends[_MESSAGES_PER_CLAIM:]
        with self._engine.begin() as connection:
            for hold in plan.holds:
                hold_deliveries(connection, hold.batch.jobs, hold.until, hold.reason)
            release_deliveries(connection, [job for send in later for job in send.jobs])
        for hold in plan.holds:
            counts.add("held", len(hold.batch.jobs))
        if plan.holds:
            log.info(
                "%d alerts to %s held for a digest (next at %s)",
                sum(len(hold.batch.jobs) for hold in plan.holds),
                channel,
                min(hold.until for hold in plan.holds).isoformat(timespec="seconds"),
            )
        for position, send in enumerate(sends):
            if should_stop():  # what is left goes at the next start, claimed again
                with self._engine.begin() as connection:
                    release_deliveries(
                        connection, [job for rest in sends[position:] for job in rest.jobs]
                    )
                return
            self._send(channel, spec.url, send, counts)

    def _plan(
        self, channel: str, spec: ChannelSpec, jobs: Sequence[DeliveryJob], now: datetime
    ) -> DeliveryPlan:
        policy = policy_for(spec, self._zone)
        recent: list[datetime] = []
        if policy.rate_limit is not None:
            with self._engine.connect() as connection:
                recent = recent_sends(connection, channel, now - _LONGEST_RATE_WINDOW)
        return plan_deliveries(
            group_by_story(jobs),
            policy,
            now,
            recent_sends=recent,
            is_urgent=self._urgent.__contains__,
        )

    def _send(self, channel: str, url: str, send: Send, counts: _Counts) -> None:
        jobs = send.jobs
        now = self._clock()
        with self._engine.begin() as connection:
            message_id = open_message(connection, channel, send.kind, jobs, now)
        with self._engine.connect() as connection:
            message = build_message(
                send,
                channel,
                message_id,
                lambda cluster, item: story_outlets(connection, cluster, item),
            )
        outcome = deliver(self._sender, url, message, self._zone)
        now = self._clock()
        verdict = classify(
            outcome,
            now=now,
            first_decided_at=min(job.alert_created_at for job in jobs),
            attempts=max(job.attempts for job in jobs),
            delivery=self._config.delivery,
        )
        if verdict.status == "sent":
            self._broken.works(channel)
        recorded = self._record(channel, url, send, message_id, verdict, now)
        counts.add(verdict.status, recorded)
        if verdict.status == "sent":
            counts.add("messages", 1)
        if recorded < len(jobs):
            log.warning(
                "%d alerts to %s: the send took longer than its lease; another dispatcher"
                " owns them now",
                len(jobs) - recorded,
                channel,
            )
        alert_ids = ", ".join(str(job.alert_id) for job in jobs[:10])
        more = f" and {len(jobs) - 10} more" if len(jobs) > 10 else ""
        what = f"{send.kind} {message_id} (alerts {alert_ids}{more})"
        if verdict.status == "sent":
            log.info("%s sent to %s", what, channel)
        elif verdict.status == "retry":
            assert verdict.retry_at is not None
            log.warning(
                "%s to %s: attempt failed: %s; retrying at %s",
                what,
                channel,
                verdict.error,
                verdict.retry_at.isoformat(timespec="seconds"),
            )
        else:
            log.error("%s to %s FAILED for good: %s", what, channel, verdict.error)

    def _record(
        self,
        channel: str,
        url: str,
        send: Send,
        message_id: int,
        verdict: Verdict,
        now: datetime,
    ) -> int:
        jobs = send.jobs
        with self._engine.begin() as connection:
            if verdict.status == "sent":
                recorded = record_sent(connection, jobs, now, message_id)
                back = retry_channel_now(connection, channel, now)
                if back:
                    log.info(
                        "%s accepts alerts again: %d waiting retries are due now", channel, back
                    )
                return recorded
            if verdict.status == "retry":
                assert verdict.retry_at is not None and verdict.error is not None
                return record_retry(connection, jobs, verdict.retry_at, verdict.error, message_id)
            assert verdict.error is not None
            recorded = record_failed(connection, jobs, verdict.error, message_id)
            if (
                verdict.refused
                and recorded
                and send.kind != "ops"
                and self._broken.newly_broken(channel)
            ):
                # Not for an operations message: its channel may be the broken one.
                shown = self._sender.privacy_url(url)
                first = jobs[0]
                payload = channel_refused_payload(
                    channel, shown, first.alert_id, verdict.error, now
                )
                alert_operations(connection, self._config, payload, now)
            return recorded
