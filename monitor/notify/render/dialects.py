"""How each channel kind writes a message: the escaping of untrusted text and our few marks.

Everything that came from a feed or a database row (titles, sources, quoted sentences, outlet
names and links, watchlist names, operations notices) is untrusted, so each dialect escapes it
with its own rules before adding any markup of ours. The message modules (`story`, `digest`,
`ops`) build lines only through a `Dialect`, so a new kind is one more entry in `DIALECTS`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from monitor.model import Snippet

# Line breaks from a feed would let it start a Slack quote, fake a line of ours or fold a mail
# header: each becomes a space.
_LINE_BREAKING = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]")
# Characters that act rather than show, dropped: C0 and C1 controls (terminal escapes on the
# console, invalid in HTML), and the bidirectional controls and marks (U+061C, U+200E, U+200F,
# U+202A-U+202E, U+2066-U+2069), with which a title reverses or reorders what follows it, in
# our own words too ("Trojan Source", CVE-2021-42574), and U+FEFF. The joiners U+200C and
# U+200D stay: Persian, Indic scripts and emoji sequences need them, and they reorder nothing.
_ACTING = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)

# Slack has no escape for its formatting marks: feed text gets look-alikes so `*` stays literal.
_SLACK_NEUTRAL = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})

# Characters a URL may keep as they are; anything else (quotes, spaces, <, >, |, \) is
# percent-encoded, so a link can close neither an attribute nor a Slack <url|text> anchor.
_URL_SAFE = ":/?#[]@!$&()*+,;=%~-._"
# Longer links are shown, not linked: a link is repeated in markup, and one this long is more
# likely an attack on a length limit than an article.
_MAX_LINK_CHARS = 2000
# A link's visible text in formats that have anchors: the host and the start of the path.
_LINK_TEXT_CHARS = 70


def one_line(text: str) -> str:
    """`text` as one line that shows what it says: line breaks become spaces; control,
    bidirectional and byte-order characters are dropped. The one sanitiser of untrusted text
    shown on one line, in every output (messages, mail headers, the command line)."""
    return _ACTING.sub("", _LINE_BREAKING.sub(" ", text))


def shortened(text: str, limit: int) -> str:
    """`text` on one line with its spaces collapsed, cut on a word boundary to at most `limit`
    characters, the cut marked with "…". Cut before escaping, so no entity is ever split."""
    line = " ".join(one_line(text).split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:·-–—") + "…"


def http_link(url: str | None) -> str | None:
    """The URL when it is http(s) with a host, percent-encoded so it is safe inside an
    attribute or a Slack anchor; None for anything else (javascript:, data:, relative)."""
    if not url:
        return None
    candidate = url.strip()
    if len(candidate) > _MAX_LINK_CHARS:
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(candidate, safe=_URL_SAFE)


def link_text(link: str) -> str:
    """What a reader sees of a link made by `http_link`: without the scheme, cut if long."""
    shown = link.split("://", 1)[-1].removeprefix("www.")
    return shortened(shown, _LINK_TEXT_CHARS)


@dataclass(frozen=True)
class Dialect:
    """One output format. `escape` turns untrusted text into safe text of the format; every
    other function gets text already escaped (or made by us) and adds the format's markup.
    `anchor` gets a link already made safe by `http_link`. `limit` bounds the whole body, as
    `measure` counts it (None: no bound)."""

    name: str
    escape: Callable[[str], str]
    strong: Callable[[str], str]
    mark: Callable[[str], str]
    anchor: Callable[[str, str], str]
    code: Callable[[str], str]
    heading: Callable[[str], str]
    meta: Callable[[str], str]
    quote: Callable[[str], str]
    group: Callable[[str], str]
    item: Callable[[str, str], str]  # (the story, its details)
    footer: Callable[[str], str]
    gap: str | None  # a blank line between parts, or None where the markup spaces them
    has_anchors: bool = True
    limit: int | None = None
    measure: Callable[[str], int] = len

    def join(self, lines: Sequence[str | None]) -> str:
        return "\n".join(line for line in lines if line is not None)

    def fits(self, body: str) -> bool:
        return self.limit is None or self.measure(body) <= self.limit

    def link(self, link: str, text: str) -> str:
        """An anchor, or the text with the link beside it where the format has none."""
        return self.anchor(link, text) if self.has_anchors else f"{text} <{link}>"


def html_escape(text: str) -> str:
    return html.escape(one_line(text))


def _slack_escape(text: str) -> str:
    text = one_line(text).translate(_SLACK_NEUTRAL)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _telegram_escape(text: str) -> str:
    # Telegram names only &lt; &gt; &amp; &quot;; apostrophes stay as they are.
    return html.escape(one_line(text), quote=False).replace('"', "&quot;")


def _slack_item(story: str, details: str) -> str:
    return f"• {story} — {details}" if details else f"• {story}"


def _telegram_length(body: str) -> int:
    # Apprise's Telegram HTML reducer writes each line break as CRLF.
    return len(body) + body.count("\n")


_MUTED = "color:#5f6368"
_EMAIL = Dialect(
    name="email",
    escape=html_escape,
    strong=lambda text: f"<b>{text}</b>",
    mark=lambda text: f'<mark style="background:#fff0a0">{text}</mark>',
    anchor=lambda link, text: f'<a href="{html.escape(link)}">{text}</a>',
    code=lambda text: f"<code>{text}</code>",
    heading=lambda text: f'<h1 style="margin:0 0 8px;font-size:20px;line-height:1.3">{text}</h1>',
    meta=lambda text: f'<p style="margin:0 0 4px;{_MUTED}">{text}</p>',
    quote=lambda text: (
        '<blockquote style="margin:10px 0;padding:2px 0 2px 12px;'
        f'border-left:3px solid #c6c9ce">{text}</blockquote>'
    ),
    group=lambda text: f'<h2 style="margin:18px 0 6px;font-size:16px">{text}</h2>',
    item=lambda story, details: (
        f'<p style="margin:0 0 10px">{story}'
        + (f'<br><span style="{_MUTED};font-size:13px">{details}</span>' if details else "")
        + "</p>"
    ),
    footer=lambda text: f'<p style="margin:18px 0 0;{_MUTED};font-size:12px">{text}</p>',
    gap=None,
)
_SLACK = Dialect(
    name="slack",
    escape=_slack_escape,
    strong=lambda text: f"*{text}*",
    mark=lambda text: f"*{text}*",
    # `|` would end the anchor's URL part early; `&` must be escaped inside it too.
    anchor=lambda link, text: f"<{link.replace('&', '&amp;')}|{text.replace('|', '')}>",
    code=lambda text: f"`{text}`",
    heading=lambda text: f"*{text}*",
    meta=lambda text: text,
    quote=lambda text: f"> {text}",
    group=lambda text: f"*{text}*",
    item=_slack_item,
    footer=lambda text: f"_{text}_",
    gap="",
    # A section block's text is at most 3,000 characters; Apprise sends the body as one.
    limit=3000,
)
_TELEGRAM = Dialect(
    name="telegram",
    escape=_telegram_escape,
    strong=lambda text: f"<b>{text}</b>",
    mark=lambda text: f"<b>{text}</b>",
    anchor=lambda link, text: f'<a href="{html.escape(link)}">{text}</a>',
    code=lambda text: f"<code>{text}</code>",
    heading=lambda text: f"<b>{text}</b>",
    meta=lambda text: text,
    quote=lambda text: f"“{text}”",
    group=lambda text: f"<b>{text}</b>",
    item=_slack_item,
    footer=lambda text: f"<i>{text}</i>",
    gap="",
    # Telegram refuses a message over 4,096 characters; counted with the markup, so it holds
    # whatever Telegram counts.
    limit=4096,
    measure=_telegram_length,
)
_TEXT = Dialect(
    name="text",
    escape=one_line,
    strong=lambda text: text,
    mark=lambda text: f"**{text}**",
    anchor=lambda link, text: text,
    code=lambda text: f"`{text}`",
    heading=lambda text: text,
    meta=lambda text: text,
    quote=lambda text: f"“{text}”",
    group=lambda text: f"{text}:",
    item=lambda story, details: f"- {story} — {details}" if details else f"- {story}",
    footer=lambda text: text,
    gap="",
    has_anchors=False,
)

DIALECTS = {"email": _EMAIL, "slack": _SLACK, "telegram": _TELEGRAM, "text": _TEXT}


def longest_fitting(most: int, body: Callable[[int], str], dialect: Dialect) -> str:
    """`body(n)` for the largest n <= `most` that the dialect's bound holds (n = 0 at worst):
    a list of n entries and a line saying how many more. Fewer entries is never longer, so
    the largest is found by bisection."""
    full = body(most)
    if dialect.fits(full):
        return full
    low, high = 0, most - 1
    while low < high:
        middle = (low + high + 1) // 2
        if dialect.fits(body(middle)):
            low = middle
        else:
            high = middle - 1
    return body(low)


def dialect_for(kind: str) -> Dialect:
    """The dialect of a channel kind; unknown kinds (and the console) get plain text."""
    return DIALECTS.get(kind, _TEXT)


def highlighted(snippet: Snippet, escape: Callable[[str], str], mark: Callable[[str], str]) -> str:
    """The quoted sentence escaped piece by piece, each highlighted piece wrapped by `mark`.

    Highlights are clipped to the sentence and merged when they overlap, so stray offsets can
    neither raise nor split an escape sequence."""
    text = snippet.text
    merged: list[list[int]] = []
    spans = sorted((max(0, h.start), min(len(text), h.end)) for h in snippet.highlights)
    for start, end in spans:
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


def quotable(quotes: Sequence[Snippet]) -> list[Snippet]:
    """The quotes that hold something to read."""
    return [snippet for snippet in quotes if one_line(snippet.text).strip()]
