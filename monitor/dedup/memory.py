"""An in-memory story index: the same candidate lookup as the database's, for `monitor dedup`
and tests, where nothing is stored."""

from __future__ import annotations

from collections import defaultdict

from monitor.dedup.decide import Candidate
from monitor.dedup.fingerprint import Fingerprint


class MemoryStoryIndex:
    def __init__(self) -> None:
        self._by_key: defaultdict[int, list[int]] = defaultdict(list)
        self._entries: dict[int, Candidate] = {}

    def candidates(self, new: Fingerprint) -> list[Candidate]:
        found = {item for key in (*new.bands, *new.probes) for item in self._by_key.get(key, ())}
        return [self._entries[item] for item in sorted(found)]

    def add(self, item_id: int, cluster_id: int, fingerprint: Fingerprint) -> None:
        self._entries[item_id] = Candidate.of(item_id, cluster_id, fingerprint)
        for key in fingerprint.keys:
            self._by_key[key].append(item_id)
