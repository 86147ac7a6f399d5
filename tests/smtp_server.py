"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, or refuses it.

    with running_smtp_server() as smtp:
        sender.send(smtp.mailto_url(), rendered)
        [message] = smtp.messages          # email.message.EmailMessage objects

`refuse_at="RCPT"` or `"DATA"` answers that SMTP command with `refusal` (default
"554 Transaction failed"); both can be changed while the server runs (`smtp.refuse_at = None`).
`credentials=(user, password)` turns on AUTH PLAIN/LOGIN without TLS. `smtp.stop()` and
`smtp.start()` take it down (connections refused) and back up on the same port: an outage.
`silent_listener(port)` stands in for a server that hangs: it accepts and never answers.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import selectors
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass
class SmtpServer:
    host: str
    port: int
    refuse_at: str | None = None  # "RCPT", "DATA" or None (accept)
    refusal: str = "554 Transaction failed"
    messages: list[EmailMessage] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)  # time.monotonic(), per message
    data_attempts: int = 0  # DATA commands seen, accepted or refused
    # When set, a message is answered only once this holds (or after two minutes): a server
    # that keeps its client waiting, for as long as a test needs. A DATA command keeps the
    # condition set when it arrived, so a test may set another for the next one meanwhile.
    release_when: Callable[[], bool] | None = None
    # The same for the answer to QUIT, which comes after the message was accepted: a client
    # that dies meanwhile does not know it was delivered.
    quit_release_when: Callable[[], bool] | None = None
    quits: int = 0  # QUIT commands seen
    credentials: tuple[str, str] | None = None
    _controller: Controller | None = field(default=None, repr=False)

    def start(self) -> None:
        """Listen (again) on the server's port."""
        options: dict[str, Any] = {}
        if self.credentials:
            options = {
                "authenticator": _Authenticator(*self.credentials),
                "auth_require_tls": False,
            }
        controller = _Controller(_Handler(self), hostname=self.host, port=self.port, **options)
        controller.start()
        self.port = controller.port  # the one the system chose, when asked for port 0
        self._controller = controller

    def stop(self) -> None:
        """Stop listening: connections are refused until `start()`."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def mailto_url(
        self, *, credentials: str = "", sender: str = "monitor@example.org", extra: str = ""
    ) -> str:
        """An Apprise URL for plain SMTP to this server; `credentials` is "user:password"."""
        auth = f"{credentials}@" if credentials else ""
        query = f"from={sender}&to=veille@example.org{extra}"
        return f"mailto://{auth}{self.host}:{self.port}?{query}"


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.server.refuse_at == "RCPT":
            return self.server.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.server.data_attempts += 1
        await _hold(self.server.release_when)
        if self.server.refuse_at == "DATA":
            return self.server.refusal
        content = envelope.original_content or envelope.content
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)  # what policy.default parses into
        self.server.received_at.append(time.monotonic())
        self.server.messages.append(message)
        return "250 OK"

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        self.server.quits += 1
        await _hold(self.server.quit_release_when)
        return "221 Bye"


async def _hold(release_when: Callable[[], bool] | None) -> None:
    """Until `release_when()` holds, or two minutes."""
    if release_when is not None:
        deadline = time.monotonic() + 120
        while not release_when() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user = user.encode()
        self.password = password.encode()

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        accepted = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        # handled=False: aiosmtpd answers a refusal itself (535); with True it would wait for
        # this callback to have answered, and the client would wait until its timeout.
        return AuthResult(success=accepted, handled=False)


@contextmanager
def running_smtp_server(
    *,
    refuse_at: str | None = None,
    refusal: str = "554 Transaction failed",
    credentials: tuple[str, str] | None = None,
) -> Iterator[SmtpServer]:
    server = SmtpServer(HOST, 0, refuse_at=refuse_at, refusal=refusal, credentials=credentials)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class _Controller(Controller):
    """aiosmtpd's Controller on port 0 too: the port the system chose is read off the bound
    socket before the controller connects to it to check that it is up. A free port found
    first and bound after could be taken in between (tests run in parallel)."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        created = super()._create_server()

        async def bound() -> asyncio.AbstractServer:
            server = await created
            self.port = server.sockets[0].getsockname()[1]
            return server

        return bound()


@dataclass
class SilentListener:
    """A port that accepts connections and never says a word: an SMTP client waits for the
    greeting until its timeout. When each connection came and when its client gave up
    (time.monotonic())."""

    port: int
    accepted_at: list[float] = field(default_factory=list)
    closed_at: list[float] = field(default_factory=list)


@contextmanager
def silent_listener(port: int) -> Iterator[SilentListener]:
    state = SilentListener(port)
    listener = socket.create_server((HOST, port), reuse_port=False)
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            for key, _ in selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is listener:
                    connection, _ = listener.accept()
                    connection.setblocking(False)
                    selector.register(connection, selectors.EVENT_READ)
                    state.accepted_at.append(time.monotonic())
                    continue
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if not data:  # the client gave up
                    state.closed_at.append(time.monotonic())
                    selector.unregister(sock)
                    sock.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stopping.set()
        thread.join(timeout=10)
        for key in list(selector.get_map().values()):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            sock.close()
        selector.close()


def unused_port() -> int:
    """A loopback port with nothing listening (for "server unreachable" tests)."""
    return _free_port()


def _free_port() -> int:
    # aiosmtpd's Controller cannot bind port 0 (it connects to its own port to check it is up).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])
