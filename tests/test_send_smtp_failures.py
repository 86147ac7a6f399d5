"""SMTP failures through the real send path, against real servers on loopback (aiosmtpd, and a
bare socket server for what aiosmtpd will not do: a busy greeting, a silent one). Credentials
refused are permanent; a busy or deferring server, a refused connection, a timeout are worth a
retry. The reason names the server and quotes its reply, never the password."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from monitor.model import SendOutcome
from monitor.notify import AppriseSender, Rendered
from tests.smtp_server import running_smtp_server, unused_port

PASSWORD = "s3cr3t-Pa55"
MESSAGE = Rendered("titre", "corps", "text")

pytestmark = pytest.mark.filterwarnings(
    "ignore:Session.login_data is deprecated:DeprecationWarning"
)


@pytest.fixture
def sender() -> AppriseSender:
    return AppriseSender()


def test_refused_credentials_are_permanent(sender: AppriseSender) -> None:
    with running_smtp_server(credentials=("veille", PASSWORD)) as smtp:
        outcome = sender.send(smtp.mailto_url(credentials="veille:wrong-Pa55"), MESSAGE)
    assert outcome == SendOutcome(
        ok=False,
        error=(
            "127.0.0.1 refused the credentials (SMTP 535 5.7.8 Authentication credentials invalid)"
        ),
        permanent=True,
    )
    assert smtp.messages == []


def test_credentials_for_a_server_without_authentication_are_permanent(
    sender: AppriseSender,
) -> None:
    with running_smtp_server() as smtp:  # no AUTH offered
        outcome = sender.send(smtp.mailto_url(credentials=f"veille:{PASSWORD}"), MESSAGE)
    assert outcome == SendOutcome(
        ok=False, error="127.0.0.1 does not offer SMTP authentication", permanent=True
    )


@pytest.mark.parametrize(
    ("refuse_at", "refusal", "reason"),
    [
        ("RCPT", "451 4.3.0 Try again later", "127.0.0.1 deferred the message (SMTP 451 4.3.0"),
        ("DATA", "452 4.3.1 Insufficient storage", "127.0.0.1 deferred the message (SMTP 452"),
        ("DATA", "421 4.3.2 Shutting down", "127.0.0.1 is unavailable (SMTP 421 4.3.2"),
        ("DATA", f"554 5.7.1 Rejected for {PASSWORD}", "127.0.0.1 refused the message (SMTP 554"),
    ],
)
def test_other_refusals_are_worth_a_retry(
    sender: AppriseSender, refuse_at: str, refusal: str, reason: str
) -> None:
    with running_smtp_server(
        refuse_at=refuse_at, refusal=refusal, credentials=("veille", PASSWORD)
    ) as smtp:
        outcome = sender.send(smtp.mailto_url(credentials=f"veille:{PASSWORD}"), MESSAGE)
    assert not outcome.ok and outcome.retryable
    assert outcome.error is not None
    assert outcome.error.startswith(reason)
    assert PASSWORD not in outcome.error  # even when the server echoes it


def test_a_refused_connection_is_worth_a_retry(sender: AppriseSender) -> None:
    url = f"mailto://veille:{PASSWORD}@127.0.0.1:{unused_port()}?from=monitor@example.org&to=veille@example.org"
    outcome = sender.send(url, MESSAGE)
    assert outcome == SendOutcome(
        ok=False, error="could not connect to 127.0.0.1 (connection refused)"
    )


def test_a_busy_greeting_is_worth_a_retry(sender: AppriseSender) -> None:
    with greeting_server(b"421 4.3.2 Too busy, come back later\r\n") as port:
        outcome = sender.send(
            f"mailto://127.0.0.1:{port}?from=monitor@example.org&to=veille@example.org", MESSAGE
        )
    assert outcome == SendOutcome(
        ok=False, error="127.0.0.1 is unavailable (SMTP 421 4.3.2 Too busy, come back later)"
    )


def test_a_server_that_never_greets_times_out_and_is_worth_a_retry(
    sender: AppriseSender,
) -> None:
    with greeting_server(None) as port:
        # cto=1: the URL's socket timeout; the server stays silent until the test ends.
        outcome = sender.send(
            f"mailto://127.0.0.1:{port}?from=monitor@example.org&to=veille@example.org&cto=1",
            MESSAGE,
        )
    assert outcome == SendOutcome(ok=False, error="timed out talking to 127.0.0.1")


@contextmanager
def greeting_server(greeting: bytes | None) -> Iterator[int]:
    """A TCP server on loopback that greets each client with `greeting` (or says nothing) and
    keeps the connection open until the block ends."""
    done = threading.Event()

    class Greet(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            if greeting is not None:
                self.request.sendall(greeting)
            done.wait(60)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Greet)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        done.set()
        server.shutdown()
        server.server_close()
        thread.join(10)
