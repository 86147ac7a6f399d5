"""Folding for the matching engine: text -> lowercase, accent-free words separated by spaces.

Same character folding as `monitor.text.fold` (docs/design.md §4 rules 2-4), with one more step:
every character that is not a letter or digit becomes a space, so a word is simply a run of
non-spaces and the scanner never meets punctuation. Spaces are not collapsed, so most characters
fold to exactly one character and offsets stay aligned with the original. The few that fold to
nothing (combining marks, soft hyphens) or to several characters (`œ`, `ß`) are recorded as shift
points, and a folded offset maps back through them.

This runs on every field of every item, so the common case stays in C: typographic
punctuation (’ — …) becomes spaces with `str.replace`, and text that then fits in Latin-1
(French, English and the other Western European languages) is folded with a 256-byte table;
only other scripts go through `str.translate` with the full table, several times slower.

Two characters are not punctuation here (docs/design.md §4 rules 14-15): `&` folds to a word of
its own, ` & `, so `AT&T`, `AT & T` and `S&P` keep it between their words; and for matching, links
(`https://…`, `www.…`) fold to spaces, so nothing is found in them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from monitor.text.fold import fold_char, fold_chars
from monitor.text.tuples import new_tuple

try:  # The common case in one C loop, where the install compiled it (monitor/compiled.py).
    from monitor.text._speedups import folded_text as _folded_text_in_c
except ImportError:  # No C compiler at install, or MONITOR_PURE_PYTHON=1: the code below.
    _folded_text_in_c = None  # type: ignore[assignment]

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_BEYOND_LATIN1 = re.compile("[^\x00-\xff]+")
# Past this many runs of letters beyond Latin-1 (a Greek or Russian text), one `translate` of
# the whole text is cheaper than folding run by run.
_MAX_MIXED_RUNS = 64
# The typographic characters news text is full of, beyond Latin-1: replaced with plain
# `str.replace` (memchr-fast) so most text then fits in Latin-1 and takes the byte-table path.
_COMMON_WIDE_SEPARATORS = "’‘‚‛ʼ“”„–—―‑‐…•\u202f\u2009\u200a\u2002\u2003\u2007\u2008"
_APOSTROPHE = "’"
# A failed Latin-1 encoding costs about what looking for every separator in turn costs.
_MAX_FAILED_ENCODINGS = 3
# `&` belongs to names (`P&O`): a word of its own, whether spaces surround it or not.
AMPERSAND = "&"
_AMPERSAND_WORD = f" {AMPERSAND} "
# Links are not prose (rule 15). A link ends at whitespace; what precedes `www.` is not a letter.
# A link runs to the next space, quote, angle bracket or closing bracket, less the punctuation
# that ends a sentence after it (as GitHub's autolinks read them): `(https://x.fr/a)OTAN` and
# `https://x.fr/a. OTAN` keep their OTAN.
_LINK = re.compile(
    r"(?:https?://|(?<![\w.])www\.)[^\s<>\"«»“”)\]]*?(?=[.,;:!?]*(?:[\s<>\"«»“”)\]]|$))",
    re.IGNORECASE,
)
# Links need one of these, rare in prose: a memchr for each spares the costlier searches.
_SLASH, _LOWER_W, _UPPER_W = b"/wW"
# The scanner finds a phrase's words with at most three spaces between them (`l' OTAN`): a
# longer run of spaces that can be a phrase gap (whitespace kept as given, rule 13, with
# apostrophes and hyphens) folds to one. Runs with other punctuation (`OTAN », a`) stay.
_LONG_GAP = " " * 4
_LONG_GAP_BYTES = _LONG_GAP.encode()
_GAP_SOURCE = re.compile(r"[\s'’ʼ‘´`′＇\-‐‑‒–—―−﹣－\u00ad\u200b-\u200d\u2060\ufeff]*")


# The shifts of a fold with none: every folded index comes from the source index before it.
_NO_SHIFT_AT: tuple[int, ...] = (0,)
_NO_SHIFT_BY: tuple[int, ...] = (-1,)


class WordFold(NamedTuple):
    """`text` is the folded form of `source` with a leading and a trailing space, so every word
    of it is preceded and followed by a space. From `shift_at[k]` on, a folded index `i` comes
    from source index `i + shift_by[k]`. A named tuple: one is made per field of every item,
    with `new_tuple`."""

    source: str
    text: str
    shift_at: tuple[int, ...] = _NO_SHIFT_AT
    shift_by: tuple[int, ...] = _NO_SHIFT_BY
    # Every source character folded to exactly one character (the common case: Latin-1 text
    # without `œ` or combining accents), so a folded index is the source index plus one.
    aligned: bool = False

    def source_index(self, index: int) -> int:
        return index + self.shift_by[bisect_right(self.shift_at, index) - 1]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The source span that folded into `text[start:end]` (a non-empty span of a word)."""
        if self.aligned:
            return start - 1, end - 1
        source_end = self.source_index(end - 1) + 1
        # Characters that folded to nothing (combining accents) after the word belong to it.
        while source_end < len(self.source) and fold_char(self.source[source_end]) == "":
            source_end += 1
        return self.source_index(start), source_end


