"""One story to one channel: heading, watchlists, source and time, matched terms, every quoted
sentence, the link, the other outlets, the alert ids."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from monitor.match.snippet import MAX_QUOTES
from monitor.model import Outlet, StoryMessage
from monitor.notify.render.dialects import (
    Dialect,
    http_link,
    link_text,
    quotable,
    shortened,
)
from monitor.notify.render.dialects import highlighted as highlighted_quote
from monitor.notify.render.when import full_time

# Beyond this many names the "also published by" line says how many more, so a wire story
# carried by 40 outlets stays one readable line.
MAX_OUTLETS_LISTED = 15
MAX_TERMS_LISTED = 12
# Feed text is cut before it is escaped (so never inside an entity or a tag), to lengths a
# reader still reads whole; a title of 10,000 characters is not a title.
TITLE_CHARS = 300
SOURCE_CHARS = 120
NAME_CHARS = 100
_UNLINKED_URL_CHARS = 200
# Where a body has a length bound (Slack, Telegram), the parts given up first, in order:
# fewer outlets named, then fewer quotes.
_SHRINK_STEPS = (
    *((outlets, MAX_QUOTES) for outlets in (MAX_OUTLETS_LISTED, 10, 5, 0)),
    *((0, quotes) for quotes in range(MAX_QUOTES - 1, -1, -1)),
)


def story_title(message: StoryMessage) -> str:
    return shortened(message.title, TITLE_CHARS) or "(untitled)"


def watchlist_names(watchlists: Sequence[str]) -> str:
    return ", ".join(name for name in (shortened(w, NAME_CHARS) for w in watchlists) if name)


def story_heading(message: StoryMessage) -> str:
    """The heading as plain text, for a mail subject or a text channel's title:
    "[otan, défense] Title"."""
    names = watchlist_names(message.watchlists)
    return f"[{names}] {story_title(message)}" if names else story_title(message)


def alert_ids_text(alert_ids: Sequence[int]) -> str:
    if not alert_ids:
        return ""
    label = "Alert" if len(alert_ids) == 1 else "Alerts"
    return f"{label} {', '.join(str(alert_id) for alert_id in alert_ids)}"


def source_and_time(message: StoryMessage, zone: tzinfo) -> str:
    """The source and time: "Le Monde · 4 Dec 2026, 09:15 CET"; the time it was found when the
    feed gave none."""
    source = shortened(message.source, SOURCE_CHARS)
    parts = [source] if source else []
    if message.published is not None:
        parts.append(full_time(message.published, zone))
    elif message.first_seen is not None:
        parts.append(f"found {full_time(message.first_seen, zone)}")
    return " · ".join(parts)


def matched_terms(terms: Sequence[str]) -> str:
    """The terms that matched, at most `MAX_TERMS_LISTED`: "Matched: OTAN, Vilnius"."""
    shown = ", ".join(shortened(term, NAME_CHARS) for term in terms[:MAX_TERMS_LISTED])
    more = len(terms) - MAX_TERMS_LISTED
    return f"Matched: {shown}" + (f" and {more} more" if more > 0 else "")


def named_outlets(outlets: Sequence[Outlet]) -> list[tuple[str, str | None]]:
    """(name, safe link or None) of each outlet with something to show."""
    named: list[tuple[str, str | None]] = []
    for outlet in outlets:
        link = http_link(outlet.url)
        name = shortened(outlet.name, NAME_CHARS) or (link_text(link) if link else "")
        if name:
            named.append((name, link))
    return named


def story_body(
    message: StoryMessage,
    dialect: Dialect,
    zone: tzinfo,
    *,
    watchlists_in_heading: bool,
) -> str:
    """The story in `dialect`, within the dialect's length bound: outlets and then quotes are
    given up first (saying how many), and at worst the heading alone is sent."""
    for outlets_listed, quotes_listed in _SHRINK_STEPS:
        body = dialect.join(
            _lines(message, dialect, zone, watchlists_in_heading, outlets_listed, quotes_listed)
        )
        if dialect.fits(body):
            return body
    # Only a pathological message gets here (every part at its longest): a short heading.
    escape = dialect.escape
    names = watchlist_names(message.watchlists) if watchlists_in_heading else ""
    title = escape(shortened(story_title(message), 200))
    heading = f"[{escape(names)}] {title}" if names else title
    ids = alert_ids_text(message.alert_ids)
    return dialect.join([dialect.heading(heading), dialect.footer(ids) if ids else None])


def _lines(
    message: StoryMessage,
    dialect: Dialect,
    zone: tzinfo,
    watchlists_in_heading: bool,
    outlets_listed: int,
    quotes_listed: int,
) -> list[str | None]:
    escape = dialect.escape
    link = http_link(message.url)
    title = escape(story_title(message))
    heading = dialect.anchor(link, title) if link else title
    names = watchlist_names(message.watchlists)
    if watchlists_in_heading and names:
        heading = f"[{escape(names)}] {heading}"
    lines: list[str | None] = [dialect.heading(heading)]
    if names and not watchlists_in_heading:
        label = "Watchlist" if len(message.watchlists) == 1 else "Watchlists"
        lines.append(dialect.meta(escape(f"{label}: {names}")))
    where = source_and_time(message, zone)
    if where:
        lines.append(dialect.meta(escape(where)))
    if message.terms:
        lines.append(dialect.meta(escape(matched_terms(message.terms))))
    quotes = quotable(message.quotes)[:MAX_QUOTES]
    lines += [
        dialect.quote(highlighted_quote(quote, escape, dialect.mark))
        for quote in quotes[:quotes_listed]
    ]
    left_out = len(quotes) - quotes_listed
    if left_out > 0:
        sentences = "sentence" if left_out == 1 else "sentences"
        lines.append(dialect.meta(f"({left_out} more quoted {sentences} left out)"))
    if link:
        shown = dialect.anchor(link, escape(link_text(link))) if dialect.has_anchors else link
        lines.append(dialect.meta(shown))
    elif message.url and message.url.strip():
        lines.append(dialect.meta(escape("Link: " + shortened(message.url, _UNLINKED_URL_CHARS))))
    lines.append(_outlets_line(message.outlets, dialect, outlets_listed))
    ids = alert_ids_text(message.alert_ids)
    lines.append(dialect.footer(ids) if ids else None)
    return lines


def _outlets_line(outlets: Sequence[Outlet], dialect: Dialect, listed: int) -> str | None:
    """The other outlets, each name linked to its copy: "Also published by (3): A, B and 1
    more"."""
    named = named_outlets(outlets)
    if not named:
        return None
    if listed <= 0:
        others = "other outlet" if len(named) == 1 else "other outlets"
        return dialect.meta(f"Also published by {len(named)} {others}")
    escape = dialect.escape
    shown = ", ".join(
        dialect.anchor(link, escape(name)) if link else escape(name)
        for name, link in named[:listed]
    )
    more = len(named) - listed
    tail = f" and {more} more" if more > 0 else ""
    return dialect.meta(f"Also published by ({len(named)}): {shown}{tail}")
