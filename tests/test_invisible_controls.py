"""Feed text cannot reorder what a reader sees: bidirectional controls and marks (U+061C,
U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and U+FEFF in a title, a source or an outlet's
name reach no output, neither the formats of every channel kind (email subject, HTML and text
parts, Slack, Telegram, text, console) nor `monitor alerts --message`. One sanitiser,
`monitor.notify.one_line`, does it for all of them."""

from __future__ import annotations

import email.message
import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.model import Highlight, Message, Outlet, Snippet
from monitor.notify import Rendered, one_line, render
from tests.feed_server import FeedServer, rss
from tests.render_messages import PARIS, digest, digest_story, notice, ops, story
from tests.smtp_server import SmtpServer
from tests.test_end_to_end import pub_date, write_config
from tests.test_notify_email import parts, received

BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ACTING = BIDI + "\ufeff"
# "Sommet txt.exe" shown as "Sommet exe.txt" (U+202E reverses what follows), an isolate that
# reorders the source, a byte-order mark inside a word.
SPOOFED_TITLE = "Sommet de l’OTAN \u202etxt.exe\u202c \u2067droite\u2069 f\ufeffin \u200f\u061c"
SPOOFED_SOURCE = "Le \u202dMonde\u202c \u2066officiel\u2069\u200e"
SPOOFED_OUTLET = "Agence \u202bFrance\u202c \u2068Presse\u2069 \u202a\u200f"
# Seen once the controls are gone.
TITLE_SHOWN = "Sommet de l’OTAN txt.exe droite fin"
SOURCE_SHOWN = "Le Monde officiel"
OUTLET_SHOWN = "Agence France Presse"
# Joiners are not controls: emoji sequences and Persian need them.
FAMILY = "👩\u200d💻 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"

KINDS = ["email", "slack", "telegram", "text", "console"]


def hostile_story_message() -> Message:
    sentence = f"Selon l’OTAN {SPOOFED_TITLE} {FAMILY}."
    start = sentence.index("OTAN")
    return story(
        title=f"{SPOOFED_TITLE} {FAMILY}",
        source=SPOOFED_SOURCE,
        outlets=(Outlet(SPOOFED_OUTLET, "https://agence.example/copie"), Outlet(SPOOFED_OUTLET)),
        quotes=(Snippet(sentence, (Highlight(start, start + 4),)),),
        watchlists=("otan\u202e",),
        terms=("OTAN\u2066",),
    )


def hostile_messages() -> list[Message]:
    return [
        hostile_story_message(),
        digest(
            (
                digest_story(1, title=SPOOFED_TITLE, source=SPOOFED_SOURCE),
                digest_story(
                    2,
                    minutes_ago=20,
                    source=SPOOFED_OUTLET,
                    outlets=(Outlet(SPOOFED_OUTLET, "https://agence.example/2"),),
                    watchlists=("otan", "défense\u202e"),
                ),
            ),
            channel="desk\u2067",
        ),
        ops(notice(1, title=SPOOFED_TITLE, text=SPOOFED_SOURCE), notice(2, title=SPOOFED_OUTLET)),
    ]


def without_acting(text: str | None) -> bool:
    return text is None or not any(char in text for char in ACTING)


def shown(rendered: Rendered) -> str:
    return "\n".join(part for part in (rendered.title, rendered.body, rendered.text_body) if part)


@pytest.mark.parametrize("char", list(ACTING))
def test_one_line_drops_each_control_that_reorders_text(char: str) -> None:
    assert one_line(f"a{char}b") == "ab"


def test_one_line_keeps_joiners_and_makes_breaks_spaces() -> None:
    assert one_line(FAMILY) == FAMILY
    assert one_line("a\nb\r\nc\u2028d\x85e\x1b[31mf\x9bg") == "a b  c d e[31mfg"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("message", hostile_messages(), ids=["story", "digest", "ops"])
def test_no_format_lets_a_control_through(kind: str, message: Message) -> None:
    rendered = render(message, kind, PARIS)
    assert without_acting(rendered.title)
    assert without_acting(rendered.body)
    assert without_acting(rendered.text_body)


