"""Stories held for a channel, sent as one message: grouped by watchlist, newest first, capped.

A story hit by several watchlists is listed once, under the first of them (the order of its
`watchlists`), and names the others ("also défense"): the heading's count is the number of
stories, and a reader of the group of the second watchlist is told where the story went.
Groups are in the order of their names, so a desk finds its watchlist at the same place in
every digest. Which stories are listed when there are too many: the newest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from monitor.model import DigestMessage, StoryMessage
from monitor.notify.render.dialects import Dialect, http_link, longest_fitting, shortened
from monitor.notify.render.story import (
    NAME_CHARS,
    SOURCE_CHARS,
    named_outlets,
    story_title,
    watchlist_names,
)
from monitor.notify.render.when import aware, short_time, since_time

# Stories listed per kind; Telegram lists as many as fit in its length bound, and Slack no
# more than fit in its own.
_LISTED = {"email": 50, "slack": 30, "telegram": None, "text": 50}
_HELD_BECAUSE = {
    "quiet_hours": "Held during quiet hours.",
    "rate_limit": "Held by the channel's rate limit.",
}


def digest_heading(message: DigestMessage, zone: tzinfo) -> str:
    """The heading, plain text: "Digest for desk: 12 stories since 08:00 CET"."""
    count = len(message.stories)
    stories = "no stories" if count == 0 else f"{count} {'story' if count == 1 else 'stories'}"
    channel = shortened(message.channel, NAME_CHARS)
    since = digest_since(message)
    when = f" since {since_time(since, zone, latest(message))}" if since is not None else ""
    return f"Digest for {channel}: {stories}{when}"


def held_because(message: DigestMessage) -> str | None:
    return _HELD_BECAUSE.get(message.reason)


def digest_since(message: DigestMessage) -> datetime | None:
    if message.since is not None:
        return message.since
    times = [moment for story in message.stories if (moment := story_time(story))]
    return min(times, default=None)


def latest(message: DigestMessage) -> datetime | None:
    """The newest time in the digest: the day it speaks of, for the times of its lines."""
    times = [
        aware(story.first_seen) if story.first_seen else story_time(story)
        for story in message.stories
    ]
    return max((moment for moment in times if moment is not None), default=None)


def story_time(story: StoryMessage) -> datetime | None:
    """When a story happened, as its digest line shows it and the digest orders it: when it
    was published, else when it was found; aware (a naive value read as UTC)."""
    moment = story.published or story.first_seen
    return aware(moment) if moment is not None else None


def grouped(stories: tuple[StoryMessage, ...]) -> list[tuple[str, list[StoryMessage]]]:
    """(watchlist, its stories newest first) in the order of the watchlists' names."""
    groups: dict[str, list[StoryMessage]] = {}
    for story in stories:
        first = story.watchlists[0] if story.watchlists else ""
        groups.setdefault(first, []).append(story)
    return sorted(groups.items(), key=lambda group: (group[0].casefold(), group[0]))


def group_heading(watchlist: str, stories: list[StoryMessage]) -> str:
    """A group's heading, plain text: "otan (3)"."""
    return f"{shortened(watchlist, NAME_CHARS) or '(no watchlist)'} ({len(stories)})"


def story_details(story: StoryMessage, zone: tzinfo, today: datetime | None) -> str:
    """A story's line after its title, plain text: "Le Monde · 09:15 · 4 outlets · also défense"."""
    source = shortened(story.source, SOURCE_CHARS)
    parts = [source] if source else []
    moment = story_time(story)
    if moment is not None:
        parts.append(short_time(moment, zone, today))
    outlets = 1 + len(named_outlets(story.outlets))
    if outlets > 1:
        parts.append(f"{outlets} outlets")
    others = watchlist_names(story.watchlists[1:])
    if others:
        parts.append(f"also {others}")
    return " · ".join(parts)


def listed_limit(kind: str) -> int | None:
    return _LISTED.get(kind, _LISTED["text"])


def more_text(left: int, message_id: int | None, code: Callable[[str], str]) -> str:
    """The line after a capped list:
    "And 12 more — list them with `monitor alerts --message 17`"."""
    if message_id is None:
        return f"And {left} more."
    return f"And {left} more — list them with {code(f'monitor alerts --message {message_id}')}"


def digest_body(message: DigestMessage, dialect: Dialect, zone: tzinfo, kind: str) -> str:
    """The digest in `dialect`: as many of the newest stories as the kind lists and the
    dialect's length bound holds, then how many more and how to list them."""
    limit = listed_limit(kind)
    most = len(message.stories) if limit is None else min(limit, len(message.stories))

    def body(listed: int) -> str:
        return dialect.join(_lines(message, dialect, zone, listed))

    return longest_fitting(most, body, dialect)


def _lines(message: DigestMessage, dialect: Dialect, zone: tzinfo, listed: int) -> list[str | None]:
    escape = dialect.escape
    today = latest(message)
    lines: list[str | None] = [dialect.heading(escape(digest_heading(message, zone)))]
    reason = held_because(message)
    if reason:
        lines.append(dialect.meta(reason))
    for watchlist, stories in grouped(message.stories[:listed]):
        lines.append(dialect.gap)
        lines.append(dialect.group(escape(group_heading(watchlist, stories))))
        for story in stories:
            title = escape(story_title(story))
            link = http_link(story.url)
            shown = dialect.link(link, title) if link else title
            lines.append(dialect.item(shown, escape(story_details(story, zone, today))))
    left = len(message.stories) - listed
    if left > 0:
        lines.append(dialect.gap)
        lines.append(dialect.meta(more_text(left, message.message_id, dialect.code)))
    return lines
