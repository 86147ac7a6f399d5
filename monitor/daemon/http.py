"""`http: {listen: …}`: `/healthz` and Prometheus `/metrics`, served by the standard library's
threading HTTP server in a thread of its own, so a scrape never waits for the event loop (and
/healthz still answers when the loop is wedged: that is what it reports). `stop()` ends it
within half a second (serve_forever's poll), which SIGTERM's clean stop awaits."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger("monitor.http")


class ListenError(Exception):
    """The endpoint's address could not be bound (in use, not this machine's)."""


class HealthServer:
    """`health()` returns None when all is well, else the reason, sent with a 503."""

    def __init__(
        self,
        address: tuple[str, int],
        registry: CollectorRegistry,
        health: Callable[[], str | None],
    ) -> None:
        handler = _handler(registry, health)
        try:
            self._server = _Server(address, handler)
        except OSError as error:
            host, port = address
            raise ListenError(f"http.listen {host}:{port}: {error.strerror or error}") from None
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="monitor-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Blocks until the server's loop ends; requests in flight end in their own threads."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a request in flight never holds the process at exit

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        # An IPv6 host (`[::1]:9464`, given as `::1`) needs an IPv6 socket.
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks the resolver for the host's name: needless, and slow
        # on a machine without one.
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]


def _handler(
    registry: CollectorRegistry, health: Callable[[], str | None]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "monitor"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                reason = health()
                if reason is None:
                    self._reply(200, b"ok\n", "text/plain; charset=utf-8")
                else:
                    self._reply(503, f"{reason}\n".encode(), "text/plain; charset=utf-8")
            elif path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            else:
                self._reply(404, b"not found: try /healthz or /metrics\n", "text/plain")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            # Prometheus scrapes every few seconds: not a line each in the journal.
            log.debug("%s " + format, self.address_string(), *args)

    return Handler
