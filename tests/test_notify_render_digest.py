"""Digests and operations messages per format, and the bounds every format keeps: Telegram's
4,096 characters and Slack's 3,000 whatever the digest, the email subject's 100, a complete HTML
document, and a text/plain part written for people."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.model import DigestMessage, Highlight, Message, OpsMessage, Outlet, Snippet
from monitor.notify import render
from monitor.notify.render import Rendered
from tests.render_messages import (
    HOSTILE,
    PARIS,
    WINTER,
    digest,
    digest_story,
    notice,
    ops,
    story,
)
from tests.test_notify_render import parsed

# The digest of the README: five stories held during quiet hours, one hit by two watchlists.
README_STORIES = (
    digest_story(
        1,
        title="Sommet de l’OTAN à Vilnius : les alliés s’accordent sur l’Ukraine",
        url="https://www.lemonde.fr/international/article/2026/12/04/sommet-otan-vilnius.html",
        watchlists=("otan", "défense"),
        outlets=(Outlet("Le Figaro"), Outlet("Libération"), Outlet("France 24")),
    ),
    digest_story(
        2,
        minutes_ago=15,
        title="La Finlande renforce sa frontière orientale",
        url="https://www.lefigaro.fr/international/finlande-frontiere",
        source="Le Figaro",
        watchlists=("défense",),
    ),
    digest_story(
        3,
        minutes_ago=73,
        title="L’OTAN dit « non » à une zone d’exclusion aérienne au-dessus de l’Ukraine",
        url="https://www.france24.com/fr/europe/otan-zone-exclusion",
        source="France 24",
        outlets=tuple(Outlet(f"O{n}") for n in range(5)),
    ),
    digest_story(
        4,
        minutes_ago=40,
        title="Budget des armées : le Sénat adopte la loi de programmation militaire",
        url="https://www.lesechos.fr/politique/budget-armees",
        source="Les Échos",
        watchlists=("défense",),
        outlets=(Outlet("AFP"),),
    ),
    digest_story(
        5,
        minutes_ago=60 * 11,
        title="Stoltenberg : « l’Alliance ne sera pas partie au conflit »",
        url="https://www.afp.com/fr/stoltenberg",
        source="AFP",
    ),
)
README_DIGEST = DigestMessage(
    channel="desk",
    reason="quiet_hours",
    stories=README_STORIES,
    message_id=17,
    since=WINTER - timedelta(hours=11, minutes=15),
)
README_TEXT = """\
Digest for desk: 5 stories since 3 Dec, 22:00 CET
=================================================

Held during quiet hours.

défense (2)
-----------

* La Finlande renforce sa frontière orientale
  Le Figaro · 09:00
  https://www.lefigaro.fr/international/finlande-frontiere

* Budget des armées : le Sénat adopte la loi de programmation militaire
  Les Échos · 08:35 · 2 outlets
  https://www.lesechos.fr/politique/budget-armees

otan (3)
--------

* Sommet de l’OTAN à Vilnius : les alliés s’accordent sur l’Ukraine
  Le Monde · 09:15 · 4 outlets · also défense
  https://www.lemonde.fr/international/article/2026/12/04/sommet-otan-vilnius.html

* L’OTAN dit « non » à une zone d’exclusion aérienne au-dessus de
  l’Ukraine
  France 24 · 08:02 · 6 outlets
  https://www.france24.com/fr/europe/otan-zone-exclusion

* Stoltenberg : « l’Alliance ne sera pas partie au conflit »
  AFP · 3 Dec, 22:15
  https://www.afp.com/fr/stoltenberg

