"""Time spans as people read them in reports and messages: `3m`, `1d 2h`."""

from __future__ import annotations

from datetime import timedelta

_UNITS = (("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


def span_text(delta: timedelta, parts: int = 1) -> str:
    """The largest `parts` units of `delta` (never negative): `span_text(90 min) == "1h"`,
    `span_text(90 min, 2) == "1h 30m"`."""
    seconds = max(0, int(delta.total_seconds()))
    shown: list[str] = []
    for unit, size in _UNITS:
        value, seconds = divmod(seconds, size)
        if value or shown:
            shown.append(f"{value}{unit}" if value else "")
        if len(shown) == parts:
            break
    return " ".join(part for part in shown if part) or "0s"
