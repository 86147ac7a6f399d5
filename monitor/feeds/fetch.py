"""HTTP fetching of feeds: conditional GET, size and time caps, redirects through the SSRF gate.

Every failure becomes a FetchError with a stable `kind` and a one-line message, because they end
up in health reports read by people who did not write the feed URL's server.
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import http
import logging
import os
import re
import ssl
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpcore
import httpx

from monitor.feeds.netguard import PinnedBackend, Resolver, check_host
from monitor.feeds.policy import FetchPolicy
from monitor.feeds.urls import redact_url
from monitor.model import FetchError, FetchResult, Validators

# Feed types first; HTML last and cheap, because some sites answer "406" to a strict Accept.
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.1"
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_RETRY_AFTER_STATUSES = frozenset({429, 503})  # RFC 9110 §10.2.3
_PERMANENT_REDIRECTS = frozenset({301, 308})
# What we ask for, and all httpx decodes of the old names (not "x-gzip", RFC 9110 §8.4.1.3).
_ASKED_ENCODINGS = frozenset({"gzip", "deflate"})
_MAX_AGE = re.compile(r"(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\b", re.IGNORECASE)
_MAX_MESSAGE_CHARS = 200
_MAX_VALIDATOR = 1024  # characters of an ETag or Last-Modified worth sending back

# One DEBUG line per request and per answer (`-v`): what was asked conditionally, what came
# back, what the server said about caching. httpx's own lines are held at WARNING.
log = logging.getLogger("monitor.fetch")


def build_client(
    policy: FetchPolicy, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """The one HTTP client for all feeds; share it so connections to a host are reused. Fetch
    with the policy it was built with: its connection gate is that policy's.

    Redirects are off here: `fetch_feed` follows them itself so that the SSRF gate sees every
    hop. Cookies are neither kept nor sent: a feed needs none, and a jar that lives as long as
    the daemon would grow with every server that sets them, and bloat every request to that
    host. Unless private networks are allowed, connections are opened through the gate's
    `PinnedBackend`, or, when the environment names a proxy (HTTP_PROXY, HTTPS_PROXY,
    ALL_PROXY), through httpx's own transports to it, and the proxy resolves the names.
    """
    gated = not policy.allow_private_networks
    if transport is None and gated and not _environment_proxies():
        transport = PinnedTransport(policy.resolve)
    return httpx.AsyncClient(
        headers={
            "User-Agent": policy.user_agent,
            "Accept": FEED_ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        },
        follow_redirects=False,
        transport=transport,
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport, its connection pool opening connections through `PinnedBackend`."""

    def __init__(self, resolve: Resolver) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context)
        # httpx has no public way to hand its pool a network backend; the pool is all the state
        # the transport keeps, so it is replaced whole, with httpx's default limits.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=PinnedBackend(resolve),
        )


def _environment_proxies() -> bool:
    return any(scheme in urllib.request.getproxies() for scheme in ("http", "https", "all"))


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    validators: Validators,
    policy: FetchPolicy,
    *,
    accept: str | None = None,
) -> FetchResult:
    """GET `url` with the validators of the last poll; raise FetchError when no feed body came.
    `accept` replaces the feed types asked for (an article page asks for HTML).

    The policy's timeout is a deadline for everything (name resolution, redirects, the whole
    body), so a server that sends one byte a second cannot hold a poll slot.
    """
    try:
        async with asyncio.timeout(policy.timeout):
            return await _follow_redirects(client, url, validators, policy, accept)
    except TimeoutError:
        raise FetchError("timeout", f"no complete response within {policy.timeout:g} s") from None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date, RFC 9110 §10.2.3)."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    when = _http_date(text)
    return None if when is None else max(0.0, (when - now).total_seconds())


async def _follow_redirects(
    client: httpx.AsyncClient,
    url: str,
    validators: Validators,
    policy: FetchPolicy,
    accept: str | None,
) -> FetchResult:
    headers = _conditional_headers(validators)
    if accept:
        headers["Accept"] = accept
    current = url
    permanent = True  # so far, every redirect was permanent
    for hop in range(policy.max_redirects + 1):
        target = _http_url(current, redirected=hop > 0)
        if not policy.allow_private_networks:
            host = target.raw_host.decode("ascii")
            await check_host(host, target.port or _DEFAULT_PORTS[target.scheme], policy.resolve)
        conditional = [name for name in ("If-None-Match", "If-Modified-Since") if name in headers]
        log.debug(
            "GET %s %s",
            redact_url(current),
            f"conditional ({', '.join(conditional)})" if conditional else "unconditional",
        )
        try:
            async with client.stream(
                "GET",
                target,
                headers=headers,
                timeout=httpx.Timeout(policy.timeout),
            ) as response:
                if not response.has_redirect_location:
                    result = await _result(url, response, validators, policy.max_body_bytes)
                    _log_result(current, result)
                    moved = hop > 0 and permanent
                    return replace(result, moved_to=current) if moved else result
                permanent = permanent and response.status_code in _PERMANENT_REDIRECTS
                previous = current
                current = str(response.url.join(response.headers["location"]))
                log.debug(
                    "%s: HTTP %d redirect to %s",
                    redact_url(previous),
                    response.status_code,
                    redact_url(current),
                )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _request_error(exc) from None
    raise FetchError(
        "too_many_redirects",
        _one_line(f"more than {policy.max_redirects} redirects, last to {current}"),
    )


