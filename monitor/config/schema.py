"""The configuration schema (docs/design.md §3): frozen, validated, unknown keys refused.

The loader (`monitor.config.load`) turns YAML into plain data with line numbers; these models
validate it. Validation messages say what was expected, and the loader adds file, line and key path.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import UTC, time, timedelta, tzinfo
from functools import cache
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from monitor.config.checks import ConfigChecks
from monitor.model import FIELDS

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


# A value holding a `${ENV}` reference, substituted before validation (monitor/config/env.py):
# the JSON Schema of `monitor config-schema` accepts it wherever a value may be written as text.
ENV_REFERENCE = r".*\$\{[A-Za-z_][A-Za-z0-9_]*\}.*"


def _as_written(pattern: str) -> Any:
    """A value written as text, for the JSON Schema: `pattern`, or a `${ENV}` reference."""
    return Annotated[str, Field(pattern=f"^(?:{pattern}|{ENV_REFERENCE})$")]


# What the text forms below accept, for editors; the parsers say the rest (ranges, hours < 24).
DurationText = _as_written(r"\s*\d+(\.\d+)?\s*[smhd]\s*")
ClockText = _as_written(r"\s*\d{1,2}:\d{2}\s*")
RateText = _as_written(r"\s*\d+\s*/\s*(s|second|min|minute|h|hour)\s*")


def parse_duration(value: Any) -> timedelta:
    """`30s`, `10m`, `2h`, `7d` -> timedelta. Bare numbers are refused: `10` is ambiguous."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found:
            return timedelta(seconds=float(found.group(1)) * _UNIT_SECONDS[found.group(2)])
    raise ValueError(f"expected a duration such as 30s, 10m, 2h or 7d, got {value!r}")


def _at_least_a_second(value: timedelta) -> timedelta:
    # A zero timeout fails every fetch and a zero retry delay spins: every duration here is
    # at least a second.
    if value < timedelta(seconds=1):
        raise ValueError("expected a duration of at least 1s")
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration, json_schema_input_type=DurationText),
    AfterValidator(_at_least_a_second),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


NonEmpty = Annotated[str, Field(min_length=1)]

# -- delivery policy values (docs/design.md §6) ---------------------------------------------


def _given(value: Any) -> str:
    """A value as the reader of monitor.yaml wrote it: `'8h'`, a list, a mapping."""
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)  # None: the loader's messages say "an empty value"


