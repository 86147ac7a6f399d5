"""Why a send failed, in one line a user understands, and whether a retry can help.

Permanent: the service refused what only a change of configuration can fix: authentication
refused, a token unknown, a chat or channel not found, another HTTP 4xx (RFC 9110 §15.5: the
request's own fault), SMTP credentials refused (530, 534, 535; RFC 4954 §6). Anything else is
worth a retry: no answer (a timeout, a refused connection), HTTP 5xx, 408 and 429 (they ask to
come back later), an SMTP refusal of another kind. A rate limit carries the wait the service
asked for (Retry-After, or Telegram's `parameters.retry_after`).

Among the permanent ones, a refusal of this message alone (`refused_message`): its text empty,
too long or with markup the service cannot read, HTTP 413. No retry sends it, but the channel
works and the next message may pass: it is not reported as a channel refusing alerts.

HTTP failures are read from the exchanges `responses.observe_http` recorded; SMTP failures (and
HTTP plugins that do not use `requests`) only from what Apprise logged, smtplib's exception text.
The reason names the host and the service's own error code, never anything from the URL path
(where Slack and Telegram keep their tokens).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus

from monitor.notify.apprise_log import record_text
from monitor.notify.responses import HttpExchange


@dataclass(frozen=True)
class Failure:
    """`refused_message`: permanent for this message alone (see the module's docstring)."""

    reason: str
    permanent: bool
    retry_after: float | None = None
    refused_message: bool = False


# Slack's error codes (Web API JSON, webhook plain text) that no retry will fix, in words.
_PERMANENT_CODES = {
    "invalid_auth": "authentication refused by {host}",
    "not_authed": "authentication refused by {host}",
    "invalid_token": "authentication refused by {host}",
    "token_revoked": "authentication refused by {host}",
    "token_expired": "authentication refused by {host}",
    "account_inactive": "authentication refused by {host}",
    "not_allowed_token_type": "authentication refused by {host}",
    "missing_scope": "permission refused by {host}",
    "no_permission": "permission refused by {host}",
    "action_prohibited": "permission refused by {host}",
    "restricted_action": "permission refused by {host}",
    "access_denied": "permission refused by {host}",
    "channel_not_found": "channel not found by {host}",
    "no_service": "webhook not found by {host}",
    "no_service_id": "webhook not found by {host}",
    "no_team": "workspace not found by {host}",
    "team_disabled": "workspace disabled at {host}",
    "user_not_found": "user not found by {host}",
    "is_archived": "channel archived at {host}",
    "channel_is_archived": "channel archived at {host}",
    "not_in_channel": "bot not in the channel at {host}",
    # The request's shape, which Apprise builds the same for every message: the channel's.
    "invalid_payload": "request refused by {host}",
}
# Slack's codes for what one message holds (its text, its blocks): refused for it alone.
_MESSAGE_CODES = frozenset(
    {
        "no_text",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "too_many_attachments",
        "invalid_attachments",
    }
)
_MESSAGE_REFUSED = "message refused by {host}"
_RATE_LIMIT_CODES = {"ratelimited", "rate_limited"}
# Slack's codes for its own trouble (it may answer them with HTTP 200 and "ok": false).
_SERVER_TROUBLE_CODES = {
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "rollup_error",
}
# Telegram's descriptions ("Bad Request: chat not found"), by a fragment, in words.
_DESCRIPTION_PHRASES = (
    ("chat not found", "chat not found by {host}"),
    ("bot was blocked", "bot blocked by the user at {host}"),
    ("bot was kicked", "bot removed from the chat at {host}"),
    ("user is deactivated", "user deactivated at {host}"),
    ("upgraded to a supergroup", "chat moved to a supergroup at {host}"),
    ("not enough rights", "permission refused by {host}"),
    ("have no rights", "permission refused by {host}"),
    ("unauthorized", "authentication refused by {host}"),
)
# Telegram's descriptions of what one message holds: refused for it alone. The description
# stays in the reason ("can't parse entities: Unsupported start tag at byte offset 12"): it
# says what in the message to look at.
_MESSAGE_DESCRIPTIONS = (
    "can't parse entities",
    "message is too long",
    "text must be non-empty",
    "message text is empty",
)
_STATUS_PHRASES = {
    400: "request refused by {host}",
    401: "authentication refused by {host}",
    403: "access refused by {host}",
    404: "not found at {host}",
    410: "gone from {host}",
}
# Content Too Large (RFC 9110 §15.5.14): this message's size, the next may be smaller.
_MESSAGE_STATUSES = {413: "message too large for {host}"}
# Telegram keeps the bot token in the path: its 404 means "no such bot token".
_NOT_FOUND_MEANS = {"api.telegram.org": "bot token refused by {host}"}
# Telegram prefixes its descriptions with the status's reason phrase.
_REASON_PREFIX = re.compile(r"^(?:[A-Z][a-z]+(?: [A-Z][a-z]+)*)\s*:\s*")
_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")

_TRANSPORT_PHRASES = {
    "connect_timeout": "timed out connecting to {host}",
    "read_timeout": "timed out waiting for {host} to answer",
    "tls": "TLS failed with {host}",
    "proxy": "the proxy could not reach {host}",
    "connection": "could not connect to {host}",
    "other": "the request to {host} failed",
}


def failure_of_exchanges(exchanges: Sequence[HttpExchange]) -> Failure | None:
    """The failure of the last exchange that failed (a plugin may make several requests per
    send: a lookup, then the message), or None when none did."""
    failed = [exchange for exchange in exchanges if exchange.failed]
    return classify_http(failed[-1]) if failed else None


def classify_http(exchange: HttpExchange) -> Failure:
    host = exchange.host
    if exchange.status is None:
        phrase = _TRANSPORT_PHRASES[exchange.transport or "other"].format(host=host)
        cause = f" ({exchange.cause})" if exchange.cause else ""
        return Failure(f"{phrase}{cause}", permanent=False)
    status = exchange.status
    said = exchange.service_error or ""
    code = said if _ERROR_CODE.fullmatch(said) else ""
    description = "" if code else _REASON_PREFIX.sub("", said).strip()
    if status == 429 or code in _RATE_LIMIT_CODES or "too many requests" in said.lower():
        if exchange.retry_after is not None:
            wait = math.ceil(exchange.retry_after)
            return Failure(
                f"rate limited by {host}: retry after {wait} s",
                permanent=False,
                retry_after=exchange.retry_after,
            )
        return Failure(f"rate limited by {host} ({_detail(status, code)})", permanent=False)
    if status == 408 or status >= 500 or code in _SERVER_TROUBLE_CODES:
        if status == 408:
            phrase = f"{host} timed out"
        elif status in (502, 503, 504):
            phrase = f"{host} is unavailable"
        else:
            phrase = f"server error at {host}"
        return Failure(
            f"{phrase} ({_detail(status, code, description)})",
            permanent=False,
            retry_after=exchange.retry_after,
        )
    if 400 <= status < 500 or exchange.refused_in_body:
        refusal = _refusal(status, host, code, description)
        shown = "" if refusal.explained else description
        phrase = refusal.template.format(host=host)
        return Failure(
            f"{phrase} ({_detail(status, code, shown)})",
            permanent=True,
            refused_message=refusal.of_message,
        )
    # A redirect the plugin did not follow, or an answer it did not understand: maybe passing.
    return Failure(f"unexpected answer from {host} ({_detail(status, code)})", permanent=False)


@dataclass(frozen=True)
class _Refusal:
    template: str  # the words, with `{host}` to fill in
    explained: bool = False  # whether they already say what the service's description said
    of_message: bool = False  # refused for this message alone


def _refusal(status: int, host: str, code: str, description: str) -> _Refusal:
    if code in _MESSAGE_CODES:
        return _Refusal(_MESSAGE_REFUSED, of_message=True)
    if code in _PERMANENT_CODES:
        return _Refusal(_PERMANENT_CODES[code])
    lowered = description.lower()
    if any(fragment in lowered for fragment in _MESSAGE_DESCRIPTIONS):
        return _Refusal(_MESSAGE_REFUSED, of_message=True)
    for fragment, phrase in _DESCRIPTION_PHRASES:
        if fragment in lowered:
            return _Refusal(phrase, explained=True)
    if status in _MESSAGE_STATUSES:
        return _Refusal(_MESSAGE_STATUSES[status], of_message=True)
    if status == 404 and host in _NOT_FOUND_MEANS:
        return _Refusal(_NOT_FOUND_MEANS[host])
    return _Refusal(_STATUS_PHRASES.get(status, "request refused by {host}"))


def _detail(status: int, code: str, description: str = "") -> str:
    detail = f"HTTP {status}"
    if code:
        return f"{detail} {code}"
    if description and not _is_reason_phrase(status, description):
        return f"{detail}: {description}"
    return detail


def _is_reason_phrase(status: int, description: str) -> bool:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        return not description
    return not description or description.lower() == reason.lower()


# --- What Apprise logged: SMTP, and HTTP plugins that bypass `requests` -------------------------

# smtplib's SMTPResponseException text, "(535, b'5.7.8 Authentication credentials invalid')",
# also inside SMTPRecipientsRefused's dict; and Apprise's "SMTP recipient x was refused: 550 b'..'".
_SMTP_REPLY = re.compile(r"\((\d{3}), b(['\"])(.*?)\2|was refused: (\d{3}) b(['\"])(.*?)\5")
# SMTP: authentication required, mechanism too weak, credentials invalid (RFC 4954 §6).
_SMTP_AUTH_REFUSED = {530, 534, 535}
_HTTP_STATUS_LOGGED = re.compile(r"\berror=(\d{3})\b")
# What the socket layer says, as smtplib passes it on (strerror texts, ssl's reasons).
_UNRESOLVED = "could not connect to {host} (name not resolved)"
_SOCKET_TROUBLES = (
    ("connection refused", "could not connect to {host} (connection refused)", False),
    ("timed out", "timed out talking to {host}", False),
    ("name or service not known", _UNRESOLVED, False),
    ("temporary failure in name resolution", _UNRESOLVED, False),
    ("no address associated", _UNRESOLVED, False),
    ("connection unexpectedly closed", "{host} closed the connection", False),
    ("connection reset", "{host} reset the connection", False),
    ("network is unreachable", "could not connect to {host} (network unreachable)", False),
    ("certificate", "TLS failed with {host} (certificate not trusted)", False),
    ("ssl", "TLS failed with {host}", False),
    # A retry will meet the same server without AUTH: the URL must change (TLS, port).
    ("auth extension not supported", "{host} does not offer SMTP authentication", True),
)


def failure_of_log(records: Sequence[logging.LogRecord], host: str) -> Failure | None:
    """The failure Apprise's log explains, or None when it explains none we know."""
    texts = [record_text(record) for record in records]
    for text in texts:
        if reply := _SMTP_REPLY.search(text):
            code = int(reply[1] or reply[4])
            said = " ".join((reply[3] or reply[6] or "").split())
            return _smtp_failure(code, said, host)
    for text in texts:
        lowered = text.lower()
        if "exception:" not in lowered:
            continue
        for fragment, template, permanent in _SOCKET_TROUBLES:
            if fragment in lowered:
                return Failure(template.format(host=host), permanent=permanent)
    for text in texts:
        if status := _HTTP_STATUS_LOGGED.search(text):
            return classify_http(HttpExchange(host=host, status=int(status[1])))
    return None


def _smtp_failure(code: int, said: str, host: str) -> Failure:
    detail = f"SMTP {code} {said}".rstrip()
    if code in _SMTP_AUTH_REFUSED:
        return Failure(f"{host} refused the credentials ({detail})", permanent=True)
    if code == 421:
        return Failure(f"{host} is unavailable ({detail})", permanent=False)
    if 400 <= code < 500:
        return Failure(f"{host} deferred the message ({detail})", permanent=False)
    return Failure(f"{host} refused the message ({detail})", permanent=False)