def _log_result(url: str, result: FetchResult) -> None:
    if not log.isEnabledFor(logging.DEBUG):
        return
    validators = [
        name
        for name, value in (
            ("ETag", result.validators.etag),
            ("Last-Modified", result.validators.last_modified),
        )
        if value
    ]
    log.debug(
        "%s: %s, validators %s, %s",
        redact_url(url),
        "HTTP 304 Not Modified"
        if result.not_modified
        else f"HTTP {result.status_code}, {len(result.content)} bytes",
        ", ".join(validators) or "none",
        "no freshness given" if result.fresh_for is None else f"fresh for {result.fresh_for:g} s",
    )


def _http_url(text: str, *, redirected: bool) -> httpx.URL:
    what = "redirect target" if redirected else "URL"
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise FetchError("invalid_url", _one_line(f"invalid {what}: {exc}")) from None
    if url.scheme not in _DEFAULT_PORTS:
        raise FetchError(
            "invalid_url",
            _one_line(f"unsupported {what} scheme {url.scheme!r} (expected http or https)"),
        )
    if not url.raw_host:
        raise FetchError("invalid_url", f"{what} has no host")
    if url.port is not None and not 0 < url.port < 65536:
        raise FetchError("invalid_url", f"{what} has port {url.port} (expected 1 to 65535)")
    return url


def _conditional_headers(validators: Validators) -> dict[str, str]:
    headers = {}
    if etag := _validator(validators.etag):
        headers["If-None-Match"] = etag
    if last_modified := _validator(validators.last_modified):
        headers["If-Modified-Since"] = last_modified
    return headers


def _validator(value: str | None) -> str | None:
    """A validator the server sent, if it can be sent back: printable ASCII, as RFC 9110 §8.8
    has it. Anything else would make every later request fail to build, and a feed whose
    server sends "café" as its ETag is simply polled without one."""
    if value and value.isascii() and value.isprintable() and len(value) <= _MAX_VALIDATOR:
        return value
    return None


async def _result(
    requested_url: str, response: httpx.Response, old: Validators, max_bytes: int
) -> FetchResult:
    status = response.status_code
    sent = Validators(
        etag=_validator(response.headers.get("etag")),
        last_modified=_validator(response.headers.get("last-modified")),
    )
    if status == http.HTTPStatus.NOT_MODIFIED and not _conditional_headers(old):
        # Nothing was asked conditionally: there is no earlier body this could stand for.
        raise FetchError("http_status", "HTTP 304 Not Modified to a request without validators")
    if status == http.HTTPStatus.NOT_MODIFIED:
        # A 304 may omit unchanged validators (RFC 9110 §15.4.5): keep the ones that still hold.
        kept = Validators(
            etag=sent.etag or old.etag, last_modified=sent.last_modified or old.last_modified
        )
        # A 304 has no body, but its end must be read: a response left unfinished closes its
        # connection, and every poll of a 304 feed would then open a new one.
        await response.aread()
        return _fetch_result(requested_url, response, b"", kept, not_modified=True)
    if not response.is_success:
        raise _status_error(response)
    content = await _read_capped(response, max_bytes)
    return _fetch_result(requested_url, response, content, sent, not_modified=False)


def _fetch_result(
    requested_url: str,
    response: httpx.Response,
    content: bytes,
    validators: Validators,
    *,
    not_modified: bool,
) -> FetchResult:
    return FetchResult(
        requested_url=requested_url,
        final_url=str(response.url),
        status_code=response.status_code,
        content=content,
        content_type=response.headers.get("content-type"),
        validators=validators,
        not_modified=not_modified,
        fresh_for=fresh_for(response.headers, datetime.now(UTC)),
    )