@pytest.mark.parametrize("kind", KINDS)
def test_the_story_still_says_what_the_feed_said(kind: str) -> None:
    text = shown(render(hostile_story_message(), kind, PARIS))
    for expected in (TITLE_SHOWN, SOURCE_SHOWN, OUTLET_SHOWN, FAMILY):
        # Slack writes `_` and `*` as look-alikes; none of these texts holds one.
        assert expected in text, (expected, text)


def test_a_source_of_controls_alone_is_no_source() -> None:
    rendered = render(story(source=BIDI), "text", PARIS)
    assert " · 4 Dec 2026, 09:15 CET" not in rendered.body  # no empty source before the time
    assert "4 Dec 2026, 09:15 CET" in rendered.body


def test_the_email_as_sent_has_no_control_in_its_headers_or_parts() -> None:
    rendered = render(hostile_story_message(), "email", PARIS)
    message = received(rendered, extra="&name=" + "Veille%E2%80%AE%20desk")
    assert without_acting(str(message["Subject"]))
    assert TITLE_SHOWN in str(message["Subject"])
    assert str(message["From"]) == "Veille desk <monitor@example.org>"
    text, html = parts(message)
    assert without_acting(text) and without_acting(html)
    assert TITLE_SHOWN in text and SOURCE_SHOWN in html


def test_an_email_title_not_made_by_the_renderer_is_sanitised_by_the_email_service() -> None:
    message = received(Rendered(SPOOFED_TITLE, "<p>corps</p>", "html", "corps"))
    assert str(message["Subject"]) == TITLE_SHOWN


# --- From a feed to the mailbox and `monitor alerts --message` --------------------------------

ITEM = {
    "guid": "spoof-1",
    "title": SPOOFED_TITLE,
    "link": "https://presse.example.fr/sommet",
    "description": f"<p>Les alliés de l’OTAN se réunissent. {SPOOFED_SOURCE}.</p>",
    "pubDate": pub_date(),
}


def whole_email(message: email.message.Message) -> str:
    assert isinstance(message, email.message.EmailMessage)
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    return "\n".join([headers, *parts(message)])


def test_a_spoofing_feed_reaches_neither_the_mail_nor_the_alert_listing(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = feed_server.serve("/a.xml", rss(SPOOFED_SOURCE, []))
    second = feed_server.serve("/b.xml", rss(SPOOFED_OUTLET, []))
    # No `name:`: the source shown is the feed's own title.
    config = write_config(tmp_path, [first, second], smtp, named=False, timezone="Europe/Paris")
    poll = ["--config", str(config), "poll", "--once", "--all"]
    assert main(poll) == 0  # seeded silently
    feed_server.serve("/a.xml", rss(SPOOFED_SOURCE, [ITEM]))
    feed_server.serve("/b.xml", rss(SPOOFED_OUTLET, [dict(ITEM, guid="copy-1")]))
    assert main(poll) == 0

    assert len(smtp.messages) == 1
    [message] = smtp.messages
    sent = whole_email(message)
    assert without_acting(sent)
    assert TITLE_SHOWN in str(message["Subject"])
    # The source is the feed polled first; the other may be named as another outlet.
    assert SOURCE_SHOWN in sent or OUTLET_SHOWN in sent
    capsys.readouterr()

    assert main(["--config", str(config), "alerts", "--message", "1"]) == 0
    table = capsys.readouterr().out
    assert without_acting(table)
    assert TITLE_SHOWN in table
    assert SOURCE_SHOWN in table or OUTLET_SHOWN in table

    assert main(["--config", str(config), "alerts", "--message", "1", "--json"]) == 0
    out = capsys.readouterr().out
    assert without_acting(out)
    [row] = [json.loads(line) for line in out.splitlines()]
    assert row["title"] == TITLE_SHOWN
    assert row["source"] in (SOURCE_SHOWN, OUTLET_SHOWN)
