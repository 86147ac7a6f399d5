"""How the daemon makes its HTTP requests, as one value: the wiring builds it from the `fetch:`
settings, the client's connection gate is built from it, and every fetch (feed or article
page) takes it whole."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.feeds.netguard import Resolver, system_resolve


@dataclass(frozen=True)
class FetchPolicy:
    user_agent: str
    # Seconds for a whole fetch: name resolution, every redirect and the whole body.
    timeout: float
    # Bytes of a body once its Content-Encoding is undone, which bounds decompression bombs.
    max_body_bytes: int
    # Whether loopback, private, link-local... addresses may be fetched (the SSRF gate).
    allow_private_networks: bool = False
    max_redirects: int = 5
    # How host names become addresses, for the gate before each request and when connecting.
    resolve: Resolver = system_resolve
