"""A channel's delivery policy: when an alert may go (digests, quiet hours) and how many may go
at once (rate limits). Pure: no I/O, no clock; `now` is passed in, an aware UTC datetime, and
every instant returned is an aware UTC datetime.

Digest times and quiet hours are local wall times in the configuration's `timezone`, computed
in wall time and converted: a wall time the clocks skip (spring forward) names the first
instant after it, the moment the clocks jump; a wall time they repeat (fall back) names its
first occurrence. A digest `every` is aligned on local midnight (every 7h: 00:00, 07:00, 14:00,
21:00, then the next midnight), so its times are predictable and survive restarts. Quiet hours
include `from` and exclude `to`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from urllib.parse import urlsplit

from monitor.config.schema import ChannelSpec
from monitor.config.summary import format_duration
from monitor.notify.channels import channel_kind

_DAY = timedelta(days=1)
_SLACK_WEBHOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})


@dataclass(frozen=True)
class RateLimit:
    """At most `count` messages in any window of `period`."""

    count: int
    period: timedelta

    def __post_init__(self) -> None:
        if self.count < 1 or self.period <= timedelta(0):
            raise ValueError(f"a rate limit needs a count >= 1 and a period > 0, got {self}")

    def allowance(self, recent_sends: Sequence[datetime], now: datetime) -> int:
        """How many messages may go now: `count` minus the sends in (now - period, now]."""
        return max(0, self.count - len(self._in_window(recent_sends, now)))

    def next_free(self, recent_sends: Sequence[datetime], now: datetime) -> datetime:
        """When the next message may go: `now` if the allowance is not spent, else when enough
        of the window's oldest sends have left it (a send at `t` leaves at `t + period`)."""
        window = self._in_window(recent_sends, now)
        if len(window) < self.count:
            return now
        return window[len(window) - self.count] + self.period

    def describe(self) -> str:
        unit = {
            timedelta(seconds=1): "s",
            timedelta(minutes=1): "min",
            timedelta(hours=1): "h",
        }.get(self.period, format_duration(self.period))
        return f"{self.count}/{unit}"

    def _in_window(self, sends: Sequence[datetime], now: datetime) -> list[datetime]:
        start = now - self.period
        return sorted(sent for sent in sends if start < sent <= now)


# What the services allow: Telegram about one message a second in a chat and 20 a minute in a
# group (core.telegram.org/bots/faq, "My bot is hitting limits"); Slack about one a second.
TELEGRAM_CHAT_LIMIT = RateLimit(1, timedelta(seconds=1))
TELEGRAM_GROUP_LIMIT = RateLimit(20, timedelta(minutes=1))
SLACK_LIMIT = RateLimit(1, timedelta(seconds=1))


@dataclass(frozen=True)
class DeliveryPolicy:
    """When and how fast one channel's alerts go out. No digest and no quiet hours: each alert
    at once. `digest_every` and `digest_at` exclude each other; quiet hours need both ends."""

    zone: tzinfo
    digest_every: timedelta | None = None
    digest_at: tuple[time, ...] = ()
    quiet_from: time | None = None
    quiet_to: time | None = None
    rate_limit: RateLimit | None = None

    def __post_init__(self) -> None:
        if self.digest_every is not None and self.digest_at:
            raise ValueError("a digest is either every so long or at set times, not both")
        if self.digest_every is not None and not timedelta(0) < self.digest_every <= _DAY:
            raise ValueError(f"a digest interval must be within a day, got {self.digest_every}")
        if (self.quiet_from is None) != (self.quiet_to is None):
            raise ValueError("quiet hours need both 'from' and 'to'")
        if self.quiet_from is not None and self.quiet_from == self.quiet_to:
            raise ValueError("quiet hours from and to the same time are empty")
        if list(self.digest_at) != sorted(set(self.digest_at)):
            raise ValueError("digest times must be sorted, each once")

    @property
    def has_digest(self) -> bool:
        return self.digest_every is not None or bool(self.digest_at)

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_from is not None

    # -- quiet hours -------------------------------------------------------------------------

    def in_quiet_hours(self, now: datetime) -> bool:
        return self._quiet_period_of(now) is not None

    def quiet_hours_end(self, now: datetime) -> datetime:
        """The end of the quiet period `now` is in (`now` itself outside quiet hours). Periods
        that touch (both ends skipped by the clocks) count as one."""
        end = now
        # Periods touch only where the clocks skip both ends: a few steps reach the last end.
        for _ in range(3):
            period = self._quiet_period_of(end)
            if period is None:
                return end
            end = period[1]
        return end

    def _quiet_period_of(self, now: datetime) -> tuple[datetime, datetime] | None:
        if self.quiet_from is None or self.quiet_to is None:
            return None
        today = _wall(now, self.zone).date()
        crosses_midnight = self.quiet_to < self.quiet_from
        # A period that started yesterday may still run, when it crosses midnight.
        for day in (today - _DAY, today):
            start = wall_instant(datetime.combine(day, self.quiet_from), self.zone)
            end_day = day + _DAY if crosses_midnight else day
            end = wall_instant(datetime.combine(end_day, self.quiet_to), self.zone)
            if start <= now < end:
                return start, end
        return None

    # -- digests -----------------------------------------------------------------------------

    def next_digest(self, now: datetime) -> datetime | None:
        """The first digest time strictly after `now`; None without a digest."""
        if not self.has_digest:
            return None
        # Wall times at or before now's wall time name instants at or before now (the first
        # occurrence of a repeated hour comes first), so the search starts after it. Later
        # wall times name later or equal instants: the first one after `now` is the answer.
        for slot in self._slots_after(_wall(now, self.zone)):
            instant = wall_instant(slot, self.zone)
            if instant > now:
                return instant
        raise AssertionError("unreachable: digest times repeat every day")

    def _slots_after(self, wall: datetime) -> Iterator[datetime]:
        """The digest's wall times after `wall`, in order, over the next three days (more than
        any day the clocks skip)."""
        first_day = wall.date()
        for offset in range(3):
            day = first_day + timedelta(days=offset)
            yield from self._slots_of(day, after=wall if offset == 0 else None)

    def _slots_of(self, day: date, after: datetime | None) -> Iterator[datetime]:
        midnight = datetime.combine(day, time())
        if self.digest_every is not None:
            index = 0 if after is None else math.floor((after - midnight) / self.digest_every)
            slot = midnight + index * self.digest_every
            while slot < midnight + _DAY:
                if after is None or slot > after:
                    yield slot
                slot += self.digest_every
            return
        for at in self.digest_at:
            slot = datetime.combine(day, at)
            if after is None or slot > after:
                yield slot

    # -- holding -----------------------------------------------------------------------------

    def hold_until(self, now: datetime, *, urgent: bool) -> datetime | None:
        """None: send now. Otherwise when an alert arriving at `now` goes out, in a digest: the
        next digest time after `now`, or the end of the quiet hours that time falls in; without
        a digest, the end of the quiet hours `now` is in. Urgent alerts are never held."""
        if urgent:
            return None
        due = self.next_digest(now)
        if due is not None:
            return self.quiet_hours_end(due)
        if self.in_quiet_hours(now):
            return self.quiet_hours_end(now)
        return None

    def describe(self) -> str:
        """One phrase: "digest every 1h, quiet 22:00–07:00 Europe/Paris, at most 20/min"."""
        parts: list[str] = []
        if self.digest_every is not None:
            parts.append(f"digest every {format_duration(self.digest_every)}")
        elif self.digest_at:
            parts.append(f"digest at {_listed([_clock(at) for at in self.digest_at])}")
        else:
            parts.append("each alert at once")
        if self.quiet_from is not None and self.quiet_to is not None:
            parts.append(f"quiet {_clock(self.quiet_from)}–{_clock(self.quiet_to)}")
        if self.digest_at or self.has_quiet_hours:  # wall times: say whose
            parts[-1] += f" {self.zone}"
        if self.rate_limit is not None:
            parts.append(f"at most {self.rate_limit.describe()}")
        return ", ".join(parts)


