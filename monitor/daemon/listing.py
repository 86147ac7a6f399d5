"""`monitor stories`, `items` and `alerts`: what is stored, as a table for people or as JSON
Lines for scripts. `listing_lines` reads the rows (monitor.store.list_*); the rest is pure
formatting. Times in the configured timezone, in both forms.

Feed text (titles, feed names) goes through `one_line` in both forms: JSON Lines end up on
terminals too (`jq -r .title`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection

from monitor.feeds import redact_url
from monitor.notify import one_line
from monitor.store import (
    AlertRow,
    CarriedAlert,
    DeliveryRow,
    ItemRow,
    ListingFilter,
    StoryRow,
    list_alerts,
    list_items,
    list_stories,
)


def listing_lines(
    connection: Connection,
    what: str,
    narrowed: ListingFilter,
    zone: tzinfo,
    *,
    status: str | None = None,
    as_json: bool = False,
) -> list[str]:
    """The lines `monitor stories|items|alerts` prints: a table, or one JSON object a line."""
    if what == "stories":
        stories = list_stories(connection, narrowed)
        if as_json:
            return [json_line(story_json(story, zone)) for story in stories]
        return stories_table(stories, zone)
    if what == "items":
        found = list_items(connection, narrowed)
        if as_json:
            return [json_line(item_json(item, zone)) for item in found]
        return items_table(found, zone)
    alerted = list_alerts(connection, narrowed, status)
    if as_json:
        return [json_line(listed_alert_json(alert, zone)) for alert in alerted]
    return listed_alerts_table(alerted, zone)


def story_json(story: StoryRow, zone: tzinfo) -> dict[str, Any]:
    return {
        "story": story.story_id,
        "first_seen": iso_time(story.first_seen, zone),
        "title": shown(story.title),
        "outlets": story.outlets,
        "watchlists": list(story.watchlists),
    }


def stories_table(stories: Sequence[StoryRow], zone: tzinfo) -> list[str]:
    if not stories:
        return ["no stories"]
    header = ("STORY", "FIRST SEEN", "OUTLETS", "WATCHLISTS", "TITLE")
    rows = [
        (
            str(story.story_id),
            local_time(story.first_seen, zone),
            str(story.outlets),
            ",".join(story.watchlists) or "-",
            shown(story.title),
        )
        for story in stories
    ]
    return table(header, rows)


def item_json(item: ItemRow, zone: tzinfo) -> dict[str, Any]:
    return {
        "item": item.item_id,
        "feed": _feed_shown(item),
        "feed_url": redact_url(item.feed_url),
        "published": iso_time(item.published, zone),
        "first_seen": iso_time(item.first_seen, zone),
        "title": shown(item.title),
        "story": item.story_id,
    }


def items_table(found: Sequence[ItemRow], zone: tzinfo) -> list[str]:
    if not found:
        return ["no items"]
    header = ("ITEM", "PUBLISHED", "STORY", "FEED", "TITLE")
    rows = [
        (
            str(item.item_id),
            local_time(item.published, zone),
            str(item.story_id),
            _feed_shown(item),
            shown(item.title),
        )
        for item in found
    ]
    return table(header, rows)


def _feed_shown(item: ItemRow) -> str:
    """The feed's name, or its URL with credentials masked when it has none."""
    return shown(item.feed) if item.feed != item.feed_url else redact_url(item.feed_url)


def carried_alert_json(alert: CarriedAlert) -> dict[str, Any]:
    """An alert one message carried (`monitor alerts --message ID`). Feed text goes through
    `shown` here too, as in the message: JSON Lines end up on terminals (`jq -r .title`)."""
    payload = alert.payload
    return {
        "alert": alert.alert_id,
        "watchlist": alert.watchlist,
        "decided": alert.decided_at.isoformat(timespec="seconds"),
        "channel": alert.channel,
        "status": alert.status,
        "title": _shown_or_none(payload.get("title")),
        "url": _shown_or_none(payload.get("url")),
        "source": _shown_or_none(payload.get("source")),
        "published": payload.get("published"),
    }