# What the Latin-1 table gives the characters folding to zero or several characters: no other
# character folds to NUL (it folds to a space), so one memchr of the folded bytes finds them.
_SLOW_MARK = 0


@dataclass(frozen=True)
class _Tables:
    translate: dict[int, str]
    mapping: dict[str, str]
    slow: re.Pattern[str]  # characters folding to zero or several characters
    # Punctuation of the General Punctuation block and its neighbours, which folds to a space.
    wide_separators: re.Pattern[str]
    latin1: bytes  # with `_SLOW_MARK` for the `slow` characters that are in Latin-1 (ß, æ, ½)
    # A space for the Latin-1 characters a phrase gap can hold (`_GAP_SOURCE`), `x` for others.
    latin1_gaps: bytes
    # Latin-1 characters that `translate` folds beyond Latin-1 (µ to Greek mu), where the byte
    # table has a space.
    latin1_unlike: str


def _word_chars(folded: str) -> str:
    if folded == AMPERSAND:
        return _AMPERSAND_WORD
    word = "".join(char if char.isalnum() else " " for char in folded)
    # Punctuation that decomposes into several (… is "..."): one space keeps offsets aligned.
    return " " if word and word.isspace() else word


@cache
def _tables() -> _Tables:
    """The folding of every character of the Basic Multilingual Plane, built once."""
    chars = [chr(code) for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF]
    translate: dict[int, str] = {}
    slow: list[str] = []
    mapping: dict[str, str] = {}
    for char, folded in zip(chars, fold_chars(chars), strict=True):
        if folded == char and char.isalnum():  # most letters and digits: they stay
            continue
        word = folded if folded.isalnum() else _word_chars(folded)
        if word != char:
            mapping[char] = word
            if len(word) == 1:
                translate[ord(char)] = word
            else:
                slow.append(char)
    # A lone surrogate (`&#xD800;` in a feed, `\ud800` in JSON) is no character, and no text
    # holding one can be encoded: a word separator, as other non-letters are.
    for code in range(0xD800, 0xE000):
        translate[code] = mapping[chr(code)] = " "
    wide = [
        chr(code)
        for code in (*range(0x02B0, 0x0300), *range(0x2000, 0x2BFF))
        if mapping.get(chr(code)) == " "
    ]
    latin1 = bytes(_latin1_fold(chr(code), mapping) for code in range(256))
    return _Tables(
        translate=translate,
        mapping=mapping,
        slow=one_of(slow),
        wide_separators=one_of(wide),
        latin1=latin1,
        latin1_gaps=bytes(
            ord(" " if _GAP_SOURCE.fullmatch(chr(code)) else "x") for code in range(256)
        ),
        latin1_unlike="".join(
            chr(code) for code in range(256) if translate.get(code, chr(code)) != chr(latin1[code])
        ).translate({ord(char): None for char in slow}),
    )


