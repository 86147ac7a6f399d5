"""Deterministic French-like news items of about 3 KB, for the matching benchmark.

The text is not French, but it has the shape matching has to cope with in French feeds: a Zipf
word distribution (few words are frequent, most are rare), accents, elisions with both
apostrophes (`l’OTAN`, `d'exclusion`), hyphenated compounds, numbers with non-breaking spaces,
« guillemets », multi-word names, and HTML with entities around it. The vocabulary is the real
words of `french_words.py` plus a few thousand pseudo-words built from French syllables, so term
hits are realistic: a watchlist term is usually a rare word and most items hit only a few.
"""

from __future__ import annotations

import html
import itertools
import random
import unicodedata
from dataclasses import dataclass
from functools import cached_property

from french_words import COMMON_WORDS, ENTITIES, FUNCTION_WORDS, PHRASES, words

# Repeated entries are commoner: plain consonants, plain vowels.
_ONSETS = words("b c d f g j l m n p r s t v ch tr pr br gr cl pl fl qu gu b d l m p r s t v")
_NUCLEI = words("a e i o u é è a e i o a i ou ai au on an in eu oi ê â")
_CODAS = words("r l s n t r")
_SUFFIXES = words("tion ment ique eur ette age isme ière ard elle ois")

# Elision before a vowel or a mute h: `le` + `OTAN` -> `l’OTAN` (docs/design.md §4 rule 3).
_ELIDED = {"le": "l", "la": "l", "de": "d", "que": "qu", "ne": "n", "se": "s"}
_VOWELS = frozenset("aeiouyhéèêâîôûAEIOUYHÉÈÊÂÎÔÛ")

# Share of each kind of token in the prose, before punctuation.
_TOKEN_KINDS = ("function", "common", "pseudo", "entity", "phrase", "number")
_TOKEN_WEIGHTS = (44, 22, 26, 3.5, 1.2, 2)


@dataclass(frozen=True)
class RawItem:
    """One item as a feed would deliver it: `content` is HTML with entities."""

    title: str
    summary: str
    content: str

    @cached_property
    def size_bytes(self) -> int:
        # Once per item: the timed run adds it up for every item it matches, and encoding the
        # fields each time cost ~2% of the CPU it counts as matching.
        return sum(len(part.encode()) for part in (self.title, self.summary, self.content))


class Vocabulary:
    """The words of the corpus with their Zipf weights; seeded, so every run sees the same."""

    def __init__(self, seed: int, pseudo_words: int = 6000, used_in_prose: int = 3000) -> None:
        rng = random.Random(seed)
        # Distinct as the matcher sees them: folded (`qué` would be the real word `que`) and
        # without plural or feminine endings (`velle` would match `vellès`:
        # docs/design.md §4 rule 6).
        seen = {_stem(word) for word in (*FUNCTION_WORDS, *COMMON_WORDS, *ENTITIES)}
        generated: list[str] = []
        while len(generated) < pseudo_words:
            word = _pseudo_word(rng)
            if _stem(word) not in seen and len(word) >= 3:
                seen.add(_stem(word))
                generated.append(word)
        # Every pseudo-word exists, but only the first `used_in_prose` appear in the text (with
        # Zipf weights); the others are words a watchlist may list that today's news lacks.
        self.pseudo_words: tuple[str, ...] = tuple(generated)
        self.prose_words = self.pseudo_words[:used_in_prose]
        self._prose_cumulative = _zipf_cumulative(len(self.prose_words), exponent=1.0)
        self.pseudo_phrases: tuple[str, ...] = tuple(
            _pseudo_phrase(rng, self.prose_words) for _ in range(1500)
        )
        self._phrase_pool = PHRASES + self.pseudo_phrases
        self._phrase_cumulative = _zipf_cumulative(len(self._phrase_pool), exponent=1.0)
        self._entity_cumulative = _zipf_cumulative(len(ENTITIES), exponent=0.9)
        self._function_cumulative = _zipf_cumulative(len(FUNCTION_WORDS), exponent=0.7)
        self._common_cumulative = _zipf_cumulative(len(COMMON_WORDS), exponent=0.6)

    def token(self, rng: random.Random) -> str:
        kind = rng.choices(_TOKEN_KINDS, weights=_TOKEN_WEIGHTS)[0]
        if kind == "function":
            return _pick(rng, FUNCTION_WORDS, self._function_cumulative)
        if kind == "common":
            return _pick(rng, COMMON_WORDS, self._common_cumulative)
        if kind == "pseudo":
            word = _pick(rng, self.prose_words, self._prose_cumulative)
            if rng.random() < 0.04:  # a compound, `travoline-suchère`
                word += "-" + _pick(rng, self.prose_words, self._prose_cumulative)
            return word
        if kind == "entity":
            return _pick(rng, ENTITIES, self._entity_cumulative)
        if kind == "phrase":
            return _pick(rng, self._phrase_pool, self._phrase_cumulative)
        return _number(rng)


