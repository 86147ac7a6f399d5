"""`monitor alerts --message ID`: the alerts one message carried (a digest lists its first
stories and says how to see them all), as a table or as JSON Lines. Pure formatting: the caller
reads them (monitor.store.message_alerts). Times in the configured timezone.

Feed text (titles, sources, links) goes through `one_line` in both forms, as in the message
that carried it: JSON Lines end up on terminals too (`jq -r .title`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from typing import Any

from monitor.notify import one_line
from monitor.store import CarriedAlert


def alert_json(alert: CarriedAlert) -> dict[str, Any]:
    payload = alert.payload
    return {
        "alert": alert.alert_id,
        "watchlist": alert.watchlist,
        "decided": alert.decided_at.isoformat(timespec="seconds"),
        "channel": alert.channel,
        "status": alert.status,
        "title": _shown(payload.get("title")),
        "url": _shown(payload.get("url")),
        "source": _shown(payload.get("source")),
        "published": payload.get("published"),
    }


def alerts_table(alerts: Sequence[CarriedAlert], zone: tzinfo) -> list[str]:
    """A fixed-width table, one alert a line, its link on the line below."""
    header = ("ALERT", "WATCHLIST", "DECIDED", "STATUS", "SOURCE", "TITLE")
    rows = [
        (
            str(alert.alert_id),
            alert.watchlist,
            alert.decided_at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
            alert.status,
            _shown(alert.payload.get("source")) or "",
            _shown(alert.payload.get("title")) or "",
        )
        for alert in alerts
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(5)]
    lines = []
    for row, alert in zip((header, *rows), (None, *alerts), strict=True):
        lines.append(
            "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        )
        if alert is not None and alert.payload.get("url"):
            lines.append(
                " " * (sum(widths) + 2 * len(widths)) + (_shown(alert.payload["url"]) or "")
            )
    return lines


def _shown(value: object) -> str | None:
    # Feed text may hold control characters, line breaks and bidi controls: a terminal must
    # neither act on them nor show a title reordered. Runs of spaces would only widen a column.
    return None if value is None else " ".join(one_line(str(value)).split())
