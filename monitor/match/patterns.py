"""One term spelling -> a regular expression over folded text (DESIGN §4 rules 2-8).

Terms are folded exactly like the text (`monitor.text.fold`), so apostrophes, hyphens and spaces
inside a phrase all become one space on both sides, accents disappear, and the regular expression
only has to add what folding cannot express:

- whole words: the spelling may not touch a letter or digit on either side (rule 5);
- plural and feminine endings: a word of 4+ letters may take `s`, `x`, `e` or `es` (rule 6);
- acronyms: a single word of 2+ letters, all capitals (`OTAN`, `UE`), is matched on the
  case-kept fold with its first letter a capital and the rest in any case, so `Otan` matches but
  `otan` (or the Italian `nato`) does not (rule 7). Acronyms take no endings;
- case-sensitive terms are matched on the case-kept fold as written. Accents still fold: the
  option exists to tell `Poutine` from `poutine`, not `Pékin` from `Pekin` (rule 8).

Multi-word acronyms (`ZONE D'EXCLUSION`) are not acronyms: a phrase in capitals is only shouting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.text.fold import fold

# Letters and digits make words; everything else (space, punctuation) is a boundary. The start
# check sits after the first character of a spelling (looking back two characters): an alternation
# whose branches all begin with a literal lets the regex engine skip ahead to candidate letters,
# which is several times faster than testing a boundary at every position of the text.
AFTER_WORD_START = r"(?<![^\W_].)"
NOT_BEFORE_WORD_CHAR = r"(?![^\W_])"
_ENDINGS = "(?:e?s|x|e)?"
_MIN_LETTERS_FOR_ENDINGS = 4


@dataclass(frozen=True)
class SpellingPattern:
    """A regular expression for one spelling, split after its first character, and which fold
    of the text it runs on. It has no groups and no word-boundary checks: the caller adds the
    boundaries (`whole_word`) when it builds one alternation of many spellings."""

    first: str
    rest: str
    on_case_kept_text: bool
    length: int  # folded length, so longer spellings can be tried first

    @property
    def regex(self) -> str:
        return self.first + self.rest

    @property
    def whole_word(self) -> str:
        """The spelling as an alternative that may not touch a letter or digit on its left; the
        right side is checked once after the alternation, `NOT_BEFORE_WORD_CHAR`."""
        return f"{self.first}{AFTER_WORD_START}{self.rest}"


def is_acronym(spelling: str) -> bool:
    """A single word of 2+ letters, every letter a capital: `OTAN`, `NATO`, `UE`."""
    words = fold(spelling, keep_case=True).text.split()
    if len(words) != 1:
        return False
    letters = [char for char in words[0] if char.isalpha()]
    return len(letters) >= 2 and all(char.isupper() for char in letters)


def spelling_pattern(spelling: str, *, case_sensitive: bool = False) -> SpellingPattern | None:
    """The pattern for `spelling`, or None when nothing is left of it after folding (a term
    made only of punctuation and spaces can never be a whole word)."""
    acronym = not case_sensitive and is_acronym(spelling)
    on_case_kept_text = case_sensitive or acronym
    words = fold(spelling, keep_case=on_case_kept_text).text.split()
    if not words:
        return None
    if acronym:
        body = _acronym_regex(words[0])
    else:
        body = " ".join(_word_regex(word, case_sensitive=case_sensitive) for word in words)
    first = re.escape(words[0][0])
    return SpellingPattern(
        first=first,
        rest=body[len(first) :],
        on_case_kept_text=on_case_kept_text,
        length=len(" ".join(words)),
    )


def _word_regex(word: str, *, case_sensitive: bool) -> str:
    regex = re.escape(word)
    letters = sum(char.isalpha() for char in word)
    if letters >= _MIN_LETTERS_FOR_ENDINGS and word[-1].isalpha():
        # On case-kept text the ending may be in capitals like the word (`POUTINES`).
        regex += f"(?i:{_ENDINGS})" if case_sensitive else _ENDINGS
    return regex


def _acronym_regex(word: str) -> str:
    first_letter = next(index for index, char in enumerate(word) if char.isalpha())
    exact = re.escape(word[: first_letter + 1])
    rest = word[first_letter + 1 :]
    return f"{exact}(?i:{re.escape(rest)})" if rest else exact
