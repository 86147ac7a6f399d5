"""Messages for the rendering tests: hostile feed text in every field a renderer shows."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from monitor.model import (
    DigestMessage,
    Highlight,
    OpsMessage,
    OpsNotice,
    Outlet,
    Snippet,
    StoryMessage,
)

PARIS = ZoneInfo("Europe/Paris")
HOSTILE = (
    'A <script>alert(1)</script> & *bold* _it_ ~s~ `c` <https://evil.example|x> "q" <!channel>'
)
SENTENCE = f"Selon l’OTAN, {HOSTILE} fin."
# How each format writes HOSTILE.
ESCAPED = {
    "email": "A &lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold* _it_ ~s~ `c` "
    "&lt;https://evil.example|x&gt; &quot;q&quot; &lt;!channel&gt;",
    "slack": "A &lt;script&gt;alert(1)&lt;/script&gt; &amp; ∗bold∗ ˍitˍ ∼s∼ ˋcˋ "
    '&lt;https://evil.example|x&gt; "q" &lt;!channel&gt;',
    "telegram": "A &lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold* _it_ ~s~ `c` "
    "&lt;https://evil.example|x&gt; &quot;q&quot; &lt;!channel&gt;",
    "text": HOSTILE,
    "console": HOSTILE,
}
# What no markup format may contain after escaping.
RAW_MARKUP = ("<script>", "<https://evil.example|x>", "<!channel>")
URL = "https://www.example.fr/a?id=1&x=2"
WINTER = datetime(2026, 12, 4, 8, 15, tzinfo=UTC)  # 09:15 CET


def otan_quote(sentence: str = SENTENCE) -> Snippet:
    start = sentence.index("OTAN")
    return Snippet(sentence, (Highlight(start, start + 4),))


def story(**changes: Any) -> StoryMessage:
    message = StoryMessage(
        alert_ids=(42,),
        watchlists=("otan",),
        title=f"Titre {HOSTILE}",
        url=URL,
        source=f"Source {HOSTILE}",
        published=WINTER,
        terms=("OTAN", "NATO"),
        quotes=(otan_quote(),),
        outlets=(Outlet("Agence <A>", "https://agence.example/copie?a=1&b=2"), Outlet("B & Co")),
        first_seen=WINTER + timedelta(minutes=2),
    )
    return replace(message, **changes)


def digest_story(number: int, *, minutes_ago: int = 0, **changes: Any) -> StoryMessage:
    published = WINTER - timedelta(minutes=minutes_ago)
    message = StoryMessage(
        alert_ids=(100 + number,),
        watchlists=("otan",),
        title=f"Story {number}",
        url=f"https://news.example/{number}",
        source="Le Monde",
        published=published,
        terms=("OTAN",),
        quotes=(),
        first_seen=published + timedelta(minutes=1),
    )
    return replace(message, **changes)


def digest(stories: tuple[StoryMessage, ...] | None = None, **changes: Any) -> DigestMessage:
    if stories is None:
        stories = (
            digest_story(1, title=f"Titre {HOSTILE}", source=f"Source {HOSTILE}"),
            digest_story(2, minutes_ago=30, watchlists=(f"liste {HOSTILE}",)),
        )
    message = DigestMessage(
        channel="desk", reason="digest", stories=stories, message_id=7, since=WINTER
    )
    return replace(message, **changes)


def notice(number: int = 1, **changes: Any) -> OpsNotice:
    message = OpsNotice(
        alert_id=50 + number,
        title=f"Feed {HOSTILE} is stale",
        text=f"No new item: {HOSTILE}",
        url=URL,
        at=WINTER,
    )
    return replace(message, **changes)


def ops(*notices: OpsNotice) -> OpsMessage:
    return OpsMessage(notices or (notice(1), notice(2, url="mailto://veille:****@smtp.example")))
