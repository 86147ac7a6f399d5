"""The data passed between pipeline stages.

Every stage takes and returns these frozen dataclasses, so a stage can be tested alone and the
stages can be rearranged without hidden coupling. This module imports nothing else from `monitor`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

# Fields a watchlist can search, in the order alerts quote them.
FIELDS: tuple[str, ...] = ("title", "summary", "content")


@dataclass(frozen=True)
class Validators:
    """HTTP cache validators remembered between polls (RFC 9110 §8.8)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """What one HTTP GET of a feed produced. `not_modified` means 304: `content` is empty."""

    requested_url: str
    final_url: str
    status_code: int
    content: bytes
    content_type: str | None
    validators: Validators
    not_modified: bool = False
    # Seconds the server says the response stays fresh (Cache-Control max-age, Expires).
    fresh_for: float | None = None
    # The final URL when every redirect on the way was permanent (301, 308): the feed moved.
    moved_to: str | None = None


class FetchError(Exception):
    """A feed could not be fetched. `kind` is a short stable word for health reports
    (unreachable, timeout, http_status, gone, too_large, too_many_redirects, blocked,
    invalid_url);
    the message is one line."""

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


class FeedStatus(StrEnum):
    """How a feed's last poll went. The values are the words users read (`poll --once`,
    `monitor feeds`, its JSON) and the ones stored; an error's kind is kept apart."""

    NEW = "new"  # not polled yet
    OK = "ok"  # a document parsed and stored
    NOT_MODIFIED = "not_modified"  # 304: the server says nothing changed
    UNCHANGED = "unchanged"  # the same bytes, or the same entries, as the last document
    DEAD = "dead"  # 410 Gone: checked once a day in case it comes back
    ERROR = "error"  # with a kind: a FetchError's, or a parse failure's

    @property
    def failing(self) -> bool:
        return self in (FeedStatus.DEAD, FeedStatus.ERROR)


def status_word(status: FeedStatus, error_kind: str | None) -> str:
    """The one word users read for a poll's status: the status, and for an error its kind
    (`error:http_status`), everywhere a status is shown."""
    if status is FeedStatus.ERROR:
        return f"error:{error_kind or 'unknown'}"
    return status.value


@dataclass(frozen=True)
class FeedEntry:
    """One item of a parsed feed. `summary` and `content` may still hold HTML."""

    key: str
    url: str | None
    title: str
    summary: str
    content: str
    published: datetime | None  # timezone-aware UTC, or None when the feed gave no usable date


@dataclass(frozen=True)
class ParsedFeed:
    """A parsed feed document. `error` is set (one line) when nothing usable could be read,
    with `error_kind` a short stable word like FetchError's (`parse`, `not_a_feed`);
    `warning` when entries were read from a malformed document."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    error: str | None = None
    error_kind: str | None = None
    warning: str | None = None
    ttl: float | None = None  # seconds: the document's RSS <ttl>, how long it stays current


@dataclass(frozen=True)
class PollOutcome:
    """How one poll of one feed went: what `poll --once` reports and what the feeds table
    records, from the fetch or the parse that decided it.

    `message` is a failure's reason, or the warning of a document read despite its faults.
    The fields from `validators` on describe a fetched (or parsed) document; None leaves the
    stored value as it is."""

    url: str
    status: FeedStatus
    checked_at: datetime
    next_check_at: datetime
    error_kind: str | None = None
    message: str | None = None
    new_items: int = 0
    alerts: int = 0
    validators: Validators | None = None
    body_hash: str | None = None
    entries_hash: str | None = None
    title: str | None = None
    ttl_seconds: int | None = None  # of a parsed document (status ok): replaces the last one's
    moved_to: str | None = None  # the final URL when every redirect was permanent

    @property
    def word(self) -> str:
        return status_word(self.status, self.error_kind)


@dataclass(frozen=True)
class ItemText:
    """An item's searchable fields as decoded plain text (entities decoded, tags removed)."""

    title: str = ""
    summary: str = ""
    content: str = ""
    language: str | None = None

    def field_text(self, name: str) -> str:
        return str(getattr(self, name))


@dataclass(frozen=True)
class PreparedItem:
    """A feed entry made ready for storage, dedup and matching: decoded text and its identity.
    `content_hash` identifies the same text published twice (exact duplicates)."""

    key: str
    url: str | None
    text: ItemText
    published: datetime | None
    content_hash: str


