"""One spelling of a term (or one query word or phrase), compiled: a test per word, and the
anchors under which the scanner's automaton finds candidate places for it.

A word test decides on folded tokens (docs/design.md §4 rules 2-6, 9), then on the original
characters where case matters (rules 7-8). A phrase is its words in a row, separated in the
original text only by spaces, apostrophes and hyphens (rules 3-4), and never by a paragraph break
(rule 16): `zone, d'exclusion` and `Volodymyr</p><p>Zelensky` are not phrases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from itertools import pairwise
from typing import Literal, NamedTuple

from rapidfuzz.distance import Levenshtein

from monitor.text.fold import fold
from monitor.text.inflect import MIN_LETTERS, inflected_forms, shortest_base
from monitor.text.translit import anchor_prefixes, skeletons
from monitor.text.tuples import new_tuple
from monitor.text.wordfold import AMPERSAND, WordFold, fold_word_text, one_of, separator_chars

FUZZY_MIN_LETTERS = 5
TRANSLIT = "translit"
# `fuzzy:` of a term or alias: edits per word of 5+ letters, or the transliteration swaps.
Fuzzy = int | Literal["translit"]
WORD, PREFIX, SUFFIX, PIECE = "word", "prefix", "suffix", "piece"
_FUZZY_PIECE = 4
# What may stand between two words of a phrase in the original text: spaces, apostrophes and
# hyphens, and at most one line break (two make a paragraph break, monitor.text.blocks; one
# regular expression says both, so the usual gap costs one call).
# `\s` but the line breaks \n, \r and \u2029, then apostrophes, hyphens and invisible characters.
_GAP_CHAR = (
    "[ \t\x0b\x0c\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u202f\u205f\u3000"
    "'’ʼ‘´`′＇\\-‐‑‒–—―−﹣－\u00ad\u200b-\u200d\u2060\ufeff]"
)
_PHRASE_GAP = re.compile(f"{_GAP_CHAR}*(?:(?:\r\n|[\n\r]){_GAP_CHAR}*)?")


@dataclass(frozen=True)
class WordTest:
    word: str  # folded: lowercase, no accents
    inflect: bool = False  # plural and feminine endings accepted (rule 6)
    prefix: bool = False  # a wildcard `sanction*`: any word starting with `word`
    fuzzy: int = 0  # edits accepted (rule 9)
    acronym: bool = False  # the source word must start with a capital (rule 7)
    exact_case: str | None = None  # case-sensitive: the source must show this case (rule 8)
    translit: bool = False  # `fuzzy: translit`: transliteration swaps accepted (rule 9)

    def accepts(self, token: str, language: str | None) -> bool:
        if self.prefix:
            return token.startswith(self.word)
        if token == self.word:
            return True
        if self.translit:
            return not skeletons(token).isdisjoint(translit_keys(self.word, self.inflect, language))
        # The edit distance is computed in C: try it before the inflection rules.
        if (
            self.fuzzy > 0
            and abs(len(token) - len(self.word)) <= self.fuzzy
            and Levenshtein.distance(self.word, token, score_cutoff=self.fuzzy) <= self.fuzzy
        ):
            return True
        # `same_word` without its first test, made above.
        return self.inflect and token in inflected_forms(self.word, language)

    def accepts_source(self, source_word: str, field: str) -> bool:
        """The case test on the word as written; `field` is the whole field it stands in."""
        if self.acronym:
            first_letter = source_word[:1]  # most words start with a letter
            if not first_letter.isalpha():
                first_letter = next((char for char in source_word if char.isalpha()), "")
            if not first_letter.isupper():
                return False
        if self.exact_case is not None:
            kept = _case_kept(source_word)
            # Compare the case of the part every inflected form shares: `Poutine` / `Poutines`.
            shared = len(shortest_base(self.word)) if self.inflect else len(self.word)
            if kept[:shared] == self.exact_case[:shared] and _ending_case_kept(
                kept[shared:], self.exact_case
            ):
                return True
            if (self.fuzzy or self.translit) and (
                kept[:shared].lower() != self.exact_case[:shared].lower()
            ):
                # An edit or a swap changed the letters (`Peskow` for `Peskov`): their case
                # cannot be compared letter by letter, so the word must be written as the term
                # is, a capital first or not and as many capitals (`Peskow`, not `peskow`).
                if _case_shape(kept) == _case_shape(self.exact_case):
                    return True
                return kept.isupper() and in_capitals(field)
            # A headline in capitals is not a case (rule 8): the all-capitals form, in a field
            # that is mostly capitals. The field is measured only here, on such a word.
            return (
                kept.isupper()
                and kept[:shared] == self.exact_case[:shared].upper()
                and in_capitals(field)
            )
        return True

    def exact_forms(self, language: str | None) -> frozenset[str]:
        """The tokens `accepts` takes without an edit (not for a wildcard)."""
        return inflected_forms(self.word, language) if self.inflect else frozenset({self.word})

    @cached_property
    def checks_source(self) -> bool:
        return self.acronym or self.exact_case is not None

    def anchors(self, language: str | None) -> tuple[tuple[str, str], ...]:
        """(text, kind) keys for the automaton: a whole `word` (every inflected form), a
        `prefix` (wildcard), or the pieces of a fuzzy word. With at most `fuzzy` edits, one of
        fuzzy+1 pieces survives intact (pigeonhole), so the pieces find every candidate; the
        first piece must then start the word and the last end it (edits before or after the
        word count against them), which keeps the candidates few."""
        if self.prefix:
            return ((self.word, PREFIX),)
        if self.translit:
            # The ways of writing the word's first sounds: few words of the text start so, and
            # the scanner checks those against the word's skeleton.
            return tuple((start, PREFIX) for start in sorted(anchor_prefixes(self.word)))
        if self.fuzzy == 1 and self.word.isascii():
            # One edit: the few hundred words within one edit are keys themselves, so the
            # automaton finds exactly the accepted words and no near-miss to reject.
            variants = one_edit_variants(self.word) | self.exact_forms(language)
            return tuple((variant, WORD) for variant in sorted(variants))
        if self.fuzzy:
            pieces = self.fuzzy + 1
            # Word endings are common (`-ment`, `-tion`): the last piece gets the spare letters.
            size = min(len(self.word) // pieces, _FUZZY_PIECE)
            cuts = [index * size for index in range(pieces)] + [len(self.word)]
            kinds = [PREFIX] + [PIECE] * (pieces - 2) + [SUFFIX]
            return tuple(
                (self.word[a:b], kind) for (a, b), kind in zip(pairwise(cuts), kinds, strict=True)
            )
        if self.inflect:
            return tuple((form, WORD) for form in sorted(inflected_forms(self.word, language)))
        return ((self.word, WORD),)


def _ending_case_kept(ending: str, word: str) -> bool:
    """Whether what follows the part every inflected form shares keeps the case `word` ends in:
    `Poutines` for `Poutine`, never `PoutineS` or `PoutinE`."""
    last = next((char for char in reversed(word) if char.isalpha()), "")
    if last.isupper():
        return not any(char.islower() for char in ending)
    return not any(char.isupper() for char in ending)


def _case_shape(word: str) -> tuple[bool, int]:
    """What case says of a word whatever its letters: whether a capital starts it, and how many
    capitals it holds."""
    return word[:1].isupper(), sum(map(str.isupper, word))


@lru_cache(maxsize=4096)
def _case_kept(source_word: str) -> str:
    """A word as written, accents folded and case kept: news repeats the names it is about,
    and the general `fold` steps through every character in Python."""
    return fold(source_word, keep_case=True).text


# The one-edit variants of a `fuzzy: 1` word draw their substitutions and insertions from these
# and the word's own letters: folded Latin text is ASCII. A word with letters beyond ASCII
# (Cyrillic, Greek, `ə`) is found by its pieces instead, as `fuzzy: 2` words are: its script
# would make thousands of variants (Cyrillic: 162 letters), and text may edit it into any other.
_EDIT_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


@lru_cache(maxsize=1024)
def translit_keys(word: str, inflect: bool, language: str | None) -> frozenset[str]:
    """The skeletons a `fuzzy: translit` word accepts: its own, and its inflected forms'."""
    forms = inflected_forms(word, language) if inflect else (word,)
    return frozenset().union(*(skeletons(form) for form in forms))


