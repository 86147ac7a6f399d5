"""The text/plain part of an email, written for people who read mail as text: lines wrapped at
72 characters, an underlined heading, quotes as "> " lines, links written out in full (there are
no anchors to hide them behind), and a signature separator before the footer.

Not derived from the HTML part: each message kind has its own layout here, from the same
message value and with the same words as the other formats.
"""

from __future__ import annotations

import textwrap
from datetime import tzinfo

from monitor.match.snippet import MAX_QUOTES
from monitor.model import DigestMessage, OpsMessage, StoryMessage
from monitor.notify.render.dialects import highlighted, http_link, one_line, quotable, shortened
from monitor.notify.render.digest import (
    digest_heading,
    group_heading,
    grouped,
    held_because,
    latest,
    listed_limit,
    more_text,
    story_details,
)
from monitor.notify.render.ops import notice_footer, notice_text, notice_title, ops_heading
from monitor.notify.render.ops import shown_url as notice_url
from monitor.notify.render.story import (
    MAX_OUTLETS_LISTED,
    alert_ids_text,
    matched_terms,
    named_outlets,
    source_and_time,
    story_title,
    watchlist_names,
)

WIDTH = 72
_SIGNATURE = "-- "  # RFC 3676 §4.3: mail readers fold or grey what follows
_UNLINKED_URL_CHARS = 200


def story_text(message: StoryMessage, zone: tzinfo) -> str:
    lines = _underlined(story_title(message), "=")
    facts = []
    names = watchlist_names(message.watchlists)
    if names:
        facts.append(f"{'Watchlist' if len(message.watchlists) == 1 else 'Watchlists'}: {names}")
    where = source_and_time(message, zone)
    if where:
        facts.append(where)
    if message.terms:
        facts.append(matched_terms(message.terms))
    for fact in facts:
        lines += _wrapped(fact, indent="  ")
    for quote in quotable(message.quotes)[:MAX_QUOTES]:
        lines.append("")
        lines += _wrapped(highlighted(quote, one_line, _emphasis), first="> ", indent="> ")
    link = _link_line(message.url)
    if link:
        lines += ["", link]
    outlets = named_outlets(message.outlets)
    if outlets:
        lines += ["", f"Also published by ({len(outlets)}):"]
        for name, outlet_link in outlets[:MAX_OUTLETS_LISTED]:
            lines += _wrapped(name, first="- ", indent="  ")
            if outlet_link:
                lines.append(f"  {outlet_link}")
        more = len(outlets) - MAX_OUTLETS_LISTED
        if more > 0:
            lines.append(f"- and {more} more")
    ids = alert_ids_text(message.alert_ids)
    return _with_footer(lines, f"{ids}, sent by monitor" if ids else "Sent by monitor")


def digest_text(message: DigestMessage, zone: tzinfo) -> str:
    lines = _underlined(digest_heading(message, zone), "=")
    reason = held_because(message)
    if reason:
        lines += [reason, ""]
    today = latest(message)
    limit = listed_limit("email")
    listed = message.stories if limit is None else message.stories[:limit]
    for watchlist, stories in grouped(listed):
        lines += _underlined(group_heading(watchlist, stories), "-")
        for story in stories:
            lines += _wrapped(story_title(story), first="* ", indent="  ")
            lines += _wrapped(story_details(story, zone, today), indent="  ", first="  ")
            link = _link_line(story.url, label="")
            if link:
                lines.append(f"  {link}")
            lines.append("")
    left = len(message.stories) - len(listed)
    if left > 0:
        lines += [*_wrapped(more_text(left, message.message_id, lambda c: f"`{c}`")), ""]
    footer = "Sent by monitor"
    if message.message_id is not None:
        footer = f"Message {message.message_id}, sent by monitor"
    return _with_footer(lines, footer)


def ops_text(message: OpsMessage, zone: tzinfo) -> str:
    lines = _underlined(ops_heading(message), "=")
    single = len(message.notices) == 1
    for notice in message.notices:
        indent = "" if single else "  "
        if not single:
            lines += _wrapped(notice_title(notice), first="* ", indent="  ")
        if text := notice_text(notice):
            lines += _wrapped(text, first=indent, indent=indent)
        if notice.url and notice.url.strip():
            lines.append(f"{indent}{http_link(notice.url) or notice_url(notice)}")
        lines.append(f"{indent}{notice_footer(notice, zone)}")
        lines.append("")
    return _with_footer(lines, "Sent by monitor")


def _emphasis(text: str) -> str:
    return f"*{text}*"


def _link_line(url: str | None, label: str = "Read it: ") -> str | None:
    link = http_link(url)
    if link:
        return f"{label}{link}"
    if url and url.strip():
        return f"Link: {shortened(url, _UNLINKED_URL_CHARS)}"
    return None


def _underlined(text: str, rule: str) -> list[str]:
    lines = _wrapped(text)
    return [*lines, rule * min(WIDTH, max(len(line) for line in lines)), ""]


def _wrapped(text: str, *, first: str = "", indent: str = "") -> list[str]:
    """`text` (made one line) wrapped at the width; long words such as links stay whole."""
    wrapped = textwrap.wrap(
        one_line(text),
        WIDTH,
        initial_indent=first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return wrapped or [first.rstrip()]


def _with_footer(lines: list[str], footer: str) -> str:
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join([*lines, "", _SIGNATURE, footer]) + "\n"
