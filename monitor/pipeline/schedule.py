"""When to poll a feed again and when to retry a delivery (pure; `now` is passed in)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from monitor.model import FetchResult

# A failing feed is retried less and less often, but never less than this: a feed that comes
# back must be noticed the same day, and a feed is never disabled silently.
MAX_FEED_BACKOFF = timedelta(hours=6)
# A feed whose server said 410 Gone is checked this often, in case it comes back.
DEAD_FEED_CHECK = timedelta(days=1)
# A server may ask for a pause, but not park a feed for a year.
MAX_RETRY_AFTER = timedelta(hours=24)


def next_feed_check(
    now: datetime,
    interval: timedelta,
    *,
    error_count: int = 0,
    retry_after: float | None = None,
    server_hint: float | None = None,
    max_interval: timedelta | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Next poll time: the interval with up to 10% jitter (so feeds configured together do not
    stay in lockstep); longer when the server says its document stays fresh longer
    (`server_hint`, seconds), up to `max_interval`; after errors, exponential backoff capped at
    MAX_FEED_BACKOFF; never sooner than a server's Retry-After."""
    rng = rng or random.Random()  # noqa: S311 - jitter, not security
    delay = interval
    if error_count > 0:
        delay = min(interval * (2 ** min(error_count - 1, 16)), max(MAX_FEED_BACKOFF, interval))
    elif server_hint is not None:
        cap = max(max_interval or interval, interval)
        delay = max(interval, _at_most(server_hint, cap))
    delay = delay * (1 + 0.1 * rng.random())
    if retry_after is not None:
        delay = max(delay, _at_most(retry_after, MAX_RETRY_AFTER))
    return now + delay


def next_check_after_fetch(
    now: datetime,
    interval: timedelta,
    result: FetchResult,
    ttl: float | None,
    *,
    max_interval: timedelta,
) -> datetime:
    """The feed's interval, or longer when its server says the document stays fresh
    longer (HTTP caching headers, RSS <ttl>), up to fetch.max_interval."""
    hints = [hint for hint in (result.fresh_for, ttl) if hint]
    return next_feed_check(
        now,
        interval,
        server_hint=max(hints) if hints else None,
        max_interval=max_interval,
    )


def next_delivery_attempt(
    now: datetime,
    attempts: int,
    *,
    initial: timedelta,
    maximum: timedelta,
    retry_after: float | None = None,
) -> datetime:
    """Exponential backoff for a failed send: initial, 2x, 4x ... capped at `maximum`, and never
    sooner than the service's Retry-After."""
    delay: timedelta = min(initial * (2 ** min(max(attempts - 1, 0), 20)), maximum)
    if retry_after is not None:
        delay = max(delay, _at_most(retry_after, MAX_RETRY_AFTER))
    return now + delay


def _at_most(seconds: float, cap: timedelta) -> timedelta:
    """`seconds` from a server (Retry-After, max-age, <ttl>) as a timedelta, at most `cap`:
    a server's number may be infinite, NaN or beyond what a timedelta holds."""
    return timedelta(seconds=seconds) if seconds < cap.total_seconds() else cap
