"""`monitor replay` (docs/design.md §7): the backtest. Reads items — stored ones, or JSON Lines —
runs the daemon's decisions over them in memory (`monitor.pipeline.Replay`), and prints the
alerts it would have sent, then how many per watchlist and day. Nothing is written, nothing
sent. Feed text goes through `shown` in both forms, as in the listings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy import Connection

from monitor.config.schema import Config, WatchlistSpec
from monitor.daemon.listing import iso_time, json_line, local_time, shown, table
from monitor.daemon.replay_fold import folded_documents
from monitor.dedup.decide import Thresholds
from monitor.match import ConfiguredFeeds, FeedIdentity, compile_watchlists
from monitor.model import PreparedItem, ReplayItem
from monitor.pipeline import (
    Replay,
    ReplayAlert,
    Story,
    StreamDocuments,
    hit_json,
)
from monitor.store import feed_document_sizes, feed_urls, last_items_before, stored_items_seen
from monitor.text.count import counted


def replay_stored(
    connection: Connection,
    config: Config,
    out: TextIO,
    *,
    since: datetime | None,
    watchlist: str | None = None,
    as_json: bool = False,
    parallel: bool = False,
) -> int:
    """The stored items first seen since `since` (all: None). The story window before
    `since` is read too, unreported: a copy of a story that began before `since` is a copy,
    as it was for the daemon. `parallel`: fold stories in a second process (`replay_fold`)."""
    # A full-text feed's documents were read without its stored entries (plan_ingest's
    # `not_again`): their lines counted alone.
    full_text = {spec.url for spec in config.feeds if spec.fulltext}
    sizes = feed_document_sizes(connection, leaving_out=full_text)
    read_from = None if since is None else since - config.dedup.window
    earlier = {} if read_from is None else last_items_before(connection, read_from, sizes)
    urls = feed_urls(connection)  # stored items name their feed by id
    replay = _replay(
        config,
        _watched(config, watchlist),
        sizes,
        earlier,
        feed_reference=lambda feed: urls.get(feed) if isinstance(feed, int) else None,
    )
    report = _Report(config, out, as_json)
    documents = stored_documents(stored_items_seen(connection, read_from))
    folded: Iterable[tuple[Hashable, list[ReplayItem], list[Story] | None]] = (
        folded_documents(
            documents, Thresholds.of(config.dedup), config.dedup.window, sizes, earlier
        )
        if parallel
        else ((feed, document, None) for feed, document in documents)
    )
    for feed, document, stories in folded:
        before = replay.stories
        alerts = replay.document(feed, document, stories)
        if since is None or (document[0].seen is not None and document[0].seen >= since):
            report.items += len(document)
            report.stories += replay.stories - before
            report.add(alerts)
    report.finish()
    return 0


def replay_stream(
    config: Config,
    source: TextIO,
    out: TextIO,
    errors: TextIO,
    *,
    watchlist: str | None = None,
    as_json: bool = False,
    name: str = "stdin",
) -> int:
    """JSON Lines items (docs/design.md §7, and `"seen"`: when the item was first seen), in
    the order they were seen; consecutive items of one `feed` are one feed document. Without
    `"seen"`, an item counts as seen when it was published: `max_age` then never applies."""
    replay = _replay(config, _watched(config, watchlist), {}, feed_reference=str)
    report = _Report(config, out, as_json)
    documents = StreamDocuments(source, errors, name)
    for document in documents:
        before = replay.stories
        feed = document[0].feed
        report.add(
            replay.document(
                feed,
                [
                    ReplayItem(read.item_id, feed, feed or "-", read.item, read.seen)
                    for read in document
                ],
            )
        )
        report.items += len(document)
        report.stories += replay.stories - before
    report.finish()
    return 1 if documents.bad else 0


def _watched(config: Config, watchlist: str | None) -> list[WatchlistSpec]:
    return [spec for spec in config.watchlists if watchlist in (None, spec.name)]


def _replay(
    config: Config,
    watched: Sequence[WatchlistSpec],
    sizes: Mapping[Any, int],
    earlier: Mapping[Any, Sequence[ReplayItem]] | None = None,
    feed_reference: Callable[[Hashable], str | None] = lambda _feed: None,
) -> Replay:
    """`feed_reference`: a ReplayItem's feed -> its URL or name, to find its configuration
    (its name and tags) for watchlists' `sources`: looked up once per feed."""
    configured = ConfiguredFeeds(config.feeds)
    known: dict[Hashable, FeedIdentity | None] = {}

    def feed_of(feed: Hashable) -> FeedIdentity | None:
        if feed not in known:
            known[feed] = None if feed is None else configured(feed_reference(feed))
        return known[feed]

    return Replay(
        compile_watchlists(watched).match,
        max_age=config.max_age,
        thresholds=Thresholds.of(config.dedup),
        window=config.dedup.window,
        document_sizes=sizes,
        earlier=earlier,
        feed_of=feed_of,
    )


