"""Feed bytes -> ParsedFeed, with feedparser doing the format work (RSS 0.9x-2.0, RDF, Atom).

feedparser only ever sees an in-memory stream: given a str it may treat it as a URL or a path and
fetch it. External entities are never read: feedparser strips entity declarations other than
plain literals before parsing and turns off external entities in the SAX parser
(tests/test_parse.py checks both with a file and an HTTP server as targets).
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import xml.sax
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser

from monitor.feeds.plain_feed import plain_feed
from monitor.feeds.urls import canonical_url
from monitor.model import FeedEntry, ParsedFeed

# With no Content-Type, feedparser flags every document as "not XML"; this generic type lets the
# XML declaration decide the encoding instead (RFC 7303 §3.2).
_DEFAULT_CONTENT_TYPE = "application/xml"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_STARTS = (b"<!doctype html", b"<html")
_LINK_SCHEMES = frozenset({"http", "https"})
_MAX_MESSAGE_CHARS = 200
# &#xD800; to &#xDFFF; and &#55296; to &#57343;: UTF-16 halves, no characters of their own.
_SURROGATE_REFERENCE = re.compile(
    rb"&#(?:[xX]0*[dD][89a-fA-F][0-9a-fA-F]{2}"
    rb"|0*(?:5529[6-9]|55[3-9]\d\d|56\d{3}|57[0-2]\d\d|573[0-3]\d|5734[0-3]));"
)
# An entity declaration in a DOCTYPE's internal subset: <!ENTITY name "value"> and the like.
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY(?:\"[^\"]*\"|'[^']*'|[^>\"'])*>", re.IGNORECASE)
# The kinds of parse failure (ParsedFeed.error_kind).
PARSE = "parse"  # a document that could not be read (malformed, too complex, too large)
NOT_A_FEED = "not_a_feed"  # a body that is no feed at all (an HTML page, JSON, no body)

# Entries read from one document, at most.
MAX_ENTRIES = 5_000
# Longer links are no article's (browsers and servers stop near here), and a long xml:base
# would otherwise multiply a small document into hundreds of megabytes of links and keys.
_MAX_URL_CHARS = 2_048
_MAX_KEY_CHARS = 1_024
_MAX_TTL_MINUTES = 366 * 24 * 60  # longer says "rarely"; polling caps it at max_interval anyway


def parse_feed(content: bytes, *, base_url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed document; never raises. Relative links resolve against `base_url`."""
    if not content.strip():
        return parse_failure(NOT_A_FEED, "not a feed: the server returned no body")
    try:
        return _parse(content, base_url, content_type)
    except MemoryError:  # in a parse process, under its address-space limit
        return parse_failure(PARSE, "document too large to parse: the parser ran out of memory")
    except Exception as exc:  # feedparser on hostile bytes: one bad feed must not stop a poll
        return parse_failure(PARSE, _one_line(f"unparseable feed: {exc!r}"))


def _parse(content: bytes, base_url: str, content_type: str | None) -> ParsedFeed:
    try:
        plain = plain_feed(content, base_url, content_type)
    except MemoryError:  # feedparser would need more still
        raise
    except Exception:  # a shortcut only: whatever it cannot take, feedparser reads
        plain = None
    if plain is not None:
        raw_entries, too_many = _at_most_max_entries(plain["items"])
        return ParsedFeed(
            title=_text(plain["title"]) or None,
            entries=tuple(_entry(raw, base_url) for raw in raw_entries),
            warning=too_many,
            ttl=_ttl(plain["ttl"]),
        )
    return _parse_with_feedparser(content, base_url, content_type)


def _at_most_max_entries(raw_entries: list[Any]) -> tuple[list[Any], str | None]:
    """The first MAX_ENTRIES entries, and a warning when there were more: a document of
    100,000 items is a mistake or an attack, and would take minutes to store and match."""
    if len(raw_entries) <= MAX_ENTRIES:
        return raw_entries, None
    warning = f"the document lists {len(raw_entries):,} items: only the first {MAX_ENTRIES:,} read"
    return raw_entries[:MAX_ENTRIES], warning


def _parse_with_feedparser(content: bytes, base_url: str, content_type: str | None) -> ParsedFeed:
    # Entities a document declares itself are not expanded either (feedparser would expand
    # those with plain-text values): their references stay as written.
    if _ENTITY_DECLARATION.search(content):
        content = _ENTITY_DECLARATION.sub(b"", content)
    try:
        return _feedparser_result(content, base_url, content_type)
    except UnicodeEncodeError:
        # feedparser's loose parser turns a character reference to a lone surrogate
        # (&#xD800;) into a crash: such a reference stands for no character anyway.
        cleaned = _SURROGATE_REFERENCE.sub(b"&#xFFFD;", content)
        if cleaned == content:
            raise
        return _feedparser_result(cleaned, base_url, content_type)