_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_clock_time(value: Any) -> time:
    """`08:00`, `17:30` -> a wall time of day (24-hour clock, minutes)."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        found = _CLOCK.match(value)
        if found and int(found.group(1)) < 24 and int(found.group(2)) < 60:
            return time(int(found.group(1)), int(found.group(2)))
    raise ValueError(
        f"expected a time of day HH:MM (24-hour) such as 08:00 or 17:30, got {_given(value)}"
    )


ClockTime = Annotated[time, PlainValidator(parse_clock_time, json_schema_input_type=ClockText)]


def _digest_interval(value: Any) -> timedelta:
    # Under a minute a digest is no digest; over a day its times would not repeat daily, and
    # they are aligned on local midnight.
    interval = parse_duration(value)
    if not timedelta(minutes=1) <= interval <= timedelta(days=1):
        raise ValueError(f"expected a duration from 1m to 1d, got {_given(value)}")
    return interval


DigestInterval = Annotated[
    timedelta, PlainValidator(_digest_interval, json_schema_input_type=DurationText)
]


class Rate(_Strict):
    """At most `count` messages in any `period`."""

    count: int
    period: timedelta


_RATE = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+)\s*$", re.IGNORECASE)
_RATE_PERIODS = {
    "s": timedelta(seconds=1),
    "second": timedelta(seconds=1),
    "min": timedelta(minutes=1),
    "minute": timedelta(minutes=1),
    "h": timedelta(hours=1),
    "hour": timedelta(hours=1),
}


def parse_rate(value: Any) -> Rate:
    """`20/min`, `1/s`, `100/hour` -> Rate."""
    if isinstance(value, Rate):
        return value
    if isinstance(value, str):
        found = _RATE.match(value)
        period = _RATE_PERIODS.get(found.group(2).lower()) if found else None
        if found and period is not None:
            if int(found.group(1)) < 1:
                raise ValueError(f"expected at least 1 message per period, got {value!r}")
            return Rate(count=int(found.group(1)), period=period)
    raise ValueError(
        "expected a rate such as 20/min (a number of messages per s, min or h), "
        f"got {_given(value)}"
    )


# Written as text only (`20/min`): a mapping of count and period is refused, not read.
RateValue = Annotated[Rate, BeforeValidator(parse_rate, json_schema_input_type=RateText)]


def _mapping_like(example: str) -> Any:
    """A before-validator saying what a mapping key should look like, rather than pydantic's
    generic "expected a mapping"."""

    def check(value: Any) -> Any:
        if value is None or isinstance(value, dict | BaseModel):
            return value
        raise ValueError(f"expected a mapping such as {example}, got {_given(value)}")

    return BeforeValidator(check)


class DigestSpec(_Strict):
    """A channel's alerts go out as one message every `every` (times aligned on local
    midnight: every 30m is :00 and :30) or at the local wall times `at`."""

    every: DigestInterval | None = None
    at: tuple[ClockTime, ...] | None = None

    @field_validator("at")
    @classmethod
    def _sorted_times(cls, value: tuple[time, ...] | None) -> tuple[time, ...] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("expected a list of at least one time of day such as 08:00")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _exactly_one(self) -> DigestSpec:
        if (self.every is None) == (self.at is None):
            raise ValueError("expected exactly one of 'every' or 'at'")
        return self


class QuietHoursSpec(_Strict):
    """Local wall times between which alerts are held (`from` included, `to` excluded); the
    period may cross midnight (22:00 to 07:00)."""

    # `from` is a Python keyword: the fields take the YAML names as aliases.
    start: ClockTime = Field(alias="from")
    end: ClockTime = Field(alias="to")

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHoursSpec:
        if self.start == self.end:
            shown = self.start.strftime("%H:%M")
            raise ValueError(f"expected 'from' and 'to' to differ, got {shown} for both")
        return self


def check_feed_url(value: str) -> str:
    """A feed URL must be http(s) with a valid port; the error echoes it (the loader masks a
    URL that came from a secret)."""
    if not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
        raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
    try:
        port = urlsplit(value).port
    except ValueError:  # not a number, or over 65535
        port = 0
    if port == 0:
        raise ValueError(f"expected a port from 1 to 65535 in the URL, got {value!r}")
    return value


class FeedSpec(_Strict):
    # Given inline or read from a file (`url_file:`: a private feed's token as a systemd
    # credential). The loader puts the file's URL in `url`, so code only reads `url`.
    url: str = ""
    url_file: str | None = None
    name: str | None = None
    interval: Duration = timedelta(minutes=10)
    language: Annotated[str | None, AfterValidator(_language_tag)] = None
    tags: tuple[str, ...] = ()
    # What tells this feed's items apart across polls: its ids (guid), links, or texts.
    id_policy: Literal["guid", "link", "content"] = "guid"
    # Fetch each new item's article page and match and cluster its main text (needs the
    # optional `fulltext` extra: trafilatura).
    fulltext: bool = False
    # Failing or without a new item for longer than this: an operations alert (default:
    # ops.stale_after).
    stale_after: Duration | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_feed_url(value)

    @model_validator(mode="after")
    def _exactly_one_source(self) -> FeedSpec:
        if ("url" in self.model_fields_set) == (self.url_file is not None):
            raise ValueError("expected exactly one of 'url' or 'url_file'")
        return self


class ChannelSpec(_Strict):
    """A notification target: one Apprise URL, given inline or read from a file (systemd
    credentials). The loader resolves `url_file` into `url`, so code only reads `url`."""

    url: str | None = None
    url_file: str | None = None
    # Absent: each alert at once.
    digest: Annotated[
        DigestSpec | None, _mapping_like('{every: 1h} or {at: ["08:00", "17:30"]}')
    ] = None
    quiet_hours: Annotated[QuietHoursSpec | None, _mapping_like('{from: "22:00", to: "07:00"}')] = (
        None
    )
    # Absent: the default of the channel's kind (notify.policy).
    rate_limit: RateValue | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> ChannelSpec:
        if (self.url is None) == (self.url_file is None):
            raise ValueError("expected exactly one of 'url' or 'url_file'")
        return self


TRANSLIT: Literal["translit"] = "translit"
FuzzyValue = int | Literal["translit"]
_FUZZY_EDITS = (0, 1, 2)  # more than 2 edits per word matches noise


def parse_fuzzy(value: Any) -> FuzzyValue:
    """`fuzzy:` (docs/design.md §4 rule 9): edits per word of 5+ letters (0-2), or `translit`
    for the spelling swaps of transliteration."""
    if isinstance(value, str) and value.strip().lower() == TRANSLIT:
        return TRANSLIT
    number = value.strip() if isinstance(value, str) else value
    if isinstance(number, str) and re.fullmatch(r"[+-]?\d+", number):
        number = int(number)
    if isinstance(number, int) and not isinstance(number, bool) and number in _FUZZY_EDITS:
        return number
    raise ValueError(f"expected 0, 1 or 2 (edits per word) or translit, got {_given(value)}")


Fuzzy = Annotated[
    FuzzyValue,
    PlainValidator(
        parse_fuzzy,
        json_schema_input_type=Annotated[int, Field(ge=0, le=2)] | Literal["translit"],
    ),
]


class AliasSpec(_Strict):
    """Another spelling of a term, reported under the term; no `fuzzy`: the term's."""

    alias: NonEmpty
    fuzzy: Fuzzy | None = None


