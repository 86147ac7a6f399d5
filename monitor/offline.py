"""The commands that read items from a stream instead of feeds: `monitor match` and
`monitor explain` (docs/design.md §7). Nothing here touches the network; only `explain --item`
reads the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from monitor.match import Matcher
from monitor.match.matcher import Explanation
from monitor.model import Hit, ItemText, PreparedItem
from monitor.pipeline import ItemJsonError, item_text_from_json

if TYPE_CHECKING:
    from monitor.dedup.decide import Thresholds


def _items(source: TextIO, errors: TextIO) -> Iterator[tuple[Any, ItemText] | None]:
    """Items of a JSON Lines stream; None (after a message on `errors`) for a bad line."""
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            yield item_text_from_json(line)
        except ItemJsonError as error:
            print(f"stdin:{number}: {error}", file=errors)
            yield None


def _hit_json(hit: Hit) -> dict[str, Any]:
    return {
        "watchlist": hit.watchlist,
        "term": hit.term,
        "field": hit.field,
        "start": hit.start,
        "end": hit.end,
        "text": hit.text,
    }


def run_match(matcher: Matcher, source: TextIO, out: TextIO, errors: TextIO) -> int:
    """One JSON line per item: its id, the watchlists that fire (sorted), and every hit."""
    status = 0
    for entry in _items(source, errors):
        if entry is None:
            status = 1
            continue
        item_id, text = entry
        matches = matcher.match(text)
        record = {
            "id": item_id,
            "watchlists": sorted(match.watchlist for match in matches),
            "hits": [_hit_json(hit) for match in matches for hit in match.hits],
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return status


def run_dedup(
    source: TextIO, out: TextIO, errors: TextIO, thresholds: Thresholds | None = None
) -> int:
    """One JSON line per item, in arrival order: its story is the id of the story's first
    item, with the similarity that joined it (null for a first item).

    Stories are decided as the daemon decides them (`monitor.dedup.assign`), one feed document
    at a time: consecutive items of the same `feed` (absent: null) form one document, whose
    repeated lines are its boilerplate (a run longer than `MAX_ENTRIES`, the most the daemon
    reads from one document, is cut into documents of that size). So the daemon, given the
    same documents in the same order, folds the same stories. Each line is a new item (no two
    are one item updated), and a document's lines are written when it ends."""
    from monitor.dedup.decide import DEFAULT_THRESHOLDS
    from monitor.dedup.stream import StoryStream
    from monitor.feeds import MAX_ENTRIES

    stream = StoryStream(thresholds or DEFAULT_THRESHOLDS)
    first_ids: list[Any] = []
    status = 0
    document: list[tuple[Any, PreparedItem]] = []
    feed: Any = None

    def flush() -> None:
        assignments = stream.add_document(feed, [item for _, item in document])
        for (item_id, _), assignment in zip(document, assignments, strict=True):
            first_ids.append(item_id if assignment.cluster == len(first_ids) else None)
            cluster_id = first_ids[assignment.cluster]
            record = {"id": item_id, "cluster": cluster_id, "similarity": assignment.similarity}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        document.clear()

    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            item_id, item, item_feed = _stream_item(line, number)
        except ItemJsonError as error:
            print(f"stdin:{number}: {error}", file=errors)
            status = 1
            continue
        if document and item_feed != feed:
            flush()
        feed = item_feed
        document.append((item_id, item))
        # And at the most entries the daemon reads from one document: input without feeds is
        # still answered as it goes, in bounded memory.
        if len(document) == MAX_ENTRIES:
            flush()
    if document:
        flush()
    return status


def _stream_item(line: str, number: int) -> tuple[Any, PreparedItem, str | None]:
    """An item of `monitor dedup`'s input as the daemon would have prepared it (its line
    number for a key: each line is its own item), and its feed."""
    from monitor.dedup.exact import content_hash
    from monitor.feeds import canonical_url

    item_id, text = item_text_from_json(line)
    data = json.loads(line)
    url = data.get("url")
    feed = data.get("feed")
    key = f"line {number}"
    item = PreparedItem(
        key=key,
        url=canonical_url(url) if isinstance(url, str) and url else None,
        text=text,
        published=None,
        content_hash=content_hash(text, key),
    )
    return item_id, item, str(feed) if feed is not None else None


def explanation_json(item_id: Any, explanations: tuple[Explanation, ...]) -> dict[str, Any]:
    return {
        "id": item_id,
        "watchlists": [
            {
                "watchlist": explanation.watchlist,
                "fires": explanation.fired,
                "hits": [_hit_json(hit) for hit in explanation.hits],
                "reasons": list(explanation.reasons),
            }
            for explanation in explanations
        ],
    }


def explanation_lines(item_id: Any, explanations: tuple[Explanation, ...]) -> list[str]:
    lines = [f"item {item_id}:"]
    for explanation in explanations:
        verdict = "fires" if explanation.fired else "does not fire"
        lines.append(f"  {explanation.watchlist}: {verdict}")
        for hit in explanation.hits:
            lines.append(
                f"    {hit.term!r} in the {hit.field} at {hit.start}-{hit.end}: {hit.text!r}"
            )
        lines.extend(f"    - {reason}" for reason in explanation.reasons)
    return lines


def run_explain(
    matcher: Matcher, source: TextIO, out: TextIO, errors: TextIO, *, as_json: bool
) -> int:
    status = 0
    for entry in _items(source, errors):
        if entry is None:
            status = 1
            continue
        write_explanation(matcher, *entry, out, as_json=as_json)
    return status


def write_explanation(
    matcher: Matcher, item_id: Any, text: ItemText, out: TextIO, *, as_json: bool
) -> None:
    explanations = matcher.explain(text)
    if as_json:
        out.write(json.dumps(explanation_json(item_id, explanations), ensure_ascii=False) + "\n")
    else:
        out.write("\n".join(explanation_lines(item_id, explanations)) + "\n")