def one_edit_variants(word: str) -> set[str]:
    """Every word at Levenshtein distance at most 1 from `word` (over `_EDIT_ALPHABET` and the
    word's own letters)."""
    alphabet = _EDIT_ALPHABET | set(word)
    splits = [(word[:index], word[index:]) for index in range(len(word) + 1)]
    variants = {word}
    variants.update(head + tail[1:] for head, tail in splits if tail)
    variants.update(head + char + tail[1:] for head, tail in splits if tail for char in alphabet)
    variants.update(head + char + tail for head, tail in splits for char in alphabet)
    variants.discard("")
    return variants


# A field is written in capitals (a headline) from this share of its cased letters on.
CAPITALS_SHARE = 0.8
CAPITALS_MIN_WORDS = 3
_LETTER_RUN = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=64)
def in_capitals(field: str) -> bool:
    """Whether a field is written in capitals (docs/design.md §4 rule 8): at least 80% of its
    cased letters are capitals, over three words or more. Cached: the phrases of one item ask
    about the same field."""
    upper = sum(map(str.isupper, field))
    lower = sum(map(str.islower, field))
    if upper < CAPITALS_SHARE * (upper + lower) or upper == 0:
        return False
    words = _LETTER_RUN.finditer(field)
    return sum(1 for _ in zip(range(CAPITALS_MIN_WORDS), words, strict=False)) >= CAPITALS_MIN_WORDS


