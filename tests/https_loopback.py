"""Slack and Telegram as Apprise really reaches them, answered on loopback.

Apprise's plugins send to https://hooks.slack.com, https://slack.com and https://api.telegram.org
unchanged: `HTTPS_PROXY` routes every request to a local proxy, which tunnels each CONNECT to
one loopback HTTPS server (pytest-httpserver) whose certificate, for those names, is signed by a
test CA (trustme) that `REQUESTS_CA_BUNDLE` makes the one `requests` trusts. Nothing in the
URLs changes and certificates are verified as in production; no request leaves the machine.

    # The fixture is registered for every test (tests/conftest.py: pytest_plugins).
    def test_x(https_loopback: HttpsLoopback) -> None:
        https_loopback.answer("hooks.slack.com", "/services/T1/B1/abc", text="ok")
        https_loopback.answer_once("api.telegram.org", "/bot1:x/sendMessage", status=429,
                                   json={"ok": False, "parameters": {"retry_after": 11}})
        ... AppriseSender().send(url, rendered) ...
        [request] = https_loopback.requests_to("hooks.slack.com")
        request.json()["attachments"]

`hold(host, path)` answers only once the test calls `release()` (a server slower than the read
timeout, without a sleep). A daemon started as a process reaches the same server with
`env=https_loopback.environment(os.environ)`. Requests nothing answers get HTTP 500 and fail
the test at teardown (pytest-httpserver's check).

The proxy is a small CONNECT tunnel written here rather than proxy.py or mitmproxy: all it has
to do is send every tunnel to one port, which proxy.py can do only through its plugin internals
(its DNS hook maps a host to an address, the port stays 443) and mitmproxy only as a large
asyncio application with TLS interception we do not want; sockets and two threads per tunnel
have no moving part we do not control.
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import pytest
import trustme
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

SERVICE_HOSTS = ("hooks.slack.com", "slack.com", "api.telegram.org")
_LOOPBACK = "127.0.0.1"
# What a held answer waits for at most, so a test that forgets to release cannot hang the run.
_HOLD_LIMIT_SECONDS = 120.0
# Proxy settings that would send our requests elsewhere or around the proxy.
_PROXY_VARIABLES = ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "CURL_CA_BUNDLE")
# How often the servers' loops look for a shutdown request (socketserver's default is 0.5 s,
# which every test would pay at teardown).
_SHUTDOWN_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    host: str  # the Host header, without a port: "hooks.slack.com"
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class HeldAnswer:
    """An answer the server gives only once released; `arrived` is set when the request is in."""

    arrived: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self._released.set()

    def wait_for_release(self) -> None:
        self._released.wait(_HOLD_LIMIT_SECONDS)


class HttpsLoopback:
    def __init__(self, server: HTTPServer, proxy: _ConnectTunnel, ca_bundle: Path) -> None:
        self.server = server  # the pytest-httpserver underneath, for what this API lacks
        self.proxy = proxy
        self.ca_bundle = ca_bundle
        self._held: list[HeldAnswer] = []

    @property
    def proxy_url(self) -> str:
        return f"http://{_LOOPBACK}:{self.proxy.port}"

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: none) with the variables that route `requests` here, for a child
        process; the variables that would route around the proxy are left out."""
        env = {key: value for key, value in (base or {}).items() if key not in _PROXY_VARIABLES}
        env.update(
            HTTPS_PROXY=self.proxy_url,
            https_proxy=self.proxy_url,  # lowercase wins in urllib's lookup: set both
            REQUESTS_CA_BUNDLE=str(self.ca_bundle),
        )
        return env

    def answer(
        self,
        host: str,
        path: str,
        *,
        status: int = 200,
        json: object = None,
        text: str = "",
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> None:
        """Every `method` request to `host` + `path` gets this answer (a JSON body when `json`
        is given, else `text`). Answers set by `answer_once` come first."""
        self.server.expect_request(
            path, method=method, headers={"Host": host}
        ).respond_with_response(_response(status, json, text, headers))

    def answer_once(
        self,
        host: str,
        path: str,
        *,
        status: int = 200,
        json: object = None,
        text: str = "",
        headers: Mapping[str, str] | None = None,
        method: str = "POST",
    ) -> None:
        """The next such request gets this answer; one call per request, in order."""
        self.server.expect_oneshot_request(
            path, method=method, headers={"Host": host}
        ).respond_with_response(_response(status, json, text, headers))

    def hold(
        self,
        host: str,
        path: str,
        *,
        status: int = 200,
        json: object = None,
        text: str = "ok",
        method: str = "POST",
    ) -> HeldAnswer:
        """The next such request is answered only once the returned answer is released."""
        held = HeldAnswer()
        self._held.append(held)
        response = _response(status, json, text, None)

        def answer_when_released(_: Request) -> Response:
            held.arrived.set()
            held.wait_for_release()
            return response

        self.server.expect_oneshot_request(
            path, method=method, headers={"Host": host}
        ).respond_with_handler(answer_when_released)
        return held

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request the server received, in order (answered or not)."""
        return [_recorded(request) for request, _ in self.server.log]

    def requests_to(self, host: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.host == host]

    def release_all(self) -> None:
        for held in self._held:
            held.release()


def _response(
    status: int, body_json: object, text: str, headers: Mapping[str, str] | None
) -> Response:
    if body_json is not None:
        return Response(
            json.dumps(body_json),
            status=status,
            headers=dict(headers or {}),
            content_type="application/json",
        )
    return Response(text, status=status, headers=dict(headers or {}), content_type="text/plain")


def _recorded(request: Request) -> RecordedRequest:
    return RecordedRequest(
        method=request.method,
        host=request.host.rsplit(":", 1)[0] if request.host.count(":") == 1 else request.host,
        path=request.path,
        query=request.query_string.decode("latin-1"),
        headers=dict(request.headers.items()),
        body=request.get_data(),
    )


class _QuickStoppingHTTPServer(HTTPServer):
    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=_SHUTDOWN_POLL_SECONDS)


class _ConnectTunnel(socketserver.ThreadingTCPServer):
    """An HTTP proxy that answers every CONNECT with a tunnel to one loopback port, and
    records the `host:port` each client asked for."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, target_port: int) -> None:
        super().__init__((_LOOPBACK, 0), _TunnelHandler)
        self.target_port = target_port
        self.port = int(self.server_address[1])
        self.connects: list[str] = []
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def track(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)

    def close_tunnels(self) -> None:
        """Cut every open tunnel (shutdown wakes a thread blocked reading it; close does not)."""
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class _TunnelHandler(socketserver.BaseRequestHandler):
    server: _ConnectTunnel

    def handle(self) -> None:
        client: socket.socket = self.request
        self.server.track(client)
        head, rest = _read_head(client)
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(request_line) < 2 or request_line[0] != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        self.server.connects.append(request_line[1])
        upstream = socket.create_connection((_LOOPBACK, self.server.target_port))
        self.server.track(upstream)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            upstream.sendall(rest)
        back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
        back.start()
        _pipe(client, upstream)
        back.join(_HOLD_LIMIT_SECONDS)


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = client.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _pipe(source: socket.socket, target: socket.socket) -> None:
    with suppress(OSError):
        while chunk := source.recv(65536):
            target.sendall(chunk)
    with suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextmanager
def running_https_loopback(hosts: tuple[str, ...] = SERVICE_HOSTS) -> Iterator[HttpsLoopback]:
    """The server and its proxy, without touching the environment (see `environment()`)."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(*hosts).configure_cert(context)
    with TemporaryDirectory(prefix="https-loopback-") as directory:
        ca_bundle = Path(directory) / "ca.pem"
        authority.cert_pem.write_to_path(str(ca_bundle))
        server = _QuickStoppingHTTPServer(
            host=_LOOPBACK, port=0, ssl_context=context, threaded=True
        )
        server.start()
        proxy = _ConnectTunnel(server.port)
        proxy_thread = threading.Thread(
            target=proxy.serve_forever, args=(_SHUTDOWN_POLL_SECONDS,), daemon=True
        )
        proxy_thread.start()
        loopback = HttpsLoopback(server, proxy, ca_bundle)
        try:
            yield loopback
        finally:
            loopback.release_all()
            proxy.shutdown()
            proxy.close_tunnels()
            proxy.server_close()
            proxy_thread.join(_HOLD_LIMIT_SECONDS)
            server.clear()
            server.stop()


@pytest.fixture
def https_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpsLoopback]:
    """The loopback Slack/Telegram server, with this process's `requests` routed to it for
    the test (HTTPS_PROXY, REQUESTS_CA_BUNDLE; NO_PROXY and the like removed)."""
    with running_https_loopback() as loopback:
        for name in _PROXY_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in loopback.environment().items():
            monkeypatch.setenv(name, value)
        yield loopback
        loopback.release_all()
        loopback.server.check_assertions()


__all__ = [
    "SERVICE_HOSTS",
    "HeldAnswer",
    "HttpsLoopback",
    "RecordedRequest",
    "https_loopback",
    "running_https_loopback",
]


def telegram_flood_wait(seconds: int) -> dict[str, Any]:
    """Telegram's answer (HTTP 429) when a bot sends too fast: retry after `seconds`."""
    return {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {seconds}",
        "parameters": {"retry_after": seconds},
    }
