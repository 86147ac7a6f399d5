"""Build: from the batches of a planned send to the typed message a renderer writes.

The stored alert payloads (frozen when each alert was decided) and the story's other outlets
(read when the message is built, so a late copy is listed) become one StoryMessage per story;
a digest lists them newest first; operations alerts become notices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from monitor.model import (
    DigestMessage,
    Message,
    OpsMessage,
    OpsNotice,
    Outlet,
    StoryMessage,
)
from monitor.notify.render import story_time
from monitor.pipeline.delivery.group import Batch
from monitor.pipeline.delivery.plan import PlannedMessage
from monitor.pipeline.payload import story_message

# The other outlets of a story: (cluster id, item id) -> outlets.
OutletsOf = Callable[[int | None, int | None], Sequence[Outlet]]


def build_message(
    planned: PlannedMessage, channel: str, message_id: int | None, outlets_of: OutletsOf
) -> Message:
    if planned.kind == "ops":
        return OpsMessage(tuple(_notice(batch) for batch in planned.batches))
    stories = [_story(batch, outlets_of) for batch in planned.batches]
    if planned.kind == "story":
        return stories[0]
    stories.sort(key=_newest_first)
    return DigestMessage(
        channel=channel,
        reason=planned.reason or "digest",
        stories=tuple(stories),
        message_id=message_id,
        since=min(batch.decided_at for batch in planned.batches),
    )


def _story(batch: Batch, outlets_of: OutletsOf) -> StoryMessage:
    first = batch.jobs[0]
    return story_message(
        alert_ids=tuple(job.alert_id for job in batch.jobs),
        watchlists=batch.watchlists,
        payloads=[job.payload for job in batch.jobs],
        outlets=outlets_of(first.cluster_id, first.item_id),
        first_seen=batch.decided_at,
    )


def _newest_first(story: StoryMessage) -> tuple[float, int]:
    when = story_time(story)
    return (-(when.timestamp() if when else 0.0), -max(story.alert_ids))


def _notice(batch: Batch) -> OpsNotice:
    job = batch.jobs[0]
    payload = job.payload
    snippet = payload.get("snippet") or {}
    published = payload.get("published")
    return OpsNotice(
        alert_id=job.alert_id,
        title=str(payload.get("title") or "monitor operations"),
        text=str(snippet.get("text") or ""),
        url=payload.get("url"),
        at=datetime.fromisoformat(published) if published else job.alert_created_at,
    )
