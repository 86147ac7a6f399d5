"""The parts under the classification: what `observe_http` records of real `requests` calls
(scoped to the observing send, thread by thread), Retry-After in both forms, and the words and
classes `classify` gives to answers the loopback services do not cover."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from pytest_httpserver import HTTPServer

from monitor.notify.classify import (
    Failure,
    classify_http,
    failure_of_exchanges,
    failure_of_log,
)
from monitor.notify.responses import HttpExchange, observe_http, parse_retry_after
from tests.smtp_server import unused_port

NOW = datetime(2026, 11, 25, 14, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        ("Wed, 25 Nov 2026 14:03:30 -0000", 30.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_observed_requests_are_recorded_with_status_retry_after_and_the_service_error(
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/hook").respond_with_data(
        "invalid_token", status=403, headers={"Retry-After": "9"}
    )
    httpserver.expect_request("/api").respond_with_json(
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 4",
            "parameters": {"retry_after": 4},
        },
        status=429,
    )
    with observe_http() as exchanges:
        requests.post(httpserver.url_for("/hook"), data="{}", timeout=10)
        requests.post(httpserver.url_for("/api"), data="{}", timeout=10)
    assert exchanges == [
        HttpExchange(host="localhost", status=403, retry_after=9.0, service_error="invalid_token"),
        HttpExchange(
            host="localhost",
            status=429,
            retry_after=4.0,
            service_error="Too Many Requests: retry after 4",
            refused_in_body=True,
        ),
    ]


def test_a_refused_connection_is_recorded_without_the_url() -> None:
    url = f"http://127.0.0.1:{unused_port()}/bot123:secret-token/sendMessage"
    with observe_http() as exchanges, pytest.raises(requests.ConnectionError):
        requests.post(url, timeout=10)
    assert exchanges == [
        HttpExchange(host="127.0.0.1", transport="connection", cause="connection refused")
    ]


def test_requests_outside_an_observation_are_not_recorded(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_data("ok")
    with observe_http() as exchanges:
        pass
    requests.get(httpserver.url_for("/x"), timeout=10)
    # A thread started during an observation has a context of its own: not ours.
    with observe_http() as observed:
        other = threading.Thread(target=requests.get, args=(httpserver.url_for("/x"),))
        other.start()
        other.join(30)
    assert exchanges == [] and observed == []
    assert len(httpserver.log) == 2


def test_concurrent_observations_each_see_their_own_requests(httpserver: HTTPServer) -> None:
    for path in ("/a", "/b"):
        httpserver.expect_request(path).respond_with_data("ok", status=201 if path == "/a" else 202)
    seen: dict[str, list[HttpExchange]] = {}
    both_inside = threading.Barrier(2, timeout=30)

    def send(path: str) -> None:
        with observe_http() as exchanges:
            both_inside.wait()  # the two observations overlap
            requests.get(httpserver.url_for(path), timeout=10)
            both_inside.wait()
        seen[path] = exchanges

    threads = [threading.Thread(target=send, args=(path,)) for path in ("/a", "/b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [exchange.status for exchange in seen["/a"]] == [201]
    assert [exchange.status for exchange in seen["/b"]] == [202]


def test_the_wrapper_is_installed_once() -> None:
    with observe_http():
        wrapped = requests.Session.send
    with observe_http():
        assert requests.Session.send is wrapped


@pytest.mark.parametrize(
    ("exchange", "failure"),
    [
        (
            HttpExchange("slack.com", 200, service_error="internal_error", refused_in_body=True),
            Failure("server error at slack.com (HTTP 200 internal_error)", permanent=False),
        ),
        (
            HttpExchange("slack.com", 200, service_error="ratelimited", refused_in_body=True),
            Failure("rate limited by slack.com (HTTP 200 ratelimited)", permanent=False),
        ),
        (
            HttpExchange("slack.com", 200, service_error="not_in_channel", refused_in_body=True),
            Failure(
                "bot not in the channel at slack.com (HTTP 200 not_in_channel)", permanent=True
            ),
        ),
        (
            HttpExchange("slack.com", 200, service_error="some_new_code", refused_in_body=True),
            Failure("request refused by slack.com (HTTP 200 some_new_code)", permanent=True),
        ),
        (
            HttpExchange("ntfy.example.org", 413),
            Failure(
                "message too large for ntfy.example.org (HTTP 413)",
                permanent=True,
                refused_message=True,
            ),
        ),
        (
            HttpExchange("ntfy.example.org", 422, service_error="Unprocessable Entity"),
            Failure("request refused by ntfy.example.org (HTTP 422)", permanent=True),
        ),
        (
            HttpExchange("api.telegram.org", 400, service_error="Bad Request: chat not found"),
            Failure("chat not found by api.telegram.org (HTTP 400)", permanent=True),
        ),
        (
            HttpExchange("hooks.slack.com", 429, retry_after=2.2),
            Failure("rate limited by hooks.slack.com: retry after 3 s", False, retry_after=2.2),
        ),
        (
            HttpExchange("hooks.slack.com", 301),
            Failure("unexpected answer from hooks.slack.com (HTTP 301)", permanent=False),
        ),
        (
            HttpExchange("hooks.slack.com", transport="connect_timeout"),
            Failure("timed out connecting to hooks.slack.com", permanent=False),
        ),
        (
            HttpExchange("hooks.slack.com", transport="tls", cause="certificate not trusted"),
            Failure("TLS failed with hooks.slack.com (certificate not trusted)", permanent=False),
        ),
        (
            HttpExchange("hooks.slack.com", transport="connection", cause="name not resolved"),
            Failure("could not connect to hooks.slack.com (name not resolved)", permanent=False),
        ),
    ],
)
def test_classify_http(exchange: HttpExchange, failure: Failure) -> None:
    assert classify_http(exchange) == failure


def test_the_last_failed_exchange_decides() -> None:
    exchanges = [
        HttpExchange("api.telegram.org", 502),
        HttpExchange("api.telegram.org", 200),
        HttpExchange("api.telegram.org", 403, service_error="Forbidden: bot was kicked"),
        HttpExchange("api.telegram.org", 200),
    ]
    assert failure_of_exchanges(exchanges) == Failure(
        "bot removed from the chat at api.telegram.org (HTTP 403)", permanent=True
    )
    assert failure_of_exchanges(exchanges[1:2]) is None
    assert failure_of_exchanges([]) is None


def record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("apprise", level, __file__, 1, message, None, None)


@pytest.mark.parametrize(
    ("messages", "failure"),
    [
        (
            ["Socket Exception: (534, b'5.7.9 Application-specific password required')"],
            Failure(
                "smtp.example.org refused the credentials "
                "(SMTP 534 5.7.9 Application-specific password required)",
                permanent=True,
            ),
        ),
        (
            ["Socket Exception: {'a@example.org': (550, b'5.1.1 No such user')}"],
            Failure(
                "smtp.example.org refused the message (SMTP 550 5.1.1 No such user)",
                permanent=False,
            ),
        ),
        (
            ["SMTP recipient a@example.org was refused: 450 b'4.2.0 Mailbox busy'"],
            Failure(
                "smtp.example.org deferred the message (SMTP 450 4.2.0 Mailbox busy)",
                permanent=False,
            ),
        ),
        (
            ["Socket Exception: [Errno -2] Name or service not known"],
            Failure("could not connect to smtp.example.org (name not resolved)", permanent=False),
        ),
        (
            ["Socket Exception: Connection unexpectedly closed"],
            Failure("smtp.example.org closed the connection", permanent=False),
        ),
        (
            ["Failed to send to Foo: Forbidden, error=403."],
            Failure("access refused by smtp.example.org (HTTP 403)", permanent=True),
        ),
        (["Sending failed."], None),
    ],
)
def test_failure_of_log(messages: list[str], failure: Failure | None) -> None:
    records = [record(logging.DEBUG, message) for message in messages]
    assert failure_of_log(records, "smtp.example.org") == failure
