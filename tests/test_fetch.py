import asyncio
import contextlib
import gzip
import ipaddress
import re
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer

from monitor.feeds import netguard
from monitor.feeds.fetch import build_client, fetch_feed, fresh_for, parse_retry_after
from monitor.feeds.netguard import Resolver, refused_reason, system_resolve
from monitor.feeds.policy import FetchPolicy
from monitor.model import FetchError, FetchResult, Validators

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
USER_AGENT = "monitor-tests/1.0"


def fetch(
    url: str,
    validators: Validators = Validators(),  # noqa: B008 - frozen, so sharing it is safe
    *,
    max_bytes: int = 1_000_000,
    timeout: float = 5.0,
    allow_private_networks: bool = True,
    resolve: Resolver = system_resolve,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FetchResult:
    policy = FetchPolicy(
        user_agent=USER_AGENT,
        timeout=timeout,
        max_body_bytes=max_bytes,
        allow_private_networks=allow_private_networks,
        resolve=resolve,
    )

    async def run() -> FetchResult:
        async with build_client(policy, transport) as client:
            return await fetch_feed(client, url, validators, policy)

    return asyncio.run(run())


def fetch_error(url: str, **options: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        fetch(url, **options)
    return caught.value


# --- a raw loopback server, for what a well-behaved HTTP server will not do --------------------


@contextlib.contextmanager
def raw_server(respond: Callable[[socket.socket], None]) -> Iterator[str]:
    """Serve every connection on 127.0.0.1 by reading the request head and calling `respond`."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                head += chunk
            with contextlib.suppress(OSError):  # the client gave up: that is the point
                respond(self.request)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    finally:
        server.shutdown()
        server.server_close()


def response_head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def gzip_of_zeros(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    megabyte = bytes(1 << 20)
    parts = [compressor.compress(megabyte) for _ in range(size >> 20)]
    return b"".join([*parts, compressor.flush()])


# --- conditional GET ---------------------------------------------------------------------------


def test_200_with_validators_then_304(httpserver: HTTPServer) -> None:
    etag, modified = '"v1"', "Tue, 02 Jul 2024 08:00:00 GMT"
    httpserver.expect_request(
        "/feed.xml", headers={"If-None-Match": etag, "If-Modified-Since": modified}
    ).respond_with_data("", status=304)
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED, content_type="application/rss+xml", headers={"ETag": etag, "Last-Modified": modified}
    )
    url = httpserver.url_for("/feed.xml")

    first = fetch(url)
    assert first == FetchResult(
        requested_url=url,
        final_url=url,
        status_code=200,
        content=FEED,
        content_type="application/rss+xml",
        validators=Validators(etag=etag, last_modified=modified),
    )
    second = fetch(url, first.validators)
    assert second.not_modified
    assert (second.status_code, second.content) == (304, b"")
    assert second.validators == first.validators

    request = httpserver.log[0][0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert request.headers["Accept"].startswith("application/rss+xml, application/atom+xml")
    assert "If-None-Match" not in request.headers


def test_304_with_a_new_etag_keeps_the_old_last_modified(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        "", status=304, headers={"ETag": '"v2"'}
    )
    old = Validators(etag='"v1"', last_modified="Tue, 02 Jul 2024 08:00:00 GMT")
    result = fetch(httpserver.url_for("/feed.xml"), old)
    assert result.validators == Validators(etag='"v2"', last_modified=old.last_modified)


def test_a_200_without_validators_forgets_the_old_ones(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    result = fetch(httpserver.url_for("/feed.xml"), Validators(etag='"old"'))
    assert result.validators == Validators()


def test_validators_that_cannot_be_sent_back_are_not_kept() -> None:
    # A server that sends a non-ASCII ETag must not make every later request fail to build.
    head = response_head("200 OK", {"Content-Length": str(len(FEED))})
    head = head.replace(b"\r\n\r\n", b'\r\nETag: "caf\xc3\xa9"\r\nLast-Modified: \xff\r\n\r\n')
    with raw_server(lambda sock: sock.sendall(head + FEED)) as url:
        first = fetch(url)
        assert first.validators == Validators()
        # Kept by an earlier version: skipped when the request is built.
        assert fetch(url, Validators(etag='"café"', last_modified="\x00")).content == FEED


def test_a_304_to_a_request_without_validators_is_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data("", status=304)
    error = fetch_error(httpserver.url_for("/feed.xml"))
    assert (error.kind, error.message) == (
        "http_status",
        "HTTP 304 Not Modified to a request without validators",
    )


def test_cookies_are_neither_kept_nor_sent(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED, headers={"Set-Cookie": "session=" + "x" * 3000 + "; Path=/"}
    )
    url = httpserver.url_for("/feed.xml")

    async def fetch_twice() -> None:
        policy = FetchPolicy(
            USER_AGENT, timeout=5, max_body_bytes=10**6, allow_private_networks=True
        )
        async with build_client(policy) as client:
            for _ in range(2):
                await fetch_feed(client, url, Validators(), policy)
            assert len(client.cookies) == 0

    asyncio.run(fetch_twice())
    assert [request.headers.get("Cookie") for request, _ in httpserver.log] == [None, None]


# --- redirects ---------------------------------------------------------------------------------


def test_redirect_chain_records_the_final_url(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data("", 301, {"Location": "moved"})
    httpserver.expect_request("/moved").respond_with_data(
        "", 302, {"Location": httpserver.url_for("/feed.xml")}
    )
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    result = fetch(httpserver.url_for("/old"))
    assert result.requested_url == httpserver.url_for("/old")
    assert result.final_url == httpserver.url_for("/feed.xml")
    assert result.content == FEED
    assert result.moved_to is None  # one hop was temporary: the feed did not move


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirects_all_the_way_say_the_feed_moved(
    httpserver: HTTPServer, status: int
) -> None:
    httpserver.expect_request("/old").respond_with_data("", status, {"Location": "older"})
    httpserver.expect_request("/older").respond_with_data("", 301, {"Location": "feed.xml"})
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    assert fetch(httpserver.url_for("/old")).moved_to == httpserver.url_for("/feed.xml")
    assert fetch(httpserver.url_for("/feed.xml")).moved_to is None


SERVED = "Wed, 25 Nov 2026 08:00:00 GMT"


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"Cache-Control": "public, max-age=3600"}, 3600.0),
        ({"Cache-Control": 's-maxage="600", max-age=300'}, 600.0),
        ({"Cache-Control": "no-cache, max-age=3600"}, None),
        ({"Cache-Control": "max-age=0"}, None),
        (
            {"Date": "Wed, 25 Nov 2026 08:00:00 GMT", "Expires": "Wed, 25 Nov 2026 09:30:00 GMT"},
            5400.0,
        ),
        ({"Date": "Wed, 25 Nov 2026 08:00:00 GMT", "Expires": "0"}, None),
        ({"Cache-Control": "max-age=" + "9" * 5000}, float("inf")),  # past int()'s digit limit
        (
            {"Date": "Wed, 25 Nov 2026 08:00:00 GMT", "Expires": "Tue, 24 Nov 2026 08:00:00 GMT"},
            None,
        ),
    ],
)
def test_how_long_the_server_says_a_response_stays_fresh(
    headers: dict[str, str], seconds: float | None
) -> None:
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert fresh_for(httpx.Headers(headers), now) == seconds


def test_a_304_carries_its_freshness(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        "", 304, {"ETag": '"v1"', "Cache-Control": "max-age=1800"}
    )
    result = fetch(httpserver.url_for("/feed.xml"), Validators(etag='"v1"'))
    assert result.not_modified and result.fresh_for == 1800.0


@pytest.mark.parametrize(("redirects", "follows"), [(5, True), (6, False)])
def test_at_most_five_redirects(httpserver: HTTPServer, redirects: int, follows: bool) -> None:
    for hop in range(redirects):
        httpserver.expect_request(f"/hop/{hop}").respond_with_data(
            "", 307, {"Location": f"/hop/{hop + 1}"}
        )
    httpserver.expect_request(f"/hop/{redirects}").respond_with_data(FEED)
    url = httpserver.url_for("/hop/0")
    if follows:
        assert fetch(url).final_url == httpserver.url_for(f"/hop/{redirects}")
    else:
        assert fetch_error(url).kind == "too_many_redirects"


def test_redirect_loop(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a").respond_with_data("", 302, {"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", 302, {"Location": "/a"})
    error = fetch_error(httpserver.url_for("/a"))
    assert error.kind == "too_many_redirects"
    assert error.message.startswith("more than 5 redirects, last to http://")
    assert len(httpserver.log) == 6


def test_redirect_to_another_scheme_is_refused(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        "", 301, {"Location": "ftp://127.0.0.1/feed.xml"}
    )
    error = fetch_error(httpserver.url_for("/feed.xml"))
    assert (error.kind, error.message) == (
        "invalid_url",
        "unsupported redirect target scheme 'ftp' (expected http or https)",
    )


def test_redirect_to_a_port_out_of_range_is_refused() -> None:
    head = response_head(
        "302 Found", {"Location": "http://127.0.0.1:99999/x", "Content-Length": "0"}
    )
    with raw_server(lambda sock: sock.sendall(head)) as url:
        error = fetch_error(url)
    assert (error.kind, error.message) == (
        "invalid_url",
        "redirect target has port 99999 (expected 1 to 65535)",
    )


# --- HTTP and connection errors ----------------------------------------------------------------


# Stands for an HTTP-date 90 s ahead, computed when the test runs (not at collection time).
IN_90_SECONDS = "<http-date in 90 s>"


@pytest.mark.parametrize(
    ("status", "headers", "message", "retry_after"),
    [
        (404, {}, "HTTP 404 NOT FOUND", None),
        (500, {}, "HTTP 500 INTERNAL SERVER ERROR", None),
        (404, {"Retry-After": "60"}, "HTTP 404 NOT FOUND", None),  # only 429 and 503: "later"
        (429, {"Retry-After": "120"}, "HTTP 429 TOO MANY REQUESTS", 120.0),
        (429, {"Retry-After": "whenever"}, "HTTP 429 TOO MANY REQUESTS", None),
        (503, {"Retry-After": IN_90_SECONDS}, "HTTP 503 SERVICE UNAVAILABLE", 90.0),
    ],
)
def test_http_errors(
    httpserver: HTTPServer,
    status: int,
    headers: dict[str, str],
    message: str,
    retry_after: float | None,
) -> None:
    if headers.get("Retry-After") == IN_90_SECONDS:
        in_90_seconds = datetime.now(UTC) + timedelta(seconds=90)
        headers = {"Retry-After": format_datetime(in_90_seconds, usegmt=True)}
    httpserver.expect_request("/feed.xml").respond_with_data("nope", status, headers)
    error = fetch_error(httpserver.url_for("/feed.xml"))
    assert (error.kind, error.message) == ("http_status", message)
    if retry_after is None:
        assert error.retry_after is None
    else:
        assert error.retry_after == pytest.approx(retry_after, abs=3)


def test_gone_is_its_own_kind(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data("nope", 410, {"Retry-After": "60"})
    error = fetch_error(httpserver.url_for("/feed.xml"))
    assert error.kind == "gone" and error.message.startswith("HTTP 410 Gone")
    assert error.retry_after is None


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    error = fetch_error(f"http://127.0.0.1:{closed_port}/feed.xml")
    assert (error.kind, error.message) == ("unreachable", "connection refused")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/feed.xml", "unsupported URL scheme 'ftp' (expected http or https)"),
        ("file:///etc/passwd", "unsupported URL scheme 'file' (expected http or https)"),
        ("feed.xml", "unsupported URL scheme '' (expected http or https)"),
        ("http:///feed.xml", "URL has no host"),
        ("http://127.0.0.1:99999/feed.xml", "URL has port 99999 (expected 1 to 65535)"),
    ],
)
def test_invalid_urls(url: str, message: str) -> None:
    error = fetch_error(url)
    assert (error.kind, error.message) == ("invalid_url", message)


# --- size and time caps ------------------------------------------------------------------------


def test_gzip_body_is_decoded(httpserver: HTTPServer) -> None:
    body = FEED * 1000
    httpserver.expect_request("/feed.xml").respond_with_data(
        gzip.compress(body), headers={"Content-Encoding": "gzip"}
    )
    assert fetch(httpserver.url_for("/feed.xml"), max_bytes=len(body)).content == body


def test_gzip_bomb_is_stopped_by_the_decoded_size() -> None:
    bomb = gzip_of_zeros(50 << 20)
    head = response_head("200 OK", {"Content-Encoding": "gzip", "Content-Length": str(len(bomb))})
    with raw_server(lambda sock: sock.sendall(head + bomb)) as url:
        error = fetch_error(url, max_bytes=1 << 20)
    assert len(bomb) < 1 << 20  # the bytes on the wire were under the cap
    assert (error.kind, error.message) == (
        "too_large",
        "body exceeds 1048576 bytes once decompressed",
    )


def test_stacked_gzip_is_refused() -> None:
    body = gzip.compress(gzip.compress(FEED))
    head = response_head(
        "200 OK", {"Content-Encoding": "gzip, gzip", "Content-Length": str(len(body))}
    )
    with raw_server(lambda sock: sock.sendall(head + body)) as url:
        error = fetch_error(url)
    assert (error.kind, error.message) == (
        "bad_response",
        "refused stacked content encodings gzip, gzip",
    )


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, br", "x-gzip"])
def test_encodings_not_asked_for_are_refused(coding: str) -> None:
    body = b"\x8b\x00\x80" * 100  # what the server claims is compressed; never decoded
    head = response_head("200 OK", {"Content-Encoding": coding, "Content-Length": str(len(body))})
    with raw_server(lambda sock: sock.sendall(head + body)) as url:
        error = fetch_error(url)
    assert error.kind == "bad_response" and "not asked for" in error.message


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (b"\x16\x03\x01\x00\xa5\x01\x00", "broken HTTP response: illegal"),
        (
            response_head("200 OK", {"X-Padding": "x" * 200_000}),
            "broken HTTP response: response headers over 16 KiB",
        ),
        (
            response_head("200 OK", {"Content-Length": "5000"}) + FEED,
            "broken HTTP response: peer closed connection without sending complete message body",
        ),
        (
            response_head("200 OK", {"Content-Encoding": "gzip", "Content-Length": "40"})
            + b"\x1f\x8b"
            + bytes(38),
            "undecodable response body",
        ),
    ],
    ids=["tls-on-http", "huge-headers", "short-body", "corrupt-gzip"],
)
def test_a_response_no_client_can_read_is_a_bad_response(response: bytes, message: str) -> None:
    def answer(sock: socket.socket) -> None:
        sock.sendall(response)
        sock.shutdown(socket.SHUT_WR)

    with raw_server(answer) as url:
        error = fetch_error(url)
    assert error.kind == "bad_response"
    assert error.message.startswith(message), error.message
    assert "\n" not in error.message


def test_only_gzip_and_deflate_are_asked_for(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    fetch(httpserver.url_for("/feed.xml"))
    request, _ = httpserver.log[-1]
    assert request.headers["Accept-Encoding"] == "gzip, deflate"


def test_declared_length_over_the_cap_is_refused_before_reading(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(b"x" * 5000)
    error = fetch_error(httpserver.url_for("/feed.xml"), max_bytes=4096)
    assert (error.kind, error.message) == ("too_large", "body of 5000 bytes exceeds 4096 bytes")


def test_chunked_body_over_the_cap() -> None:
    head = response_head("200 OK", {"Transfer-Encoding": "chunked"})
    chunk = b"1000\r\n" + b"x" * 0x1000 + b"\r\n"

    def respond(sock: socket.socket) -> None:
        sock.sendall(head + chunk * 4 + b"0\r\n\r\n")

    with raw_server(respond) as url:
        error = fetch_error(url, max_bytes=10_000)
    assert error.kind == "too_large"


def test_drip_server_is_cut_off_by_the_deadline() -> None:
    def drip(sock: socket.socket) -> None:
        sock.sendall(response_head("200 OK", {"Content-Length": "100"}))
        for _ in range(30):  # bounded: ends on its own even if nobody hangs up
            sock.sendall(b"x")
            time.sleep(0.2)

    with raw_server(drip) as url:
        started = time.monotonic()
        error = fetch_error(url, timeout=1.0)
        elapsed = time.monotonic() - started
    assert (error.kind, error.message) == ("timeout", "no complete response within 1 s")
    assert elapsed < 3


def test_silent_server_times_out() -> None:
    with raw_server(lambda sock: time.sleep(3)) as url:
        error = fetch_error(url, timeout=0.5)
    assert error.kind == "timeout"


def test_server_that_hangs_up() -> None:
    with raw_server(lambda sock: None) as url:
        error = fetch_error(url)
    assert (error.kind, error.message) == (
        "unreachable",
        "Server disconnected without sending a response.",
    )


# --- SSRF gate ---------------------------------------------------------------------------------


def test_loopback_is_refused_unless_allowed(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    url = httpserver.url_for("/feed.xml")
    error = fetch_error(url, allow_private_networks=False)
    assert error.kind == "blocked"
    assert re.fullmatch(
        r"refused loopback address (127\.0\.0\.1|::1) for host localhost "
        r"\(set fetch\.allow_private_networks: true to allow\)",
        error.message,
    )
    assert httpserver.log == []
    assert fetch(url, allow_private_networks=True).content == FEED


class RecordingTransport(httpx.AsyncBaseTransport):
    """Stands in for the internet, which tests cannot reach: public hosts answer from here, and
    a private address that got past the gate would show up in `requests` instead of on a LAN."""

    def __init__(self, redirect_to: str | None = None) -> None:
        self.requests: list[str] = []
        self.redirect_to = redirect_to

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if self.redirect_to:
            return httpx.Response(302, headers={"Location": self.redirect_to})
        return httpx.Response(200, content=FEED)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.1/feed", "refused private address 10.0.0.1 for host 10.0.0.1"),
        ("http://192.168.1.20:8080/", "refused private address 192.168.1.20 for host 192.168.1.20"),
        ("http://172.16.5.4/", "refused private address 172.16.5.4 for host 172.16.5.4"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "refused cloud metadata address 169.254.169.254 for host 169.254.169.254",
        ),
        ("http://169.254.1.1/", "refused link-local address 169.254.1.1 for host 169.254.1.1"),
        ("http://100.64.0.7/", "refused carrier-grade NAT address 100.64.0.7 for host 100.64.0.7"),
        ("http://0.0.0.0/", "refused unspecified address 0.0.0.0 for host 0.0.0.0"),
        ("http://224.0.0.251/", "refused multicast address 224.0.0.251 for host 224.0.0.251"),
        ("http://240.0.0.1/", "refused reserved address 240.0.0.1 for host 240.0.0.1"),
        ("https://[::1]/", "refused loopback address ::1 for host ::1"),
        ("http://[fd00::5]/", "refused private address fd00::5 for host fd00::5"),
        (
            "http://[::ffff:10.0.0.1]/",
            "refused private address ::ffff:a00:1 for host ::ffff:10.0.0.1",
        ),
        ("http://2130706433/", "refused loopback address 127.0.0.1 for host 2130706433"),
    ],
)
def test_private_addresses_are_refused_before_connecting(url: str, message: str) -> None:
    transport = RecordingTransport()
    error = fetch_error(url, allow_private_networks=False, transport=transport)
    assert error.kind == "blocked"
    assert error.message == f"{message} (set fetch.allow_private_networks: true to allow)"
    assert transport.requests == []


def test_every_redirect_hop_goes_through_the_gate() -> None:
    transport = RecordingTransport(redirect_to="http://10.1.2.3/internal")
    error = fetch_error(
        "http://93.184.215.14/feed.xml", allow_private_networks=False, transport=transport
    )
    assert error.kind == "blocked"
    assert error.message.startswith("refused private address 10.1.2.3 for host 10.1.2.3")
    assert transport.requests == ["http://93.184.215.14/feed.xml"]


def test_public_address_passes_the_gate() -> None:
    transport = RecordingTransport()
    result = fetch(
        "http://93.184.215.14/feed.xml", allow_private_networks=False, transport=transport
    )
    assert result.content == FEED


def test_a_name_that_resolves_elsewhere_when_connecting_is_refused(
    httpserver: HTTPServer,
) -> None:
    # DNS rebinding: the first look-up says public, the next one says loopback. The connection
    # is opened to the address the gate checked at that moment, or not at all.
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    look_ups = []

    async def rebinding_resolve(host: str, port: int) -> list[str]:
        look_ups.append(host)
        return ["93.184.215.14"] if len(look_ups) == 1 else await system_resolve(host, port)

    error = fetch_error(
        httpserver.url_for("/feed.xml"), allow_private_networks=False, resolve=rebinding_resolve
    )
    assert error.kind == "blocked"
    assert error.message.startswith("refused loopback address ")
    assert look_ups == ["localhost", "localhost"]
    assert httpserver.log == []


def test_the_pinned_connection_reaches_the_checked_address(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A name the gate passes is connected to at the address it checked, not resolved again.
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    monkeypatch.setattr(netguard, "refused_reason", lambda address: None)
    url = httpserver.url_for("/feed.xml").replace("localhost", "pinned.invalid")

    async def resolve_to_the_test_server(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "pinned.invalid" else []

    fetched = fetch(url, allow_private_networks=False, resolve=resolve_to_the_test_server)
    assert fetched.content == FEED
    assert httpserver.log[0][0].headers["Host"] == url.split("/")[2]


def test_a_proxy_named_by_the_environment_is_used(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Behind a proxy, the proxy resolves and connects: the request goes to it, whole URL and all.
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert fetch("http://feeds.invalid/feed.xml").content == FEED
    assert httpserver.log[0][0].headers["Host"] == "feeds.invalid"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("8.8.8.8", None),
        ("93.184.215.14", None),
        ("2001:4860:4860::8888", None),
        ("127.0.0.2", "loopback"),
        ("10.255.255.255", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("fe80::1", "link-local"),
        ("100.127.255.255", "carrier-grade NAT"),
        ("100.128.0.1", None),
        ("::", "unspecified"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("192.0.2.10", "private"),  # documentation range (TEST-NET-1)
        ("198.18.0.1", "private"),  # benchmarking range
    ],
)
def test_refused_reason(address: str, reason: str | None) -> None:
    assert refused_reason(ipaddress.ip_address(address)) == reason


# --- Retry-After -------------------------------------------------------------------------------

NOW = datetime(2024, 7, 2, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Tue, 02 Jul 2024 12:01:30 GMT", 90.0),
        ("Tue, 02 Jul 2024 11:00:00 GMT", 0.0),  # already past
        ("Tuesday, 02-Jul-24 12:00:10 GMT", 10.0),  # obsolete RFC 850 form
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds
