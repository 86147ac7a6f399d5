"""When a feed is polled again: interval, jitter, server hints, backoff, Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.pipeline.schedule import MAX_FEED_BACKOFF, MAX_RETRY_AFTER, next_feed_check

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
TEN_MINUTES = timedelta(minutes=10)
HOUR = timedelta(hours=1)


def delay(**options: object) -> timedelta:
    """The delay before the next check, without jitter (the jitter only ever adds up to 10%)."""
    rng = random.Random()
    rng.random = lambda: 0.0  # type: ignore[method-assign]
    return next_feed_check(NOW, TEN_MINUTES, rng=rng, **options) - NOW  # type: ignore[arg-type]


def test_the_interval_with_up_to_ten_percent_jitter() -> None:
    delays = {next_feed_check(NOW, TEN_MINUTES) - NOW for _ in range(50)}
    assert all(TEN_MINUTES <= d <= TEN_MINUTES * 1.1 for d in delays)
    assert len(delays) > 1


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (None, TEN_MINUTES),
        (60.0, TEN_MINUTES),  # a shorter hint never makes us poll more than configured
        (1800.0, timedelta(minutes=30)),  # a longer one is heard ...
        (86_400.0, HOUR),  # ... up to max_interval
    ],
)
def test_a_server_hint_lengthens_the_interval_up_to_max_interval(
    hint: float | None, expected: timedelta
) -> None:
    assert delay(server_hint=hint, max_interval=HOUR) == expected


def test_an_interval_longer_than_max_interval_is_kept() -> None:
    rng = random.Random()
    rng.random = lambda: 0.0  # type: ignore[method-assign]
    day = timedelta(days=1)
    assert next_feed_check(NOW, day, server_hint=60.0, max_interval=HOUR, rng=rng) - NOW == day


def test_errors_back_off_exponentially_up_to_a_cap_whatever_the_hint() -> None:
    assert delay(error_count=1, server_hint=1800.0, max_interval=HOUR) == TEN_MINUTES
    assert delay(error_count=3) == TEN_MINUTES * 4
    assert delay(error_count=30) == MAX_FEED_BACKOFF


def test_retry_after_is_honoured_up_to_a_day() -> None:
    assert delay(error_count=1, retry_after=7200.0) == timedelta(hours=2)
    assert delay(error_count=1, retry_after=10 * 86_400.0) == MAX_RETRY_AFTER


@pytest.mark.parametrize("seconds", [1e14, float("inf"), float("nan"), float("1" * 400)])
def test_a_servers_absurd_numbers_are_capped(seconds: float) -> None:
    # Retry-After, max-age and <ttl> are the server's to write: no number may break a poll.
    assert delay(error_count=1, retry_after=seconds) == MAX_RETRY_AFTER
    assert delay(server_hint=seconds, max_interval=HOUR) == HOUR