def make_items(vocabulary: Vocabulary, count: int, seed: int) -> list[RawItem]:
    """`count` items of about 3 KB (UTF-8 of the raw fields), the same for the same seed."""
    rng = random.Random(seed)
    return [_item(vocabulary, rng) for _ in range(count)]


def _item(vocabulary: Vocabulary, rng: random.Random) -> RawItem:
    title = _sentence(vocabulary, rng, rng.randint(6, 12), end="")
    target = int(rng.triangular(2300, 3300, 2800))
    paragraphs: list[str] = []
    size = len(title.encode())
    while size < target:
        sentences = [
            _sentence(vocabulary, rng, rng.randint(10, 28)) for _ in range(rng.randint(2, 4))
        ]
        paragraph = "<p>" + " ".join(_as_html(sentence, rng) for sentence in sentences) + "</p>\n"
        paragraphs.append(paragraph)
        size += len(paragraph.encode())
    return RawItem(title=_as_html(title, rng), summary="", content="".join(paragraphs))


def _sentence(vocabulary: Vocabulary, rng: random.Random, length: int, end: str = ".") -> str:
    words = [vocabulary.token(rng) for _ in range(length)]
    text = _join_with_elisions(words, rng)
    if rng.random() < 0.12:  # a quotation « ... » with its non-breaking spaces
        cut = text.find(" ", len(text) // 3)
        if cut > 0:
            text = f"{text[:cut]} «\u00a0{text[cut + 1 :]}\u00a0»"
    elif rng.random() < 0.15:
        cut = text.find(" ", len(text) // 2)
        if cut > 0:
            text = f"{text[:cut]}, {text[cut + 1 :]}"
    text = text[0].upper() + text[1:]
    if end:
        end = rng.choices([".", ".", ".", "\u00a0?", "\u00a0!", "\u00a0:"], k=1)[0]
    return text + end


def _join_with_elisions(words: list[str], rng: random.Random) -> str:
    out: list[str] = []
    for word in words:
        previous = out[-1] if out else ""
        if previous in _ELIDED and word[0] in _VOWELS:
            apostrophe = "’" if rng.random() < 0.7 else "'"
            out[-1] = _ELIDED[previous] + apostrophe + word
        else:
            out.append(word)
    return " ".join(out)


def _as_html(text: str, rng: random.Random) -> str:
    """Escape as a feed would, sometimes with named or numeric entities for accents, NBSP and
    the typographic apostrophe, sometimes with inline markup around a word."""
    escaped = html.escape(text, quote=False)
    style = rng.random()
    if style < 0.25:
        escaped = escaped.replace("é", "&eacute;").replace("\u00a0", "&nbsp;")
    elif style < 0.4:
        escaped = escaped.replace("’", "&#8217;").replace("è", "&#232;")
    if rng.random() < 0.2:
        words = escaped.split(" ")
        index = rng.randrange(len(words))
        tag = rng.choice(["strong", "em", 'a href="https://www.exemple.fr/article"'])
        words[index] = f"<{tag}>{words[index]}</{tag.split()[0]}>"
        escaped = " ".join(words)
    return escaped


def _number(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.3:
        return str(rng.randint(2, 99))
    if shape < 0.5:
        return str(rng.randint(1990, 2026))
    if shape < 0.75:
        return f"{rng.randint(1, 99)}\u00a0{rng.randint(0, 999):03d}"
    return f"{rng.randint(1, 99)},{rng.randint(1, 9)}\u00a0%"


def _pseudo_word(rng: random.Random) -> str:
    """`travoline`, `suchère`, `blandoisme`: two or three syllables, sometimes a suffix."""
    syllables = rng.choices([1, 2, 3], weights=[2, 6, 3])[0]
    word = "".join(
        rng.choice(_ONSETS)
        + rng.choice(_NUCLEI)
        + (rng.choice(_CODAS) if rng.random() < 0.2 else "")
        for _ in range(syllables)
    )
    if syllables < 3 and rng.random() < 0.35:
        # The suffix takes the place of a final vowel: `trava` + `ette` -> `travette`.
        word = word.rstrip("aeiouéèêâ") + rng.choice(_SUFFIXES)
    return word


def _pseudo_phrase(rng: random.Random, words: tuple[str, ...]) -> str:
    """`travoline de suchère`, `chambre d’inaude`: pseudo-words around real connectors."""
    first, second = rng.choice(words), rng.choice(words)
    connector = rng.choice(["de", "de la", "des", "du", "et", "", "", "à la"])
    if connector.endswith(("de", "la")) and second[0] in _VOWELS:
        connector = connector[:-1] + "’"
        return f"{first} {connector}{second}"
    return " ".join(part for part in (first, connector, second) if part)


def _stem(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    for ending in ("es", "s", "x", "e"):
        if folded.endswith(ending) and len(folded) > len(ending) + 2:
            return folded[: -len(ending)]
    return folded


def _zipf_cumulative(size: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, size + 1)))


def _pick(rng: random.Random, words: tuple[str, ...], cumulative: list[float]) -> str:
    return rng.choices(words, cum_weights=cumulative)[0]
