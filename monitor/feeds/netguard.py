"""The SSRF gate: feed URLs come from configuration and OPML files and redirects come from the
feed's server, so before connecting we make sure the host does not resolve into our own network.

Limitation: the addresses are checked here and resolved again by httpx when it connects, so a
DNS server that answers differently the second time (DNS rebinding) can slip past the gate.
Pinning the checked address to the connection would need a custom httpx transport; the gate is a
guard against configuration mistakes and casual abuse, not a sandbox.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from monitor.model import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

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


async def check_host(host: str, port: int) -> None:
    """Resolve `host` and raise FetchError("blocked") if any of its addresses is refused.

    Every address counts, not only the first: the connection may use any of them.
    """
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
        raise FetchError("unreachable", f"cannot resolve host {host}: {reason}") from None
    for *_, sockaddr in infos:
        # Strip an IPv6 zone ("fe80::1%eth0"): ipaddress rejects it on older Pythons.
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        reason = refused_reason(address)
        if reason is not None:
            raise FetchError(
                "blocked",
                f"refused {reason} address {address} for host {host} ({_ALLOW_HINT})",
            )
