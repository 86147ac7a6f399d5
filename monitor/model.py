"""The data passed between pipeline stages.

Every stage takes and returns these frozen dataclasses, so a stage can be tested alone and the
stages can be rearranged without hidden coupling. This module imports nothing else from `monitor`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
class Hit:
    """One match of a watchlist term: `start`/`end` are character offsets into the decoded
    text of `field`; `text` is that slice."""

    watchlist: str
    term: str
    field: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class WatchlistMatch:
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
class AlertMessage:
    """Everything a channel renderer needs to write one alert; built from stored rows."""

    watchlist: str
    title: str
    url: str | None
    source: str
    published: datetime | None
    terms: tuple[str, ...]
    snippet: Snippet | None
    also_published_by: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class SendOutcome:
    """The result of sending one message to one channel. `retry_after` (seconds) is a hint from
    the service when it asked us to slow down."""

    ok: bool
    error: str | None = None
    retry_after: float | None = None
