"""What an alert row stores (JSON) and how it becomes the message a renderer writes.

The payload is frozen when the alert is decided, so a retried delivery sends the same message
even if the item is later edited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from monitor.match.snippet import snippet_for
from monitor.model import (
    AlertMessage,
    Highlight,
    Outlet,
    PreparedItem,
    Snippet,
    StoryMessage,
    WatchlistMatch,
)


def alert_payload(item: PreparedItem, match: WatchlistMatch, source: str) -> dict[str, Any]:
    snippet = snippet_for(item.text, match.hits)
    return {
        "title": item.text.title or item.url or "(untitled)",
        "url": item.url,
        "source": source,
        "published": item.published.isoformat() if item.published else None,
        "terms": sorted({hit.term for hit in match.hits}),
        "hits": [
            {
                "term": hit.term,
                "field": hit.field,
                "start": hit.start,
                "end": hit.end,
                "text": hit.text,
            }
            for hit in match.hits
        ],
        "snippet": {
            "text": snippet.text,
            "highlights": [[span.start, span.end] for span in snippet.highlights],
        },
    }


def alert_message(
    watchlist: str, payload: dict[str, Any], also_published_by: Sequence[str] = ()
) -> AlertMessage:
    snippet_data = payload.get("snippet")
    snippet = None
    if snippet_data and snippet_data.get("text"):
        snippet = Snippet(
            text=str(snippet_data["text"]),
            highlights=tuple(Highlight(int(a), int(b)) for a, b in snippet_data["highlights"]),
        )
    published = payload.get("published")
    return AlertMessage(
        watchlist=watchlist,
        title=str(payload.get("title") or ""),
        url=payload.get("url"),
        source=str(payload.get("source") or ""),
        published=datetime.fromisoformat(published) if published else None,
        terms=tuple(payload.get("terms") or ()),
        snippet=snippet,
        also_published_by=tuple(also_published_by),
    )


def story_message(
    *,
    alert_ids: Sequence[int],
    watchlists: Sequence[str],
    payloads: Sequence[dict[str, Any]],
    outlets: Sequence[Outlet],
    first_seen: datetime | None,
) -> StoryMessage:
    """One story's message from the payloads of its alerts (one per watchlist, in `alert_ids`
    order): the first alert's item, every watchlist's terms, their sentences (at most 3).
    Interim: the renderer's helper replaces it."""
    first = payloads[0]
    quotes: list[Snippet] = []
    for payload in payloads:
        message = alert_message("", payload)
        if message.snippet is not None and message.snippet not in quotes:
            quotes.append(message.snippet)
    message = alert_message("", first)
    return StoryMessage(
        alert_ids=tuple(alert_ids),
        watchlists=tuple(watchlists),
        title=message.title,
        url=message.url,
        source=message.source,
        published=message.published,
        terms=tuple(sorted({term for p in payloads for term in p.get("terms") or ()})),
        quotes=tuple(quotes[:3]),
        outlets=tuple(outlets),
        first_seen=first_seen,
    )
