"""Watchlist sets of a given total number of terms, as the plain data of `monitor.yaml`.

Ten terms per watchlist. A few "hot" watchlists about real entities come first at every size, so
items hit a few terms whatever the size; the rest are "cold" watchlists of rare pseudo-words and
phrases from the corpus vocabulary, the long tail a large deployment has. Options the engine may
not have yet (`fuzzy` terms, `query`) are only written when the schema knows them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from corpus_fr import Vocabulary
from french_words import ALIASES, ENTITIES, PHRASES

TERMS_PER_WATCHLIST = 10

# Watchlists a newsroom would write first; each holds TERMS_PER_WATCHLIST terms or fewer.
_HOT: tuple[tuple[str, tuple[Any, ...], str | None], ...] = (
    (
        "otan",
        (
            {"term": "OTAN", "aliases": list(ALIASES["OTAN"])},
            "zone d'exclusion aérienne",
            {"term": "Dmitri Peskov", "aliases": ["Peskov"], "fuzzy": 1},
            {"term": "Poutine", "case_sensitive": True},
            "Jens Stoltenberg",
            "sommet de l'OTAN",
        ),
        "Stoltenberg AND (Ukraine OR Kyiv)",
    ),
    (
        "ukraine-front",
        (
            {"term": "Kyiv", "aliases": ["Kiev"]},
            {"term": "Volodymyr Zelensky", "aliases": ["Zelensky", "Zelenski"]},
            "Kharkiv",
            "Marioupol",
            "contre-offensive ukrainienne",
            "livraisons d'armes",
        ),
        '"crimes de guerre" NEAR/10 Crimée',
    ),
    (
        "europe",
        (
            {"term": "UE", "aliases": ["Union européenne"]},
            "Christine Lagarde",
            "Ursula von der Leyen",
            "BCE",
            "zone euro",
            "taux d'intérêt",
        ),
        None,
    ),
)


@dataclass(frozen=True)
class Features:
    """What the engine's schema accepts, checked at run time (the engine is being rewritten)."""

    fuzzy: bool
    query: bool


def make_watchlists(
    total_terms: int, vocabulary: Vocabulary, features: Features, seed: int
) -> list[dict[str, Any]]:
    """Watchlists holding `total_terms` terms in all (aliases not counted), as YAML-ready dicts;
    the same for the same arguments."""
    rng = random.Random(seed * 1_000_003 + total_terms)
    watchlists: list[dict[str, Any]] = []
    remaining = total_terms
    for name, terms, query in _HOT:
        if remaining <= 0:
            break
        kept = [term for term in terms if features.fuzzy or "fuzzy" not in _as_dict(term)]
        kept = kept[:remaining]
        watchlist: dict[str, Any] = {"name": name, "terms": kept}
        if query is not None and features.query:
            watchlist["query"] = query
        watchlists.append(watchlist)
        remaining -= len(kept)
    number = 0
    while remaining > 0:
        count = min(TERMS_PER_WATCHLIST, remaining)
        watchlists.append(_cold_watchlist(f"veille-{number:05d}", count, vocabulary, features, rng))
        remaining -= count
        number += 1
    return watchlists


def count_spellings(watchlists: list[dict[str, Any]]) -> int:
    return sum(
        1 + len(_as_dict(term).get("aliases", ()))
        for watchlist in watchlists
        for term in watchlist["terms"]
    )


def _as_dict(term: Any) -> dict[str, Any]:
    return term if isinstance(term, dict) else {"term": term}


def _cold_watchlist(
    name: str, count: int, vocabulary: Vocabulary, features: Features, rng: random.Random
) -> dict[str, Any]:
    watchlist: dict[str, Any] = {
        "name": name,
        "terms": [_cold_term(vocabulary, features, rng) for _ in range(count)],
    }
    if features.query and rng.random() < 0.1:
        watchlist["query"] = _query(vocabulary, rng)
    if rng.random() < 0.05:
        watchlist["exclude"] = [_rare_word(vocabulary, rng) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.05:
        watchlist["fields"] = ["title", "summary"]
    return watchlist


def _cold_term(vocabulary: Vocabulary, features: Features, rng: random.Random) -> Any:
    kind = rng.random()
    if kind < 0.30:
        spelling = _rare_word(vocabulary, rng)
    elif kind < 0.55:
        spelling = rng.choice(vocabulary.pseudo_phrases)
    elif kind < 0.80:  # a name: two rare words, capitalised
        spelling = f"{_rare_word(vocabulary, rng).title()} {_rare_word(vocabulary, rng).title()}"
    elif kind < 0.90:  # a hyphenated compound, also matched with a space (rule 4)
        spelling = f"{_rare_word(vocabulary, rng)}-{_rare_word(vocabulary, rng)}"
    elif kind < 0.99:  # an acronym (rule 7), of consonants as SNCF: pseudo-words have vowels
        spelling = "".join(rng.choice("BCDFGHJKLMNPRSTVZ") for _ in range(rng.randint(3, 5)))
    else:  # an entity the hot watchlists do not cover, or a real phrase
        spelling = rng.choice(ENTITIES[60:] + PHRASES[20:])
    options = rng.random()
    if options < 0.15:
        aliases = [_rare_word(vocabulary, rng) for _ in range(rng.randint(1, 2))]
        return {"term": spelling, "aliases": aliases}
    if options < 0.17:
        return {"term": spelling[0].upper() + spelling[1:], "case_sensitive": True}
    if options < 0.19 and features.fuzzy:
        # A name, as `Dmitri Peskov`: one edit on a short common word would match anything.
        name = " ".join(_rare_word(vocabulary, rng, min_letters=7).title() for _ in range(2))
        return {"term": name, "fuzzy": 1}
    return spelling


def _rare_word(vocabulary: Vocabulary, rng: random.Random, min_letters: int = 5) -> str:
    """A pseudo-word from the long tail; most never appear in the prose at all."""
    words = vocabulary.pseudo_words
    while True:
        word = words[rng.randrange(len(words) // 3, len(words))]
        if len(word) >= min_letters:
            return word


def _query(vocabulary: Vocabulary, rng: random.Random) -> str:
    """A query in the language of docs/design.md §4 rule 10, over words of the vocabulary."""

    def word() -> str:
        # Common enough in the prose that queries sometimes hold.
        return vocabulary.prose_words[rng.randrange(50, 1500)]

    shape = rng.randrange(5)
    if shape == 0:
        return f"{word()} AND ({word()} OR {word()})"
    if shape == 1:
        return f'"{rng.choice(vocabulary.pseudo_phrases)}" NEAR/5 {word()}'
    if shape == 2:
        prefix = next(w for w in iter(word, "") if sum(c.isalpha() for c in w) >= 5)
        return f"{prefix[:5]}* AND {word()}"
    if shape == 3:
        return f"title:{word()} OR {word()}"
    return f"{word()} {word()} NOT {word()}"
