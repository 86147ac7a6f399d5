"""The outbox dispatcher: delivery as composed stages, Alertmanager's notify pipeline the model.

    claim (store) → group → schedule → build → render → send → classify → record (store)

Each stage is a small unit in monitor/pipeline/delivery/ or monitor/notify/ passing one frozen
value to the next; this module only composes them, one channel at a time. It decides retry or
give-up in the classify stage, where the failure is understood; the sender only reports.

Within a pass, a channel that fails a send gets nothing more until its retry: the rest of its
claim waits with the failed message (a Retry-After holds for the channel, and a hanging server
costs one timeout a pass, not one a message)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import Engine

from monitor.config.schema import ChannelSpec, Config
from monitor.model import Message, SendOutcome
from monitor.notify.channels import channel_kind
from monitor.notify.policy import policy_for
from monitor.notify.render import Rendered, render
from monitor.pipeline.delivery.build import build_message
from monitor.pipeline.delivery.group import group_by_story
from monitor.pipeline.delivery.plan import DeliveryPlan, PlannedMessage, plan_deliveries
from monitor.pipeline.delivery.verdict import Verdict, given_up, verdict_for
from monitor.pipeline.ops import alert_operations, channel_refused_payload, refusal_key
from monitor.store import (
    DeliveryJob,
    channel_works,
    claim_channel_deliveries,
    hold_deliveries,
    open_message,
    recent_sends,
    record_failed,
    record_retry,
    record_sent,
    refused_for_good,
    release_deliveries,
    retry_channel_now,
    story_outlets,
)
from monitor.text.count import counted

log = logging.getLogger("monitor.dispatch")

# A claim must be sent well within its lease, or another dispatcher could claim the same rows:
# a pass sends at most this many messages of one claim (each at most ~16 s: timeout plus
# pacing) and gives the rest back, to be claimed again at once. If the process dies mid-send,
# the delivery is retried after the lease, or at once at the next start on SQLite.
_SEND_LEASE = timedelta(minutes=5)
_MESSAGES_PER_CLAIM = 10
# A send may take longer (an email to many recipients, each SMTP step with its timeout, up to
# Apprise's 60 s per service): no send starts this close to the lease's end.
_LEASE_MARGIN = timedelta(seconds=90)


class Sender(Protocol):
    def send(self, url: str, rendered: Rendered) -> SendOutcome: ...

    def privacy_url(self, url: str) -> str: ...


def deliver(sender: Sender, url: str, message: Message, zone: tzinfo) -> SendOutcome:
    """One message to one channel: rendered for the channel's kind with times in `zone`, sent,
    the outcome classified by the sender. What the dispatcher and `monitor test-alert` both
    do. A message that cannot be written (a bug of ours, or feed data beyond what we foresaw)
    fails alone, for good, and is logged with its traceback: it must not block its channel."""
    try:
        rendered = render(message, channel_kind(url), zone)
    except Exception as error:
        log.exception("could not write a message for %s", channel_kind(url))
        reason = f"could not write the message ({type(error).__name__}): a bug, logged"
        return SendOutcome(ok=False, error=reason, permanent=True, refused_message=True)
    return sender.send(url, rendered)


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
    ) -> None:
        self._engine = engine
        self._config = config
        self._sender = sender
        self._clock = clock
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
            log.error(
                "%s to %s FAILED for good: %s",
                counted(len(jobs), "alert"),
                channel,
                error,
                extra=_fields(channel, jobs, "failed"),
            )
            counts.add("failed", len(jobs))
            return
        plan = self._plan(channel, spec, jobs, now)
        planned, later = plan.messages[:_MESSAGES_PER_CLAIM], plan.messages[_MESSAGES_PER_CLAIM:]
        with self._engine.begin() as connection:
            for hold in plan.holds:
                hold_deliveries(connection, hold.batch.jobs, hold.until, hold.reason)
            release_deliveries(connection, _jobs_of(later))
        if plan.holds:
            held = sum(len(hold.batch.jobs) for hold in plan.holds)
            counts.add("held", held)
            log.info(
                "%s to %s held for a digest (next at %s)",
                counted(held, "alert"),
                channel,
                min(hold.until for hold in plan.holds).isoformat(timespec="seconds"),
                extra=_fields(
                    channel, [job for hold in plan.holds for job in hold.batch.jobs], "held"
                ),
            )
        lease_until = jobs[0].lease_until
        for position, message in enumerate(planned):
            rest = planned[position:]
            if should_stop() or self._clock() >= lease_until - _LEASE_MARGIN:
                # What is left is claimed again at once (or at the next start).
                with self._engine.begin() as connection:
                    release_deliveries(connection, _jobs_of(rest))
                return
            verdict = self._send(channel, spec.url, message, counts)
            if verdict.status == "retry" and len(rest) > 1:
                assert verdict.retry_at is not None
                with self._engine.begin() as connection:
                    release_deliveries(connection, _jobs_of(rest[1:]), until=verdict.retry_at)
                return

    def _plan(
        self, channel: str, spec: ChannelSpec, jobs: Sequence[DeliveryJob], now: datetime
    ) -> DeliveryPlan:
        policy = policy_for(spec, self._zone)
        recent: list[datetime] = []
        if policy.rate_limit is not None:
            with self._engine.connect() as connection:
                recent = recent_sends(connection, channel, now - policy.rate_limit.period)
        return plan_deliveries(
            group_by_story(jobs),
            policy,
            now,
            recent_sends=recent,
            is_urgent=self._urgent.__contains__,
        )

    def _send(self, channel: str, url: str, planned: PlannedMessage, counts: _Counts) -> Verdict:
        """Build, render and send one message, classify the outcome and record it."""
        jobs = planned.jobs
        with self._engine.begin() as connection:
            delivery_ids = [job.id for job in jobs]
            message_id = open_message(
                connection, channel, planned.kind, delivery_ids, self._clock()
            )
        try:
            with self._engine.connect() as connection:
                message = build_message(
                    planned,
                    channel,
                    message_id,
                    lambda cluster, item: story_outlets(connection, cluster, item),
                )
        except Exception as error:  # a stored payload we cannot read: it must not block others
            log.exception(
                "could not build message %d for %s",
                message_id,
                channel,
                extra=_fields(channel, jobs, message_id=message_id),
            )
            outcome = SendOutcome(
                ok=False,
                error=f"could not build the message ({type(error).__name__}): a bug, logged",
                permanent=True,
                refused_message=True,
            )
        else:
            outcome = deliver(self._sender, url, message, self._zone)
        now = self._clock()
        verdict = verdict_for(
            outcome,
            now=now,
            attempts=max(job.attempts for job in jobs),
            delivery=self._config.delivery,
        )
        self._record(channel, url, planned, message_id, verdict, now, counts)
        return verdict

    def _record(
        self,
        channel: str,
        url: str,
        planned: PlannedMessage,
        message_id: int,
        verdict: Verdict,
        now: datetime,
        counts: _Counts,
    ) -> None:
        jobs = planned.jobs
        what = _described(planned, message_id)
        with self._engine.begin() as connection:
            if verdict.status == "sent":
                recorded = record_sent(connection, jobs, now, message_id)
                channel_works(connection, channel)
                back = retry_channel_now(connection, channel, now)
                counts.add("sent", recorded)
                counts.add("messages", 1)
                log.info(
                    "%s sent to %s",
                    what,
                    channel,
                    extra=_fields(channel, jobs, "sent", message_id=message_id),
                )
                if back:
                    log.info(
                        "%s works again: its %d retries waiting are due now",
                        channel,
                        back,
                        extra={"channel": channel},
                    )
            elif verdict.status == "retry":
                assert verdict.retry_at is not None and verdict.error is not None
                expired = [
                    job
                    for job in jobs
                    if given_up(job.alert_created_at, now, self._config.delivery)
                ]
                waiting = [job for job in jobs if job not in expired]
                recorded = record_retry(
                    connection, waiting, verdict.retry_at, verdict.error, message_id
                )
                counts.add("retry", recorded)
                log.warning(
                    "%s to %s: attempt failed: %s; retrying at %s",
                    what,
                    channel,
                    verdict.error,
                    verdict.retry_at.isoformat(timespec="seconds"),
                    extra=_fields(channel, jobs, "retry", message_id=message_id)
                    | {"retry_at": verdict.retry_at.isoformat(timespec="seconds")},
                )
                for job in expired:
                    error = f"{verdict.error} (gave up after {job.attempts} attempts)"
                    recorded += record_failed(connection, [job], error)
                    counts.add("failed", 1)
                    log.error(
                        "alert %d to %s FAILED for good: %s",
                        job.alert_id,
                        channel,
                        error,
                        extra=_fields(channel, [job], "failed", message_id=message_id),
                    )
            else:
                assert verdict.error is not None
                error = f"{verdict.error} (refused for good: not retried)"
                recorded = record_failed(connection, jobs, error, message_id)
                counts.add("failed", recorded)
                log.error(
                    "%s to %s FAILED for good: %s",
                    what,
                    channel,
                    error,
                    extra=_fields(channel, jobs, "failed", message_id=message_id),
                )
                if (
                    verdict.channel_refused
                    and recorded
                    and planned.kind != "ops"  # its channel may be the broken one
                    and refused_for_good(connection, channel, now, verdict.error)
                ):
                    shown = self._sender.privacy_url(url)
                    first = jobs[0].alert_id
                    payload = channel_refused_payload(channel, shown, first, verdict.error, now)
                    key = refusal_key(channel, now)  # the refusal row's `since`
                    alert_operations(connection, self._config, payload, now, key)
        if recorded < len(jobs):
            log.warning(
                "%s to %s: the send took longer than its lease; another dispatcher owns them now",
                counted(len(jobs) - recorded, "alert"),
                channel,
                extra={"channel": channel},
            )


def _jobs_of(planned: Sequence[PlannedMessage]) -> list[DeliveryJob]:
    return [job for message in planned for job in message.jobs]


def _fields(
    channel: str,
    jobs: Sequence[DeliveryJob],
    outcome: str | None = None,
    *,
    message_id: int | None = None,
) -> dict[str, Any]:
    """The structured fields of a delivery's log line (monitor/logs.py): `alert` when the
    message carries one alert, `alert_ids` always."""
    ids = [job.alert_id for job in jobs]
    fields: dict[str, Any] = {"channel": channel, "alert_ids": ids}
    if len(ids) == 1:
        fields["alert"] = ids[0]
    if outcome is not None:
        fields["outcome"] = outcome
    if message_id is not None:
        fields["message_id"] = message_id
    return fields


def _described(planned: PlannedMessage, message_id: int) -> str:
    """`digest 12 (alerts 3, 4, 5 and 40 more)`, for the log."""
    jobs = planned.jobs
    alert_ids = ", ".join(str(job.alert_id) for job in jobs[:10])
    more = f" and {len(jobs) - 10} more" if len(jobs) > 10 else ""
    return f"{planned.kind} {message_id} (alerts {alert_ids}{more})"