@dataclass(frozen=True)
class ReplayItem:
    """An item as `monitor replay` reads it, stored or from JSON Lines, in the order it was
    seen. One feed's items seen at once are one feed document."""

    item_id: Any  # the stored id, or the input's `id`
    feed: Hashable  # what tells feeds apart
    source: str  # the feed as alerts name it
    item: PreparedItem
    seen: datetime | None  # when it was first seen; None: unknown
    backlog: bool = False  # stored by its feed's first poll, which alerts on nothing


# Hit and WatchlistMatch are named tuples, not frozen dataclasses like the other values between
# stages: matching makes one per hit and per fired watchlist, tens per item, and a tuple is built
# in C several times faster (docs/design.md §4, performance). Both are immutable all the same.
class Hit(NamedTuple):
    """One match of a watchlist term: `start`/`end` are character offsets into the decoded
    text of `field`; `text` is that slice."""

    watchlist: str
    term: str
    field: str
    start: int
    end: int
    text: str


class WatchlistMatch(NamedTuple):
    """A watchlist that fired for an item, with the hits that made it fire."""

    watchlist: str
    hits: tuple[Hit, ...]


@dataclass(frozen=True)
class Highlight:
    """A span to highlight inside a quoted sentence (offsets relative to the sentence)."""

    start: int
    end: int


@dataclass(frozen=True)
class Snippet:
    """The sentence that matched, with the spans to highlight."""

    text: str
    highlights: tuple[Highlight, ...] = ()


@dataclass(frozen=True)
class Outlet:
    """Another outlet that carried a story: its name and its copy's link (None: none given)."""

    name: str
    url: str | None = None


@dataclass(frozen=True)
class StoryMessage:
    """One story to one channel, built from its alert rows: when several watchlists hit the
    story, one message names them all (`alert_ids` and `watchlists`, in the same order)."""

    alert_ids: tuple[int, ...]
    watchlists: tuple[str, ...]
    title: str
    url: str | None
    source: str
    published: datetime | None  # UTC; the renderer shows it in the configured timezone
    terms: tuple[str, ...]
    quotes: tuple[Snippet, ...]  # every sentence that holds a hit, in text order, at most 3
    outlets: tuple[Outlet, ...] = ()  # the other outlets of the story ("Also published by")
    first_seen: datetime | None = None  # when the alert was decided (UTC)


@dataclass(frozen=True)
class DigestMessage:
    """Stories held for a channel (a digest schedule, quiet hours, a rate limit), sent as one
    message. `stories` holds them all, newest first; the renderer groups them by watchlist and
    caps the list, then says how many more and how to list them (`message_id`)."""

    channel: str
    reason: str  # "digest", "quiet_hours" or "rate_limit"
    stories: tuple[StoryMessage, ...]
    message_id: int | None = None
    since: datetime | None = None  # the oldest story's alert time (UTC)


@dataclass(frozen=True)
class OpsNotice:
    """One operations alert: a feed stale or recovered, a channel that refuses alerts."""

    alert_id: int
    title: str
    text: str
    url: str | None  # what it is about, secrets masked
    at: datetime  # UTC


@dataclass(frozen=True)
class OpsMessage:
    """The operations alerts of one dispatch, in one message."""

    notices: tuple[OpsNotice, ...]


# What one send carries to one channel.
Message = StoryMessage | DigestMessage | OpsMessage


@dataclass(frozen=True)
class SendOutcome:
    """The result of sending one message to one channel. `retry_after` (seconds) is a hint from
    the service when it asked us to slow down. `permanent` marks a failure that no retry will
    fix (credentials refused, an unknown chat, a request the service rejects as such), as the
    sender understood it; any other failure is worth a retry. `refused_message` (with
    `permanent`) narrows it to this message alone: its text empty, too long or unreadable to
    the service; the channel works, and the next message may pass."""

    ok: bool
    error: str | None = None
    retry_after: float | None = None
    permanent: bool = False
    refused_message: bool = False

    def __post_init__(self) -> None:
        if self.refused_message and not self.permanent:
            raise ValueError("a refused message is a permanent failure")

    @property
    def retryable(self) -> bool:
        return not self.ok and not self.permanent
