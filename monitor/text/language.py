"""A cheap language guess from function words, for items whose feed names no language.

Only the languages whose inflection rules we know need telling apart (`monitor.text.inflect`);
anything unclear is None, which applies the French and English rules together.
"""

from __future__ import annotations

_FUNCTION_WORDS_TEXT = {
    "fr": "le la les des du de un une et est dans pour que qui sur pas par au aux avec ce ces "
    "il elle ont sont",
    "en": "the of and to in is that for on with as was by at from this are be have it has",
    "de": "der die das und ist nicht mit den dem des ein eine auf fur von zu im sich auch",
    "es": "el la los las del y que en por con para una un es se su al como mas pero",
    "it": "il la di che e per non una un del della gli le con sono nel alla da",
    "pt": "o a os as do da dos das e que em um uma para com nao por se na no",
    "nl": "de het een en van is dat niet op te met voor zijn aan er die",
}
# Folded like the words they are compared with: lowercase, no accents.
_FUNCTION_WORDS = {
    language: frozenset(words.split()) for language, words in _FUNCTION_WORDS_TEXT.items()
}

_MIN_EVIDENCE = 3


def detect_language(words: list[str]) -> str | None:
    """The language whose function words are most frequent among `words` (folded, lowercase),
    if it clearly leads; else None."""
    sample = words[:400]
    scores = {
        language: sum(1 for word in sample if word in vocabulary)
        for language, vocabulary in _FUNCTION_WORDS.items()
    }
    ranked = sorted(scores.items(), key=lambda entry: entry[1], reverse=True)
    (best, best_score), (_, second_score) = ranked[0], ranked[1]
    if best_score >= _MIN_EVIDENCE and best_score >= 1.5 * second_score:
        return best
    return None
