"""Write one alert for one channel kind: HTML email, Slack mrkdwn, Telegram HTML or plain text.

Everything that came from a feed (title, source, sentence, link, other outlets) is untrusted, so
each format escapes it with its own rules before adding any markup of ours. Pure functions: no
I/O, no clock.

Slack and Telegram get an empty `title` and carry the heading in the body instead: Apprise pastes
a Telegram title into the HTML body unescaped, and a Slack block header is plain text capped at
150 characters. Email (the subject) and text channels get the heading as a plain-text title.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from monitor.model import AlertMessage

_KIND_BY_SCHEME = {
    "mailto": "email",
    "mailtos": "email",
    "slack": "slack",
    "tgram": "telegram",
    "console": "console",
}

# Beyond this many names the "also published by" line says how many more, so a wire story
# carried by 40 outlets stays one readable line (and inside Slack's 3000-character block).
_MAX_OUTLETS_LISTED = 15

# Line breaks from a feed would let it start a Slack quote, fake a line of ours or fold a mail
# header: each becomes a space. Other control characters (terminal escapes on the console,
# invalid in HTML) are dropped.
_LINE_BREAKING = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")


def _one_line(text: str) -> str:
    return _CONTROL.sub("", _LINE_BREAKING.sub(" ", text))


# Slack has no escape for its formatting marks: feed text gets look-alikes so `*` stays literal.
_SLACK_NEUTRAL = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})

# Characters a URL may keep as they are; anything else (quotes, spaces, <, >, |, \) is
# percent-encoded, so a link can close neither an attribute nor a Slack <url|text> anchor.
_URL_SAFE = ":/?#[]@!$&()*+,;=%~-._"


@dataclass(frozen=True)
class Rendered:
    """A message ready for Apprise. `body_format` is an Apprise NotifyFormat value:
    "html", "markdown" (here: Slack mrkdwn) or "text"."""

    title: str
    body: str
    body_format: str


def channel_kind(url: str) -> str:
    """email, slack, telegram, console or text, from the Apprise URL scheme."""
    scheme, separator, _ = url.strip().partition("://")
    return _KIND_BY_SCHEME.get(scheme.lower(), "text") if separator else "text"


def render(message: AlertMessage, kind: str) -> Rendered:
    """The alert written for `kind` (see `channel_kind`); unknown kinds get plain text."""
    if kind == "email":
        return Rendered(_heading(message), _body(message, _EMAIL), "html")
    if kind == "slack":
        return Rendered("", _body(message, _SLACK, titled=False), "markdown")
    if kind == "telegram":
        return Rendered("", _body(message, _TELEGRAM, titled=False), "html")
    return Rendered(_heading(message), _body(message, _TEXT), "text")


@dataclass(frozen=True)
class _Dialect:
    """How one format escapes feed text and writes our few marks. `anchor` gets a link already
    made safe by `_http_link` and a text already escaped."""

    escape: Callable[[str], str]
    strong: Callable[[str], str]
    mark: Callable[[str], str]
    anchor: Callable[[str, str], str]
    quote: Callable[[str], str]
    link_text: Callable[[str], str] = html.escape
    paragraph: Callable[[str], str] = lambda line: line


def _html_escape(text: str) -> str:
    return html.escape(_one_line(text))


def _slack_escape(text: str) -> str:
    text = _one_line(text).translate(_SLACK_NEUTRAL)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _telegram_escape(text: str) -> str:
    # Telegram names only &lt; &gt; &amp; &quot;; apostrophes stay as they are.
    return html.escape(_one_line(text), quote=False).replace('"', "&quot;")


_EMAIL = _Dialect(
    escape=_html_escape,
    strong=lambda text: f"<b>{text}</b>",
    mark=lambda text: f"<mark>{text}</mark>",
    anchor=lambda link, text: f'<a href="{html.escape(link)}">{text}</a>',
    quote=lambda text: f"<blockquote>{text}</blockquote>",
    paragraph=lambda line: line if line.startswith("<blockquote>") else f"<p>{line}</p>",
)
_SLACK = _Dialect(
    escape=_slack_escape,
    strong=lambda text: f"*{text}*",
    mark=lambda text: f"*{text}*",
    # `|` would end the anchor's URL part early; `&` must be escaped inside it too.
    anchor=lambda link, text: f"<{link.replace('&', '&amp;')}|{text.replace('|', '')}>",
    quote=lambda text: f"> {text}",
    link_text=lambda link: link.replace("&", "&amp;"),
)
_TELEGRAM = _Dialect(
    escape=_telegram_escape,
    strong=lambda text: f"<b>{text}</b>",
    mark=lambda text: f"<b>{text}</b>",
    anchor=lambda link, text: f'<a href="{html.escape(link)}">{text}</a>',
    quote=lambda text: f"“{text}”",
)
_TEXT = _Dialect(
    escape=_one_line,
    strong=lambda text: text,
    mark=lambda text: f"**{text}**",
    anchor=lambda link, text: text,
    quote=lambda text: f"“{text}”",
    link_text=lambda link: link,
)


def _body(message: AlertMessage, dialect: _Dialect, *, titled: bool = True) -> str:
    """Heading, facts, the quoted sentence, the link and the other outlets, in `dialect`.
    Without a separate title (`titled=False`) the heading also names the watchlist."""
    escape = dialect.escape
    link = _http_link(message.url)
    title = escape(_title(message))
    heading = dialect.anchor(link, title) if link else title
    if not titled:
        heading = f"[{escape(message.watchlist)}] {heading}"
    lines = [dialect.strong(heading)]
    lines += [escape(line) for line in _facts(message)]
    quoted = _quoted(message, escape, dialect.mark)
    if quoted is not None:
        lines.append(dialect.quote(quoted))
    if link:
        lines.append(dialect.anchor(link, dialect.link_text(link)))
    elif message.url:
        lines.append(f"Link: {escape(message.url)}")
    lines += [escape(line) for line in _outlets(message)]
    return "\n".join(dialect.paragraph(line) for line in lines)


def _heading(message: AlertMessage) -> str:
    return _one_line(f"[{message.watchlist}] {_title(message)}")


def _title(message: AlertMessage) -> str:
    return message.title.strip() or "(untitled)"


def _facts(message: AlertMessage) -> list[str]:
    """The source/time line and the matched-terms line, as plain text (escaped by the caller)."""
    where = [f"Source: {message.source.strip()}"] if message.source.strip() else []
    if message.published is not None:
        where.append(_published(message.published))
    facts = [" · ".join(where)] if where else []
    if message.terms:
        facts.append("Matched: " + ", ".join(message.terms))
    return facts


def _outlets(message: AlertMessage) -> list[str]:
    names = [name.strip() for name in message.also_published_by if name.strip()]
    if not names:
        return []
    listed = ", ".join(names[:_MAX_OUTLETS_LISTED])
    more = len(names) - _MAX_OUTLETS_LISTED
    return [f"Also published by: {listed}" + (f" and {more} more" if more > 0 else "")]


def _published(published: datetime) -> str:
    if published.tzinfo is None:  # the model promises UTC; a naive value is read as UTC
        published = published.replace(tzinfo=UTC)
    return published.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _http_link(url: str | None) -> str | None:
    """The URL when it is http(s) with a host, percent-encoded so it is safe inside an
    attribute or a Slack anchor; None for anything else (javascript:, data:, relative)."""
    if not url:
        return None
    candidate = url.strip()
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(candidate, safe=_URL_SAFE)


def _quoted(
    message: AlertMessage, escape: Callable[[str], str], mark: Callable[[str], str]
) -> str | None:
    """The matched sentence escaped piece by piece, each highlighted piece wrapped by `mark`;
    None when there is no sentence to quote.

    Highlights are clipped to the sentence and merged when they overlap, so stray offsets can
    neither raise nor split an escape sequence."""
    if message.snippet is None or not message.snippet.text.strip():
        return None
    text = message.snippet.text
    merged: list[list[int]] = []
    highlights = message.snippet.highlights
    for start, end in sorted((max(0, h.start), min(len(text), h.end)) for h in highlights):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[str] = []
    position = 0
    for start, end in merged:
        pieces.append(escape(text[position:start]))
        pieces.append(mark(escape(text[start:end])))
        position = end
    pieces.append(escape(text[position:]))
    return "".join(pieces)
