"""What the HTTP services answered during one send: the status, Retry-After, the service's error.

Apprise's HTTP plugins (Slack, Telegram and most others) call `requests.post` or
`requests.request` at module level and report a refusal only as `False` and a log line with the
status code; the Retry-After header and the error code in the body are lost. Each of those calls
builds a fresh `requests.Session` and goes through `Session.send`, once per request and per
redirect hop, so `Session.send` is wrapped once for the process: while a send of ours observes
(a context variable, which Apprise copies into the worker thread it runs a service in), the
wrapper records each exchange; for anyone else's requests it is a plain pass-through. A
response hook would not do: hooks belong to each new session (there is no process-wide
registry), and a timeout or a refused connection never reaches them.

Nothing here changes a request or its answer, and recording never raises into the plugin.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

# How a request that got no answer failed.
Transport = Literal["connect_timeout", "read_timeout", "tls", "proxy", "connection", "other"]

# A body longer than this is no API error answer (an HTML error page, say): not parsed.
_MAX_BODY_BYTES = 64 * 1024
# Slack's webhook answers its errors as a bare code in plain text ("invalid_token", "no_service").
_PLAIN_ERROR_CODE = re.compile(r"[a-z][a-z0-9_]{1,63}")
_MAX_DESCRIPTION_CHARS = 200


@dataclass(frozen=True)
class HttpExchange:
    """One request a plugin made and what came back. `status` is None when no answer came
    (`transport` says why, `cause` adds what the network layer knew: "connection refused").
    `service_error` is the service's own word for a refusal: Slack's error code, Telegram's
    description. `refused_in_body` marks a success status whose JSON body says `"ok": false`
    (Slack's Web API answers its errors with HTTP 200)."""

    host: str
    status: int | None = None
    retry_after: float | None = None
    service_error: str | None = None
    refused_in_body: bool = False
    transport: Transport | None = None
    cause: str | None = None

    @property
    def failed(self) -> bool:
        if self.status is None:
            return True
        return not 200 <= self.status < 300 or self.refused_in_body


_exchanges_of_this_send: ContextVar[list[HttpExchange] | None] = ContextVar(
    "monitor_http_exchanges", default=None
)
_install_lock = threading.Lock()
_MARK = "_monitor_observes_exchanges"


@contextmanager
def observe_http() -> Iterator[list[HttpExchange]]:
    """Collect the HTTP exchanges `requests` makes on behalf of the enclosed code, in order."""
    _install()
    exchanges: list[HttpExchange] = []
    token = _exchanges_of_this_send.set(exchanges)
    try:
        yield exchanges
    finally:
        _exchanges_of_this_send.reset(token)


def _install() -> None:
    with _install_lock:
        original = requests.Session.send
        if getattr(original, _MARK, False):
            return

        @functools.wraps(original)
        def send(
            self: requests.Session, request: requests.PreparedRequest, **kwargs: Any
        ) -> requests.Response:
            exchanges = _exchanges_of_this_send.get()
            if exchanges is None:
                return original(self, request, **kwargs)
            try:
                response = original(self, request, **kwargs)
            except requests.RequestException as error:
                _record(exchanges, functools.partial(_unanswered, request, error))
                raise
            if not kwargs.get("stream"):  # a streamed body is the caller's to read
                _record(exchanges, functools.partial(_answered, response))
            return response

        setattr(send, _MARK, True)
        setattr(requests.Session, "send", send)  # noqa: B010 - a method replaced on purpose


def _record(exchanges: list[HttpExchange], build: Callable[[], HttpExchange]) -> None:
    # What we learn is a bonus: a surprise in reading it must not break the plugin's send.
    with contextlib.suppress(Exception):
        exchanges.append(build())


def _answered(response: requests.Response) -> HttpExchange:
    body = _json_body(response)
    retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
    telegram_wait = _telegram_retry_after(body)
    if telegram_wait is not None:
        retry_after = max(retry_after or 0.0, telegram_wait)
    refused_in_body = isinstance(body, dict) and body.get("ok") is False
    failed = not 200 <= response.status_code < 300 or refused_in_body
    return HttpExchange(
        host=_host(response.request.url if response.request else response.url),
        status=response.status_code,
        retry_after=retry_after,
        service_error=_service_error(response, body) if failed else None,
        refused_in_body=refused_in_body,
    )


def _unanswered(
    request: requests.PreparedRequest, error: requests.RequestException
) -> HttpExchange:
    transport: Transport
    # Order matters: ConnectTimeout is also a ConnectionError, SSLError and ProxyError too.
    if isinstance(error, requests.ConnectTimeout):
        transport = "connect_timeout"
    elif isinstance(error, requests.Timeout):
        transport = "read_timeout"
    elif isinstance(error, requests.exceptions.SSLError):
        transport = "tls"
    elif isinstance(error, requests.exceptions.ProxyError):
        transport = "proxy"
    elif isinstance(error, requests.ConnectionError):
        transport = "connection"
    else:
        transport = "other"
    return HttpExchange(host=_host(request.url), transport=transport, cause=_cause(error))


def _cause(error: BaseException) -> str | None:
    """The network layer's reason in a few words, from the chain of causes requests keeps
    (urllib3's MaxRetryError.reason, then the OSError): never the exception text, which holds
    the request URL and so a token."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        name = type(current).__name__
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, ConnectionResetError):
            return "connection reset"
        if isinstance(current, socket.gaierror) or name == "NameResolutionError":
            return "name not resolved"
        if name == "SSLCertVerificationError":
            return "certificate not trusted"
        pending.extend(
            link
            for link in (current.__cause__, current.__context__, getattr(current, "reason", None))
            if isinstance(link, BaseException)
        )
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return None


def _json_body(response: requests.Response) -> object:
    content = response.content
    if not content or len(content) > _MAX_BODY_BYTES:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return None


def _telegram_retry_after(body: object) -> float | None:
    # {"ok": false, "error_code": 429, "parameters": {"retry_after": 11}, "description": ...}
    parameters = body.get("parameters") if isinstance(body, dict) else None
    wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(wait, int | float) and not isinstance(wait, bool) and wait >= 0:
        return float(wait)
    return None


def _service_error(response: requests.Response, body: object) -> str | None:
    """Slack's `error` code (Web API JSON, or a webhook's plain-text code), else Telegram's
    `description`, as one short line."""
    if isinstance(body, dict):
        for key in ("error", "description"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                line = " ".join(value.split())
                return line[:_MAX_DESCRIPTION_CHARS]
        return None
    content = response.content or b""
    if len(content) <= 64:
        text = content.decode("utf-8", "replace").strip()
        if _PLAIN_ERROR_CODE.fullmatch(text):
            return text
    return None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value: delay-seconds or an HTTP-date (RFC 9110
    §10.2.3); None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322 §3.3
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _host(url: str | None) -> str:
    return (urlsplit(url or "").hostname or "the service").lower()