def _alias_from_string(value: Any) -> Any:
    return {"alias": value} if isinstance(value, str) else value


Alias = Annotated[
    AliasSpec, BeforeValidator(_alias_from_string, json_schema_input_type=NonEmpty | AliasSpec)
]


class TermSpec(_Strict):
    term: NonEmpty
    aliases: tuple[Alias, ...] = ()
    case_sensitive: bool = False
    fuzzy: Fuzzy = 0

    def spellings(self) -> tuple[str, ...]:
        return (self.term, *self.alias_names())

    def fuzzy_spellings(self) -> tuple[tuple[str, FuzzyValue], ...]:
        """(spelling, fuzzy) of the term and each alias: an alias inherits the term's fuzzy."""
        return (
            (self.term, self.fuzzy),
            *(
                (alias.alias, self.fuzzy if alias.fuzzy is None else alias.fuzzy)
                for alias in self.aliases
            ),
        )

    def alias_names(self) -> tuple[str, ...]:
        return tuple(alias.alias for alias in self.aliases)


def _term_from_string(value: Any) -> Any:
    return {"term": value} if isinstance(value, str) else value


Term = Annotated[
    TermSpec, BeforeValidator(_term_from_string, json_schema_input_type=NonEmpty | TermSpec)
]


class SourcesSpec(_Strict):
    """Which feeds a watchlist watches (docs/design.md §4, scope): feeds by name or URL, and
    their `tags`. Listing feeds or tags keeps only those; the exclusions then remove some."""

    tags: tuple[NonEmpty, ...] = ()
    feeds: tuple[NonEmpty, ...] = ()
    exclude_tags: tuple[NonEmpty, ...] = ()
    exclude_feeds: tuple[NonEmpty, ...] = ()

    @model_validator(mode="after")
    def _not_empty(self) -> SourcesSpec:
        if not (self.tags or self.feeds or self.exclude_tags or self.exclude_feeds):
            raise ValueError(
                "expected at least one of 'tags', 'feeds', 'exclude_tags' and 'exclude_feeds'"
            )
        return self

    def refusal(
        self, shown: str, names: Collection[str | None], tags: Collection[str]
    ) -> str | None:
        """Why a feed is not among these sources, None when it is: the feed known by `names`
        (its URL and name), shown as `shown`, with `tags`. The matcher's scope and
        `check-config` (sources that leave no feed) both ask this."""
        if set(names) & set(self.exclude_feeds):
            return f"feed {shown!r} is in sources.exclude_feeds"
        for tag in tags:
            if tag in self.exclude_tags:
                return f"feed {shown!r} has the tag {tag!r}, in exclude_tags"
        if not (self.feeds or self.tags):
            return None
        if set(names) & set(self.feeds) or set(tags) & set(self.tags):
            return None
        parts = []
        if self.feeds:
            parts.append(f"feeds: {', '.join(self.feeds)}")
        if self.tags:
            parts.append(f"tags: {', '.join(self.tags)}")
        return f"feed {shown!r} is not in sources ({'; '.join(parts)})"


