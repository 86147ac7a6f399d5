"""Canonical URLs: one spelling per article, so syndicated copies and re-polls compare equal.

Only changes that cannot alter which resource a server returns are made (RFC 3986 §6.2.2-6.2.3:
case of scheme and host, default port, empty path), plus dropping the fragment and the query
parameters that marketing tools append to links. Everything else is kept byte for byte, including
the order and the percent-encoding of the remaining query parameters.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Click and campaign identifiers: they differ per recipient or per share, never per article.
_TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "twclid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "xtor",  # AT Internet (Le Monde, France Télévisions): ?xtor=RSS-3208
    }
)


def canonical_url(url: str) -> str:
    """Return the canonical spelling of an absolute URL; anything unparseable comes back stripped.

    >>> canonical_url("HTTPS://Example.COM:443/a?utm_Source=x&id=3#top")
    'https://example.com/a?id=3'
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        if not parts.scheme or not parts.netloc or parts.hostname is None:
            return text
        scheme = parts.scheme.lower()
        netloc = _canonical_netloc(scheme, parts.netloc, parts.hostname, parts.port)
    except ValueError:  # an invalid port or a malformed IPv6 literal
        return text
    path = parts.path or ("/" if scheme in _DEFAULT_PORTS else "")
    return urlunsplit((scheme, netloc, path, _without_tracking(parts.query), ""))


def is_tracking_parameter(name: str) -> bool:
    """True for a query parameter name that only identifies a campaign or a click."""
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in _TRACKING_PARAMETERS


def _canonical_netloc(scheme: str, netloc: str, hostname: str, port: int | None) -> str:
    userinfo, _, _ = netloc.rpartition("@")
    host = f"[{hostname}]" if ":" in hostname else hostname  # urlsplit already lowercased it
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{userinfo}@{host}" if userinfo else host


def _without_tracking(query: str) -> str:
    kept = [
        pair
        for pair in query.split("&")
        if pair and not is_tracking_parameter(unquote(pair.partition("=")[0]))
    ]
    return "&".join(kept)


# Query parameters that carry credentials in private feed URLs (`?token=...`, `&api_key=...`).
_SECRET_PARAMETER = re.compile(r"(?i)(?:token|key|secret|password|passwd|auth|sig|signature)")


def redact_url(url: str) -> str:
    """`url` as logs and command output may show it: a password in the user part and the values
    of credential-like query parameters masked. Never raises."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username}:***@{netloc.rpartition('@')[2]}"
        query = "&".join(
            f"{name}=***" if _SECRET_PARAMETER.search(name) and value else pair
            for pair in parts.query.split("&")
            if pair
            for name, _, value in [pair.partition("=")]
        )
        return urlunsplit(parts._replace(netloc=netloc, query=query))
    except ValueError:
        return "(unreadable URL)"
