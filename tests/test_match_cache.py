"""The compiled automaton: shared by the languages met, cached between runs (docs/design.md §4,
performance). What is found must never depend on either."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from monitor.config.schema import WatchlistSpec
from monitor.daemon.automaton_cache import FileAutomatonCache
from monitor.match import compile_watchlists, matcher, scanner
from monitor.model import ItemText, WatchlistMatch

WATCHLISTS = [
    WatchlistSpec.model_validate(spec)
    for spec in (
        {"name": "sanctions", "terms": ["Sanktion", "sanction", "zone d'exclusion aérienne"]},
        {"name": "peskov", "terms": [{"term": "Dmitri Peskov", "aliases": ["Peskov"], "fuzzy": 1}]},
        {
            "name": "ministre",
            "terms": ["Ministerin", "ministre"],
            "query": "ministre OR Ministerin",
        },
    )
]
# `Sanktionen` is a plural of `Sanktion` in German only, `sanctions` of `sanction` in French.
ITEMS = [
    ItemText(title="Neue Sanktionen gegen Moskau", content="Die Ministerinnen", language="de"),
    ItemText(title="De nouvelles sanctions", content="Sanktionen, zones d’exclusion aériennes"),
    ItemText(title="Peskow a dit", content="la ministre et les ministres", language="fr"),
    ItemText(title="Las sanciones y Peskov", content="Sanktionen", language="es"),
]


class MemoryCache:
    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}
        self.loads = 0

    def load(self, key: str) -> bytes | None:
        self.loads += 1
        return self.entries.get(key)

    def save(self, key: str, data: bytes) -> None:
        self.entries[key] = data


def _each_alone() -> list[tuple[WatchlistMatch, ...]]:
    return [compile_watchlists(WATCHLISTS).match(item) for item in ITEMS]


def test_one_automaton_for_every_language_finds_what_one_per_language_finds() -> None:
    shared = compile_watchlists(WATCHLISTS)
    # Every order of languages: the automaton is rebuilt for each new one.
    assert [shared.match(item) for item in ITEMS] == _each_alone()
    assert [shared.match(item) for item in reversed(ITEMS)] == _each_alone()[::-1]
    assert {m.watchlist for m in shared.match(ITEMS[0])} == {"sanctions", "ministre"}
    assert [m.watchlist for m in shared.match(ITEMS[1])] == ["sanctions"]


@pytest.fixture
def cache_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matcher, "_CACHED_UNITS", 0)
    monkeypatch.setattr(scanner, "_CACHED_KEYS", 0)


@pytest.mark.usefixtures("cache_everything")
def test_a_cached_compilation_matches_like_a_fresh_one() -> None:
    cache = MemoryCache()
    first = compile_watchlists(WATCHLISTS, cache=cache)
    assert [first.match(item) for item in ITEMS] == _each_alone()
    assert len(cache.entries) == 4  # the compilation, and the automaton for 1, 2, 3 languages
    again = compile_watchlists(WATCHLISTS, cache=cache)
    assert [again.match(item) for item in ITEMS] == _each_alone()
    assert len(cache.entries) == 4
    other = compile_watchlists(WATCHLISTS[:2], cache=cache)
    assert [m.watchlist for m in other.match(ITEMS[2])] == ["peskov"]


@pytest.mark.usefixtures("cache_everything")
def test_a_corrupt_or_foreign_cache_entry_is_compiled_again() -> None:
    cache = MemoryCache()
    compile_watchlists(WATCHLISTS, cache=cache).match(ITEMS[1])
    for key in cache.entries:
        cache.entries[key] = cache.entries[key][:100]
    assert [compile_watchlists(WATCHLISTS, cache=cache).match(item) for item in ITEMS] == (
        _each_alone()
    )
    for key in cache.entries:
        cache.entries[key] = pickle.dumps(["not", "an", "automaton"])
    assert [compile_watchlists(WATCHLISTS, cache=cache).match(item) for item in ITEMS] == (
        _each_alone()
    )


@pytest.mark.usefixtures("cache_everything")
def test_a_watchlist_changed_in_any_field_is_compiled_again() -> None:
    """The cache key stands for every field of every watchlist, nested ones included: an
    alias's own `fuzzy`, a term's `case_sensitive`."""
    cache = MemoryCache()

    def peskov(alias_fuzzy: int, case_sensitive: bool) -> list[WatchlistSpec]:
        term = {
            "term": "Dmitri Peskov",
            "aliases": [{"alias": "Peskov", "fuzzy": alias_fuzzy}],
            "case_sensitive": case_sensitive,
        }
        return [WatchlistSpec.model_validate({"name": "peskov", "terms": [term]})]

    misspelt = ItemText(title="Peskow a dit", language="fr")
    lowercase = ItemText(title="peskov a dit", language="fr")
    assert compile_watchlists(peskov(1, False), cache=cache).match(misspelt)
    assert not compile_watchlists(peskov(0, False), cache=cache).match(misspelt)
    assert compile_watchlists(peskov(0, False), cache=cache).match(lowercase)
    assert not compile_watchlists(peskov(0, True), cache=cache).match(lowercase)
    assert compile_watchlists(peskov(1, False), cache=cache).match(misspelt)
    assert len(cache.entries) == 6  # a compilation and a French automaton for each of three


def test_small_watchlists_are_not_cached() -> None:
    cache = MemoryCache()
    compile_watchlists(WATCHLISTS, cache=cache).match(ITEMS[0])
    assert cache.entries == {}


def test_the_file_cache_reads_back_what_it_wrote_and_nothing_damaged(tmp_path: Path) -> None:
    cache = FileAutomatonCache(tmp_path / "cache")
    assert cache.load("k") is None
    cache.save("k", b"compiled")
    assert cache.load("k") == b"compiled"
    (entry,) = (tmp_path / "cache").iterdir()
    entry.write_bytes(entry.read_bytes()[:-1] + b"X")
    assert cache.load("k") is None
    for index in range(10):
        cache.save(f"k{index}", b"x")
    assert len(list((tmp_path / "cache").iterdir())) == 8  # the newest are kept
    assert cache.load("k9") == b"x"


def test_a_cache_directory_that_cannot_be_written_is_skipped(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    cache = FileAutomatonCache(blocked / "cache")
    cache.save("k", b"compiled")
    assert cache.load("k") is None


def _planted(cache: FileAutomatonCache, key: str, proof: Path) -> None:
    """An entry with a valid checksum whose pickle, once loaded, creates `proof`."""

    class Plant:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (Path.touch, (str(proof),))  # type: ignore[return-value]

    cache.save(key, pickle.dumps(Plant()))


def test_a_cache_directory_others_may_write_to_is_not_read(tmp_path: Path) -> None:
    """A planted pickle is never unpickled: the directory (or the entry) must be this user's
    alone, or the cache is not used."""
    proof = tmp_path / "planted-code-ran"
    directory = tmp_path / "cache"
    cache = FileAutomatonCache(directory)
    _planted(cache, "k", proof)
    directory.chmod(0o777)  # anyone could have replaced the entry
    assert cache.load("k") is None
    directory.chmod(0o700)
    (entry,) = directory.iterdir()
    entry.chmod(0o666)
    assert cache.load("k") is None
    entry.chmod(0o600)
    assert cache.load("k") is not None  # ours alone again: read (and not unpickled here)
    assert not proof.exists()


def test_links_are_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    FileAutomatonCache(elsewhere).save("k", b"compiled")
    (entry,) = elsewhere.iterdir()
    linked_directory = tmp_path / "linked"
    linked_directory.symlink_to(elsewhere)
    assert FileAutomatonCache(linked_directory).load("k") is None
    directory = tmp_path / "cache"
    cache = FileAutomatonCache(directory)
    cache.save("other", b"x")
    (directory / entry.name).symlink_to(entry)
    assert cache.load("k") is None
    assert FileAutomatonCache(elsewhere).load("k") == b"compiled"


def test_entries_are_written_owner_only(tmp_path: Path) -> None:
    cache = FileAutomatonCache(tmp_path / "cache")
    cache.save("k", b"compiled")
    (entry,) = (tmp_path / "cache").iterdir()
    assert entry.stat().st_mode & 0o077 == 0
