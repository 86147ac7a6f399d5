"""What kind of channel an Apprise URL names, from its scheme: the renderer writes a message
for the kind, the delivery policy gives the kind's rate limit, the sender declares its format."""

from __future__ import annotations

_KIND_BY_SCHEME = {
    "mailto": "email",
    "mailtos": "email",
    "slack": "slack",
    "tgram": "telegram",
    "console": "console",
}


def channel_kind(url: str) -> str:
    """email, slack, telegram, console or text, from the Apprise URL scheme."""
    scheme, separator, _ = url.strip().partition("://")
    return _KIND_BY_SCHEME.get(scheme.lower(), "text") if separator else "text"