# ISO 639 codes that name no language: an item declaring one has no known language.
UNDETERMINED_LANGUAGES = frozenset({"und", "mul", "zxx", "mis"})


def language_code(language: str) -> str:
    """A language tag's primary subtag, lowercase, two letters where ISO 639 has them
    (`fr-FR`, `fra` and `fre` -> `fr`): how a watchlist's `languages` and an item's language are
    compared, as inflection picks its rules."""
    code = language.strip().lower().split("-")[0].split("_")[0]
    if len(code) == 3:  # `und` and codes ISO 639 does not know stay as written
        return _iso_639(code) or code
    return code


@cache
def _iso_639(code: str) -> str | None:
    """A lowercase two- or three-letter code as ISO 639 knows it: its two-letter code where it
    has one, else itself; None when it names no language (`zz`, `und`)."""
    if not (code.isascii() and code.isalpha()) or code in UNDETERMINED_LANGUAGES:
        return None
    # Imported here: its tables load on first use, which only a configured language needs.
    import pycountry

    if len(code) == 2:
        found = pycountry.languages.get(alpha_2=code)
    elif len(code) == 3:
        found = pycountry.languages.get(alpha_3=code) or pycountry.languages.get(bibliographic=code)
    else:
        found = None
    return None if found is None else getattr(found, "alpha_2", code)


def _language_code(value: str) -> str:
    """A configured language: its two-letter code (`fra` -> `fr`), or an error for what names
    no language, which would silently put every item out of scope (`French`, `zz`, `und`)."""
    code = language_code(value)
    if _iso_639(code) is None:
        raise ValueError(f"expected an ISO 639 language code such as fr or en, got {value!r}")
    return code


def _language_tag(value: str | None) -> str | None:
    """A feed's language as configured (`en-GB` stays), once its language is known to ISO 639."""
    if value is not None:
        _language_code(value)
    return value


LanguageCode = Annotated[str, AfterValidator(_language_code)]


