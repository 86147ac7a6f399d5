"""Sending through Apprise to real loopback servers: SMTP (aiosmtpd), and Slack / Telegram
plugins pointed at a local HTTP server. The sender tries once, never raises, and its errors
carry no secret from the URL."""

from __future__ import annotations

import importlib
import json
import logging
from datetime import UTC, datetime

import pytest
from apprise.plugins.slack import NotifySlack
from apprise.plugins.telegram import NotifyTelegram
from pytest_httpserver import HTTPServer

import monitor.notify.console
from monitor.model import Highlight, Outlet, Snippet, StoryMessage
from monitor.notify import AppriseSender, Rendered, render, valid_apprise_url
from tests.smtp_server import running_smtp_server, unused_port

PASSWORD = "s3cr3t-Pa55"
HOSTILE_TITLE = 'Sommet <script>alert(1)</script> & "*OTAN*"'
SENTENCE = "Les alliés de l’OTAN & <b>Kyiv</b> discutent."


def hostile_message() -> StoryMessage:
    start = SENTENCE.index("OTAN")
    return StoryMessage(
        alert_ids=(42,),
        watchlists=("otan",),
        title=HOSTILE_TITLE,
        url="https://www.example.fr/article?id=1&src=rss",
        source="Exemple <Info>",
        published=datetime(2026, 11, 25, 14, 3, tzinfo=UTC),
        terms=("OTAN",),
        quotes=(Snippet(SENTENCE, (Highlight(start, start + 4),)),),
        outlets=(Outlet("Agence A"), Outlet("Journal B")),
    )


@pytest.fixture
def sender() -> AppriseSender:
    return AppriseSender()


def test_email_arrives_once_with_subject_and_escaped_html(sender: AppriseSender) -> None:
    with running_smtp_server() as smtp:
        outcome = sender.send(smtp.mailto_url(), render(hostile_message(), "email", UTC))
    assert outcome.ok, outcome.error
    [message] = smtp.messages
    assert message["Subject"] == f"[otan] {HOSTILE_TITLE}"
    assert str(message["To"]) == "veille@example.org"
    html_part = message.get_body(("html",))
    assert html_part is not None
    html_body = html_part.get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;*OTAN*&quot;" in html_body
    assert "<script>" not in html_body
    assert "l’<mark" in html_body and ">OTAN</mark> &amp; &lt;b&gt;Kyiv&lt;/b&gt;" in html_body
    assert 'href="https://www.example.fr/article?id=1&amp;src=rss"' in html_body
    assert "Also published by (2): Agence A, Journal B" in html_body


def test_the_same_url_reuses_its_apprise_object_and_sends_each_message(
    sender: AppriseSender,
) -> None:
    with running_smtp_server() as smtp:
        for title in ("premier", "second"):
            outcome = sender.send(smtp.mailto_url(), Rendered(title, f"<p>{title}</p>", "html"))
            assert outcome.ok, outcome.error
    assert [message["Subject"] for message in smtp.messages] == ["premier", "second"]


@pytest.mark.parametrize("refuse_at", ["RCPT", "DATA"])
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
def test_a_refusing_server_gives_a_readable_error_without_the_password(
    sender: AppriseSender, refuse_at: str
) -> None:
    # The refusal even echoes the password: the error must still not show it.
    refusal = f"554 Transaction failed for {PASSWORD}"
    with running_smtp_server(
        refuse_at=refuse_at, refusal=refusal, credentials=("veille", PASSWORD)
    ) as smtp:
        # retry=3 in the URL must not make Apprise retry: the dispatcher owns retries.
        url = smtp.mailto_url(credentials=f"veille:{PASSWORD}", extra="&retry=3")
        outcome = sender.send(url, render(hostile_message(), "email", UTC))
    assert not outcome.ok
    assert outcome.error is not None
    assert "554" in outcome.error
    assert "Transaction failed" in outcome.error
    assert PASSWORD not in outcome.error
    assert "\n" not in outcome.error
    assert smtp.messages == []
    assert smtp.data_attempts == (1 if refuse_at == "DATA" else 0)


def test_an_unreachable_smtp_server_is_a_failed_outcome(sender: AppriseSender) -> None:
    url = f"mailto://127.0.0.1:{unused_port()}?from=monitor@example.org&to=veille@example.org"
    outcome = sender.send(url, render(hostile_message(), "email", UTC))
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error == "could not connect to 127.0.0.1 (connection refused)"
    assert outcome.retryable and outcome.retry_after is None


@pytest.mark.parametrize(
    "url",
    [
        f"nosuchservice://veille:{PASSWORD}@smtp.example.org",
        f"{PASSWORD}",
        "",
        f"tgram://not-a-token:{PASSWORD}/",
    ],
)
def test_an_invalid_url_is_a_failed_outcome_that_hides_the_url(
    sender: AppriseSender, url: str
) -> None:
    outcome = sender.send(url, render(hostile_message(), "text", UTC))
    assert not outcome.ok
    assert outcome.error is not None
    assert outcome.error.startswith("invalid Apprise URL ")
    assert PASSWORD not in outcome.error


