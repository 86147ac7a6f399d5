"""The delivery policy's pure functions (monitor/notify/policy.py): digest times, quiet hours,
holding, rate limits, defaults per kind of channel.

Times are written as Paris wall times where the rule is about wall time, and checked as UTC
instants. Europe/Paris in 2026: CET (+1) until 29 March 01:00 UTC, when 02:00 jumps to 03:00
CEST (+2); on 25 October 01:00 UTC, 03:00 CEST falls back to 02:00 CET, so 02:00–02:59 happens
twice. Quiet hours include `from` and exclude `to`.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest

from monitor.config.schema import ChannelSpec
from monitor.notify.policy import (
    DeliveryPolicy,
    RateLimit,
    default_rate_limit,
    policy_for,
    wall_instant,
)

PARIS = ZoneInfo("Europe/Paris")


def utc(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def paris(
    month: int, day: int, hour: int, minute: int = 0, second: int = 0, *, fold: int = 0
) -> datetime:
    """A Paris wall time of 2026 as a UTC instant (`fold=1`: the second of a repeated hour)."""
    wall = datetime(2026, month, day, hour, minute, second, tzinfo=PARIS, fold=fold)
    return wall.astimezone(UTC)


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


NIGHT = {"quiet_from": time(22), "quiet_to": time(7)}
DAYTIME = {"quiet_from": time(9), "quiet_to": time(17)}

# -- wall times to instants ------------------------------------------------------------------

WALL_TIMES = {
    "winter": (datetime(2026, 1, 15, 8, 0), PARIS, utc(2026, 1, 15, 7)),
    "summer": (datetime(2026, 7, 15, 8, 0), PARIS, utc(2026, 7, 15, 6)),
    "just before the jump": (datetime(2026, 3, 29, 1, 59), PARIS, utc(2026, 3, 29, 0, 59)),
    "skipped 02:00: the jump": (datetime(2026, 3, 29, 2, 0), PARIS, utc(2026, 3, 29, 1)),
    "skipped 02:30: the jump": (datetime(2026, 3, 29, 2, 30), PARIS, utc(2026, 3, 29, 1)),
    "skipped 02:59:59: the jump": (datetime(2026, 3, 29, 2, 59, 59), PARIS, utc(2026, 3, 29, 1)),
    "03:00 after the jump": (datetime(2026, 3, 29, 3, 0), PARIS, utc(2026, 3, 29, 1)),
    "03:01 after the jump": (datetime(2026, 3, 29, 3, 1), PARIS, utc(2026, 3, 29, 1, 1)),
    "repeated 02:00: first": (datetime(2026, 10, 25, 2, 0), PARIS, utc(2026, 10, 25, 0)),
    "repeated 02:30: first": (datetime(2026, 10, 25, 2, 30), PARIS, utc(2026, 10, 25, 0, 30)),
    "03:00 after the repeat": (datetime(2026, 10, 25, 3, 0), PARIS, utc(2026, 10, 25, 2)),
    "01:59 before the repeat": (datetime(2026, 10, 25, 1, 59), PARIS, utc(2026, 10, 24, 23, 59)),
    # Lord Howe Island moves its clocks by half an hour: 02:00 jumps to 02:30 (+10:30 -> +11).
    "half-hour jump": (
        datetime(2026, 10, 4, 2, 15),
        ZoneInfo("Australia/Lord_Howe"),
        utc(2026, 10, 3, 15, 30),
    ),
    "a fixed zone": (datetime(2026, 3, 29, 2, 30), UTC, utc(2026, 3, 29, 2, 30)),
}


@pytest.mark.parametrize(("wall", "zone", "expected"), WALL_TIMES.values(), ids=WALL_TIMES.keys())
def test_wall_instant(wall: datetime, zone: tzinfo, expected: datetime) -> None:
    assert wall_instant(wall, zone) == expected


# -- quiet hours -----------------------------------------------------------------------------

IN_QUIET_HOURS = {
    "before from": (NIGHT, paris(1, 15, 21, 59, 59), False),
    "at from (included)": (NIGHT, paris(1, 15, 22), True),
    "before midnight": (NIGHT, paris(1, 15, 23, 59, 59), True),
    "at midnight": (NIGHT, paris(1, 16, 0), True),
    "before to": (NIGHT, paris(1, 16, 6, 59, 59), True),
    "at to (excluded)": (NIGHT, paris(1, 16, 7), False),
    "noon": (NIGHT, paris(1, 16, 12), False),
    "daytime: before": (DAYTIME, paris(1, 16, 8, 59), False),
    "daytime: at from": (DAYTIME, paris(1, 16, 9), True),
    "daytime: inside": (DAYTIME, paris(1, 16, 16, 59, 59), True),
    "daytime: at to": (DAYTIME, paris(1, 16, 17), False),
    "daytime: night": (DAYTIME, paris(1, 16, 23), False),
    "spring night: before the jump": (NIGHT, paris(3, 29, 1, 59), True),
    "spring night: after the jump": (NIGHT, paris(3, 29, 3), True),
    "spring night: to": (NIGHT, paris(3, 29, 7), False),
    "skipped from: starts at the jump": (
        {"quiet_from": time(2, 30), "quiet_to": time(5)},
        utc(2026, 3, 29, 1),
        True,
    ),
    "skipped from: not before the jump": (
        {"quiet_from": time(2, 30), "quiet_to": time(5)},
        utc(2026, 3, 29, 0, 59, 59),
        False,
    ),
    "skipped to: quiet until the jump": (
        {"quiet_from": time(22), "quiet_to": time(2, 30)},
        utc(2026, 3, 29, 0, 59, 59),
        True,
    ),
    "skipped to: ends at the jump": (
        {"quiet_from": time(22), "quiet_to": time(2, 30)},
        utc(2026, 3, 29, 1),
        False,
    ),
    "repeated to: before its first occurrence": (
        {"quiet_from": time(22), "quiet_to": time(2, 30)},
        paris(10, 25, 2, 29),
        True,
    ),
    "repeated to: ends at its first occurrence": (
        {"quiet_from": time(22), "quiet_to": time(2, 30)},
        paris(10, 25, 2, 30),
        False,
    ),
    "repeated to: the second 02:10 is after the end": (
        {"quiet_from": time(22), "quiet_to": time(2, 30)},
        paris(10, 25, 2, 10, fold=1),
        False,
    ),
    "repeated from: starts at its first occurrence": (
        {"quiet_from": time(2, 15), "quiet_to": time(6)},
        paris(10, 25, 2, 15),
        True,
    ),
    "repeated from: the second 02:10 is inside": (
        {"quiet_from": time(2, 15), "quiet_to": time(6)},
        paris(10, 25, 2, 10, fold=1),
        True,
    ),
    "repeated from: before its first occurrence": (
        {"quiet_from": time(2, 15), "quiet_to": time(6)},
        paris(10, 25, 2, 14),
        False,
    ),
    "no quiet hours": ({}, paris(1, 16, 3), False),
}


@pytest.mark.parametrize(
    ("quiet", "now", "expected"), IN_QUIET_HOURS.values(), ids=IN_QUIET_HOURS.keys()
)
def test_in_quiet_hours(quiet: dict[str, time], now: datetime, expected: bool) -> None:
    assert DeliveryPolicy(PARIS, **quiet).in_quiet_hours(now) is expected


QUIET_HOURS_END = {
    "evening: next morning": (NIGHT, paris(1, 15, 23), paris(1, 16, 7)),
    "at from": (NIGHT, paris(1, 15, 22), paris(1, 16, 7)),
    "after midnight: this morning": (NIGHT, paris(1, 16, 3), paris(1, 16, 7)),
    "daytime": (DAYTIME, paris(1, 16, 9, 30), paris(1, 16, 17)),
    "outside quiet hours: now": (NIGHT, paris(1, 16, 12), paris(1, 16, 12)),
    "at to: now": (NIGHT, paris(1, 16, 7), paris(1, 16, 7)),
    "spring night: one hour shorter": (NIGHT, paris(3, 28, 22), utc(2026, 3, 29, 5)),
    "autumn night: one hour longer": (NIGHT, paris(10, 24, 22), utc(2026, 10, 25, 6)),
    "autumn night: in the repeated hour": (
        NIGHT,
        paris(10, 25, 2, 30, fold=1),
        utc(2026, 10, 25, 6),
    ),
    "skipped to: the jump": (
        {"quiet_from": time(22), "quiet_to": time(2, 30)},
        paris(3, 28, 23),
        utc(2026, 3, 29, 1),
    ),
    "repeated to: its first occurrence": (
        {"quiet_from": time(22), "quiet_to": time(2, 30)},
        paris(10, 25, 2),
        utc(2026, 10, 25, 0, 30),
    ),
    # 02:15 and 02:30 are both skipped on 29 March: one period ends where the next begins.
    "touching periods are one": (
        {"quiet_from": time(2, 30), "quiet_to": time(2, 15)},
        paris(3, 28, 23),
        paris(3, 30, 2, 15),
    ),
}


@pytest.mark.parametrize(
    ("quiet", "now", "expected"), QUIET_HOURS_END.values(), ids=QUIET_HOURS_END.keys()
)
def test_quiet_hours_end(quiet: dict[str, time], now: datetime, expected: datetime) -> None:
    policy = DeliveryPolicy(PARIS, **quiet)
    assert policy.quiet_hours_end(now) == expected
    assert not policy.in_quiet_hours(expected)


# -- digest times ----------------------------------------------------------------------------


def every(span: timedelta) -> dict[str, timedelta]:
    return {"digest_every": span}


def at(*times: time) -> dict[str, tuple[time, ...]]:
    return {"digest_at": times}


NEXT_DIGEST = {
    "every 1h: the next full hour": (every(minutes(60)), paris(1, 15, 10, 20), paris(1, 15, 11)),
    "every 1h: strictly after": (every(minutes(60)), paris(1, 15, 11), paris(1, 15, 12)),
    "every 1h: across midnight": (every(minutes(60)), paris(1, 15, 23, 30), paris(1, 16, 0)),
    "every 30m: half past": (every(minutes(30)), paris(1, 15, 10), paris(1, 15, 10, 30)),
    "every 30m: a second before": (
        every(minutes(30)),
        paris(1, 15, 10, 29, 59),
        paris(1, 15, 10, 30),
    ),
    "every 7h: 21:00": (every(minutes(7 * 60)), paris(1, 15, 20), paris(1, 15, 21)),
    "every 7h: then midnight": (every(minutes(7 * 60)), paris(1, 15, 21), paris(1, 16, 0)),
    "every 7h: then 07:00": (every(minutes(7 * 60)), paris(1, 16, 0), paris(1, 16, 7)),
    "every 90m: 22:30 is the last": (every(minutes(90)), paris(1, 15, 22), paris(1, 15, 22, 30)),
    "every 90m: then midnight": (every(minutes(90)), paris(1, 15, 22, 40), paris(1, 16, 0)),
    "every 1d: midnight": (every(timedelta(days=1)), paris(1, 15, 0, 0, 1), paris(1, 16, 0)),
    "every 1h: skipped 02:00 is the jump": (
        every(minutes(60)),
        paris(3, 29, 1, 30),
        utc(2026, 3, 29, 1),
    ),
    "every 1h: after the jump": (every(minutes(60)), utc(2026, 3, 29, 1), paris(3, 29, 4)),
    "every 1h: repeated 02:00 once": (every(minutes(60)), paris(10, 25, 1, 30), paris(10, 25, 2)),
    "every 1h: 03:00 after the first 02:00": (
        every(minutes(60)),
        paris(10, 25, 2),
        paris(10, 25, 3),
    ),
    "every 1h: 03:00 from the second 02:30": (
        every(minutes(60)),
        paris(10, 25, 2, 30, fold=1),
        paris(10, 25, 3),
    ),
    "every 30m: first 02:30": (every(minutes(30)), paris(10, 25, 2, 10), paris(10, 25, 2, 30)),
    "every 30m: from the second 02:10, 03:00": (
        every(minutes(30)),
        paris(10, 25, 2, 10, fold=1),
        paris(10, 25, 3),
    ),
    "at: the first time": (at(time(8), time(17, 30)), paris(1, 15, 7, 59), paris(1, 15, 8)),
    "at: strictly after": (at(time(8), time(17, 30)), paris(1, 15, 8), paris(1, 15, 17, 30)),
    "at: tomorrow": (at(time(8), time(17, 30)), paris(1, 15, 18), paris(1, 16, 8)),
    "at: midnight": (at(time(0)), paris(1, 15, 0), paris(1, 16, 0)),
    "at: skipped time is the jump": (at(time(2, 30)), paris(3, 28, 12), utc(2026, 3, 29, 1)),
    "at: repeated time, first occurrence": (
        at(time(2, 30)),
        paris(10, 24, 12),
        paris(10, 25, 2, 30),
    ),
    "at: repeated time, once": (at(time(2, 30)), paris(10, 25, 2, 30), paris(10, 26, 2, 30)),
    "at: summer time": (at(time(8)), paris(3, 28, 9), utc(2026, 3, 29, 6)),
}


@pytest.mark.parametrize(
    ("digest", "now", "expected"), NEXT_DIGEST.values(), ids=NEXT_DIGEST.keys()
)
def test_next_digest(digest: dict[str, object], now: datetime, expected: datetime) -> None:
    assert DeliveryPolicy(PARIS, **digest).next_digest(now) == expected


def test_every_is_aligned_on_local_midnight() -> None:
    # India is UTC+05:30: full local hours fall at half past in UTC.
    policy = DeliveryPolicy(ZoneInfo("Asia/Kolkata"), digest_every=minutes(60))
    assert policy.next_digest(utc(2026, 1, 15, 10, 20)) == utc(2026, 1, 15, 10, 30)


def test_digest_times_are_predictable_across_restarts() -> None:
    # The same times from any starting point: each next digest follows from the last.
    policy = DeliveryPolicy(PARIS, digest_every=minutes(45))
    times = [paris(3, 28, 21)]
    while times[-1] < paris(3, 29, 6):
        found = policy.next_digest(times[-1])
        assert found is not None
        times.append(found)
    later = policy.next_digest(paris(3, 29, 1, 10))
    assert later in times
    # 01:30 CET, then 02:15 is skipped: the jump (03:00 CEST); 03:00 itself is that instant.
    assert [t for t in times if utc(2026, 3, 29, 0) <= t <= utc(2026, 3, 29, 2)] == [
        paris(3, 29, 1, 30),
        utc(2026, 3, 29, 1),
        paris(3, 29, 3, 45),
    ]


def test_no_digest_has_no_next_digest() -> None:
    assert DeliveryPolicy(PARIS, **NIGHT).next_digest(paris(1, 15, 12)) is None


# -- holding ---------------------------------------------------------------------------------

HOLD_UNTIL = {
    "nothing set: send now": ({}, paris(1, 15, 23), None),
    "quiet: held until morning": (NIGHT, paris(1, 15, 23), paris(1, 16, 7)),
    "quiet: from included": (NIGHT, paris(1, 15, 22), paris(1, 16, 7)),
    "quiet: to excluded": (NIGHT, paris(1, 16, 7), None),
    "quiet: daytime sends now": (NIGHT, paris(1, 16, 12), None),
    "quiet: spring night": (NIGHT, paris(3, 28, 23), utc(2026, 3, 29, 5)),
    "digest: the next digest": (every(minutes(60)), paris(1, 15, 12, 10), paris(1, 15, 13)),
    "digest and quiet: a digest before the night": (
        {**every(minutes(60)), **NIGHT},
        paris(1, 15, 20, 30),
        paris(1, 15, 21),
    ),
    "digest and quiet: the next digest is quiet": (
        {**every(minutes(60)), **NIGHT},
        paris(1, 15, 21, 30),
        paris(1, 16, 7),
    ),
    "digest and quiet: at night": (
        {**every(minutes(60)), **NIGHT},
        paris(1, 16, 3),
        paris(1, 16, 7),
    ),
    "digest and quiet: the 07:00 digest": (
        {**every(minutes(60)), **NIGHT},
        paris(1, 16, 6, 30),
        paris(1, 16, 7),
    ),
    "digest and quiet: at 07:00, the next": (
        {**every(minutes(60)), **NIGHT},
        paris(1, 16, 7),
        paris(1, 16, 8),
    ),
    "digest at 08:00 after a quiet night": (
        {**at(time(8)), **NIGHT},
        paris(1, 15, 23),
        paris(1, 16, 8),
    ),
    "digest at 06:00 in quiet hours: their end": (
        {**at(time(6)), **NIGHT},
        paris(1, 15, 12),
        paris(1, 16, 7),
    ),
    "digest at a repeated time in quiet hours": (
        {**at(time(2, 30)), **NIGHT},
        paris(10, 24, 12),
        utc(2026, 10, 25, 6),
    ),
}


@pytest.mark.parametrize(
    ("settings", "now", "expected"), HOLD_UNTIL.values(), ids=HOLD_UNTIL.keys()
)
def test_hold_until(settings: dict[str, object], now: datetime, expected: datetime | None) -> None:
    policy = DeliveryPolicy(PARIS, **settings)
    assert policy.hold_until(now, urgent=False) == expected


@pytest.mark.parametrize("settings", HOLD_UNTIL.values(), ids=HOLD_UNTIL.keys())
def test_urgent_alerts_are_never_held(
    settings: tuple[dict[str, object], datetime, datetime | None],
) -> None:
    policy = DeliveryPolicy(PARIS, **settings[0])
    assert policy.hold_until(settings[1], urgent=True) is None


# -- rate limits -----------------------------------------------------------------------------

NOW = utc(2026, 1, 15, 12)
PER_MINUTE = RateLimit(20, timedelta(minutes=1))
PER_SECOND = RateLimit(1, timedelta(seconds=1))


def seconds_ago(*values: float) -> list[datetime]:
    return [NOW - timedelta(seconds=value) for value in values]


RATES = {
    "no sends": (PER_MINUTE, [], 20, NOW),
    "three sends": (PER_MINUTE, seconds_ago(1, 10, 59), 17, NOW),
    "a send a period ago has left": (PER_MINUTE, seconds_ago(60), 20, NOW),
    "a send just inside the window": (PER_MINUTE, seconds_ago(59.999), 19, NOW),
    "a send now counts": (PER_SECOND, seconds_ago(0), 0, NOW + timedelta(seconds=1)),
    "a send in the future does not count": (PER_SECOND, seconds_ago(-5), 1, NOW),
    "spent: when the oldest leaves": (
        PER_MINUTE,
        seconds_ago(*range(40, 20, -1)),
        0,
        NOW + timedelta(seconds=20),
    ),
    "over the limit: until enough have left": (
        PER_MINUTE,
        seconds_ago(*range(50, 25, -1)),  # 25 sends, 50 s to 26 s ago
        0,
        NOW + timedelta(seconds=15),  # the sixth oldest (45 s ago) leaves
    ),
    "unordered sends": (
        RateLimit(2, timedelta(minutes=1)),
        seconds_ago(10, 120, 59),
        0,
        NOW + timedelta(seconds=1),
    ),
    "old sends are ignored": (RateLimit(2, timedelta(minutes=1)), seconds_ago(61, 3600), 2, NOW),
}


@pytest.mark.parametrize(
    ("limit", "sends", "allowance", "next_free"), RATES.values(), ids=RATES.keys()
)
def test_rate_limit(
    limit: RateLimit, sends: list[datetime], allowance: int, next_free: datetime
) -> None:
    assert limit.allowance(sends, NOW) == allowance
    assert limit.next_free(sends, NOW) == next_free
    # At `next_free` one more message may go.
    assert limit.allowance(sends, next_free) >= 1


def test_a_rate_limit_needs_a_count_and_a_period() -> None:
    with pytest.raises(ValueError, match="count >= 1"):
        RateLimit(0, timedelta(minutes=1))
    with pytest.raises(ValueError, match="period > 0"):
        RateLimit(1, timedelta(0))


# -- defaults per kind and the configuration -------------------------------------------------

TOKEN = "123456789:abcdefghijklmnop"
DEFAULT_LIMITS = {
    "telegram private chat": (f"tgram://{TOKEN}/987654", PER_SECOND),
    "telegram group": (f"tgram://{TOKEN}/-100123456", PER_MINUTE),
    "telegram chat and group: the strictest": (f"tgram://{TOKEN}/987654/-100123", PER_MINUTE),
    "telegram public channel": (f"tgram://{TOKEN}/@veille_presse", PER_MINUTE),
    "telegram group in ?to=": (f"tgram://{TOKEN}/?to=-4242,987654", PER_MINUTE),
    "telegram bot owner (no chat)": (f"tgram://{TOKEN}/", PER_SECOND),
    "slack": ("slack://T1234/B5678/abcdefxyz/#desk", PER_SECOND),
    "slack webhook": ("https://hooks.slack.com/services/T1234/B5678/abcdefxyz", PER_SECOND),
    "email": ("mailtos://user:pw@smtp.example.org?to=a@example.org", None),
    "json": ("json://127.0.0.1:9/", None),
    "console": ("console://", None),
    "not read yet (url_file)": (None, None),
}


@pytest.mark.parametrize(("url", "expected"), DEFAULT_LIMITS.values(), ids=DEFAULT_LIMITS.keys())
def test_default_rate_limit(url: str | None, expected: RateLimit | None) -> None:
    assert default_rate_limit(url) == expected


def test_policy_for_a_channel() -> None:
    spec = ChannelSpec.model_validate(
        {
            "url": f"tgram://{TOKEN}/-100123456",
            "digest": {"at": ["17:30", "08:00"]},
            "quiet_hours": {"from": "22:00", "to": "07:00"},
        }
    )
    assert policy_for(spec, PARIS) == DeliveryPolicy(
        PARIS,
        digest_at=(time(8), time(17, 30)),
        quiet_from=time(22),
        quiet_to=time(7),
        rate_limit=PER_MINUTE,
    )


def test_a_rate_limit_set_replaces_the_default() -> None:
    spec = ChannelSpec.model_validate({"url": "slack://T1/B2/c3", "rate_limit": "30/hour"})
    policy = policy_for(spec, UTC)
    assert policy.rate_limit == RateLimit(30, timedelta(hours=1))
    assert (policy.digest_every, policy.digest_at, policy.quiet_from) == (None, (), None)


def test_a_channel_read_from_url_file_before_loading_has_no_default() -> None:
    spec = ChannelSpec.model_validate({"url_file": "slack_url", "digest": {"every": "2h"}})
    assert policy_for(spec, PARIS) == DeliveryPolicy(PARIS, digest_every=minutes(120))


DESCRIPTIONS = {
    "at once": (DeliveryPolicy(PARIS), "each alert at once"),
    "everything": (
        DeliveryPolicy(PARIS, digest_every=minutes(60), rate_limit=PER_MINUTE, **NIGHT),
        "digest every 1h, quiet 22:00–07:00 Europe/Paris, at most 20/min",
    ),
    "digest times": (
        DeliveryPolicy(PARIS, digest_at=(time(8), time(12), time(17, 30))),
        "digest at 08:00, 12:00 and 17:30 Europe/Paris",
    ),
    "one digest time": (DeliveryPolicy(UTC, digest_at=(time(8),)), "digest at 08:00 UTC"),
    "quiet and a rate": (
        DeliveryPolicy(PARIS, rate_limit=PER_SECOND, **NIGHT),
        "each alert at once, quiet 22:00–07:00 Europe/Paris, at most 1/s",
    ),
    "odd units": (
        DeliveryPolicy(
            PARIS, digest_every=minutes(90), rate_limit=RateLimit(5, timedelta(minutes=10))
        ),
        "digest every 90m, at most 5/10m",
    ),
    "per hour": (
        DeliveryPolicy(PARIS, rate_limit=RateLimit(100, timedelta(hours=1))),
        "each alert at once, at most 100/h",
    ),
}


@pytest.mark.parametrize(("policy", "text"), DESCRIPTIONS.values(), ids=DESCRIPTIONS.keys())
def test_describe(policy: DeliveryPolicy, text: str) -> None:
    assert policy.describe() == text


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"digest_every": minutes(60), "digest_at": (time(8),)}, "not both"),
        ({"digest_every": timedelta(days=2)}, "within a day"),
        ({"digest_at": (time(17), time(8))}, "sorted"),
        ({"quiet_from": time(22)}, "both 'from' and 'to'"),
        ({"quiet_from": time(22), "quiet_to": time(22)}, "are empty"),
    ],
    ids=["both digests", "digest over a day", "unsorted times", "half quiet", "empty quiet"],
)
def test_an_impossible_policy_is_refused(settings: dict[str, object], reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        DeliveryPolicy(PARIS, **settings)


SWEPT_POLICIES = {
    "every 1m, quiet 02:15-02:45": DeliveryPolicy(
        PARIS, digest_every=minutes(1), quiet_from=time(2, 15), quiet_to=time(2, 45)
    ),
    "every 7h, night": DeliveryPolicy(PARIS, digest_every=minutes(7 * 60), **NIGHT),
    "at 02:30 and 23:00, quiet 23:00-02:30": DeliveryPolicy(
        PARIS, digest_at=(time(2, 30), time(23)), quiet_from=time(23), quiet_to=time(2, 30)
    ),
    "quiet only": DeliveryPolicy(PARIS, quiet_from=time(2), quiet_to=time(3)),
}


@pytest.mark.parametrize("policy", SWEPT_POLICIES.values(), ids=SWEPT_POLICIES.keys())
@pytest.mark.parametrize(
    "start", [utc(2026, 3, 28, 12), utc(2026, 10, 24, 12)], ids=["spring", "autumn"]
)
def test_every_minute_around_a_clock_change(policy: DeliveryPolicy, start: datetime) -> None:
    # Whatever the minute (and second) an alert arrives, it is held to a later instant that is
    # not quiet, and a digest comes strictly later.
    for step in range(0, 36 * 60):
        now = start + timedelta(minutes=step, seconds=step % 60)
        held = policy.hold_until(now, urgent=False)
        assert held is None or (held > now and not policy.in_quiet_hours(held)), now
        assert held is not None or not policy.in_quiet_hours(now), now
        digest = policy.next_digest(now)
        assert digest is None or digest > now, now
        if policy.in_quiet_hours(now):
            assert policy.quiet_hours_end(now) > now, now