class WatchlistSpec(_Strict):
    name: NonEmpty
    notify: tuple[str, ...] | None = None  # None: every channel
    terms: tuple[Term, ...] = ()
    query: str | None = None
    exclude: tuple[Term, ...] = ()
    fields: tuple[str, ...] = FIELDS
    # The feeds and item languages it watches; None: every feed, every language.
    sources: Annotated[
        SourcesSpec | None, _mapping_like('{tags: [presse-fr], exclude_feeds: ["Agrégateur"]}')
    ] = None
    languages: tuple[LanguageCode, ...] | None = None
    # Its alerts bypass the channels' quiet hours and digests.
    urgent: bool = False

    @field_validator("query", mode="before")
    @classmethod
    def _valid_query(cls, value: Any, info: ValidationInfo) -> Any:
        # Checked before whitespace is stripped, so positions count in the query as written.
        if not isinstance(value, str):  # None: no query; anything else: pydantic says "text"
            return value
        if not value.strip():
            raise ValueError("expected a query")
        # The query language belongs to the matcher: the loader passes its check as the context.
        checks = info.context
        error = checks.query_error(value) if isinstance(checks, ConfigChecks) else None
        if error is not None:
            raise ValueError(error)
        return value

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in FIELDS]
        if unknown or not value:
            raise ValueError(f"expected a list of {', '.join(FIELDS)}; got {list(value)!r}")
        return value

    @field_validator("languages")
    @classmethod
    def _some_language(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and not value:
            raise ValueError("expected at least one language code, such as [fr, en]")
        return value

    @model_validator(mode="after")
    def _has_terms(self) -> WatchlistSpec:
        if not self.terms and not self.query:
            raise ValueError("expected at least one of 'terms' and 'query'")
        return self


class FetchSpec(_Strict):
    allow_private_networks: bool = False
    timeout: Duration = timedelta(seconds=30)
    # Feeds fetched at once, in all and per host: many feeds of one publisher share a server.
    max_connections: int = Field(default=16, ge=1, le=1000)
    max_per_host: int = Field(default=2, ge=1, le=100)
    # A server may ask to be polled less often (Cache-Control max-age, Expires, RSS <ttl>): it
    # is heard up to this long, so news is never delayed for long.
    max_interval: Duration = timedelta(hours=1)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    user_agent: str = "monitor/0.1 (+https://github.com/monitor-alerts/monitor; media monitoring)"


class DeliverySpec(_Strict):
    """Retry policy of the outbox: exponential backoff from `retry_initial` up to
    `retry_max_interval`, until an alert is `give_up_after` old; then it is marked failed."""

    retry_initial: Duration = timedelta(seconds=30)
    retry_max_interval: Duration = timedelta(hours=1)
    give_up_after: Duration = timedelta(days=2)


class OpsSpec(_Strict):
    """Operations alerts (a feed failing or silent for longer than its `stale_after`, then
    recovered) go to the `notify` channels, and only there."""

    notify: tuple[str, ...] = ()
    stale_after: Duration = timedelta(days=1)


class DedupSpec(_Strict):
    """Story folding (docs/design.md §5): items join an earlier story first seen within `window`
    when their texts overlap enough (estimated Jaccard of word shingles >= `similarity`, or the
    shorter contained in the longer >= `containment`)."""

    window: Duration = timedelta(days=7)
    similarity: float = Field(default=0.5, gt=0, le=1)
    containment: float = Field(default=0.7, gt=0, le=1)


class HttpSpec(_Strict):
    """The health and metrics endpoint (`/healthz`, `/metrics`), off unless `http:` is given.
    Port 0 takes a free port, which the daemon logs (tests)."""

    listen: Annotated[
        str,
        # For editors (monitor config-schema): host:port, an IPv6 host in brackets, or ${ENV}.
        Field(
            json_schema_extra={
                "pattern": r"^((\[[0-9A-Fa-f:.]+\]|[^:\[\]\s]+):[0-9]{1,5}|.*\$\{.+\}.*)$"
            }
        ),
    ]

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        listen_address(value)
        return value

    @property
    def address(self) -> tuple[str, int]:
        return listen_address(self.listen)


def listen_address(value: str) -> tuple[str, int]:
    """`127.0.0.1:9464`, `[::1]:9464` or `localhost:9464` -> (host, port)."""
    host, colon, port = value.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise ValueError(f"expected host:port such as 127.0.0.1:9464, got {value!r}")
    return host, int(port)


def machine_zone() -> tzinfo:
    """The machine's IANA time zone, else UTC."""
    try:
        return ZoneInfo(_machine_zone_name() or "UTC")
    except (LookupError, ValueError, OSError):  # a name the time zone database lacks
        return UTC


def _machine_zone_name() -> str | None:
    try:
        return tzlocal.get_localzone_name()
    except (LookupError, ValueError, OSError):  # unreadable or conflicting settings
        return None


class Config(_Strict):
    database: str | None = None  # default: sqlite in the state directory
    # An IANA name; the wall times of quiet hours and digests, and the times in messages, are
    # read in it. Default: the machine's.
    timezone: str | None = None
    state_dir: str | None = None
    # `json`: one JSON object per log event, for log collectors (monitor/logs.py).
    log_format: Literal["text", "json"] = "text"
    max_age: Duration = timedelta(days=2)
    poll_tick: Duration = timedelta(seconds=15)
    feeds: tuple[FeedSpec, ...] = ()
    channels: dict[str, ChannelSpec] = Field(default_factory=dict)
    fetch: FetchSpec = FetchSpec()
    delivery: DeliverySpec = DeliverySpec()
    dedup: DedupSpec = DedupSpec()
    ops: OpsSpec = OpsSpec()
    watchlists: tuple[WatchlistSpec, ...] = ()
    http: HttpSpec | None = None  # the health and metrics endpoint: off by default

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as Europe
            raise ValueError(
                f"expected an IANA timezone name such as Europe/Paris, got {value!r}"
            ) from None
        return value

    def zone(self) -> tzinfo:
        """The zone of `timezone`, else the machine's."""
        return ZoneInfo(self.timezone) if self.timezone else machine_zone()

    def channels_for(self, watchlist: WatchlistSpec) -> tuple[str, ...]:
        """A watchlist's channels: its `notify`, else every channel but the operations ones."""
        if watchlist.notify is None:
            return tuple(sorted(set(self.channels) - set(self.ops.notify)))
        return watchlist.notify

    def stale_after(self, feed: FeedSpec) -> timedelta:
        return feed.stale_after or self.ops.stale_after


KeyPath = tuple[str | int, ...]
# Operations alerts (the pipeline's staleness check) are filed under this watchlist name.
RESERVED_WATCHLIST = "operations"