_SOURCE_WORD = re.compile(f"{AMPERSAND}|[^\\W_]+")


def written_words(text: str) -> list[str]:
    """The words of a spelling as written, accents folded and case kept: the words of
    `fold_words` before case folding, `&` one of them (rule 14)."""
    return _SOURCE_WORD.findall(fold(text, keep_case=True).text)


# Up to this many characters, a word in capitals beside an `&` is initials (`AT`, `P`, `S`), not
# a name (`PROCTER & GAMBLE` is shouting, and keeps its plurals and edits).
_MAX_INITIALS = 3


def _are_initials(word: str) -> bool:
    return (
        len(word) <= _MAX_INITIALS
        and any(char.isalpha() for char in word)
        and all(char.isupper() for char in word if char.isalpha())
    )


def _is_capitals(word: str) -> bool:
    letters = [char for char in word if char.isalpha()]
    return len(letters) >= 2 and all(char.isupper() for char in letters)


def compile_spelling(
    text: str, *, case_sensitive: bool = False, fuzzy: Fuzzy = 0, wildcard: bool = False
) -> tuple[WordTest, ...]:
    """The word tests of one spelling; empty when nothing of it is a word. `fuzzy` is a number
    of edits, or TRANSLIT for the transliteration swaps (which every word but an acronym
    takes: they are no edits, so short words like `Ivan`/`Iwan` differ by them too)."""
    translit = fuzzy == TRANSLIT
    edits = 0 if isinstance(fuzzy, str) else fuzzy
    source_words = written_words(text)
    words = fold_word_text(text).split()
    if len(source_words) != len(words):
        source_words = words  # a character folding to several words: drop the case rules
    # A phrase all in capitals is shouting, not a row of acronyms (`ZONE D'EXCLUSION`).
    shouting = len(words) > 1 and all(
        char.isupper() for word in source_words for char in word if char.isalpha()
    )
    # But initials joined by `&` are an acronym wherever they stand (`AT&T`, `P&O Ferries`,
    # `S&P 500`; rules 7 and 14): each starts with a capital in the text too.
    initials = {
        side
        for index, word in enumerate(words)
        if word == AMPERSAND and 0 < index < len(words) - 1
        and _are_initials(source_words[index - 1]) and _are_initials(source_words[index + 1])
        for side in (index - 1, index + 1)
    }  # fmt: skip
    tests = []
    for index, (word, source_word) in enumerate(zip(words, source_words, strict=True)):
        last = index == len(words) - 1
        if wildcard and last:
            tests.append(WordTest(word, prefix=True))
            continue
        acronym = not case_sensitive and (
            index in initials or (not shouting and _is_capitals(source_word))
        )
        letters = sum(char.isalpha() for char in word)
        tests.append(
            WordTest(
                word,
                inflect=not acronym and letters >= MIN_LETTERS,
                fuzzy=edits if not acronym and letters >= FUZZY_MIN_LETTERS else 0,
                acronym=acronym,
                exact_case=source_word if case_sensitive else None,
                translit=translit and not acronym,
            )
        )
    return tuple(tests)


