"""The SSRF gate: feed URLs come from configuration and OPML files and redirects come from the
feed's server, so before connecting we make sure the host does not resolve into our own network.

The gate is checked twice: `check_host` before each request (every redirect hop included, and
whatever transport the client has), and `PinnedBackend` when a connection is opened, which
resolves the name once, checks every address and connects only to those. A DNS server that
answers a public address to the first look-up and a private one to the next (DNS rebinding)
therefore meets the gate at the address actually connected to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore

from monitor.model import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses to connect to, as text; failures raise FetchError.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_CLOUD_METADATA = ipaddress.ip_address("169.254.169.254")
_CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598; not "private" to Python
_ALLOW_HINT = "set fetch.allow_private_networks: true to allow"


def refused_reason(address: IPAddress) -> str | None:
    """Why a feed may not be fetched from `address` ("loopback", "private", ...), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 reaches 127.0.0.1
    if address == _CLOUD_METADATA:
        return "cloud metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CARRIER_GRADE_NAT:
        return "carrier-grade NAT"
    if address.is_reserved:  # before "private": Python counts 240.0.0.0/4 as both
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:  # documentation, benchmarking and other special-purpose ranges
        return "non-public"
    return None


async def check_host(host: str, port: int, resolve: Resolver) -> list[str]:
    """Resolve `host`; return its addresses, or raise FetchError("blocked") if any of them is
    refused.

    Every address counts, not only the first: the connection may use any of them.
    """
    addresses = []
    for text in await resolve(host, port):
        address = ipaddress.ip_address(text)
        reason = refused_reason(address)
        if reason is not None:
            raise FetchError(
                "blocked",
                f"refused {reason} address {address} for host {host} ({_ALLOW_HINT})",
            )
        if text not in addresses:
            addresses.append(text)
    return addresses


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to for a TCP connection, in the resolver's order;
    failures as FetchError("unreachable")."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
        raise FetchError("unreachable", f"cannot resolve host {host}: {reason}") from None
    # Without an IPv6 zone ("fe80::1%eth0"): ipaddress rejects it on older Pythons, and the
    # gate refuses every link-local address anyway.
    return [str(sockaddr[0]).partition("%")[0] for *_, sockaddr in infos]


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses that passed the gate: the
    name is resolved here, once per connection, and the checked addresses are what is
    connected to (TLS still verifies the certificate against the name). `resolve` must be the
    resolver the requests are checked with, so both look-ups meet the same DNS."""

    def __init__(
        self, resolve: Resolver, inner: httpcore.AsyncNetworkBackend | None = None
    ) -> None:
        self._resolve = resolve
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await check_host(host, port, self._resolve):
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address may answer, as a resolver's order intends
        raise failure or httpcore.ConnectError(f"no address for host {host}")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)