def stored_documents(
    found: Iterable[ReplayItem],
) -> Iterator[tuple[Hashable, list[ReplayItem]]]:
    """Items stored by one poll of a feed share the feed and the instant: one document."""
    document: list[ReplayItem] = []
    for item in found:
        if document and (item.feed, item.seen) != (document[0].feed, document[0].seen):
            yield document[0].feed, document
            document = []
        document.append(item)
    if document:
        yield document[0].feed, document


@dataclass
class _Report:
    config: Config
    out: TextIO
    as_json: bool
    items: int = 0
    stories: int = 0

    def __post_init__(self) -> None:
        self._zone = self.config.zone()
        self._channels = {
            spec.name: list(self.config.channels_for(spec)) for spec in self.config.watchlists
        }
        self._alerts: list[ReplayAlert] = []
        self._per_day: Counter[tuple[str, str]] = Counter()
        self._first: datetime | None = None
        self._last: datetime | None = None

    def add(self, alerts: Iterable[ReplayAlert]) -> None:
        for alert in alerts:
            day = "-" if alert.at is None else alert.at.astimezone(self._zone).date().isoformat()
            self._per_day[alert.watchlist, day] += 1
            if self.as_json:  # as they are decided: a script reads them as they come
                self.out.write(json_line(self._alert_json(alert)) + "\n")
            else:
                self._alerts.append(alert)

    def finish(self) -> None:
        lines: list[str] = []
        if self.as_json:
            for (watchlist, day), count in sorted(self._per_day.items()):
                lines.append(
                    json_line(
                        {"kind": "summary", "watchlist": watchlist, "day": day, "alerts": count}
                    )
                )
        else:
            lines.extend(self._alerts_table())
            lines.append("")
            lines.extend(self._summary_table())
            lines.append(self._total())
        for line in lines:
            self.out.write(line + "\n")

    def _alert_json(self, alert: ReplayAlert) -> dict[str, object]:
        item = alert.item.item
        return {
            "kind": "alert",
            "story": alert.story,
            "item": alert.item.item_id,
            "watchlist": alert.watchlist,
            "title": shown(_title(item)),
            "source": shown(alert.item.source),
            "url": item.url,
            "time": iso_time(alert.at, self._zone),
            "published": iso_time(item.published, self._zone),
            "hits": [hit_json(hit) for hit in alert.hits],
            "channels": self._channels.get(alert.watchlist, []),
        }

    def _alerts_table(self) -> list[str]:
        if not self._alerts:
            return ["no alerts"]
        header = ("TIME", "STORY", "ITEM", "WATCHLIST", "SOURCE", "HITS", "TITLE")
        rows = [
            (
                local_time(alert.at, self._zone),
                shown(str(alert.story)),
                shown(str(alert.item.item_id)),
                alert.watchlist,
                shown(alert.item.source),
                _hits_cell(alert),
                shown(_title(alert.item.item)),
            )
            for alert in self._alerts
        ]
        return table(header, rows)

    def _summary_table(self) -> list[str]:
        if not self._per_day:
            return []
        rows = [
            (watchlist, day, str(count))
            for (watchlist, day), count in sorted(self._per_day.items())
        ]
        return [*table(("WATCHLIST", "DAY", "ALERTS"), rows), ""]

    def _total(self) -> str:
        alerts = sum(self._per_day.values())
        unsent = sorted(
            spec.name
            for spec in self.config.watchlists
            if not self.config.channels_for(spec)
            and any(watchlist == spec.name for watchlist, _ in self._per_day)
        )
        total = (
            f"{counted(alerts, 'alert')} from {counted(self.items, 'item')}"
            f" in {counted(self.stories, 'story', 'stories')}; nothing was written or sent"
        )
        if unsent:
            total += f"; watchlists without a channel store their alerts only: {', '.join(unsent)}"
        return total


def _title(item: PreparedItem) -> str:
    return item.text.title or item.url or "(untitled)"


def _hits_cell(alert: ReplayAlert) -> str:
    texts = list(dict.fromkeys(shown(hit.text) for hit in alert.hits))
    cell = ", ".join(texts)
    return cell if len(cell) <= 40 else cell[:39] + "…"