def anchor_index(tests: tuple[WordTest, ...]) -> int:
    """The word the scanner looks for: a word that is not fuzzy if there is one (its anchors
    are exact), the longest such (rarer in text); else the longest fuzzy word."""
    exact = [index for index, test in enumerate(tests) if not test.fuzzy and not test.translit]
    pool = exact or list(range(len(tests)))
    return max(pool, key=lambda index: len(tests[index].word))


class Span(NamedTuple):
    """A match in the folded text of one field: [start, end) covers the words. A named tuple:
    matching makes one per hit, and a tuple is several times cheaper to build than a frozen
    dataclass; the engine makes it with `new_tuple(Span, (start, end))`, without the Python
    frame of a named tuple's `__new__`."""

    start: int
    end: int


def token_at(text: str, position: int) -> tuple[int, int]:
    """The word of folded `text` containing `position`."""
    return text.rfind(" ", 0, position) + 1, text.find(" ", position)


def verify(
    tests: tuple[WordTest, ...],
    anchor: int,
    fold: WordFold,
    token: tuple[int, int],
    language: str | None,
    phrase: PhraseForms | None = None,
) -> Span | None:
    """Whether the spelling occurs with its anchor word at `token`, which the caller has
    accepted already unless it is a `translit` word (its anchors only start the word); its
    span if so. `phrase` is the spelling's `phrase_forms`, when it has them."""
    # Unpacked once: indexing a named tuple from compiled code goes through `__getitem__`.
    token_start, token_end = token
    text = fold.text
    if phrase is not None and fold.aligned:
        plain = _plain_phrase(phrase, anchor, fold, token_start)
        if plain is not _LONGER_GAPS:
            return plain  # type: ignore[return-value]  # a Span or None here
    anchor_test = tests[anchor]
    if anchor_test.translit and not anchor_test.accepts(text[token_start:token_end], language):
        return None
    if len(tests) == 1:  # one word (an acronym, most often): only its source can refuse it
        if anchor_test.checks_source:
            source = fold.source
            if fold.aligned:
                source_start, source_end = token_start - 1, token_end - 1
            else:
                source_start, source_end = fold.source_span(token_start, token_end)
            if not anchor_test.accepts_source(source[source_start:source_end], source):
                return None
        return new_tuple(Span, (token_start, token_end))
    # The words before the anchor, then after it, each the next word of the folded text (words
    # are separated by spaces only): this runs for every candidate, so the steps are inline.
    spans: list[tuple[int, int]] = [(token_start, token_end)]
    start = token_start
    for index in range(anchor - 1, -1, -1):
        end = start
        while end > 0 and text[end - 1] == " ":
            end -= 1
        if end == 0:
            return None
        start = text.rfind(" ", 0, end) + 1
        if not tests[index].accepts(text[start:end], language):
            return None
        spans.insert(0, (start, end))
    end = token_end
    length = len(text)
    for index in range(anchor + 1, len(tests)):
        start = end
        while start < length and text[start] == " ":
            start += 1
        if start >= length:
            return None
        end = text.find(" ", start)
        if not tests[index].accepts(text[start:end], language):
            return None
        spans.append((start, end))
    return _check_source(tests, fold, spans)


