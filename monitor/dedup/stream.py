"""Story clustering of a stream of items held in memory (`monitor dedup`, the evaluation):
the exact layer (canonical link in another feed) then the near layer (fingerprints)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.dedup.clean import RepeatedLines, story_lines
from monitor.dedup.decide import Thresholds, best_match
from monitor.dedup.fingerprint import body_of, fingerprint
from monitor.dedup.memory import MemoryStoryIndex
from monitor.model import ItemText


@dataclass(frozen=True)
class Assignment:
    cluster: int  # the position of the first item of the story
    similarity: float | None  # None for the first item of a story


class StreamClusterer:
    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self._thresholds = thresholds or Thresholds()
        self._index = MemoryStoryIndex()
        self._by_url: dict[str, tuple[str | None, int]] = {}
        self._count = 0
        self._repeated: dict[str | None, RepeatedLines] = {}

    def add(self, text: ItemText, *, url: str | None = None, feed: str | None = None) -> Assignment:
        position = self._count
        self._count += 1
        known = self._by_url.get(url) if url else None
        # A link shared inside one feed says nothing (home-page links): only across feeds.
        if known is not None and known[0] != feed:
            return Assignment(known[1], 1.0)
        lines = story_lines(body_of(text))
        repeated = self._repeated.setdefault(feed, RepeatedLines())
        found = fingerprint(text, drop_lines=repeated.lines(), lines=lines)
        repeated.add(lines)
        match = best_match(found, self._index.candidates(found), self._thresholds)
        cluster = match.cluster_id if match else position
        self._index.add(position, cluster, found)
        if url and url not in self._by_url:
            self._by_url[url] = (feed, cluster)
        return Assignment(cluster, match.similarity if match else None)
