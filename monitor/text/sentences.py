"""The sentence around a hit, so alerts can quote it (docs/design.md §4 rule 13).

A sentence ends at a paragraph break, or at `.`, `!`, `?` or `…` (possibly followed by closing
quotes or brackets) when whitespace and then a capital letter or an opening quote follow. Decoded
text marks the end of a paragraph, list item, heading, table cell or a `<br>` with a blank line
(`monitor.text.html`); a single line break is plain text wrapped as given, inside a sentence.
A period after an initial (`M. Macron`, `Jens S. Stoltenberg`) or a title (`Mme`, `Dr`) does not
end one.
"""

from __future__ import annotations

import re

from monitor.text.blocks import BLOCK_BREAK

_END_OF_SENTENCE = re.compile(r"[.!?…]+[\"'”’»)\]]*(?P<gap>\s+)")
# A block's end (rule 16's, `monitor.text.blocks`), or a line separator, with the whitespace
# around it.
_PARAGRAPH_BREAK = re.compile(rf"\s*(?:{BLOCK_BREAK.pattern}|\u2028)\s*")
_OPENING_PUNCTUATION = frozenset("«\"“‘'([¿¡—–-")
# Titles written before a name; exact case, since "me." or "st." end sentences.
_TITLES = frozenset(
    {
        "M", "MM", "Mme", "Mmes", "Mlle", "Mlles", "Me", "Mgr", "Dr", "Pr", "Prof", "St", "Ste",
        "Mr", "Mrs", "Ms", "Jr", "Sr", "Gen", "Gén", "Col", "Lt", "Sgt", "Gov", "Sen", "Rep",
    }
)  # fmt: skip


def _ends_sentence(text: str, found: re.Match[str]) -> bool:
    after = found.end()
    if after >= len(text):
        return True
    following = text[after]
    if not (following.isupper() or following in _OPENING_PUNCTUATION):
        return False
    return not _follows_initial_or_title(text, found.start("gap"))


def _follows_initial_or_title(text: str, gap: int) -> bool:
    """Whether the text before `gap` is `<initial or title>.` such as `M.` or `Dr.`."""
    period = gap - 1
    if text[period] != ".":
        return False
    word_start = period
    while word_start > 0 and text[word_start - 1].isalnum() and period - word_start <= 4:
        word_start -= 1
    if word_start > 0 and text[word_start - 1].isalnum():
        return False  # a longer word: no title is that long
    word = text[word_start:period]
    return (len(word) == 1 and word.isupper()) or word in _TITLES


def _boundaries(text: str) -> list[tuple[int, int]]:
    """(end of one sentence, start of the next) for every sentence break, in order."""
    breaks = [
        (found.start("gap"), found.end())
        for found in _END_OF_SENTENCE.finditer(text)
        if _ends_sentence(text, found)
    ]
    breaks.extend((found.start(), found.end()) for found in _PARAGRAPH_BREAK.finditer(text))
    return sorted(breaks)


def sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The whole sentence containing `text[start:end]`, without surrounding whitespace."""
    sentence_start, sentence_end = 0, len(text)
    for break_start, break_end in _boundaries(text):
        if break_end <= start:
            sentence_start = break_end
        elif break_start >= end:
            sentence_end = break_start
            break
    while sentence_start < start and text[sentence_start].isspace():
        sentence_start += 1
    while sentence_end > end and text[sentence_end - 1].isspace():
        sentence_end -= 1
    return sentence_start, sentence_end


def sentence_around(text: str, start: int, end: int, max_chars: int = 400) -> tuple[int, int]:
    """The sentence containing `text[start:end]`, cut to at most `max_chars` around the hit at
    word boundaries. The result always contains the hit; whether to mark a cut (with an
    ellipsis) is the caller's decision: compare with `sentence_span`."""
    if not 0 <= start <= end <= len(text):
        raise ValueError(f"expected a span inside the text, got {start}:{end} of {len(text)}")
    sentence_start, sentence_end = sentence_span(text, start, end)
    if sentence_end - sentence_start <= max_chars:
        return sentence_start, sentence_end
    budget = max(0, max_chars - (end - start))
    before = min(start - sentence_start, budget // 2)
    after = min(sentence_end - end, budget - before)
    before = min(start - sentence_start, budget - after)
    window_start = _word_start_at_or_after(text, start - before, start)
    window_end = _word_end_at_or_before(text, end + after, end)
    return window_start, window_end


def _word_start_at_or_after(text: str, position: int, limit: int) -> int:
    """Move `position` forward to the start of a word (not past `limit`), so a cut window does
    not begin with half a word."""
    if position > 0 and not text[position - 1].isspace():
        while position < limit and not text[position].isspace():
            position += 1
    while position < limit and text[position].isspace():
        position += 1
    return position


def _word_end_at_or_before(text: str, position: int, limit: int) -> int:
    if position < len(text) and not text[position].isspace():
        while position > limit and not text[position - 1].isspace():
            position -= 1
    while position > limit and text[position - 1].isspace():
        position -= 1
    return position
