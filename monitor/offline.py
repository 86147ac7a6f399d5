"""The commands that read items from a stream instead of feeds: `monitor match` and
`monitor explain` (docs/design.md §7). Nothing here touches the network; only `explain --item`
reads the database."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, TextIO

from monitor.match import ConfiguredFeeds, Matcher
from monitor.match.matcher import Explanation
from monitor.match.scope import OUT_OF_SCOPE
from monitor.model import FIELDS, ItemText
from monitor.notify import one_line
from monitor.pipeline import (
    AlertFacts,
    ItemJsonError,
    StreamDocuments,
    WhyNot,
    hit_json,
    is_history,
    item_feed_text_from_json,
    why_not,
)

if TYPE_CHECKING:
    from monitor.config import Config
    from monitor.config.schema import WatchlistSpec
    from monitor.dedup.decide import Thresholds
    from monitor.store import StoredItem, StoryAlert


def _items(source: TextIO, errors: TextIO) -> Iterator[tuple[Any, str | None, ItemText] | None]:
    """Items of a JSON Lines stream (id, feed, text); None (after a message on `errors`) for a
    bad line."""
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        try:
            yield item_feed_text_from_json(line)
        except ItemJsonError as error:
            print(f"stdin:{number}: {error}", file=errors)
            yield None


def run_match(
    matcher: Matcher,
    source: TextIO,
    out: TextIO,
    errors: TextIO,
    feeds: ConfiguredFeeds | None = None,
) -> int:
    """One JSON line per item: its id, the watchlists that fire (sorted), and every hit. An
    item's `feed` is found in `feeds` (the configured ones) for watchlists' `sources`."""
    status = 0
    feed_of = feeds or ConfiguredFeeds(())
    for entry in _items(source, errors):
        if entry is None:
            status = 1
            continue
        item_id, feed, text = entry
        matches = matcher.match(text, feed_of(feed))
        record = {
            "id": item_id,
            "watchlists": sorted(match.watchlist for match in matches),
            "hits": [hit_json(hit) for match in matches for hit in match.hits],
        }
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return status


def run_dedup(
    source: TextIO, out: TextIO, errors: TextIO, thresholds: Thresholds | None = None
) -> int:
    """One JSON line per item, in arrival order: its story is the id of the story's first
    item, with the similarity and the layer that joined it (both null for a first item).

    Stories are decided as the daemon decides them (`monitor.dedup.assign`), one feed document
    at a time: consecutive items of the same `feed` (absent: null) form one document, whose
    repeated lines are its boilerplate (a run longer than `MAX_ENTRIES`, the most the daemon
    reads from one document, is cut into documents of that size). So the daemon, given the
    same documents in the same order, folds the same stories. Each line is a new item (no two
    are one item updated), and a document's lines are written when it ends."""
    from monitor.dedup.assign import log_fold
    from monitor.dedup.decide import DEFAULT_THRESHOLDS
    from monitor.dedup.stream import StoryStream

    stream = StoryStream(thresholds or DEFAULT_THRESHOLDS)
    first_ids: list[Any] = []
    documents = StreamDocuments(source, errors)
    for document in documents:
        assignments = stream.add_document(document[0].feed, [read.item for read in document])
        for read, assignment in zip(document, assignments, strict=True):
            first_ids.append(read.item_id if assignment.cluster == len(first_ids) else None)
            cluster_id = first_ids[assignment.cluster]
            record = {
                "id": read.item_id,
                "cluster": cluster_id,
                "similarity": assignment.similarity,
                "layer": assignment.layer,
            }
            log_fold(read.item_id, cluster_id, assignment.layer, assignment.similarity)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 1 if documents.bad else 0


def explanation_json(
    item_id: Any, text: ItemText, explanations: tuple[Explanation, ...]
) -> dict[str, Any]:
    """With the decoded text of every field (`text`): hit offsets index it, which for a field
    with markup is not the field as given (docs/design.md §4 rule 13)."""
    return {
        "id": item_id,
        "text": {name: text.field_text(name) for name in FIELDS},
        "watchlists": [
            {
                "watchlist": explanation.watchlist,
                "fires": explanation.fired,
                "hits": [
                    {**hit_json(hit), "edits": list(edits)}
                    for hit, edits in zip(explanation.hits, _edits(explanation), strict=True)
                ],
                "reasons": list(explanation.reasons),
            }
            for explanation in explanations
        ],
    }


def explanation_lines(item_id: Any, explanations: tuple[Explanation, ...]) -> list[str]:
    lines = [f"item {item_id}:"]
    for explanation in explanations:
        lines.extend(_watchlist_lines(explanation))
    return lines


def _watchlist_lines(explanation: Explanation) -> list[str]:
    verdict = "fires" if explanation.fired else "does not fire"
    lines = [f"  {explanation.watchlist}: {verdict}"]
    for hit, edits in zip(explanation.hits, _edits(explanation), strict=True):
        changed = f" ({'; '.join(edits)})" if edits else ""
        lines.append(
            f"    {hit.term!r} in the {hit.field} at {hit.start}-{hit.end}: {hit.text!r}{changed}"
        )
    lines.extend(f"    - {reason}" for reason in explanation.reasons)
    return lines


def _edits(explanation: Explanation) -> tuple[tuple[str, ...], ...]:
    """What each hit's fuzzy words changed (docs/design.md §4 rule 9); nothing for exact hits."""
    return explanation.edits or ((),) * len(explanation.hits)


def run_explain(
    matcher: Matcher,
    source: TextIO,
    out: TextIO,
    errors: TextIO,
    *,
    as_json: bool,
    feeds: ConfiguredFeeds | None = None,
) -> int:
    status = 0
    feed_of = feeds or ConfiguredFeeds(())
    for entry in _items(source, errors):
        if entry is None:
            status = 1
            continue
        item_id, feed, text = entry
        explanations = matcher.explain(text, feed_of(feed))
        write_explanation(item_id, text, explanations, out, as_json=as_json)
    return status


