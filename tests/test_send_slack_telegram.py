"""Slack and Telegram through the real send path: Apprise's plugins send their real requests to
https://hooks.slack.com, https://slack.com and https://api.telegram.org, which the loopback HTTPS
harness answers (tests/https_loopback.py). Every failure class comes back classified, with a
reason a user can read and no token in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main
from monitor.model import SendOutcome
from monitor.notify import AppriseSender, Rendered
from tests.https_loopback import HttpsLoopback, telegram_flood_wait

HOOK_TOKEN = "TIiajkdnlazkcOXrIdevi7FQ"
SLACK_HOOK = f"slack://T1JJ3T3L2/A1BRTD4JD/{HOOK_TOKEN}/#desk"
HOOK_PATH = f"/services/T1JJ3T3L2/A1BRTD4JD/{HOOK_TOKEN}"

BOT_TOKEN = "xoxb-1234-1234-4ddbc191d40ee098cbaae6f3523ada2d"
SLACK_BOT = f"slack://{BOT_TOKEN}/#desk"
BOT_PATH = "/api/chat.postMessage"

TELEGRAM_TOKEN = "123456789:abcdefg_hijklmnop"
TELEGRAM = f"tgram://{TELEGRAM_TOKEN}/12315544/"
TELEGRAM_PATH = f"/bot{TELEGRAM_TOKEN}/sendMessage"

SECRETS = (HOOK_TOKEN, "4ddbc191d40ee098cbaae6f3523ada2d", "abcdefg_hijklmnop", "A1BRTD4JD")

# Feed text as the renderers leave it: escaped for the format, with our own markup around it.
MRKDWN = "*[otan] <https://www.example.fr/a?id=1&amp;src=rss|Sommet &lt;script&gt; &amp; OTAN>*"
TELEGRAM_HTML = (
    '<b>[otan] <a href="https://www.example.fr/a?id=1&amp;src=rss">Sommet '
    "&lt;script&gt; &amp; OTAN</a></b>\nLes alliés de l’<b>OTAN</b> discutent."
)


@pytest.fixture
def sender() -> AppriseSender:
    return AppriseSender()


def slack_message() -> Rendered:
    return Rendered("", MRKDWN, "markdown")


def telegram_message() -> Rendered:
    return Rendered("", TELEGRAM_HTML, "html")


def assert_no_secret(outcome: SendOutcome) -> None:
    assert outcome.error is not None
    assert "\n" not in outcome.error
    for secret in SECRETS:
        assert secret not in outcome.error


def section_texts(payload: dict[str, object]) -> list[str]:
    attachments = payload["attachments"]
    assert isinstance(attachments, list)
    return [
        block["text"]["text"]
        for attachment in attachments
        for block in attachment["blocks"]
        if block["type"] == "section"
    ]


# --- Delivered ------------------------------------------------------------------------------


def test_a_slack_webhook_receives_our_mrkdwn_verbatim_in_a_block(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer("hooks.slack.com", HOOK_PATH, text="ok")

    outcome = sender.send(SLACK_HOOK, slack_message())

    assert outcome == SendOutcome(ok=True)
    [request] = https_loopback.requests
    assert (request.method, request.host, request.path) == ("POST", "hooks.slack.com", HOOK_PATH)
    assert https_loopback.proxy.connects == ["hooks.slack.com:443"]
    payload = request.json()
    assert section_texts(payload) == [MRKDWN]
    assert payload["channel"] == "#desk"


def test_a_slack_bot_token_posts_to_the_web_api_with_a_bearer_token(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer("slack.com", BOT_PATH, json={"ok": True, "ts": "1.2"})

    outcome = sender.send(SLACK_BOT, slack_message())

    assert outcome == SendOutcome(ok=True)
    [request] = https_loopback.requests
    assert (request.host, request.path) == ("slack.com", BOT_PATH)
    assert request.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    payload = request.json()
    assert payload["channel"] == "#desk"
    assert section_texts(payload) == [MRKDWN]


def test_telegram_receives_our_html_with_parse_mode_html(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer("api.telegram.org", TELEGRAM_PATH, json={"ok": True, "result": {}})

    outcome = sender.send(TELEGRAM, telegram_message())

    assert outcome == SendOutcome(ok=True)
    [request] = https_loopback.requests
    assert (request.host, request.path) == ("api.telegram.org", TELEGRAM_PATH)
    payload = request.json()
    assert payload["parse_mode"] == "HTML"
    assert str(payload["chat_id"]) == "12315544"
    assert payload["text"].startswith('<b>[otan] <a href="https://www.example.fr/a?id=1&amp;src=')
    assert "Sommet &lt;script&gt; &amp; OTAN</a></b>" in payload["text"]
    assert "l’<b>OTAN</b> discutent." in payload["text"]
    assert "<script>" not in payload["text"]


# --- Refused for good (refusals of one message alone: tests/test_send_refused_message.py) -------


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (
            403,
            "invalid_token",
            "authentication refused by hooks.slack.com (HTTP 403 invalid_token)",
        ),
        (401, "", "authentication refused by hooks.slack.com (HTTP 401)"),
        (404, "no_service", "webhook not found by hooks.slack.com (HTTP 404 no_service)"),
        (
            404,
            "channel_not_found",
            "channel not found by hooks.slack.com (HTTP 404 channel_not_found)",
        ),
        (
            400,
            "invalid_payload",
            "request refused by hooks.slack.com (HTTP 400 invalid_payload)",
        ),
        (
            410,
            "channel_is_archived",
            "channel archived at hooks.slack.com (HTTP 410 channel_is_archived)",
        ),
    ],
)
def test_a_slack_webhook_refusal_is_permanent_and_says_why(
    sender: AppriseSender, https_loopback: HttpsLoopback, status: int, body: str, reason: str
) -> None:
    https_loopback.answer("hooks.slack.com", HOOK_PATH, status=status, text=body)

    outcome = sender.send(SLACK_HOOK, slack_message())

    assert outcome == SendOutcome(ok=False, error=reason, permanent=True)
    assert_no_secret(outcome)
    assert len(https_loopback.requests) == 1  # Apprise did not retry


def test_a_slack_bot_token_refused_in_an_ok_answer_is_permanent(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    # Slack's Web API answers its errors with HTTP 200 and "ok": false.
    https_loopback.answer("slack.com", BOT_PATH, json={"ok": False, "error": "invalid_auth"})

    outcome = sender.send(SLACK_BOT, slack_message())

    assert outcome == SendOutcome(
        ok=False,
        error="authentication refused by slack.com (HTTP 200 invalid_auth)",
        permanent=True,
    )
    assert_no_secret(outcome)


@pytest.mark.parametrize(
    ("status", "description", "reason"),
    [
        (400, "Bad Request: chat not found", "chat not found by api.telegram.org (HTTP 400)"),
        (401, "Unauthorized", "authentication refused by api.telegram.org (HTTP 401)"),
        (404, "Not Found", "bot token refused by api.telegram.org (HTTP 404)"),
        (
            403,
            "Forbidden: bot was blocked by the user",
            "bot blocked by the user at api.telegram.org (HTTP 403)",
        ),
        (
            400,
            "Bad Request: group chat was deactivated",
            "request refused by api.telegram.org (HTTP 400: group chat was deactivated)",
        ),
    ],
)
def test_a_telegram_refusal_is_permanent_and_says_why(
    sender: AppriseSender,
    https_loopback: HttpsLoopback,
    status: int,
    description: str,
    reason: str,
) -> None:
    https_loopback.answer(
        "api.telegram.org",
        TELEGRAM_PATH,
        status=status,
        json={"ok": False, "error_code": status, "description": description},
    )

    outcome = sender.send(TELEGRAM, telegram_message())

    assert outcome == SendOutcome(ok=False, error=reason, permanent=True)
    assert_no_secret(outcome)


# --- Worth a retry ------------------------------------------------------------------------------


def test_a_slack_rate_limit_is_retried_after_the_seconds_it_asks_for(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer(
        "hooks.slack.com", HOOK_PATH, status=429, text="rate_limited", headers={"Retry-After": "7"}
    )

    outcome = sender.send(SLACK_HOOK, slack_message())

    assert outcome == SendOutcome(
        ok=False, error="rate limited by hooks.slack.com: retry after 7 s", retry_after=7.0
    )
    assert outcome.retryable


def test_a_telegram_rate_limit_is_retried_after_its_retry_after_parameter(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer(
        "api.telegram.org",
        TELEGRAM_PATH,
        status=429,
        json=telegram_flood_wait(11),
    )

    outcome = sender.send(TELEGRAM, telegram_message())

    assert outcome == SendOutcome(
        ok=False, error="rate limited by api.telegram.org: retry after 11 s", retry_after=11.0
    )
    assert_no_secret(outcome)


@pytest.mark.parametrize(
    ("status", "headers", "reason", "retry_after"),
    [
        (500, {}, "server error at hooks.slack.com (HTTP 500)", None),
        (502, {}, "hooks.slack.com is unavailable (HTTP 502)", None),
        (503, {"Retry-After": "30"}, "hooks.slack.com is unavailable (HTTP 503)", 30.0),
        (408, {}, "hooks.slack.com timed out (HTTP 408)", None),
        (429, {}, "rate limited by hooks.slack.com (HTTP 429)", None),
    ],
)
def test_a_slack_server_in_trouble_is_worth_a_retry(
    sender: AppriseSender,
    https_loopback: HttpsLoopback,
    status: int,
    headers: dict[str, str],
    reason: str,
    retry_after: float | None,
) -> None:
    https_loopback.answer("hooks.slack.com", HOOK_PATH, status=status, headers=headers)

    outcome = sender.send(SLACK_HOOK, slack_message())

    assert outcome == SendOutcome(ok=False, error=reason, retry_after=retry_after)
    assert len(https_loopback.requests) == 1  # Apprise did not retry


def test_telegram_server_errors_are_worth_a_retry(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer(
        "api.telegram.org",
        TELEGRAM_PATH,
        status=502,
        json={"ok": False, "error_code": 502, "description": "Bad Gateway"},
    )

    outcome = sender.send(TELEGRAM, telegram_message())

    assert outcome == SendOutcome(ok=False, error="api.telegram.org is unavailable (HTTP 502)")


def test_a_service_slower_than_the_read_timeout_is_worth_a_retry(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    held = https_loopback.hold("hooks.slack.com", HOOK_PATH)

    # rto=1: the read timeout this URL asks for (the server answers only when released).
    outcome = sender.send(f"{SLACK_HOOK}?rto=1", slack_message())
    held.release()

    assert held.arrived.is_set()
    assert outcome == SendOutcome(ok=False, error="timed out waiting for hooks.slack.com to answer")
    assert_no_secret(outcome)


def test_a_retry_after_a_rate_limit_is_delivered(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer_once(
        "hooks.slack.com", HOOK_PATH, status=429, text="rate_limited", headers={"Retry-After": "1"}
    )
    https_loopback.answer("hooks.slack.com", HOOK_PATH, text="ok")

    first = sender.send(SLACK_HOOK, slack_message())
    second = sender.send(SLACK_HOOK, slack_message())

    assert first.retryable and first.retry_after == 1.0
    assert second.ok
    assert [request.path for request in https_loopback.requests] == [HOOK_PATH, HOOK_PATH]


# --- `monitor test-alert` -------------------------------------------------------------------


def test_alert_prints_the_classified_refusal_of_a_slack_channel_in_one_line(
    https_loopback: HttpsLoopback, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    https_loopback.answer("hooks.slack.com", HOOK_PATH, status=403, text="invalid_token")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path / 'monitor.db'}\n"
        f"channels:\n  desk:\n    url: {SLACK_HOOK}\n",
        encoding="utf-8",
    )

    assert main(["--config", str(config), "test-alert", "desk"]) == 1

    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("test alert to desk (slack://")
    assert out.endswith(
        " failed, permanent: fix the channel: "
        "authentication refused by hooks.slack.com (HTTP 403 invalid_token)\n"
    )
    for secret in SECRETS:
        assert secret not in out
    [request] = https_loopback.requests
    assert "OTAN" in request.text()


def test_alert_prints_a_telegram_rate_limit_as_worth_a_retry(
    https_loopback: HttpsLoopback, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    https_loopback.answer(
        "api.telegram.org",
        TELEGRAM_PATH,
        status=429,
        json={"ok": False, "error_code": 429, "parameters": {"retry_after": 3}},
    )
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path / 'monitor.db'}\nchannels:\n  chat:\n    url: {TELEGRAM}\n",
        encoding="utf-8",
    )

    assert main(["--config", str(config), "test-alert", "chat"]) == 1

    out = capsys.readouterr().out
    assert out.endswith(
        " failed, worth a retry: rate limited by api.telegram.org: retry after 3 s\n"
    )
    for secret in SECRETS:
        assert secret not in out
