"""`monitor poll [--once]`: one polling pass, then deliver what is due, then exit."""

from __future__ import annotations

import asyncio
from typing import TextIO

from monitor.daemon.runtime import Runtime
from monitor.feeds import redact_url
from monitor.model import PollOutcome
from monitor.pipeline import DispatchReport
from monitor.store import outbox_counts
from monitor.text.count import counted


async def _poll(runtime: Runtime, all_feeds: bool) -> list[PollOutcome]:
    policy = runtime.fetch_policy
    async with runtime.http_client(policy) as client, runtime.feed_parser() as parser:
        return await runtime.poller(client, parser, policy).poll_due(all_feeds=all_feeds)


def poll_once(runtime: Runtime, *, all_feeds: bool, out: TextIO) -> int:
    runtime.prepare_database()
    reports = asyncio.run(_poll(runtime, all_feeds))
    runtime.check_stale()
    dispatched: DispatchReport = runtime.dispatcher().dispatch_due()
    for report in reports:
        detail = f": {report.message}" if report.message else ""
        out.write(
            f"{report.word:<14} {redact_url(report.url)}  new={report.new_items}"
            f" alerts={report.alerts}{detail}\n"
        )
    out.write(poll_summary(reports, dispatched) + "\n")
    with runtime.engine.connect() as connection:
        outbox = outbox_counts(connection)
    out.write(
        f"outbox: {outbox.pending} pending ({outbox.held} held for a digest), {outbox.sent} sent,"
        f" {outbox.failed} failed, {outbox.resends} sent again after a crash\n"
    )
    # For cron and scripts: a pass in which every feed failed (or is gone) is a failure.
    every_feed_failed = bool(reports) and all(report.status.failing for report in reports)
    return 1 if every_feed_failed else 0


def poll_summary(reports: list[PollOutcome], dispatched: DispatchReport) -> str:
    """The pass in one line: alerts (one per watchlist and story) apart from deliveries (one
    per alert and channel), which the dispatcher counts."""
    new_items = sum(report.new_items for report in reports)
    alerts = sum(report.alerts for report in reports)
    held = f", {dispatched.held} held for a digest" if dispatched.held else ""
    return (
        f"polled {counted(len(reports), 'feed')}: {counted(new_items, 'new item')},"
        f" {counted(alerts, 'alert')}; deliveries: {dispatched.sent} sent in"
        f" {counted(dispatched.messages, 'message')}, {dispatched.retrying} retrying,"
        f" {dispatched.failed} failed{held}"
    )
