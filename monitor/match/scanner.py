"""The scan: every spelling of every watchlist in one Aho-Corasick automaton (ahocorasick_rs),
each field of an item folded and scanned once (docs/design.md §4, the Lucene Monitor idea).

The automaton holds the anchors of each spelling: every inflected form of its most selective
word (or the pieces of a fuzzy word); a hit of an anchor is a candidate, which `verify`
confirms or drops. Word anchors are wrapped in spaces, and folded text has a space around
every word, so the automaton itself enforces whole words: `otan` is never a candidate inside
`botanique`, and most candidates are matches.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, TypeVar, cast

from ahocorasick_rs import BytesAhoCorasick, Implementation
from rapidfuzz.distance import Levenshtein

from monitor.gc_pause import paused_gc
from monitor.match.spelling import (
    PIECE,
    PREFIX,
    SUFFIX,
    WORD,
    PhraseForms,
    Span,
    WordTest,
    anchor_index,
    phrase_forms,
    token_at,
    verify,
)
from monitor.text.bounded import BoundedCache
from monitor.text.inflect import language_key, shortest_base
from monitor.text.tuples import new_tuple
from monitor.text.wordfold import WordFold

# A phrase occurs with one, two or three separators between two words: `zone d'exclusion`,
# `l' OTAN`, `no - fly` (longer gaps are not phrases, or fold to one space). A pair's key holds
# the usual one and the next word's start; the longer gaps only the next word's first letters:
# copies of the whole key for each gap held half of the automaton.
_LONGER_GAPS = ("  ", "   ")
_LONGER_GAP_LETTERS = 2


@dataclass(frozen=True)
class Unit:
    """One spelling to look for, shared by every watchlist that uses it. Its anchor is one
    word, or for a phrase two neighbouring words (`anchor` and the next), which are far rarer
    in text than either word alone: the automaton then finds few candidates to verify."""

    tests: tuple[WordTest, ...]
    anchor: int
    pair: bool = False

    @classmethod
    def of(cls, tests: tuple[WordTest, ...]) -> Unit:
        pairs = [
            index
            for index in range(len(tests) - 1)
            if all(
                not test.fuzzy and not test.prefix and not test.translit
                for test in tests[index : index + 2]
            )
        ]
        if pairs:
            first = max(
                pairs, key=lambda index: len(tests[index].word) + len(tests[index + 1].word)
            )
            return cls(tests, first, pair=True)
        return cls(tests, anchor_index(tests))

    @property
    def plain_word(self) -> bool:
        """One word, decided by its folded form alone: found by the automaton, it is a match."""
        (test,) = self.tests if len(self.tests) == 1 else (None,)
        return (
            test is not None
            and not test.fuzzy
            and not test.prefix
            and not test.translit
            and not test.checks_source
        )

    def anchor_keys(self, language: str | None) -> list[tuple[str, str, int]]:
        """(automaton key, kind, length of the anchor word in the key) in `language`."""
        keys = []
        for text, kind in self.tests[self.anchor].anchors(language):
            if kind == WORD and self.pair:
                follower = self.tests[self.anchor + 1]
                # Every inflected form of the follower starts with its shortest base.
                tail = shortest_base(follower.word) if follower.inflect else f"{follower.word} "
                keys.append((f" {text} {tail}", WORD, len(text)))
                keys += [
                    (f" {text}{gap}{tail[:_LONGER_GAP_LETTERS]}", WORD, len(text))
                    for gap in _LONGER_GAPS
                ]
            elif kind == WORD:
                keys.append((f" {text} ", WORD, len(text)))
            elif kind == PREFIX:
                keys.append((f" {text}", PREFIX, len(text)))
            elif kind == SUFFIX:
                keys.append((f"{text} ", SUFFIX, len(text)))
            else:
                keys.append((text, PIECE, len(text)))
        return keys


class _Anchor(NamedTuple):
    """One unit an automaton key stands for, with what the scan needs to check a candidate
    there worked out once: the scan runs on every item, the compile once."""

    unit_id: int
    # The key alone is a match: one plain word, or a one-word wildcard (the key ` sanction`
    # can only be found at the start of a word that starts with it).
    whole: bool
    # One word and nothing to check in the source: an accepted anchor is the match.
    alone: bool
    # For a piece of a fuzzy word: the token lengths it can accept (most tokens a piece finds
    # are far too long or short), the tokens it accepts without an edit (every inflected
    # form), the word edits are counted from, and how many.
    lengths: frozenset[int] | None
    forms: frozenset[str]
    word: str
    fuzzy: int


def _anchor(unit_id: int, unit: Unit, key: str, kind: str, language: str | None) -> _Anchor:
    test = unit.tests[unit.anchor]
    # A translit word's key only starts it: `verify` tests the whole word.
    alone = len(unit.tests) == 1 and not test.checks_source and not test.translit
    if kind == WORD or test.prefix or test.translit:
        # The key is the anchor word whole (a wildcard's key is its prefix at a word start).
        return _Anchor(unit_id, unit.plain_word or alone, alone, None, frozenset(), "", 0)
    piece = key.strip()
    forms = test.exact_forms(language)
    # A token accepted outright is one of `forms` that holds the piece where the key found it;
    # one accepted with edits is within `fuzzy` letters of the word's length.
    fits = {PREFIX: str.startswith, SUFFIX: str.endswith, PIECE: str.__contains__}[kind]
    lengths = {len(form) for form in forms if fits(form, piece)}
    lengths.update(range(len(test.word) - test.fuzzy, len(test.word) + test.fuzzy + 1))
    return _Anchor(unit_id, False, alone, frozenset(lengths), forms, test.word, test.fuzzy)


# The value of one automaton key: (kind, length of the anchor word in a WORD key, the token
# lengths any of its fuzzy pieces can accept or None, the units the key alone finds
# (`_Anchor.whole`: most keys, one plain word), the other anchors it stands for, and None; or,
# for a key that stands for other units in other languages (`zones` is a form of `zone` in
# French, not in German), empty units and anchors and the (units, anchors) in each language of
# the scan, in the order of its `languages`).
# The shape of a key tells its kind (` word `, ` pre`, `suf `, `piece`, ` pair wo`), and so
# where the token it found starts and ends, the same for every unit and language. A plain tuple,
# not a named one: there is one per distinct value (most keys share theirs), and the scan
# unpacks it whole.
_Found = tuple[tuple[int, ...], tuple[_Anchor, ...]]
_Key = tuple[
    str, int, frozenset[int] | None, tuple[int, ...], tuple[_Anchor, ...],
    tuple[_Found, ...] | None,
]  # fmt: skip
_NOTHING: _Found = ((), ())
# Phrases' forms kept at once (a tuple of form sets the inflection rules share).
_PHRASES_KEPT = 8_192
# Below this many keys an automaton builds in a blink: not worth a cache entry.
_CACHED_KEYS = 20_000
# Bumped whenever the keys or their values change shape: a cached key table of another format
# is never loaded.
_FORMAT = 5


@dataclass(frozen=True)
class _KeyTable:
    """Every automaton key for the languages met so far, and the value of each (same order):
    what the cache keeps. The automaton itself is built from it in a fraction of a second,
    and cannot be pickled."""

    languages: tuple[str | None, ...]
    keys: list[str]
    values: list[_Key]

    @classmethod
    def of(cls, units: Sequence[Unit], languages: tuple[str | None, ...]) -> _KeyTable:
        # Key -> the index of its shape in `shapes`: (kind, word length, then its anchors in
        # each of `languages`). Most keys share a shape (a word's inflected forms, the hundreds
        # of one-edit variants of a fuzzy word), so a key costs its string and a shared int.
        entries: dict[str, int] = {}
        shapes: list[tuple[Any, ...]] = []
        shape_ids: dict[tuple[Any, ...], int] = {}
        # (shape index or -1, kind, word length, language position, anchors) -> the shape with
        # them added, for the anchors one unit shares between its keys: found by identity, not
        # by hashing them.
        added: dict[tuple[int, str, int, int, int], int] = {}
        kept: list[tuple[_Anchor, ...]] = []  # keeps each shared anchors' identity unique
        nowhere: tuple[tuple[_Anchor, ...], ...] = ((),) * len(languages)
        for position, language in enumerate(languages):
            at = 2 + position
            for unit_id, unit in enumerate(units):
                # The keys of a whole word (every inflected form, every gap of a pair) share one
                # anchor: a unit can have dozens of keys, and the automaton holds every unit's.
                shared: tuple[_Anchor, ...] | None = None
                anchor_test = unit.tests[unit.anchor]
                for key, kind, word_length in unit.anchor_keys(language):
                    if kind == WORD or anchor_test.prefix or anchor_test.translit:
                        if shared is None:
                            shared = (_anchor(unit_id, unit, key, kind, language),)
                            kept.append(shared)
                        anchors = shared
                    else:
                        anchors = (_anchor(unit_id, unit, key, kind, language),)
                    old = entries.get(key, -1)
                    step = (old, kind, word_length, at, id(anchors))
                    shape_id = added.get(step) if anchors is shared else None
                    if shape_id is None:
                        entry: tuple[Any, ...] = (
                            shapes[old] if old >= 0 else (kind, word_length, *nowhere)
                        )
                        shape = (*entry[:at], entry[at] + anchors, *entry[at + 1 :])
                        shape_id = shape_ids.get(shape)
                        if shape_id is None:
                            shape_id = shape_ids[shape] = len(shapes)
                            shapes.append(shape)
                        if anchors is shared:
                            added[step] = shape_id
                    entries[key] = shape_id
        alike: dict[_Found, _Found] = {}  # one copy of each (units, anchors) in any value
        finished = [
            _value(kind, word_length, tuple(slots), alike) for kind, word_length, *slots in shapes
        ]
        values = [finished[shape_id] for shape_id in entries.values()]
        return cls(languages, list(entries), values)


class _SharedScan:
    """One automaton for all the languages met so far (their inflection rules). Most keys mean
    the same in every language (the one-edit variants of fuzzy words, most word forms): stored
    once, where one automaton per language would hold them all again."""

    def __init__(self, table: _KeyTable) -> None:
        self.languages = table.languages
        self.values = table.values
        self.empty = not table.keys
        # The matches of one text as (key index, start, end), in one call: a contiguous NFA
        # (ahocorasick_rs) walks folded text several times faster than a linked trie does, and
        # hands back every match at once instead of one Python object per step. It walks the
        # text's UTF-8 bytes, with the keys': folded text is ASCII but for other scripts, and
        # the bytes of ASCII text are its characters, offsets and all, where the automaton of
        # strings turns the offsets of every match from bytes to characters (5% of an item).
        self.automaton = None
        if not self.empty:
            self.automaton = BytesAhoCorasick(
                map(str.encode, table.keys), implementation=Implementation.ContiguousNFA
            )
        # For each key that is one whole word (` word `) whose units it alone finds, the same in
        # every language (most keys), those units; else None, and the key's value says more.
        self.words = [
            whole
            if kind == WORD and word_length == len(key) - 2 and not anchors and by_language is None
            else None
            for key, (kind, word_length, _, whole, anchors, by_language) in zip(
                table.keys, table.values, strict=True
            )
        ]


def _value(
    kind: str,
    word_length: int,
    by_position: tuple[tuple[_Anchor, ...], ...],
    alike: dict[_Found, _Found],
) -> _Key:
    every = [anchor for anchors in by_position for anchor in anchors]
    token_lengths = None
    # Only the keys of fuzzy pieces filter on the token length (a wildcard's do not).
    if kind != WORD and all(anchor.lengths is not None for anchor in every):
        token_lengths = frozenset().union(*(anchor.lengths or () for anchor in every))
    found = tuple(alike.setdefault(split, split) for split in map(_split, by_position))
    if all(each == found[0] for each in found):
        return (kind, word_length, token_lengths, *found[0], None)
    return (kind, word_length, token_lengths, (), (), found)


def _split(anchors: tuple[_Anchor, ...]) -> _Found:
    return (
        tuple(anchor.unit_id for anchor in anchors if anchor.whole),
        tuple(anchor for anchor in anchors if not anchor.whole),
    )


# Unit id -> field -> spans, in text order.
Found = Mapping[int, Mapping[str, Sequence[Span]]]


class AutomatonCache(Protocol):
    """Where compiled automata are kept between runs (the caller's: matching does no I/O).
    `load` returns None for a key it does not hold, or cannot read."""

    def load(self, key: str) -> bytes | memoryview | None: ...

    def save(self, key: str, data: bytes) -> None: ...


_Built = TypeVar("_Built")


def cached(
    cache: AutomatonCache,
    key: str,
    build: Callable[[], _Built],
    *,
    valid: Callable[[object], bool],
    worth_keeping: Callable[[_Built], bool],
) -> _Built:
    """What `cache` holds under `key`, when it unpickles to something `valid`; else `build()`,
    saved there when `worth_keeping` (small ones build quicker than a look-up is worth)."""
    data = cache.load(key)
    if data is not None:
        with suppress(Exception):  # unreadable, truncated, another format: build it
            loaded = pickle.loads(data)  # noqa: S301 - the caller's own cache directory
            if valid(loaded):
                return cast(_Built, loaded)
    built = build()
    if worth_keeping(built):
        cache.save(key, pickle.dumps(built, protocol=pickle.HIGHEST_PROTOCOL))
    return built


class Scanner:
    """Finds every unit in an item's folded fields. Inflected forms differ by language: the
    automaton covers the languages met so far, and is built again, for one more, the first
    time an item of another language comes (most deployments read one to three)."""

    def __init__(
        self,
        units: Sequence[Unit],
        cache: AutomatonCache | None = None,
        *,
        units_key: str | None = None,
    ) -> None:
        self.units = self._units = tuple(units)
        self._cache = cache
        # What stands for the units in the cache key: the key they were compiled under, which
        # decides them (hashing their repr took ~0.05 s of each start), else their repr.
        self._units_key = units_key
        self._shared: _SharedScan | None = None
        self._lock = threading.Lock()
        # (unit, language) -> its `phrase_forms`, made the first time a candidate needs them
        # (bounded, for a daemon that meets every phrase in time).
        self._phrases: BoundedCache[tuple[int, str | None], PhraseForms | None]
        self._phrases = BoundedCache(self._phrase_forms, size=_PHRASES_KEPT)

    def _phrase_forms(self, unit_language: tuple[int, str | None]) -> PhraseForms | None:
        unit, language = unit_language
        return phrase_forms(self._units[unit].tests, language)

    def _for(self, language: str | None) -> _SharedScan:
        compiled = self._shared
        if compiled is None or language not in compiled.languages:
            with self._lock:
                compiled = self._shared
                if compiled is None or language not in compiled.languages:
                    languages = (*compiled.languages, language) if compiled else (language,)
                    # Dropped before the next is built: both at once would double the peak.
                    self._shared = compiled = None
                    compiled = self._shared = self._build(languages)
        return compiled

    def _build(self, languages: tuple[str | None, ...]) -> _SharedScan:
        with paused_gc():
            return self._build_shared(languages)

    def _build_shared(self, languages: tuple[str | None, ...]) -> _SharedScan:
        if self._cache is None:
            return _SharedScan(_KeyTable.of(self._units, languages))
        return _SharedScan(
            cached(
                self._cache,
                self._cache_key(languages),
                lambda: _KeyTable.of(self._units, languages),
                valid=lambda loaded: (
                    isinstance(loaded, _KeyTable) and loaded.languages == languages
                ),
                worth_keeping=lambda built: len(built.keys) >= _CACHED_KEYS,
            )
        )

    def _cache_key(self, languages: tuple[str | None, ...]) -> str:
        """The key table's cache key: what it is built from (the units, the languages) and the
        versions of everything that shapes or reads its keys."""
        digest = hashlib.sha256()
        versions = (_FORMAT, sys.version)
        units = self._units if self._units_key is None else self._units_key
        for part in (versions, languages, units):
            digest.update(repr(part).encode())
        return digest.hexdigest()

    def scan(self, folds: Mapping[str, WordFold], language: str | None) -> Found:
        language = language_key(language)
        compiled = self._for(language)
        found: dict[int, dict[str, list[Span]]] = {}
        if compiled.empty:
            return found
        units = self._units
        assert compiled.automaton is not None
        find = compiled.automaton.find_matches_as_indexes
        values, words, phrases = compiled.values, compiled.words, self._phrases
        position = compiled.languages.index(language)
        for field, fold in folds.items():
            text = fold.text
            tried: set[tuple[int, int]] = set()
            encoded = text.encode()
            matches = find(encoded, True)
            if len(encoded) != len(text):  # beyond ASCII: the offsets as characters
                matches = _in_characters(matches, encoded)
            for key_index, start, end in matches:
                whole = words[key_index]
                if whole is not None:
                    # Most keys: ` word `, whose units it alone finds, in every language.
                    token = new_tuple(Span, (start + 1, end - 1))
                    anchors: tuple[_Anchor, ...] = ()
                else:
                    kind, word_length, token_lengths, whole, anchors, by_language = values[
                        key_index
                    ]
                    if by_language is not None:
                        whole, anchors = by_language[position]
                    # A key starts with the space before its word, or ends with the space after
                    # it (a pair's key: its first word, then the next).
                    if kind == WORD:
                        first = start + 1
                        last = first + word_length
                    elif kind == SUFFIX:  # the key ends the word
                        first, last = text.rfind(" ", 0, start) + 1, end - 1
                    elif kind == PREFIX:
                        first = start + 1
                        last = text.find(" ", first)
                    else:
                        first, last = token_at(text, start)
                    # Pieces of fuzzy words find many near-misses: most fail on their length.
                    if token_lengths is not None and last - first not in token_lengths:
                        continue
                    token = new_tuple(Span, (first, last))
                for unit_id in whole:
                    by_field = found.get(unit_id)
                    if by_field is None:
                        found[unit_id] = {field: [token]}
                        continue
                    spans = by_field.get(field)
                    if spans is None:
                        by_field[field] = [token]
                    else:
                        spans.append(token)
                if not anchors:  # most keys
                    continue
                first, last = token
                word = None
                for anchor in anchors:
                    # Unpacked once: each attribute of a named tuple is a look-up.
                    unit_id, _, alone, lengths, _, _, _ = anchor
                    if lengths is not None:
                        word = word or text[first:last]
                        if not _accepts(anchor, word):
                            continue
                    place = (unit_id, first)
                    if place in tried:
                        continue
                    tried.add(place)
                    if alone:
                        span: Span | None = token
                    else:
                        unit = units[unit_id]
                        phrase = phrases[unit_id, language]
                        span = verify(unit.tests, unit.anchor, fold, token, language, phrase)
                    if span is not None:
                        found.setdefault(unit_id, {}).setdefault(field, []).append(span)
        for by_field in found.values():
            for spans in by_field.values():
                if len(spans) > 1:
                    # By start (one unit's places never share a start), in C.
                    spans.sort()
        return found


def _in_characters(
    matches: list[tuple[int, int, int]], encoded: bytes
) -> list[tuple[int, int, int]]:
    """`matches` (key index, start, end) in `encoded`, UTF-8, with their offsets counted in
    characters: a key's bytes start and end on character boundaries, as UTF-8 tells a
    character's first byte from the others."""
    characters: dict[int, int] = {}
    counted = done = 0
    for offset in sorted({offset for _, start, end in matches for offset in (start, end)}):
        counted += len(encoded[done:offset].decode())
        characters[offset], done = counted, offset
    return [(key, characters[start], characters[end]) for key, start, end in matches]


def _accepts(anchor: _Anchor, word: str) -> bool:
    """`WordTest.accepts` for the word a piece of a fuzzy word found, the cheap tests first."""
    assert anchor.lengths is not None  # a piece of a fuzzy word
    if len(word) not in anchor.lengths:
        return False
    return word in anchor.forms or (
        abs(len(word) - len(anchor.word)) <= anchor.fuzzy
        and Levenshtein.distance(anchor.word, word, score_cutoff=anchor.fuzzy) <= anchor.fuzzy
    )