def one_of(chars: Iterable[str]) -> re.Pattern[str]:
    """A pattern for one of `chars`, as ranges: the slow characters and the separators are
    thousands (every Hangul syllable), and a class of each one alone takes long to compile."""
    ranges: list[list[str]] = []
    for char in sorted(set(chars)):
        if ranges and ord(char) == ord(ranges[-1][1]) + 1:
            ranges[-1][1] = char
        else:
            ranges.append([char, char])
    return re.compile(
        "["
        + "".join(
            re.escape(first) if first == last else f"{re.escape(first)}-{re.escape(last)}"
            for first, last in ranges
        )
        + "]"
    )


@cache
def separator_chars() -> str:
    """Every character of the Basic Multilingual Plane that folds to one word separator (one
    space) in aligned text: in Latin-1 by the byte table, beyond it by the full one."""
    tables = _tables()
    latin1 = [chr(code) for code in range(256) if tables.latin1[code] == ord(" ")]
    wider = [char for char, folded in tables.mapping.items() if folded == " " and ord(char) > 0xFF]
    return "".join(latin1 + wider)


def _latin1_fold(char: str, mapping: dict[str, str]) -> int:
    folded = mapping.get(char, char)
    if len(folded) != 1:  # ß, æ: the slow path takes the text
        return _SLOW_MARK
    # One that folds outside Latin-1 (µ to Greek mu) is not a word character for us: a space.
    return ord(folded) if ord(folded) < 256 else ord(" ")


def _fold_aligned(text: str, tables: _Tables) -> str:
    """Fold text free of `slow` characters: one character in, one character out."""
    try:
        return text.encode("latin-1").translate(tables.latin1).decode("latin-1")
    except UnicodeEncodeError:
        pass
    narrow = tables.wide_separators.sub(" ", text)
    try:
        return narrow.encode("latin-1").translate(tables.latin1).decode("latin-1")
    except UnicodeEncodeError:
        return _fold_mixed(narrow, tables)


def _fold_mixed(text: str, tables: _Tables) -> str:
    """`text.translate(tables.translate)`, faster for Latin-1 text with a few letters beyond
    it (`Erdoğan`, `Wałęsa`, `Čapek`): only those go through the full table, which costs a
    dictionary look-up per character; the Latin-1 runs between take the byte table."""
    runs = list(_BEYOND_LATIN1.finditer(text))
    if len(runs) > _MAX_MIXED_RUNS or any(char in text for char in tables.latin1_unlike):
        return text.translate(tables.translate)
    pieces = []
    position = 0
    for run in runs:
        latin1 = text[position : run.start()].encode("latin-1")
        pieces.append(latin1.translate(tables.latin1).decode("latin-1"))
        pieces.append(run.group().translate(tables.translate))
        position = run.end()
    pieces.append(text[position:].encode("latin-1").translate(tables.latin1).decode("latin-1"))
    return "".join(pieces)


def _without_common_separators(text: str) -> str:
    for char in _COMMON_WIDE_SEPARATORS:
        if char in text:
            text = text.replace(char, " ")
    return text


def fold_words(text: str, *, without_links: bool = False) -> WordFold:
    """`without_links`: links fold to spaces (rule 15), as matching reads text."""
    if _folded_text_in_c is not None:
        tables = _tables()
        folded = _folded_text_in_c(
            text,
            tables.latin1,
            tables.latin1_gaps,
            _COMMON_WIDE_SEPARATORS,
            tables.mapping,
            without_links,
        )
        if type(folded) is str:  # aligned, its long runs of spaces judged
            return new_tuple(WordFold, (text, folded, _NO_SHIFT_AT, _NO_SHIFT_BY, True))
        if folded is not None:  # else text it leaves to the code below
            return _with_gaps_collapsed(WordFold(text, *folded), None)
    fold, latin1 = _fold_words(text, without_links)
    return _with_gaps_collapsed(fold, latin1)


