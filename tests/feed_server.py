"""A real HTTP server on loopback serving feed documents that tests can change between polls.

It answers conditional GETs like a well-behaved publisher (ETag / If-None-Match -> 304)."""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Resource:
    body: bytes
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    delay: float = 0.0  # seconds before answering: a slow publisher
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True  # False: a publisher that sends no validators (no 304 possible)
    # When set, the answer waits until this holds (or two minutes): a publisher that keeps its
    # client waiting for as long as a test needs. `released` says whether it held in time;
    # `holding` counts the requests it holds now.
    release_when: Callable[[], bool] | None = None
    released: bool | None = None
    holding: int = 0


@dataclass
class FeedServer:
    host: str
    port: int
    resources: dict[str, Resource] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    # (time.monotonic(), path) of every request, in order.
    request_times: list[tuple[float, str]] = field(default_factory=list)
    # Requests being answered right now, and the most seen at once, per Host header.
    in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight: dict[str, int] = field(default_factory=dict)
    connections: int = 0  # TCP connections accepted (HTTP/1.1 keeps them alive)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def serve(
        self,
        path: str,
        body: bytes | str,
        content_type: str | None = None,
        status: int = 200,
        *,
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
        etag: bool = True,
        release_when: Callable[[], bool] | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        resource = Resource(
            data,
            status=status,
            delay=delay,
            headers=headers or {},
            etag=etag,
            release_when=release_when,
        )
        if content_type:
            resource.content_type = content_type
        self.resources[path] = resource
        return self.url(path)


@contextmanager
def running_feed_server() -> Iterator[FeedServer]:
    state = FeedServer("127.0.0.1", 0)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            with state.lock:
                state.connections += 1

        def do_GET(self) -> None:
            host = self.headers.get("Host", "").rsplit(":", 1)[0]
            with state.lock:
                state.in_flight[host] = state.in_flight.get(host, 0) + 1
                state.most_in_flight[host] = max(
                    state.most_in_flight.get(host, 0), state.in_flight[host]
                )
            try:
                self._answer()
            finally:
                with state.lock:
                    state.in_flight[host] -= 1

        def _answer(self) -> None:
            with state.lock:
                state.requests.append(self.path)
                state.request_times.append((time.monotonic(), self.path))
            resource = state.resources.get(self.path)
            if resource is None:
                self.send_error(404, "Not Found")
                return
            if resource.release_when is not None:
                with state.lock:
                    resource.holding += 1
                deadline = time.monotonic() + 120
                while not (held := resource.release_when()) and time.monotonic() < deadline:
                    time.sleep(0.02)
                with state.lock:
                    resource.holding -= 1
                resource.released = held
            etag = '"' + hashlib.sha256(resource.body).hexdigest()[:16] + '"'
            if (
                resource.etag
                and resource.status == 200
                and self.headers.get("If-None-Match") == etag
            ):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            if resource.delay:
                time.sleep(resource.delay)
            self.send_response(resource.status)
            for name, value in resource.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", resource.content_type)
            self.send_header("Content-Length", str(len(resource.body)))
            if resource.etag and resource.status == 200:
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(resource.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = _QuietServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (a killed daemon) is no error of the server's.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def rss(title: str, items: list[dict[str, str]]) -> str:
    """A small RSS 2.0 document; item dicts hold guid, title, link, description, pubDate."""
    from xml.sax.saxutils import escape

    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.org/</link>",
        "<description>test feed</description>",
    ]
    for item in items:
        parts.append("<item>")
        for key in ("guid", "title", "link", "description", "pubDate"):
            if key in item:
                parts.append(f"<{key}>{escape(item[key])}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts)