def write_stored_explanation(
    matcher: Matcher,
    config: Config,
    item: StoredItem,
    alerted: Mapping[str, StoryAlert],
    out: TextIO,
    *,
    as_json: bool,
) -> None:
    """`explain --item`: the matcher's explanation of a stored item, and for each watchlist
    whether an alert went out for it, and if not, why (monitor.pipeline.alert_verdict)."""
    zone = config.zone()
    explanations = matcher.explain(item.text, ConfiguredFeeds(config.feeds)(item.feed_url))
    watchlists = {watchlist.name: watchlist for watchlist in config.watchlists}
    verdicts = [
        item_verdict(explanation, item, alerted.get(explanation.watchlist), config, watchlists)
        for explanation in explanations
    ]
    if as_json:
        record = explanation_json(item.item_id, item.text, explanations)
        record["item"] = {
            "id": item.item_id,
            "title": one_line(item.text.title),
            "feed": one_line(item.feed),
            "story": item.story_id,
        }
        for entry, (alert, reason) in zip(record["watchlists"], verdicts, strict=True):
            entry["alert"] = None if alert is None else _alert_json(alert, zone)
            entry["why_not"] = None if reason is None else str(reason)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return
    lines = [
        f"item {item.item_id}: {_shown(item.text.title)}",
        f"  feed {_shown(item.feed)}, story {item.story_id}",
    ]
    for explanation, (alert, reason) in zip(explanations, verdicts, strict=True):
        lines.extend(_watchlist_lines(explanation))
        lines.append(f"    => {_verdict_line(item, alert, reason, config.max_age, zone)}")
    out.write("\n".join(lines) + "\n")


def item_verdict(
    explanation: Explanation,
    item: StoredItem,
    alert: StoryAlert | None,
    config: Config,
    watchlists: Mapping[str, WatchlistSpec],
) -> tuple[StoryAlert | None, WhyNot | None]:
    """A watchlist's alert for a stored item, or why none went out (also `monitor demo`'s
    summary)."""
    spec = watchlists.get(explanation.watchlist)
    facts = AlertFacts(
        alerted_item=alert is not None and alert.item_id == item.item_id,
        delivered=alert is not None and bool(alert.deliveries),
        alerted_story=alert is not None and alert.item_id != item.item_id,
        backlog=item.backlog,
        too_old=is_history(item.published, item.first_seen, config.max_age),
        excluded=any(reason.startswith("excluded:") for reason in explanation.reasons),
        out_of_scope=any(reason.startswith(OUT_OF_SCOPE) for reason in explanation.reasons),
        matches=explanation.fired,
        has_channel=spec is not None and bool(config.channels_for(spec)),
    )
    return alert, why_not(facts)


def _alert_json(alert: StoryAlert, zone: tzinfo) -> dict[str, Any]:
    return {
        "id": alert.alert_id,
        "item": alert.item_id,
        "decided_at": alert.decided_at.astimezone(zone).isoformat(timespec="seconds"),
        "deliveries": [
            {
                "channel": delivery.channel,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "next_attempt": None
                if delivery.next_attempt is None
                else delivery.next_attempt.astimezone(zone).isoformat(timespec="seconds"),
                "hold": delivery.hold,
                "last_error": delivery.last_error,
            }
            for delivery in alert.deliveries
        ],
    }


def _verdict_line(
    item: StoredItem,
    alert: StoryAlert | None,
    reason: WhyNot | None,
    max_age: timedelta,
    zone: tzinfo,
) -> str:
    def local(moment: datetime | None) -> str:
        return "-" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")

    if reason is None and alert is not None:
        channels = ", ".join(
            f"{delivery.channel} {delivery.status}"
            + (f" ({_shown(delivery.last_error)})" if delivery.last_error else "")
            for delivery in alert.deliveries
        )
        return f"alerted: alert {alert.alert_id} at {local(alert.decided_at)}; {channels}"
    if reason is WhyNot.COPY and alert is not None:
        return (
            f"no alert: a copy of story {item.story_id}, whose alert {alert.alert_id}"
            f" (item {alert.item_id}) went out at {local(alert.decided_at)}"
        )
    if reason is WhyNot.BACKLOG:
        return (
            f"no alert: the backlog of its feed's first poll ({local(item.feed_seeded)}),"
            " stored without alerting"
        )
    if reason is WhyNot.TOO_OLD:
        return (
            f"no alert: published {local(item.published)}, more than max_age"
            f" ({_span(max_age)}) before it was seen ({local(item.first_seen)})"
        )
    if reason is WhyNot.OUT_OF_SCOPE:
        return "no alert: out of the watchlist's scope (above)"
    if reason is WhyNot.EXCLUDED:
        return "no alert: excluded by a term (above)"
    if reason is WhyNot.NO_MATCH:
        return "no alert: it does not match (above)"
    if reason is WhyNot.NO_CHANNEL:
        return "no alert: the watchlist has no channel"
    return (
        "no alert: it matches now but nothing was decided when it was stored (the watchlist"
        " came later, or an update changed the item's text: updates never alert)"
    )


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _shown(value: str) -> str:
    return " ".join(one_line(value).split())


def write_explanation(
    item_id: Any,
    text: ItemText,
    explanations: tuple[Explanation, ...],
    out: TextIO,
    *,
    as_json: bool,
) -> None:
    if as_json:
        out.write(
            json.dumps(explanation_json(item_id, text, explanations), ensure_ascii=False) + "\n"
        )
    else:
        out.write("\n".join(explanation_lines(item_id, explanations)) + "\n")
