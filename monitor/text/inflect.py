"""Plural and feminine endings (docs/design.md §4 rule 6), per language.

A word of 4+ letters matches its inflected forms: `zone` ~ `zones`, `aérienne` ~ `aériennes`,
`allié` ~ `alliées`, `journal` ~ `journaux`, `policy` ~ `policies`. Two words are the same when
they split into one base and two endings of the same ending class: `aerien|ne` and `aerien|nes`,
`journ|al` and `journ|aux`. This is deliberately lighter than a stemmer: the rule asks for
number and gender only, and a stemmer's wider reach (`nation` ~ `national`) would be false
alerts. Words are compared in folded form (lowercase, no accents).
"""

from __future__ import annotations

from functools import cache

# Each tuple is one class of interchangeable endings; "" is the bare word.
_FRENCH = (
    ("", "s", "x", "e", "es"),
    ("n", "ns", "nne", "nnes"),  # européen, européenne
    ("l", "ls", "lle", "lles"),  # cruel, cruelle
    ("t", "ts", "tte", "ttes"),  # muet, muette
    ("al", "als", "aux", "ale", "ales"),  # journal, journaux, internationale
    ("if", "ifs", "ive", "ives"),  # actif, active
    ("eux", "euse", "euses"),  # heureux, heureuse
    ("eur", "eurs", "euse", "euses"),  # chanteur, chanteuse
    ("teur", "teurs", "trice", "trices"),  # directeur, directrice
    ("er", "ers", "ere", "eres"),  # premier, première
)
_ENGLISH = (("", "s", "es"), ("y", "ies"))
_GERMAN = (("", "e", "en", "n", "er", "s", "nen"),)  # Sanktion, Sanktionen; Ministerin, -nen
_DUTCH = (("", "en", "s", "e"),)
_SPANISH = (("", "s", "es"), ("o", "os", "a", "as"), ("or", "ores", "ora", "oras"))
_ITALIAN = (("o", "a", "i", "e"), ("", "i"))
_PORTUGUESE = (("", "s", "es"), ("o", "os", "a", "as"), ("ao", "oes", "aes"), ("l", "is"))

# French and English share one rule set, their union (the endings hardly collide), which is also
# the rule set for items of unknown language: each rule set costs the matcher an automaton of
# its own, so a deployment's most common languages should share one.
_BY_LANGUAGE: dict[str | None, tuple[tuple[str, ...], ...]] = {
    None: _FRENCH + _ENGLISH,
    "de": _GERMAN,
    "nl": _DUTCH,
    "es": _SPANISH,
    "it": _ITALIAN,
    "pt": _PORTUGUESE,
}
# Every ending of every language: the shortest base a word can have, for the scanner's anchors.
_ALL_CLASSES = tuple({cls for classes in _BY_LANGUAGE.values() for cls in classes})

MIN_LETTERS = 4  # words shorter than this match exactly
_MIN_BASE = 3


def language_key(language: str | None) -> str | None:
    """The inflection rules an item language selects: `fr-FR` -> None (the shared French and
    English rules), `de` -> `de`; unknown -> None."""
    if language is None:
        return None
    key = language.lower().split("-")[0].split("_")[0]
    return key if key in _BY_LANGUAGE else None


def _classes(language: str | None) -> tuple[tuple[str, ...], ...]:
    return _BY_LANGUAGE[language_key(language)]


@cache
def splits(word: str, language: str | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every (base, ending class) that `word` can be read as, in `language`."""
    found = []
    for endings in _classes(language):
        for ending in endings:
            if word.endswith(ending) and len(word) - len(ending) >= _MIN_BASE:
                found.append((word[: len(word) - len(ending)] if ending else word, endings))
    return tuple(found)


def same_word(term_word: str, token: str, language: str | None) -> bool:
    """Whether `token` is `term_word` up to plural and feminine endings (folded forms)."""
    return token == term_word or token in inflected_forms(term_word, language_key(language))


@cache
def inflected_forms(word: str, language: str | None) -> frozenset[str]:
    """Every token `same_word(word, token, language)` accepts: the scanner looks for exactly
    these, so a candidate is nearly always a match."""
    forms = {word}
    if len(word) < MIN_LETTERS or not word[-1].isalpha():
        return frozenset(forms)
    for base, endings in splits(word, language):
        forms.update(base + ending for ending in endings)
    return frozenset(forms)


@cache
def shortest_base(word: str) -> str:
    """The shortest prefix every inflected form of `word` starts with, in any language: the
    scanner looks for this, and `same_word` decides."""
    if len(word) < MIN_LETTERS or not word[-1].isalpha():
        return word
    shortest = word
    for endings in _ALL_CLASSES:
        for ending in endings:
            if ending and word.endswith(ending) and len(word) - len(ending) >= _MIN_BASE:
                candidate = word[: len(word) - len(ending)]
                if len(candidate) < len(shortest):
                    shortest = candidate
    return shortest
