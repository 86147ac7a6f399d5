"""Write one message for one channel kind: HTML email (with a text/plain part of its own),
Slack mrkdwn, Telegram HTML or plain text (docs/design.md §6).

Three message kinds (`monitor.model.Message`): a story (`story`), a digest of held stories
(`digest`), the operations notices of one dispatch (`ops`). Each is written through a
`dialects.Dialect`, which escapes everything untrusted with the format's own rules; the email's
text/plain part has a layout of its own (`email_text`). Times are shown in the zone given.
Pure functions: no I/O, no clock.

Slack and Telegram get an empty `title` and carry the heading in the body instead: Apprise pastes
a Telegram title into the HTML body unescaped, and a Slack block header is plain text capped at
150 characters. Email (the subject) and text channels get the heading as a plain-text title.
Slack and Telegram bodies stay within the services' bounds (3,000 and 4,096 characters): whole
lines or stories are left out, and the message says how many.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

from monitor.model import DigestMessage, Message, OpsMessage, StoryMessage
from monitor.notify.render.dialects import dialect_for, one_line, shortened
from monitor.notify.render.digest import digest_body, digest_heading, story_time
from monitor.notify.render.email_html import document, subject
from monitor.notify.render.email_text import digest_text, ops_text, story_text
from monitor.notify.render.ops import ops_body, ops_heading
from monitor.notify.render.story import story_body, story_heading

__all__ = ["Rendered", "one_line", "render", "story_time"]

# Apprise's own bound on a title (NotifyBase.title_maxlen).
_TITLE_CHARS = 250
# The kinds whose title is left empty: the heading leads the body.
_HEADING_IN_BODY = ("slack", "telegram")
_BODY_FORMAT = {"email": "html", "slack": "markdown", "telegram": "html"}


@dataclass(frozen=True)
class Rendered:
    """A message ready for Apprise. `body_format` is an Apprise NotifyFormat value: "html",
    "markdown" (here: Slack mrkdwn) or "text". `text_body` is an email's text/plain part
    (None for other kinds)."""

    title: str
    body: str
    body_format: str
    text_body: str | None = None


def render(message: Message, kind: str, zone: tzinfo) -> Rendered:
    """`message` written for `kind` (see `monitor.notify.channels.channel_kind`), times in
    `zone`; unknown kinds get plain text."""
    dialect = dialect_for(kind)
    heading_in_body = dialect.name in _HEADING_IN_BODY
    if isinstance(message, StoryMessage):
        heading = story_heading(message)
        body = story_body(message, dialect, zone, watchlists_in_heading=heading_in_body)
    elif isinstance(message, DigestMessage):
        heading = digest_heading(message, zone)
        body = digest_body(message, dialect, zone, dialect.name)
    elif isinstance(message, OpsMessage):
        heading = ops_heading(message)
        body = ops_body(message, dialect, zone)
    else:  # pragma: no cover - Message is a closed union
        raise TypeError(f"cannot render {type(message).__name__}")
    body_format = _BODY_FORMAT.get(dialect.name, "text")
    if heading_in_body:
        return Rendered("", body, body_format)
    if dialect.name == "email":
        title = subject(heading)
        return Rendered(title, document(title, body), body_format, _text_part(message, zone))
    return Rendered(shortened(heading, _TITLE_CHARS), body, body_format)


def _text_part(message: Message, zone: tzinfo) -> str:
    if isinstance(message, StoryMessage):
        return story_text(message, zone)
    if isinstance(message, DigestMessage):
        return digest_text(message, zone)
    return ops_text(message, zone)
