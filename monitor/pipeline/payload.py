"""What an alert row stores (JSON) and how alert rows become the message a renderer writes.

The payload is frozen when the alert is decided, so a retried delivery sends the same message
even if the item is later edited. Rows written before the quotes (issue 11) hold one
`"snippet"` instead of `"quotes"`; both are read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from monitor.match.snippet import MAX_QUOTES, quotes_for
from monitor.model import (
    Highlight,
    Hit,
    Outlet,
    PreparedItem,
    Snippet,
    StoryMessage,
    WatchlistMatch,
)


def hit_json(hit: Hit, *, with_watchlist: bool = True) -> dict[str, Any]:
    """A hit as `monitor match` writes it (docs/design.md §7); an alert's payload holds its
    hits without the watchlist, which the alert row names."""
    found: dict[str, Any] = {"watchlist": hit.watchlist} if with_watchlist else {}
    found.update(term=hit.term, field=hit.field, start=hit.start, end=hit.end, text=hit.text)
    return found


def alert_payload(item: PreparedItem, match: WatchlistMatch, source: str) -> dict[str, Any]:
    return {
        "title": item.text.title or item.url or "(untitled)",
        "url": item.url,
        "source": source,
        "published": item.published.isoformat() if item.published else None,
        "terms": sorted({hit.term for hit in match.hits}),
        "hits": [hit_json(hit, with_watchlist=False) for hit in match.hits],
        "quotes": [
            {
                "text": quote.text,
                "highlights": [[span.start, span.end] for span in quote.highlights],
            }
            for quote in quotes_for(item.text, match.hits)
        ],
    }


def story_message(
    alert_ids: Sequence[int],
    watchlists: Sequence[str],
    payloads: Sequence[Mapping[str, Any]],
    outlets: Sequence[Outlet] = (),
    first_seen: datetime | None = None,
) -> StoryMessage:
    """The message of one story for one channel, from its alert rows (one per watchlist, in
    the same order as `alert_ids` and `watchlists`; at least one). Title, link, source and
    time are the first payload's; the terms and quotes of all of them are merged (a sentence
    quoted for two watchlists once, with the hits of both), at most three quotes."""
    if not payloads:
        raise ValueError("a story message needs the payload of at least one alert")
    first = payloads[0]
    published = first.get("published")
    terms: dict[str, None] = {}
    for payload in payloads:
        terms.update((str(term), None) for term in payload.get("terms") or ())
    return StoryMessage(
        alert_ids=tuple(alert_ids),
        watchlists=tuple(watchlists),
        title=str(first.get("title") or ""),
        url=first.get("url"),
        source=str(first.get("source") or ""),
        published=datetime.fromisoformat(published) if published else None,
        terms=tuple(terms),
        quotes=_merged_quotes(payload_quotes(payload) for payload in payloads),
        outlets=tuple(outlets),
        first_seen=first_seen,
    )


def payload_quotes(payload: Mapping[str, Any]) -> tuple[Snippet, ...]:
    """The quotes a payload holds: its `"quotes"`, or the one `"snippet"` of an older row."""
    stored = payload.get("quotes")
    if stored is None:
        snippet = payload.get("snippet")
        stored = [snippet] if snippet else []
    quotes = (_snippet(entry) for entry in stored if isinstance(entry, Mapping))
    return tuple(quote for quote in quotes if quote.text.strip())


def _snippet(entry: Mapping[str, Any]) -> Snippet:
    highlights = tuple(
        Highlight(int(span[0]), int(span[1]))
        for span in entry.get("highlights") or ()
        if isinstance(span, Sequence) and len(span) == 2
    )
    return Snippet(text=str(entry.get("text") or ""), highlights=highlights)


def _merged_quotes(quote_lists: Iterable[tuple[Snippet, ...]]) -> tuple[Snippet, ...]:
    merged: dict[str, Snippet] = {}
    for quotes in quote_lists:
        for quote in quotes:
            known = merged.get(quote.text)
            if known is not None:
                spans = sorted(set(known.highlights) | set(quote.highlights), key=_span_key)
                merged[quote.text] = Snippet(quote.text, tuple(spans))
            elif len(merged) < MAX_QUOTES:
                merged[quote.text] = quote
    return tuple(merged.values())


def _span_key(span: Highlight) -> tuple[int, int]:
    return (span.start, span.end)