def policy_for(spec: ChannelSpec, zone: tzinfo) -> DeliveryPolicy:
    """A channel's policy, with its kind's default rate limit when it sets none."""
    if spec.rate_limit is not None:
        rate_limit: RateLimit | None = RateLimit(spec.rate_limit.count, spec.rate_limit.period)
    else:
        rate_limit = default_rate_limit(spec.url)
    digest, quiet = spec.digest, spec.quiet_hours
    return DeliveryPolicy(
        zone=zone,
        digest_every=digest.every if digest is not None else None,
        digest_at=(digest.at or ()) if digest is not None else (),
        quiet_from=quiet.start if quiet is not None else None,
        quiet_to=quiet.end if quiet is not None else None,
        rate_limit=rate_limit,
    )


def default_rate_limit(url: str | None) -> RateLimit | None:
    """The limit a channel's service sets: Telegram 20/min when a chat is a group, else 1/s;
    Slack 1/s; anything else none. `url` is None when the channel's URL is still in its
    `url_file` (the loader reads it): no kind, no default."""
    if url is None:
        return None
    kind = channel_kind(url)
    if kind == "telegram":
        # One message goes to every chat of the URL: the strictest chat sets the pace.
        if any(_is_group(chat) for chat in _telegram_chats(url)):
            return TELEGRAM_GROUP_LIMIT
        return TELEGRAM_CHAT_LIMIT
    if kind == "slack" or _is_slack_webhook(url):
        return SLACK_LIMIT
    return None


def describe_channel_policy(spec: ChannelSpec, zone: tzinfo) -> str:
    """The phrase `monitor check-config` shows for a channel."""
    return policy_for(spec, zone).describe()


def _telegram_chats(url: str) -> list[str]:
    """The chats of a tgram:// URL as Apprise reads them (tgram://token/chat1/chat2, or
    ?to=chat1,chat2); none: the bot's owner, a private chat. Apprise's own reading, imported
    only for such a URL: `monitor check-config` describes every channel, and Apprise is slow
    to import."""
    from apprise.plugins.telegram import NotifyTelegram

    parsed = NotifyTelegram.parse_url(url)  # type: ignore[no-untyped-call]
    return [str(chat) for chat in (parsed or {}).get("targets", [])]


def _is_group(chat: str) -> bool:
    # Group and channel ids are negative; a bot can reach an @name only when it is a public
    # channel or supergroup, never a person.
    return chat.startswith(("-", "@"))


def _is_slack_webhook(url: str) -> bool:
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return False
    return host in _SLACK_WEBHOOK_HOSTS


def wall_instant(wall: datetime, zone: tzinfo) -> datetime:
    """The UTC instant of a naive local wall time in `zone`: its first occurrence when the
    clocks repeat it, the first instant after it (the jump) when they skip it."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == wall:
        return first
    # Skipped: the two readings of the gap's offsets bracket the jump. Offsets change on whole
    # seconds, so the jump is found in whole seconds.
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    before = math.floor(min(first, second).timestamp())
    after = math.ceil(max(first, second).timestamp())
    while after - before > 1:  # _wall(before) < wall <= _wall(after)
        middle = (before + after) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), zone) >= wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


def _wall(instant: datetime, zone: tzinfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _clock(at: time) -> str:
    return at.strftime("%H:%M:%S" if at.second else "%H:%M")


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