@pytest.mark.parametrize(
    ("url", "expected_start"),
    [
        (
            f"mailtos://veille:{PASSWORD}@smtp.example.org?to=veille@example.org",
            "mailtos://veille:****@smtp.example.org",
        ),
        (f"nosuchservice://veille:{PASSWORD}@host", "nosuchservice://…"),
        (f"no scheme {PASSWORD}", "…"),
        (f"slack://T1JJ3T3L2/A1BRTD4JD/{PASSWORD}TIiajkdnlazk/#desk", "slack://"),
    ],
)
def test_privacy_url_hides_secrets(sender: AppriseSender, url: str, expected_start: str) -> None:
    shown = sender.privacy_url(url)
    assert shown.startswith(expected_start)
    assert PASSWORD not in shown


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("mailto://127.0.0.1:2525?from=monitor@example.org&to=veille@example.org", True),
        ("mailtos://veille:pw@smtp.example.org?to=veille@example.org", True),
        ("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#desk", True),
        ("tgram://123456789:abcdefg_hijklmnop/12315544/", True),
        ("console://", True),
        ("nosuchservice://host", False),
        ("https://", False),
        ("not a url", False),
        ("", False),
    ],
)
def test_valid_apprise_url(url: str, valid: bool) -> None:
    assert valid_apprise_url(url) is valid


def test_console_prints_title_and_body(
    sender: AppriseSender, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = sender.send("console://", render(hostile_message(), "console", UTC))
    assert outcome.ok, outcome.error
    printed = capsys.readouterr().out
    assert printed.startswith(f"[otan] {HOSTILE_TITLE}\n")
    assert "Les alliés de l’**OTAN** & <b>Kyiv</b> discutent." in printed
    assert printed.endswith("\n" + "-" * 72 + "\n")


def test_console_registration_is_idempotent(
    sender: AppriseSender, capsys: pytest.CaptureFixture[str]
) -> None:
    monitor.notify.console.register()
    importlib.reload(monitor.notify.console)
    assert sender.send("console://", Rendered("titre", "corps", "text")).ok
    assert capsys.readouterr().out == f"titre\ncorps\n{'-' * 72}\n"


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_apprise_debug_output_stays_out_of_the_application_log(sender: AppriseSender) -> None:
    # An application handler that takes everything, under a root logger at WARNING.
    root = logging.getLogger()
    root_level, collect = root.level, _Collect()
    root.setLevel(logging.WARNING)
    root.addHandler(collect)
    apprise_logger = logging.getLogger("apprise")
    configured_level = apprise_logger.level  # the command line's, if a test ran it before
    apprise_logger.setLevel(logging.NOTSET)
    level_before = apprise_logger.level
    try:
        url = f"mailto://127.0.0.1:{unused_port()}?from=monitor@example.org&to=veille@example.org"
        outcome = sender.send(url, Rendered("t", "b", "text"))
        level_after = apprise_logger.level
    finally:
        root.removeHandler(collect)
        root.setLevel(root_level)
        apprise_logger.setLevel(configured_level)
    assert outcome.error is not None
    assert "connection refused" in outcome.error  # read from an Apprise DEBUG record
    apprise_records = [record for record in collect.records if record.name == "apprise"]
    assert apprise_records, "Apprise's own warning still reaches the application log"
    assert all(record.levelno >= logging.WARNING for record in apprise_records)
    assert level_after == level_before
    # The capture's filter is gone; the one that cuts URLs out of Apprise's lines stays.
    assert [type(kept).__name__ for kept in apprise_logger.filters] == ["_Redact"]


def test_slack_receives_our_mrkdwn_verbatim_in_a_block(
    sender: AppriseSender, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(NotifySlack, "webhook_url", httpserver.url_for("/services"))
    httpserver.expect_oneshot_request(
        "/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", method="POST"
    ).respond_with_data("ok")
    rendered = render(hostile_message(), "slack", UTC)

    outcome = sender.send("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/", rendered)

    assert outcome.ok, outcome.error
    [(request, _)] = httpserver.log
    payload = json.loads(request.get_data())
    texts = [
        block["text"]["text"]
        for attachment in payload["attachments"]
        for block in attachment["blocks"]
        if block["type"] == "section"
    ]
    assert texts == [rendered.body]
    assert "&lt;script&gt;" in rendered.body


def test_telegram_receives_html_with_feed_text_escaped(
    sender: AppriseSender, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(NotifyTelegram, "notify_url", httpserver.url_for("/bot"))
    httpserver.expect_request(
        "/bot123456789:abcdefg_hijklmnop/sendMessage", method="POST"
    ).respond_with_json({"ok": True, "result": {}})

    outcome = sender.send(
        "tgram://123456789:abcdefg_hijklmnop/12315544/", render(hostile_message(), "telegram", UTC)
    )

    assert outcome.ok, outcome.error
    [(request, _)] = httpserver.log
    payload = json.loads(request.get_data())
    assert payload["parse_mode"] == "HTML"
    assert str(payload["chat_id"]) == "12315544"
    text = payload["text"]
    assert text.startswith('<b>[otan] <a href="https://www.example.fr/article?id=1&amp;src=rss">')
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in text
    assert "<script>" not in text
    assert "l’<b>OTAN</b> &amp; &lt;b&gt;Kyiv&lt;/b&gt;" in text
