"""The email as a mail server receives it (aiosmtpd on loopback, through Apprise's SMTP
transport): multipart/alternative with our own text/plain part and the HTML document,
`Auto-Submitted: auto-generated`, a `From:` display name, a subject of at most 100 characters,
and no header a feed's line breaks could add."""

from __future__ import annotations

from email.message import EmailMessage
from urllib.parse import quote

import pytest

from monitor.model import Message
from monitor.notify import AppriseSender, Rendered, render
from tests.render_messages import PARIS, digest, ops, story
from tests.smtp_server import running_smtp_server
from tests.test_notify_render_digest import README_DIGEST, README_TEXT

INJECTION = "Sommet\r\nBcc: evil@example.org\r\nX-Injected: 1\r\n\r\nfaux corps\u2028\x85 fin"


def received(rendered: Rendered, **url: str) -> EmailMessage:
    """The one message a real SMTP server received for `rendered`."""
    with running_smtp_server() as smtp:
        outcome = AppriseSender().send(smtp.mailto_url(**url), rendered)
    assert outcome.ok, outcome.error
    [message] = smtp.messages
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    """(text/plain, text/html) of a multipart/alternative message, line endings as sent."""
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert html.get_content_type() == "text/html"
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    return _lf(plain.get_content()), _lf(html.get_content())


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


@pytest.mark.parametrize(
    "message", [story(), README_DIGEST, digest(), ops()], ids=["story", "readme", "digest", "ops"]
)
def test_the_email_carries_our_text_part_beside_the_html_document(message: Message) -> None:
    rendered = render(message, "email", PARIS)
    received_message = received(rendered)
    text, html = parts(received_message)
    assert rendered.text_body is not None
    assert text == rendered.text_body
    assert html == rendered.body
    assert received_message["Subject"] == rendered.title
    assert received_message["Auto-Submitted"] == "auto-generated"
    assert received_message["Message-ID"] and received_message["Date"]
    assert received_message["MIME-Version"] == "1.0"


def test_the_readme_digest_arrives_as_written() -> None:
    text, _ = parts(received(render(README_DIGEST, "email", PARIS)))
    assert text == README_TEXT


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ({}, "monitor <monitor@example.org>"),
        ({"extra": "&name=Veille%20desk"}, "Veille desk <monitor@example.org>"),
        ({"sender": quote("Desk <desk@example.org>")}, "Desk <desk@example.org>"),
    ],
)
def test_the_sender_is_named_monitor_unless_the_url_names_it(
    url: dict[str, str], shown: str
) -> None:
    message = received(render(story(), "email", PARIS), **url)
    assert str(message["From"]) == shown


def test_headers_from_the_url_are_added_and_may_replace_auto_submitted() -> None:
    rendered = render(story(), "email", PARIS)
    message = received(rendered, extra="&+X-Desk=veille&+Auto-Submitted=auto-notified")
    assert message["X-Desk"] == "veille"
    assert message.get_all("Auto-Submitted") == ["auto-notified"]


def test_copies_go_to_cc_and_bcc_recipients_with_one_message() -> None:
    rendered = render(story(), "email", PARIS)
    with running_smtp_server() as smtp:
        url = smtp.mailto_url(extra="&cc=chef@example.org&bcc=archive@example.org")
        assert AppriseSender().send(url, rendered).ok
    [message] = smtp.messages
    assert message["Cc"] == "chef@example.org"
    assert message["Bcc"] is None  # never shown
    assert smtp.data_attempts == 1


def test_a_hostile_title_folds_no_header_of_its_own() -> None:
    rendered = render(story(title=INJECTION + " mot" * 60), "email", PARIS)
    message = received(rendered)
    assert len(rendered.title) <= 100
    assert message["Subject"] == rendered.title
    assert message["Subject"].startswith("[otan] Sommet Bcc: evil@example.org X-Injected: 1 faux")
    assert message["Bcc"] is None and message["X-Injected"] is None


def test_a_title_not_made_by_the_renderer_is_still_one_header() -> None:
    # A caller that skipped the renderer: the email service collapses the line breaks itself.
    rendered = Rendered(INJECTION, "<p>corps</p>", "html", "corps")
    message = received(rendered)
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["Subject"] == " ".join(INJECTION.split())
    assert parts(message) == ("corps\n", "<p>corps</p>\n")


def test_without_a_text_part_apprise_writes_the_message_itself() -> None:
    message = received(Rendered("titre", "<p>corps</p>", "html"))
    text, _ = parts(message)  # Apprise's own: its text converted from the HTML
    assert text.strip() == "corps"
    assert message["Auto-Submitted"] is None