def _feedparser_result(content: bytes, base_url: str, content_type: str | None) -> ParsedFeed:
    result = feedparser.parse(
        io.BytesIO(content),
        response_headers={
            "content-location": base_url,
            "content-type": content_type or _DEFAULT_CONTENT_TYPE,
        },
        # Neither pass is needed: monitor.text.html turns the HTML into plain text (scripts and
        # styles dropped, nothing rendered), and entry links are resolved here. Together they
        # cost about 40% of a parse.
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    title = _text(result.feed.get("title")) or None
    raw_entries, too_many = _at_most_max_entries(result.entries)
    entries = tuple(_entry(raw, base_url) for raw in raw_entries)
    problem = _bozo_reason(result)
    malformed = result.get("bozo") and not isinstance(
        result.get("bozo_exception"), feedparser.ThingsNobodyCaresAboutButMe
    )
    if entries:
        warnings = [f"malformed feed: {problem}" if malformed else problem, too_many]
        return ParsedFeed(
            title=title,
            entries=entries,
            warning="; ".join(warning for warning in warnings if warning) or None,
            ttl=_ttl(result.feed.get("ttl")),
        )
    recognised = bool(result.get("version"))
    if not recognised and _looks_like_html(content, content_type):
        return parse_failure(NOT_A_FEED, "not a feed: the server returned an HTML page")
    if not recognised and content.lstrip()[:1] in (b"{", b"["):
        return parse_failure(NOT_A_FEED, "not a feed: the server returned JSON, not RSS or Atom")
    if not recognised and not _looks_like_xml(content):
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        what = f"{media_type} content" if media_type else "a body"
        return parse_failure(NOT_A_FEED, f"not a feed: the server returned {what} that is not XML")
    if malformed:
        return ParsedFeed(
            title=title, entries=(), error=f"malformed feed: {problem}", error_kind=PARSE
        )
    if not recognised:
        return parse_failure(NOT_A_FEED, "not a feed: no RSS, Atom or RDF document found")
    return ParsedFeed(
        title=title, entries=(), warning=problem or None, ttl=_ttl(result.feed.get("ttl"))
    )


def _ttl(raw: Any) -> float | None:
    """RSS <ttl>: minutes the channel may be cached before refreshing, in seconds, at most a
    year; None when absent or not a positive whole number."""
    value = _text(raw).strip()
    if not (value.isascii() and value.isdigit()) or not value.strip("0"):
        return None
    # int() refuses strings of over 4,300 digits; any number of 7 digits is over a year.
    minutes = int(value) if len(value) <= 7 else _MAX_TTL_MINUTES
    return float(min(minutes, _MAX_TTL_MINUTES) * 60)


def parse_failure(kind: str, message: str) -> ParsedFeed:
    return ParsedFeed(title=None, entries=(), error=message, error_kind=kind)


def _entry(raw: Any, base_url: str) -> FeedEntry:
    title = _text(raw.get("title"))
    summary = _text(raw.get("summary"))
    parts = raw.get("content") or ()
    content = parts if isinstance(parts, str) else "\n".join(_text(p.get("value")) for p in parts)
    if content == summary:  # Atom entries with only <content> get it copied into summary
        content = ""
    url = _entry_url(raw.get("link"), base_url)
    return FeedEntry(
        key=_item_key(_text(raw.get("id")).strip(), url, title, summary, content),
        url=url,
        title=title,
        summary=summary,
        content=content,
        published=_utc(raw.get("published_parsed")) or _utc(raw.get("updated_parsed")),
    )


def _item_key(guid: str, url: str | None, title: str, summary: str, content: str) -> str:
    """The stable identity of an item across polls: guid, else link, else the text itself
    (a feed's `id_policy` may choose otherwise: monitor.pipeline.prepare.item_key)."""
    if len(guid) > _MAX_KEY_CHARS:  # stored and compared on every poll: a digest stands in
        return "guid-hash:" + hashlib.sha256(guid.encode("utf-8", "surrogatepass")).hexdigest()
    if guid:
        return guid
    if url:
        return link_key(url)
    return text_key(title, summary, content)


def link_key(url: str) -> str:
    return f"link:{url}"


def text_key(title: str, summary: str, content: str) -> str:
    digest = hashlib.sha256("\x1f".join((title, summary, content)).encode("utf-8"))
    return f"hash:{digest.hexdigest()}"


def _entry_url(link: Any, base_url: str) -> str | None:
    """The canonical absolute link, or None: javascript:, data: and the like are not article
    links and must never reach an alert as a clickable href."""
    text = _text(link).strip()
    if not text:
        return None
    try:
        absolute = urljoin(base_url, text)
    except ValueError:
        return None
    canonical = canonical_url(absolute)
    if len(canonical) > _MAX_URL_CHARS:
        return None
    return canonical if urlsplit(canonical).scheme in _LINK_SCHEMES else None


def _utc(parsed: Any) -> datetime | None:
    """feedparser's dates are struct_time already converted to UTC; some are out of range."""
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


def _bozo_reason(result: Any) -> str:
    if not result.get("bozo"):
        return ""
    exc = result.get("bozo_exception")
    if isinstance(exc, xml.sax.SAXParseException):
        reason = f"{exc.getMessage()} at line {exc.getLineNumber()}, column {exc.getColumnNumber()}"
    else:
        reason = str(exc) or type(exc).__name__
    return _one_line(reason)


def _looks_like_html(content: bytes, content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in _HTML_TYPES:
        return True
    # Past a BOM, comments or an XML declaration, within the first kilobytes.
    head = content[:4096].lower()
    return any(start in head for start in _HTML_STARTS)


def _looks_like_xml(content: bytes) -> bool:
    """Starts with markup, past a byte-order mark and white space (UTF-16 included)."""
    return content.lstrip(b"\xef\xbb\xbf\xfe\xff\x00 \t\r\n")[:1] == b"<"


def _text(value: Any) -> str:
    # NUL survives feedparser's loose parser, and PostgreSQL refuses it in any text column.
    return value.replace("\x00", "") if isinstance(value, str) else ""


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_MESSAGE_CHARS else line[: _MAX_MESSAGE_CHARS - 1] + "…"
