"""What the loader needs from the layers above it, handed in by the wiring (`monitor.cli`).

Whether a query parses, whether Apprise reads a channel URL, whether the full-text extra is
installed, and how a URL is shown without its secrets: each is known only to a layer that itself
reads the configuration, so `monitor.config` asks through these callables instead of importing
it. That keeps the configuration at the bottom of the house, with no cycle through `match`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigChecks:
    # A query's syntax error as the reader of monitor.yaml should see it ("position 8: ..."),
    # or None when it parses.
    query_error: Callable[[str], str | None]
    # Whether a notification service can be built from an Apprise URL.
    apprise_url_valid: Callable[[str], bool]
    # An Apprise URL with its secrets masked, for messages and the summary.
    private_apprise_url: Callable[[str], str]
    # Whether `fulltext: true` can be honoured (an optional extra is installed).
    fulltext_available: Callable[[], bool]
    # A feed URL without its user name, password or secret query parameters.
    redact_url: Callable[[str], str]


def _scheme_only(url: str) -> str:
    scheme, found, _ = url.partition("://")
    return f"{scheme}://…" if found else "…"


# The schema's own checks and nothing more: what a loader run without the wiring gets. URLs are
# shown by their scheme alone, since nothing here knows which of their parts are secret.
SCHEMA_ONLY = ConfigChecks(
    query_error=lambda query: None,
    apprise_url_valid=lambda url: True,
    private_apprise_url=_scheme_only,
    fulltext_available=lambda: True,
    redact_url=_scheme_only,
)
