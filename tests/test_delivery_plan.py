"""The schedule stage (monitor/pipeline/delivery/plan.py), black-box over a table: claimed
deliveries of one channel, the channel's real policy (monitor.notify.policy), the clock and the
channel's recent sends in; the messages to send and the holds out. Pure: no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.notify.policy import DeliveryPolicy, RateLimit
from monitor.pipeline.delivery.group import group_by_story
from monitor.pipeline.delivery.plan import DeliveryPlan, plan_deliveries
from monitor.store import DeliveryJob

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 10, 9, 20, tzinfo=PARIS).astimezone(UTC)
NOON = datetime(2026, 11, 10, 12, 0, tzinfo=PARIS).astimezone(UTC)


def job(
    alert: int, story: int | None, watchlist: str = "otan", hold: str | None = None
) -> DeliveryJob:
    """A claimed delivery of alert `alert` about story `story` (None: an operations alert)."""
    return DeliveryJob(
        id=alert,
        alert_id=alert,
        channel="desk",
        attempts=1,
        lease_until=NOW + timedelta(minutes=5),
        alert_created_at=NOW - timedelta(seconds=100 - alert),
        watchlist=watchlist,
        cluster_id=story,
        item_id=story,
        payload={},
        hold=hold,
    )


@dataclass(frozen=True)
class Case:
    name: str
    jobs: list[DeliveryJob]
    policy: DeliveryPolicy
    # Each send as (kind, alert ids, reason); each hold as (alert ids, until, reason).
    sends: list[tuple[str, list[int], str | None]]
    holds: list[tuple[list[int], datetime, str]] = ()  # type: ignore[assignment]
    recent: list[datetime] = ()  # type: ignore[assignment]
    urgent: frozenset[str] = frozenset()


AT_ONCE = DeliveryPolicy(PARIS)
HOURLY = DeliveryPolicy(PARIS, digest_every=timedelta(hours=1))
TEN_AM = datetime(2026, 11, 10, 10, 0, tzinfo=PARIS).astimezone(UTC)
QUIET = DeliveryPolicy(PARIS, quiet_from=time(9, 0), quiet_to=time(12, 0))
THREE_A_MINUTE = DeliveryPolicy(PARIS, rate_limit=RateLimit(3, timedelta(minutes=1)))

CASES = [
    Case(
        "each story alone",
        [job(1, 10), job(2, 11)],
        AT_ONCE,
        [("story", [1], None), ("story", [2], None)],
    ),
    Case(
        "two watchlists, one story, one message",
        [job(1, 10), job(2, 10, "ukraine")],
        AT_ONCE,
        [("story", [1, 2], None)],
    ),
    Case(
        "operations alerts of one dispatch in one message",
        [job(1, None), job(2, None)],
        AT_ONCE,
        [("ops", [1, 2], None)],
    ),
    Case(
        "a digest holds until its next time",
        [job(1, 10), job(2, 11)],
        HOURLY,
        [],
        [([1], TEN_AM, "digest"), ([2], TEN_AM, "digest")],
    ),
    Case(
        "an urgent watchlist bypasses the digest",
        [job(1, 10), job(2, 11, "alerte")],
        HOURLY,
        [("story", [2], None)],
        [([1], TEN_AM, "digest")],
        urgent=frozenset({"alerte"}),
    ),
    Case(
        "operations alerts bypass the digest",
        [job(1, None), job(2, 11)],
        HOURLY,
        [("ops", [1], None)],
        [([2], TEN_AM, "digest")],
    ),
    Case("quiet hours hold until their end", [job(1, 10)], QUIET, [], [([1], NOON, "quiet_hours")]),
    Case(
        "held stories whose time came: one digest",
        [job(1, 10, hold="digest"), job(2, 11, hold="digest"), job(3, 12, hold="digest")],
        HOURLY,
        [("digest", [1, 2, 3], "digest")],
    ),
    Case(
        "one held story goes as itself",
        [job(1, 10, hold="quiet_hours")],
        HOURLY,
        [("story", [1], None)],
    ),
    Case(
        "within the rate limit: each alone",
        [job(n, n) for n in range(1, 4)],
        THREE_A_MINUTE,
        [("story", [n], None) for n in range(1, 4)],
    ),
    Case(
        "over the rate limit: the overflow folded into one digest",
        [job(n, n) for n in range(1, 11)],
        THREE_A_MINUTE,
        [("story", [1], None), ("story", [2], None), ("digest", list(range(3, 11)), "rate_limit")],
    ),
    Case(
        "the rate limit counts the recent sends",
        [job(1, 1), job(2, 2)],
        THREE_A_MINUTE,
        [("digest", [1, 2], "rate_limit")],
        recent=[NOW - timedelta(seconds=30)] * 2,
    ),
    Case(
        "no room left: held until the window frees a place",
        [job(1, 1), job(2, 2)],
        THREE_A_MINUTE,
        [],
        [
            ([1], NOW + timedelta(seconds=30), "rate_limit"),
            ([2], NOW + timedelta(seconds=30), "rate_limit"),
        ],
        recent=[NOW - timedelta(seconds=s) for s in (30, 20, 10)],
    ),
    Case(
        "a send older than the window does not count",
        [job(1, 1)],
        THREE_A_MINUTE,
        [("story", [1], None)],
        recent=[NOW - timedelta(seconds=60)] * 3,
    ),
    Case(
        "operations go first and take a place",
        [job(1, None)] + [job(n, n) for n in (2, 3, 4)],
        THREE_A_MINUTE,
        [("ops", [1], None), ("story", [2], None), ("digest", [3, 4], "rate_limit")],
    ),
    Case(
        "operations go even past the limit; the stories wait for the place it takes",
        [job(1, None), job(2, 2)],
        THREE_A_MINUTE,
        [("ops", [1], None)],
        # four in the window: room again when the two oldest have left it
        [([2], NOW + timedelta(seconds=50), "rate_limit")],
        recent=[NOW - timedelta(seconds=s) for s in (20, 10, 5)],
    ),
    Case(
        "operations take the last place: the stories wait until the oldest send leaves",
        [job(1, None), job(2, 2)],
        THREE_A_MINUTE,
        [("ops", [1], None)],
        [([2], NOW + timedelta(seconds=50), "rate_limit")],
        recent=[NOW - timedelta(seconds=s) for s in (10, 5)],
    ),
    Case(
        "a held story due during quiet hours waits for their end",
        [job(1, 10, hold="rate_limit"), job(2, 11, "alerte", hold="digest")],
        QUIET,
        [("story", [2], None)],
        [([1], NOON, "quiet_hours")],
        urgent=frozenset({"alerte"}),
    ),
]


def planned(case: Case) -> DeliveryPlan:
    return plan_deliveries(
        group_by_story(case.jobs),
        case.policy,
        NOW,
        recent_sends=case.recent,
        is_urgent=case.urgent.__contains__,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_plan(case: Case) -> None:
    plan = planned(case)
    sends = [
        (send.kind, [job.alert_id for job in send.jobs], send.reason) for send in plan.messages
    ]
    holds = [
        ([job.alert_id for job in hold.batch.jobs], hold.until, hold.reason) for hold in plan.holds
    ]
    assert sends == case.sends
    assert holds == list(case.holds)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_every_claimed_delivery_is_sent_or_held_exactly_once(case: Case) -> None:
    plan = planned(case)
    ids = [job.id for send in plan.messages for job in send.jobs]
    ids += [job.id for hold in plan.holds for job in hold.batch.jobs]
    assert sorted(ids) == sorted(job.id for job in case.jobs)