def carried_alerts_table(carried: Sequence[CarriedAlert], zone: tzinfo) -> list[str]:
    """The alerts one message carried, one a line, its link on the line below."""
    header = ("ALERT", "WATCHLIST", "DECIDED", "STATUS", "SOURCE", "TITLE")
    rows = [
        (
            str(alert.alert_id),
            alert.watchlist,
            local_time(alert.decided_at, zone),
            alert.status,
            _shown_or_none(alert.payload.get("source")) or "",
            _shown_or_none(alert.payload.get("title")) or "",
        )
        for alert in carried
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    indent = " " * (sum(widths[:-1]) + 2 * (len(widths) - 1))
    lines = [_line(header, widths)]
    for row, alert in zip(rows, carried, strict=True):
        lines.append(_line(row, widths))
        if alert.payload.get("url"):
            lines.append(indent + (_shown_or_none(alert.payload["url"]) or ""))
    return lines


def listed_alert_json(alert: AlertRow, zone: tzinfo) -> dict[str, Any]:
    return {
        "alert": alert.alert_id,
        "watchlist": alert.watchlist,
        "story": alert.story_id,
        "decided": iso_time(alert.decided_at, zone),
        "title": shown(alert.title),
        "deliveries": [
            {
                "channel": delivery.channel,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "next_attempt": iso_time(delivery.next_attempt, zone),
                "hold": delivery.hold,
                "last_error": None if delivery.last_error is None else shown(delivery.last_error),
            }
            for delivery in alert.deliveries
        ],
    }


def listed_alerts_table(found: Sequence[AlertRow], zone: tzinfo) -> list[str]:
    """One line per delivery (alert × channel), the alert's cells on its first; a delivery's
    last error on the line below it."""
    if not found:
        return ["no alerts"]
    header = ("ALERT", "DECIDED", "WATCHLIST", "STORY", "CHANNEL", "STATUS", "TRIES", "NEXT")
    rows: list[tuple[str, ...]] = []
    errors: list[str | None] = []
    for alert in found:
        alert_cells = (
            str(alert.alert_id),
            local_time(alert.decided_at, zone),
            alert.watchlist,
            "-" if alert.story_id is None else str(alert.story_id),
        )
        for index, delivery in enumerate(alert.deliveries or (None,)):
            cells = alert_cells if index == 0 else ("",) * len(alert_cells)
            rows.append((*cells, *_delivery_cells(delivery, zone), shown(alert.title)))
            errors.append(None if delivery is None else delivery.last_error)
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    lines = [_line((*header, "TITLE"), widths)]
    indent = " " * (sum(widths[:4]) + 2 * 4)
    for row, error in zip(rows, errors, strict=True):
        lines.append(_line(row, widths))
        if error:
            lines.append(f"{indent}error: {shown(error)}")
    return lines


def _delivery_cells(delivery: DeliveryRow | None, zone: tzinfo) -> tuple[str, ...]:
    if delivery is None:
        return ("-", "-", "-", "-")
    status = delivery.status
    if delivery.hold and status == "pending":
        status = f"held:{delivery.hold}"
    nxt = "-" if delivery.next_attempt is None else local_time(delivery.next_attempt, zone)
    return (delivery.channel, status, str(delivery.attempts), nxt)


def shown(value: str) -> str:
    # Feed text may hold control characters, line breaks and bidi controls: a terminal must
    # neither act on them nor show a title reordered. Runs of spaces would only widen a column.
    return " ".join(one_line(value).split())


def _shown_or_none(value: object) -> str | None:
    return None if value is None else shown(str(value))


def json_line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False)


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    return [_line(row, widths) for row in (header, *rows)]


def _line(row: Sequence[str], widths: Sequence[int]) -> str:
    # The last column (a title) is not padded: nothing follows it.
    cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
    return "  ".join([*cells, row[-1]]).rstrip()


def local_time(moment: datetime | None, zone: tzinfo) -> str:
    return "-" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def iso_time(moment: datetime | None, zone: tzinfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")