def _with_gaps_collapsed(fold: WordFold, latin1: bytes | None) -> WordFold:
    """`fold` with its runs of spaces that are phrase gaps as one space; `latin1` is the
    Latin-1 text an aligned fold folds, None for another fold."""
    if _LONG_GAP not in fold.text:  # most text
        return fold
    if latin1 is not None and not _may_hold_gap(fold.text, latin1):
        return fold
    runs = _gap_runs(fold)
    return _with_runs_collapsed(fold, runs) if runs else fold


def _may_hold_gap(folded: str, latin1: bytes) -> bool:
    """Whether an aligned fold's long runs of spaces can be phrase gaps, from `latin1`, the
    Latin-1 text it folds. French quotations and sentence ends make many long runs (`OTAN »,
    a`) and few gaps: one pass over the whole text costs less than checking each run."""
    # The leading space has no source character: that run is for `_gap_runs` to judge.
    if folded.startswith(_LONG_GAP):
        return True
    # `rfind` rather than `in`: CPython's backward search loop is a quarter faster on text where
    # the needle's character is this frequent (spaces between words).
    return latin1.translate(_tables().latin1_gaps).rfind(_LONG_GAP_BYTES) >= 0


def _gap_runs(fold: WordFold) -> list[tuple[int, int]]:
    """The runs of four spaces or more of `fold.text` that can be phrase gaps, each as the
    span to drop (all its spaces but the first)."""
    runs = []
    text, source = fold.text, fold.source
    # Only the leading space has no source character: an aligned fold's other runs come from
    # the same span of the source, checked where it is rather than sliced out.
    in_place = fold.aligned and not text.startswith(_LONG_GAP)
    length = len(text)
    start = text.find(_LONG_GAP)
    while start >= 0:
        end = start + len(_LONG_GAP)
        while end < length and text[end] == " ":
            end += 1
        if end < length:
            # Most long runs hold punctuation (`OTAN », a`): the regular expression says no at
            # its first character. It takes every whitespace character that `isspace` takes.
            if in_place:
                is_gap = _GAP_SOURCE.fullmatch(source, start - 1, end - 1)
            else:
                # After an `&`, the run's first space is the `&` word's own (` & `): its source
                # is the `&`, and the gap is what follows (`Simon &   Schuster`, rule 14).
                first = start + 1 if text[start - 1] == AMPERSAND else start
                is_gap = _GAP_SOURCE.fullmatch(
                    source[fold.source_index(first) : fold.source_index(end)]
                )
            if is_gap:
                runs.append((start + 1, end))
        start = text.find(_LONG_GAP, end)
    return runs


def _fold_words(text: str, without_links: bool) -> tuple[WordFold, bytes | None]:
    """The fold, and when it is aligned the Latin-1 text it folds (links and wide separators
    as spaces)."""
    tables = _tables()
    source = text
    text, encoded = _as_latin1(text)
    if encoded is None:
        if without_links and _may_hold_link(text):
            text = _without_links(text)
        return _fold_with_shifts(source, text, tables), None
    # Searching bytes is several times faster than searching text with wide characters.
    if without_links and _may_hold_link_latin1(encoded):
        text = _without_links(text)
        encoded = text.encode("latin-1")
    folded = encoded.translate(tables.latin1)
    # `in` on bytes is a memchr: much cheaper than a regular expression search.
    if _SLOW_MARK not in folded:
        return WordFold(source, f" {folded.decode('latin-1')} ", aligned=True), encoded
    return _fold_with_shifts(source, text, tables), None


