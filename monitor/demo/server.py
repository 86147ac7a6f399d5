"""The demo's publisher: a loopback HTTP server, in a thread of the demo's process, serving the
sample feeds of the current stage with an ETag and a Last-Modified, and answering conditional
requests with 304 as a well-behaved publisher does."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class _Document:
    body: bytes
    etag: str
    last_modified: datetime


class Publisher:
    """The documents served, by path; `publish` swaps them all at once."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._documents: dict[str, _Document] = {}
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def publish(self, documents: Mapping[str, bytes], at: datetime) -> None:
        served = {
            path: _Document(body, '"' + hashlib.sha256(body).hexdigest()[:16] + '"', at)
            for path, body in documents.items()
        }
        with self._lock:
            self._documents = served

    def document(self, path: str) -> _Document | None:
        with self._lock:
            return self._documents.get(path)


@contextmanager
def publishing() -> Iterator[Publisher]:
    """A publisher on 127.0.0.1 at a port of the system's choosing, until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    publisher = Publisher(server.server_address[1])
    server.publisher = publisher  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="demo-feeds", daemon=True)
    thread.start()
    try:
        yield publisher
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        publisher: Publisher = self.server.publisher  # type: ignore[attr-defined]
        document = publisher.document(self.path)
        if document is None:
            self.send_error(404, "Not Found")
            return
        if self._unchanged(document):
            self.send_response(304)
            self.send_header("ETag", document.etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(document.body)))
        self.send_header("ETag", document.etag)
        self.send_header("Last-Modified", format_datetime(document.last_modified, usegmt=True))
        self.end_headers()
        self.wfile.write(document.body)

    def _unchanged(self, document: _Document) -> bool:
        if "If-None-Match" in self.headers:
            return self.headers["If-None-Match"] == document.etag
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return document.last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False

    def log_message(self, format: str, *args: object) -> None:
        pass  # the demo narrates; a line per request would drown it
