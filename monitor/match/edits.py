"""What a fuzzy hit changed, for `monitor explain` (docs/design.md §4 rule 9): each word of the
text that differs from the term's, with its edits (`Peskow ~ Peskov: 1 edit`) or its
transliteration swaps (`Peskoff ~ Peskov: ff/v`). Worked out only when explaining: matching
never needs it."""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from monitor.match.spelling import Span, WordTest, written_words
from monitor.text.translit import same_name, swaps
from monitor.text.wordfold import WordFold

_WORD = re.compile(r"\S+")


def hit_edits(
    tests: tuple[WordTest, ...],
    spelling: str,
    word_fold: WordFold,
    span: Span,
    language: str | None,
) -> tuple[str, ...]:
    """One line per word of the hit that differs from its test's word beyond the exact rules
    (case, accents, inflection); empty for an exact hit."""
    tokens = list(_WORD.finditer(word_fold.text, span.start, span.end))
    if len(tokens) != len(tests) or not any(test.fuzzy or test.translit for test in tests):
        return ()
    written = written_words(spelling)
    if len(written) != len(tests):  # a character folding to several words
        written = [test.word for test in tests]
    lines = []
    for test, token, ours in zip(tests, tokens, written, strict=True):
        word = token.group()
        if word in test.exact_forms(language) or test.prefix:
            continue
        start, end = word_fold.source_span(token.start(), token.end())
        theirs = word_fold.source[start:end]
        if test.translit:
            # Swaps from the form it is a spelling of: `Jurnaux` is `journaux` with ou/u.
            form = next(
                (form for form in sorted(test.exact_forms(language)) if same_name(word, form)),
                test.word,
            )
            lines.append(f"{theirs} ~ {ours}: {', '.join(swaps(word, form)) or 'no swap'}")
        elif test.fuzzy:
            edits = Levenshtein.distance(test.word, word)
            lines.append(f"{theirs} ~ {ours}: {edits} edit{'s' if edits > 1 else ''}")
    return tuple(lines)
