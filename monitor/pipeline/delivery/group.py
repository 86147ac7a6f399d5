"""Group: the claimed deliveries of one channel, as the batches that go out together.

A story that several watchlists hit has one alert (and so one delivery) per watchlist; the
channel gets one message naming them all, so their deliveries form one batch. An operations
alert is about a feed or a channel, not a story: a batch of its own (the plan puts all of one
dispatch's into one message)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.store import DeliveryJob


@dataclass(frozen=True)
class Batch:
    """The deliveries of one story to one channel (one per watchlist, oldest alert first), or
    one operations alert."""

    jobs: tuple[DeliveryJob, ...]

    @property
    def is_ops(self) -> bool:
        return self.jobs[0].cluster_id is None

    @property
    def hold(self) -> str | None:
        """Why it was held for a digest (its time has come), or None: it goes alone."""
        return next((job.hold for job in self.jobs if job.hold), None)

    @property
    def watchlists(self) -> tuple[str, ...]:
        return tuple(job.watchlist for job in self.jobs)

    @property
    def decided_at(self) -> datetime:
        """When its first alert was decided."""
        return min(job.alert_created_at for job in self.jobs)


def group_by_story(jobs: Sequence[DeliveryJob]) -> list[Batch]:
    """Batches in the order their first delivery was claimed (oldest due first)."""
    stories: dict[int, list[DeliveryJob]] = {}
    batches: list[list[DeliveryJob]] = []
    for job in jobs:
        if job.cluster_id is None:
            batches.append([job])
            continue
        story = stories.get(job.cluster_id)
        if story is None:
            story = stories[job.cluster_id] = []
            batches.append(story)
        story.append(job)
    return [Batch(tuple(sorted(batch, key=lambda job: job.alert_id))) for batch in batches]
