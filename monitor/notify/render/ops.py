"""The operations alerts of one dispatch in one message: a feed stale or recovered, a channel
that refuses alerts. Their text quotes feeds and servers (titles, error messages), so it is
escaped like any feed text."""

from __future__ import annotations

from datetime import tzinfo

from monitor.model import OpsMessage, OpsNotice
from monitor.notify.render.dialects import (
    Dialect,
    http_link,
    link_text,
    longest_fitting,
    shortened,
)
from monitor.notify.render.when import full_time

_TITLE_CHARS = 200
_TEXT_CHARS = 1000
_URL_CHARS = 300


def ops_heading(message: OpsMessage) -> str:
    """The single notice's title, or "monitor operations: 3 notices"; plain text."""
    if len(message.notices) == 1:
        return notice_title(message.notices[0])
    return f"monitor operations: {len(message.notices)} notices"


def notice_title(notice: OpsNotice) -> str:
    return shortened(notice.title, _TITLE_CHARS) or "(untitled notice)"


def notice_text(notice: OpsNotice) -> str:
    return shortened(notice.text, _TEXT_CHARS)


def notice_footer(notice: OpsNotice, zone: tzinfo) -> str:
    return f"{full_time(notice.at, zone)} · Alert {notice.alert_id}"


def shown_url(notice: OpsNotice) -> str:
    """What a notice is about, as text: a masked channel URL is not a link."""
    return shortened(notice.url or "", _URL_CHARS)


def ops_body(message: OpsMessage, dialect: Dialect, zone: tzinfo) -> str:
    """Every notice, or as many as the dialect's length bound holds and how many more."""

    def body(listed: int) -> str:
        return dialect.join(_lines(message, dialect, zone, listed))

    return longest_fitting(len(message.notices), body, dialect)


def _lines(message: OpsMessage, dialect: Dialect, zone: tzinfo, listed: int) -> list[str | None]:
    escape = dialect.escape
    single = len(message.notices) == 1
    lines: list[str | None] = [dialect.heading(escape(ops_heading(message)))]
    for notice in message.notices[:listed]:
        if not single:
            lines.append(dialect.gap)
            lines.append(dialect.group(escape(notice_title(notice))))
        if text := notice_text(notice):
            lines.append(dialect.meta(escape(text)))
        link = http_link(notice.url)
        if link:
            shown = dialect.anchor(link, escape(link_text(link))) if dialect.has_anchors else link
            lines.append(dialect.meta(shown))
        elif notice.url and notice.url.strip():
            lines.append(dialect.meta(escape(shown_url(notice))))
        footer = escape(notice_footer(notice, zone))
        lines.append(dialect.footer(footer) if single else dialect.meta(footer))
    left = len(message.notices) - listed
    if left > 0:
        lines.append(dialect.gap)
        lines.append(dialect.meta(f"And {left} more {'notice' if left == 1 else 'notices'}."))
    return lines