def fresh_for(headers: httpx.Headers, now: datetime) -> float | None:
    """Seconds the server says this response stays fresh: Cache-Control max-age (s-maxage),
    else Expires minus Date (RFC 9111 §4.2.1); None when it says nothing or not to cache."""
    cache_control = ", ".join(headers.get_list("cache-control"))
    if _NO_CACHE.search(cache_control):
        return None
    # float, not int: int() refuses strings of over 4,300 digits, float() says infinity.
    ages = [float(value) for value in _MAX_AGE.findall(cache_control)]
    if ages:
        return max(ages) or None
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return None
    served = _http_date(headers.get("date")) or now
    seconds = (expires - served).total_seconds()
    return seconds if seconds > 0 else None


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" zones parse as naive; HTTP-dates are always GMT.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _status_error(response: httpx.Response) -> FetchError:
    status = response.status_code
    try:
        reason = response.reason_phrase or http.HTTPStatus(status).phrase
    except ValueError:  # a status code Python does not know, sent without a phrase
        reason = ""
    if status == http.HTTPStatus.GONE:
        return FetchError("gone", "HTTP 410 Gone: the publisher removed this feed for good")
    retry_after = None
    if status in _RETRY_AFTER_STATUSES:
        retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
    return FetchError("http_status", _one_line(f"HTTP {status} {reason}"), retry_after=retry_after)


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    codings = [
        coding.strip().lower()
        for coding in response.headers.get_list("content-encoding", split_commas=True)
    ]
    compressed = [coding for coding in codings if coding not in ("", "identity")]
    unasked = [coding for coding in compressed if coding not in _ASKED_ENCODINGS]
    if unasked:
        # We ask for gzip and deflate only. A decoder httpx may have for others (brotli,
        # zstd, when installed) expands a whole network read at once, past any cap of ours.
        raise FetchError(
            "bad_response",
            _one_line(f"refused content encoding {', '.join(unasked)} (not asked for)"),
        )
    if len(compressed) > 1:
        # httpx undoes each layer of a chunk before we see it: "gzip, gzip" turns one network
        # read into gigabytes, so the cap below would come too late.
        raise FetchError(
            "bad_response",
            _one_line(f"refused stacked content encodings {', '.join(compressed)}"),
        )
    declared = response.headers.get("content-length", "")
    if not compressed and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too_large", f"body of {declared} bytes exceeds {max_bytes} bytes")
    # One network read (64 KiB) of gzip inflates to at most ~64 MiB before this loop sees it.
    chunks = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError("too_large", f"body exceeds {max_bytes} bytes once decompressed")
        chunks.append(chunk)
    return b"".join(chunks)


def _request_error(exc: httpx.HTTPError | httpx.InvalidURL) -> FetchError:
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return FetchError("invalid_url", _one_line(f"invalid URL: {exc}"))
    if isinstance(exc, httpx.TimeoutException):
        return FetchError("timeout", _one_line(f"timed out: {_os_reason(exc)}"))
    if isinstance(exc, httpx.DecodingError):
        return FetchError("bad_response", _one_line(f"undecodable response body: {exc}"))
    if isinstance(exc, httpx.RemoteProtocolError) and not _hung_up(exc):
        # The server answered, but not in HTTP/1.1 a client can read: a TLS or HTTP/2 server
        # on an http:// URL, a lying Content-Length, headers past h11's 16 KiB.
        reason = str(exc)
        if reason == "Receive buffer too long":
            reason = "response headers over 16 KiB"
        return FetchError("bad_response", _one_line(f"broken HTTP response: {reason}"))
    return FetchError("unreachable", _one_line(_os_reason(exc)))


def _hung_up(exc: httpx.RemoteProtocolError) -> bool:
    """The connection closed before any response: a server that is going away, or busy."""
    return str(exc).startswith("Server disconnected")


def _os_reason(exc: BaseException) -> str:
    """The most specific reason in the exception chain: httpx wraps httpcore, which wraps the
    OSError ("Connection refused") that a person can act on."""
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not trusted: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failure: {cause.reason or cause}"
        # The errno, not the text: asyncio words refusals as "Connect call failed (addr)".
        code = cause.errno if isinstance(cause, OSError) else None
        if code is not None and code in errno.errorcode:
            text = os.strerror(code)
            return text[:1].lower() + text[1:]
    return str(exc) or type(exc).__name__


def _causes(exc: BaseException) -> Iterator[BaseException]:
    pending = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(link for link in (current.__cause__, current.__context__) if link)


def _one_line(text: str) -> str:
    """Server-controlled text (reason phrases, URLs) squeezed onto one short line."""
    line = " ".join(text.split())
    return line if len(line) <= _MAX_MESSAGE_CHARS else line[: _MAX_MESSAGE_CHARS - 1] + "…"