def _as_latin1(text: str) -> tuple[str, bytes | None]:
    """`text` with the common wide separators as spaces, and then its Latin-1 bytes if it fits.
    Most news text holds one or two of those separators (’ …): finding them from the failures
    of the encoding costs less than looking for each of the twenty in turn."""
    # The apostrophe of French elisions, in most items: looked for first, without a failure.
    if _APOSTROPHE in text:
        text = text.replace(_APOSTROPHE, " ")
    for _ in range(_MAX_FAILED_ENCODINGS):
        try:
            return text, text.encode("latin-1")
        except UnicodeEncodeError as beyond:
            char = text[beyond.start]
            if char not in _COMMON_WIDE_SEPARATORS:  # a letter beyond Latin-1 (ğ, Ж)
                return _without_common_separators(text), None
            text = text.replace(char, " ")
    # Text full of typographic characters: more failures would cost more than one look each.
    text = _without_common_separators(text)
    try:
        return text, text.encode("latin-1")
    except UnicodeEncodeError:
        return text, None


def _may_hold_link(text: str) -> bool:
    return ("/" in text and "://" in text) or (
        ("w" in text or "W" in text) and "www." in text.lower()
    )


def _may_hold_link_latin1(encoded: bytes) -> bool:
    # An int is looked for with a plain memchr, cheaper than a one-byte needle.
    return (_SLASH in encoded and b"://" in encoded) or (
        (_LOWER_W in encoded or _UPPER_W in encoded) and b"www." in encoded.lower()
    )


def _without_links(text: str) -> str:
    # One space per character of a link: offsets stay aligned.
    return _LINK.sub(_blank, text)


def _blank(found: re.Match[str]) -> str:
    return " " * len(found.group())


def _with_runs_collapsed(fold: WordFold, runs: list[tuple[int, int]]) -> WordFold:
    """`fold` without the spans `runs` of its text, its shifts moved to match."""
    # New index `j` of a kept character comes from old index `j + removed`; from each old
    # shift point and each run's end on, its source is `old + old shift`.
    points = sorted(set(fold.shift_at).union(end for _, end in runs))
    shift_at: list[int] = []
    shift_by: list[int] = []
    pieces = []
    removed = 0
    run_index = 0
    kept_from = 0
    for point in points:
        while run_index < len(runs) and runs[run_index][1] <= point:
            start, end = runs[run_index]
            pieces.append(fold.text[kept_from:start])
            kept_from = end
            removed += end - start
            run_index += 1
        if run_index < len(runs) and runs[run_index][0] <= point:
            continue  # inside a run: removed
        old_shift = fold.shift_by[bisect_right(fold.shift_at, point) - 1]
        if shift_by and shift_by[-1] == old_shift + removed:
            continue
        shift_at.append(point - removed)
        shift_by.append(old_shift + removed)
    pieces.append(fold.text[kept_from:])
    return WordFold(fold.source, "".join(pieces), tuple(shift_at), tuple(shift_by))


def _fold_with_shifts(source: str, text: str, tables: _Tables) -> WordFold:
    text = _ASTRAL.sub(" ", text)  # emoji and the like: one character, one separator
    pieces = [" "]
    shift_at, shift_by = [0], [-1]
    position = 0  # in the source
    length = 1  # of the folded text so far
    for found in tables.slow.finditer(text):
        aligned = _fold_aligned(text[position : found.start()], tables)
        pieces.append(aligned)
        length += len(aligned)
        replacement = tables.mapping[found.group()]
        for offset in range(len(replacement)):
            # Every character of an expansion (`œ` -> `oe`) comes from the same source char.
            shift_at.append(length + offset)
            shift_by.append(found.start() - length - offset)
        pieces.append(replacement)
        length += len(replacement)
        position = found.end()
        shift_at.append(length)
        shift_by.append(position - length)
    pieces.append(_fold_aligned(text[position:], tables))
    pieces.append(" ")
    return WordFold(source, "".join(pieces), tuple(shift_at), tuple(shift_by))


def fold_word_text(text: str) -> str:
    """Just the folded words of `text`, single-spaced (for terms and query words)."""
    return " ".join(fold_words(text).text.split())