# The forms each word of a plain phrase accepts, in order (`phrase_forms`).
PhraseForms = tuple[frozenset[str], ...]


def phrase_forms(tests: tuple[WordTest, ...], language: str | None) -> PhraseForms | None:
    """For a phrase of plain words (no fuzzy, transliterated, wildcard or case-tested word):
    the forms each of its words accepts, which `verify` looks up word by word in aligned text
    (`_plain_phrase`) instead of taking the steps of the general walk. None for others. Sets
    the inflection rules have made already (`inflected_forms` is cached): a phrase's regular
    expression did the same in C, but cost ~120 µs to compile for each phrase met."""
    if len(tests) < 2 or any(
        test.fuzzy or test.translit or test.prefix or test.checks_source for test in tests
    ):
        return None
    return tuple(test.exact_forms(language) for test in tests)


# What `_plain_phrase` says of a phrase whose words are not all one space apart.
_LONGER_GAPS = object()


def _plain_phrase(
    forms: PhraseForms, anchor: int, fold: WordFold, token_start: int
) -> Span | object | None:
    """`verify` of a phrase with `phrase_forms` in aligned text (one source character per
    folded one), when its words stand one space apart in folded text, the usual case;
    _LONGER_GAPS when they do not (`verify` then checks each gap with the full rule)."""
    text = fold.text
    first = token_start
    for _ in range(anchor):  # back to the phrase's first word
        end = first - 1
        if end <= 0 or text[end - 1] == " ":  # the start of the text, or a longer gap
            return _LONGER_GAPS
        first = text.rfind(" ", 0, end) + 1
    # Each word runs from one space after the word before it to the next space (folded text
    # ends with one).
    end = first - 1
    for word_forms in forms:
        start = end + 1
        end = text.find(" ", start)
        if end == start:
            return _LONGER_GAPS
        if end < 0 or text[start:end] not in word_forms:
            return None
    # Each gap is one source character: a phrase gap (rule 4) or punctuation that breaks it.
    if _not_a_phrase_gap().search(fold.source, first - 1, end - 1) is not None:
        return None
    return new_tuple(Span, (first, end))


@cache
def _not_a_phrase_gap() -> re.Pattern[str]:
    """The characters that fold to a word separator but cannot stand between the words of a
    phrase alone: punctuation (`zone, d'exclusion`); apostrophes, hyphens, spaces and one line
    break can (`_PHRASE_GAP`)."""
    gap = re.compile(_GAP_CHAR + "|[\n\r]")
    return one_of(char for char in separator_chars() if not gap.fullmatch(char))


def _check_source(
    tests: tuple[WordTest, ...], fold: WordFold, spans: list[tuple[int, int]]
) -> Span | None:
    """The checks on the original text: case where it matters, and phrase gaps."""
    source, aligned = fold.source, fold.aligned
    previous_end: int | None = None
    for test, (start, end) in zip(tests, spans, strict=True):
        if aligned:  # `source_span` of the common case, inline: several calls per item
            source_start, source_end = start - 1, end - 1
        else:
            source_start, source_end = fold.source_span(start, end)
        if test.checks_source and not test.accepts_source(source[source_start:source_end], source):
            return None
        if (
            previous_end is not None
            # One plain space, the usual gap, needs no regular expression.
            and not (source_start == previous_end + 1 and source[previous_end] == " ")
            and not _PHRASE_GAP.fullmatch(source, previous_end, source_start)
        ):
            return None
        previous_end = source_end
    (start, _), (_, end) = spans[0], spans[-1]
    return new_tuple(Span, (start, end))
