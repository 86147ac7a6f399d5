"""A message refused is not a channel broken: Slack and Telegram refusals of what one message
holds (its text empty, too long or with markup the service cannot read; HTTP 413) are permanent
for that message alone (`SendOutcome.refused_message`), while the refusals that concern the
channel (credentials, token, chat, any other 4xx) stay channel-wide. Through the real send path:
Apprise's requests answered by the loopback HTTPS harness (tests/https_loopback.py)."""

from __future__ import annotations

import pytest

from monitor.model import SendOutcome
from monitor.notify import AppriseSender
from tests.https_loopback import HttpsLoopback
from tests.test_send_slack_telegram import (
    BOT_PATH,
    HOOK_PATH,
    SLACK_BOT,
    SLACK_HOOK,
    TELEGRAM,
    TELEGRAM_PATH,
    assert_no_secret,
    slack_message,
    telegram_message,
)


@pytest.fixture
def sender() -> AppriseSender:
    return AppriseSender()


def refused_message(reason: str) -> SendOutcome:
    return SendOutcome(ok=False, error=reason, permanent=True, refused_message=True)


# --- Refused for this message alone ---------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (400, "no_text", "message refused by hooks.slack.com (HTTP 400 no_text)"),
        (400, "invalid_blocks", "message refused by hooks.slack.com (HTTP 400 invalid_blocks)"),
        (
            400,
            "invalid_blocks_format",
            "message refused by hooks.slack.com (HTTP 400 invalid_blocks_format)",
        ),
        (400, "msg_too_long", "message refused by hooks.slack.com (HTTP 400 msg_too_long)"),
        (413, "", "message too large for hooks.slack.com (HTTP 413)"),
    ],
)
def test_a_slack_webhook_refusing_the_message_refuses_it_alone(
    sender: AppriseSender, https_loopback: HttpsLoopback, status: int, body: str, reason: str
) -> None:
    https_loopback.answer("hooks.slack.com", HOOK_PATH, status=status, text=body)

    outcome = sender.send(SLACK_HOOK, slack_message())

    assert outcome == refused_message(reason)
    assert not outcome.retryable
    assert_no_secret(outcome)
    assert len(https_loopback.requests) == 1  # Apprise did not retry


@pytest.mark.parametrize("code", ["msg_too_long", "no_text", "invalid_blocks"])
def test_a_slack_bot_token_refusing_the_message_in_an_ok_answer_refuses_it_alone(
    sender: AppriseSender, https_loopback: HttpsLoopback, code: str
) -> None:
    # Slack's Web API answers its errors with HTTP 200 and "ok": false.
    https_loopback.answer("slack.com", BOT_PATH, json={"ok": False, "error": code})

    outcome = sender.send(SLACK_BOT, slack_message())

    assert outcome == refused_message(f"message refused by slack.com (HTTP 200 {code})")
    assert_no_secret(outcome)


@pytest.mark.parametrize(
    ("status", "description", "reason"),
    [
        (
            400,
            'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 12',
            "message refused by api.telegram.org (HTTP 400: can't parse entities: "
            'Unsupported start tag "foo" at byte offset 12)',
        ),
        (
            400,
            "Bad Request: message is too long",
            "message refused by api.telegram.org (HTTP 400: message is too long)",
        ),
        (
            400,
            "Bad Request: message text is empty",
            "message refused by api.telegram.org (HTTP 400: message text is empty)",
        ),
    ],
)
def test_telegram_refusing_the_message_refuses_it_alone_and_says_what_is_wrong_with_it(
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

    assert outcome == refused_message(reason)
    assert_no_secret(outcome)


def test_a_telegram_413_from_the_server_in_front_refuses_the_message_alone(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    # The web server in front of the Bot API answers an oversized body itself, with no JSON.
    https_loopback.answer("api.telegram.org", TELEGRAM_PATH, status=413, text="")

    outcome = sender.send(TELEGRAM, telegram_message())

    assert outcome == refused_message("message too large for api.telegram.org (HTTP 413)")
    assert_no_secret(outcome)


def test_after_a_refused_message_the_channel_takes_the_next_one(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer_once(
        "api.telegram.org",
        TELEGRAM_PATH,
        status=400,
        json={"ok": False, "error_code": 400, "description": "Bad Request: message is too long"},
    )
    https_loopback.answer("api.telegram.org", TELEGRAM_PATH, json={"ok": True, "result": {}})

    first = sender.send(TELEGRAM, telegram_message())
    second = sender.send(TELEGRAM, telegram_message())

    assert first.permanent and first.refused_message
    assert second == SendOutcome(ok=True)


# --- Refused for the whole channel: unchanged -----------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (403, "invalid_token"),
        (404, "no_service"),
        (404, "channel_not_found"),
        # The request's shape, built alike for every message: the channel's trouble.
        (400, "invalid_payload"),
        (422, ""),
    ],
)
def test_a_slack_channel_refusal_still_concerns_the_channel(
    sender: AppriseSender, https_loopback: HttpsLoopback, status: int, body: str
) -> None:
    https_loopback.answer("hooks.slack.com", HOOK_PATH, status=status, text=body)

    outcome = sender.send(SLACK_HOOK, slack_message())

    assert outcome.permanent
    assert not outcome.refused_message


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (400, "Bad Request: chat not found"),
        (401, "Unauthorized"),
        (403, "Forbidden: bot was blocked by the user"),
        (404, "Not Found"),
        (400, "Bad Request: group chat was deactivated"),
    ],
)
def test_a_telegram_channel_refusal_still_concerns_the_channel(
    sender: AppriseSender, https_loopback: HttpsLoopback, status: int, description: str
) -> None:
    https_loopback.answer(
        "api.telegram.org",
        TELEGRAM_PATH,
        status=status,
        json={"ok": False, "error_code": status, "description": description},
    )

    outcome = sender.send(TELEGRAM, telegram_message())

    assert outcome.permanent
    assert not outcome.refused_message


def test_a_rate_limit_is_no_refusal_at_all(
    sender: AppriseSender, https_loopback: HttpsLoopback
) -> None:
    https_loopback.answer(
        "hooks.slack.com", HOOK_PATH, status=429, text="rate_limited", headers={"Retry-After": "2"}
    )

    outcome = sender.send(SLACK_HOOK, slack_message())

    assert outcome.retryable
    assert not outcome.permanent and not outcome.refused_message


def test_a_refused_message_is_a_permanent_failure_by_construction() -> None:
    with pytest.raises(ValueError, match="permanent"):
        SendOutcome(ok=False, error="x", refused_message=True)