--
Message 17, sent by monitor
""".replace("\n--\n", "\n-- \n")  # the signature separator ends with a space


def test_the_text_part_of_a_digest_email_reads_as_written() -> None:
    rendered = render(README_DIGEST, "email", PARIS)
    assert rendered.text_body == README_TEXT
    assert rendered.title == "Digest for desk: 5 stories since 3 Dec, 22:00 CET"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "slack",
            [
                "*Digest for desk: 5 stories since 3 Dec, 22:00 CET*",
                "Held during quiet hours.",
                "",
                "*défense (2)*",
                "• <https://www.lefigaro.fr/international/finlande-frontiere|La Finlande renforce "
                "sa frontière orientale> — Le Figaro · 09:00",
            ],
        ),
        (
            "telegram",
            [
                "<b>Digest for desk: 5 stories since 3 Dec, 22:00 CET</b>",
                "Held during quiet hours.",
                "",
                "<b>défense (2)</b>",
                '• <a href="https://www.lefigaro.fr/international/finlande-frontiere">La Finlande '
                "renforce sa frontière orientale</a> — Le Figaro · 09:00",
            ],
        ),
        (
            "text",
            [
                "Digest for desk: 5 stories since 3 Dec, 22:00 CET",
                "Held during quiet hours.",
                "",
                "défense (2):",
                "- La Finlande renforce sa frontière orientale "
                "<https://www.lefigaro.fr/international/finlande-frontiere> — Le Figaro · 09:00",
            ],
        ),
    ],
)
def test_a_digest_opens_with_its_heading_reason_and_first_group(
    kind: str, expected: list[str]
) -> None:
    assert render(README_DIGEST, kind, PARIS).body.splitlines()[:5] == expected


@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_stories_are_grouped_by_their_first_watchlist_newest_first(kind: str) -> None:
    rendered = render(README_DIGEST, kind, PARIS)
    for body in filter(None, (rendered.body, rendered.text_body)):
        order = [
            body.index(story.title.split(" : ")[0].split(" « ")[0]) for story in README_STORIES
        ]
        defense, otan = body.index("défense (2)"), body.index("otan (3)")
        # défense's group first (names in order), newest first in each group.
        assert defense < order[1] < order[3] < otan < order[0] < order[2] < order[4]
        assert body.count("Sommet de l’OTAN à Vilnius") == 1  # once, under its first watchlist
        assert "also défense" in body


@pytest.mark.parametrize(
    ("since", "stories", "heading"),
    [
        (WINTER, 2, "Digest for desk: 2 stories since 09:15 CET"),
        (WINTER - timedelta(days=1), 2, "Digest for desk: 2 stories since 3 Dec, 09:15 CET"),
        (WINTER, 1, "Digest for desk: 1 story since 09:15 CET"),
        (None, 2, "Digest for desk: 2 stories since 08:45 CET"),  # the oldest story's time
        (
            datetime(2026, 7, 4, 6, 0, tzinfo=UTC),
            1,
            "Digest for desk: 1 story since 4 Jul, 08:00 CEST",
        ),
    ],
)
def test_the_digest_heading_counts_stories_since_a_time_in_the_zone(
    since: datetime | None, stories: int, heading: str
) -> None:
    message = digest(digest().stories[:stories], since=since)
    assert render(message, "email", PARIS).title == heading
    assert render(message, "slack", PARIS).body.splitlines()[0] == f"*{heading}*"


@pytest.mark.parametrize(
    ("reason", "phrase"),
    [
        ("quiet_hours", "Held during quiet hours."),
        ("rate_limit", "Held by the channel's rate limit."),
        ("digest", None),
    ],
)
@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_held_stories_say_why(kind: str, reason: str, phrase: str | None) -> None:
    rendered = render(digest(reason=reason), kind, PARIS)
    if phrase is None:
        assert "Held" not in rendered.body
    else:
        assert phrase in rendered.body
        assert rendered.text_body is None or phrase in rendered.text_body.splitlines()


def many_stories(count: int, **changes: object) -> tuple:  # type: ignore[type-arg]
    return tuple(digest_story(n, minutes_ago=n, **changes) for n in range(1, count + 1))


def listed_items(rendered: Rendered, kind: str) -> int:
    if kind == "email":
        return rendered.body.count('<p style="margin:0 0 10px">')
    marker = "- " if kind == "text" else "• "
    return sum(line.startswith(marker) for line in rendered.body.splitlines())


@pytest.mark.parametrize(
    ("kind", "listed", "more_line"),
    [
        (
            "email",
            50,
            '<p style="margin:0 0 4px;color:#5f6368">And 30 more — list them with '
            "<code>monitor alerts --message 7</code></p>",
        ),
        ("slack", 30, "And 50 more — list them with `monitor alerts --message 7`"),
        ("text", 50, "And 30 more — list them with `monitor alerts --message 7`"),
        ("telegram", None, None),  # as many as fit in 4,096 characters
    ],
)
def test_a_digest_lists_a_capped_number_of_the_newest_stories(
    kind: str, listed: int | None, more_line: str | None
) -> None:
    rendered = render(digest(many_stories(80)), kind, PARIS)
    if listed is None:
        listed = listed_items(rendered, kind)
        assert 40 <= listed < 80
        more_line = (
            f"And {80 - listed} more — list them with <code>monitor alerts --message 7</code>"
        )
    assert listed_items(rendered, kind) == listed
    assert more_line in rendered.body.splitlines()
    shown = {int(number) for number in re.findall(r"Story (\d+)\b", rendered.body)}
    assert shown == set(range(1, listed + 1))  # the newest ones


def test_the_email_text_part_has_the_same_cap() -> None:
    text_body = render(digest(many_stories(80)), "email", PARIS).text_body
    assert text_body is not None
    assert sum(line.startswith("* ") for line in text_body.splitlines()) == 50
    assert "And 30 more — list them with `monitor alerts --message 7`" in text_body


def test_without_a_message_id_the_more_line_has_no_command() -> None:
    rendered = render(digest(many_stories(60), message_id=None), "text", PARIS)
    assert "And 10 more." in rendered.body.splitlines()
    assert "monitor alerts" not in rendered.body


def telegram_length(body: str) -> int:
    return len(body) + body.count("\n")  # Apprise sends each line break as CRLF


# An entity of ours is one of these; a cut inside one would leave a bare "&" or "&am".
_BROKEN_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|#\d+);)")


def _huge(title_chars: int) -> str:
    return ("& <b> " * (title_chars // 6 + 1))[:title_chars]


@pytest.mark.parametrize(("kind", "bound"), [("telegram", 4096), ("slack", 3000)])
@pytest.mark.parametrize(
    "message",
    [
        digest(many_stories(2000, title=_huge(300), source=HOSTILE)),
        digest(many_stories(40, url="https://e.example/" + "a&" * 990)),
        story(
            title=_huge(10_000),
            url="https://e.example/" + "a&" * 990,
            quotes=tuple(Snippet(_huge(400), (Highlight(0, 400),)) for _ in range(3)),
            outlets=tuple(Outlet(_huge(200), "https://e.example/" + "b&" * 990) for _ in range(40)),
        ),
        ops(*(notice(n, text=_huge(1000)) for n in range(200))),
    ],
    ids=["digest-long-titles", "digest-long-links", "story", "ops"],
)
def test_bounded_formats_stay_within_their_bound_without_cutting_markup(
    kind: str, bound: int, message: Message
) -> None:
    body = render(message, kind, PARIS).body
    measured = telegram_length(body) if kind == "telegram" else len(body)
    assert measured <= bound
    assert not _BROKEN_ENTITY.search(body)
    if kind == "telegram":
        tags = parsed(body)
        assert tags.balanced and not tags.open
    else:
        assert body.count("<") == body.count(">")  # every anchor closed
    if isinstance(message, DigestMessage):
        listed = listed_items(Rendered("", body, ""), kind)
        left = len(message.stories) - listed
        assert f"And {left} more — list them with" in body
        assert listed > 0 or left == len(message.stories)
    elif isinstance(message, OpsMessage):
        assert re.search(r"And \d+ more notices\.", body)


def test_a_story_too_long_for_telegram_names_fewer_outlets_then_fewer_quotes() -> None:
    quotes = tuple(otan for otan in (Snippet(f"Phrase {n} " + "x" * 380) for n in range(3)))
    outlets = tuple(Outlet(f"Outlet {n}", "https://e.example/" + "c" * 300) for n in range(40))
    body = render(story(quotes=quotes, outlets=outlets), "telegram", PARIS).body
    assert telegram_length(body) <= 4096
    assert "Also published by 40 other outlets" in body or "and 3" in body
    assert "Phrase 0" in body


@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_operations_list_every_notice_under_one_heading(kind: str) -> None:
    rendered = render(ops(), kind, PARIS)
    heading = rendered.title or rendered.body.splitlines()[0]
    assert "monitor operations: 2 notices" in heading
    for body in filter(None, (rendered.body, rendered.text_body)):
        assert body.count("is stale") == 2
        assert "4 Dec 2026, 09:15 CET · Alert 51" in body
        assert "4 Dec 2026, 09:15 CET · Alert 52" in body
        assert "veille:" in body  # a masked channel URL is shown, not linked


@pytest.mark.parametrize("kind", ["email", "text"])
def test_a_single_notice_is_its_own_heading(kind: str) -> None:
    rendered = render(ops(notice(1, title="Feed Le Quotidien is stale")), kind, PARIS)
    assert rendered.title == "Feed Le Quotidien is stale"
    assert rendered.text_body is None or rendered.text_body.startswith(
        "Feed Le Quotidien is stale\n==========================\n"
    )


LONG_TITLE = "Sommet de l’OTAN à Vilnius : " + "les alliés s’accordent sur l’Ukraine, " * 6


@pytest.mark.parametrize(
    "message",
    [
        story(title=LONG_TITLE),
        story(title="Ligne\r\nBcc: evil@example.org\r\n\r\nSubject: faux\u2028x\x85y"),
        story(title="x" * 300),  # no word boundary to cut on
        digest(channel="desk " * 40),
        ops(notice(1, title=LONG_TITLE)),
    ],
    ids=["long", "line-breaks", "one-word", "digest", "ops"],
)
def test_the_email_subject_is_one_line_of_at_most_100_characters(message: Message) -> None:
    subject = render(message, "email", PARIS).title
    assert len(subject) <= 100
    assert subject == " ".join(subject.split())  # one line, no run of spaces
    assert not re.search(r"[\r\n\x85\u2028\u2029]", subject)


def test_a_long_subject_is_cut_on_a_word_boundary_with_an_ellipsis() -> None:
    subject = render(story(title=LONG_TITLE), "email", PARIS).title
    assert subject.endswith("…")
    assert f"[otan] {LONG_TITLE}".startswith(subject[:-1])
    assert f"[otan] {LONG_TITLE}"[len(subject) - 1] == " "  # the cut falls between words


@pytest.mark.parametrize("message", [story(), digest(), ops()], ids=["story", "digest", "ops"])
def test_the_email_body_is_a_complete_html_document(message: Message) -> None:
    rendered = render(message, "email", PARIS)
    body = rendered.body
    assert body.startswith('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')
    assert f"<title>{_html_escaped(rendered.title)}</title>" in body
    assert "<body style=" in body
    assert body.endswith("</body>\n</html>\n")
    tags = parsed(body)
    assert tags.balanced and not tags.open


def _html_escaped(text: str) -> str:
    import html

    return html.escape(text)


@pytest.mark.parametrize(
    "message",
    [story(outlets=(Outlet("A", "https://a.example/" + "x" * 100),)), README_DIGEST, ops()],
    ids=["story", "digest", "ops"],
)
def test_the_text_part_is_written_for_people(message: Message) -> None:
    text_body = render(message, "email", PARIS).text_body
    assert text_body is not None
    lines = text_body.split("\n")
    long_lines = [line for line in lines if len(line) > 72]
    # Only a link may be longer than the width: it is never broken.
    assert all(re.fullmatch(r"\s*(Read it: )?https?://\S+", line) for line in long_lines)
    assert not re.search(r"</?(p|a|b|mark|blockquote|h1|div)\b", text_body.replace(HOSTILE, ""))
    assert "&lt;" not in text_body and "&amp;" not in text_body  # not escaped HTML
    heading = lines[: lines.index("")]
    assert set(heading[-1]) == {"="}  # an underlined heading
    assert text_body.endswith("\n") and "\n-- \n" in text_body  # a signature separator


def test_the_readme_shows_this_digest() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"```\n{README_TEXT}```" in readme
