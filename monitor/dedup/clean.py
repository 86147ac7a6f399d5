"""What a story is made of, for fingerprinting: the text without the junk that republication adds.

Syndicated copies differ from the original by boilerplate ("Spread the love", "Leave A Reply",
"Lire aussi : …", "(Avec AFP)", cookie and newsletter lines), masked numbers ("XNUMX heures"),
typography and markup. Fingerprints are taken over what survives this cleaning, so those
differences do not count. Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitor.text.wordfold import fold_word_text

# Whole lines that carry no story: share buttons, comment prompts, plugin credits, cookie and
# newsletter banners, "read also" links. Matched on the folded line (lowercase, no accents,
# punctuation as spaces), anchored at its start.
_BOILERPLATE_LINE = re.compile(
    r"^(?:"
    r"spread the love|leave a reply|leave a comment|share this|partager( cet article| sur)?"
    r"|social media auto publish|powered by|related posts?|articles? similaires?"
    r"|lire aussi|a lire aussi|voir aussi|read more|read also|en savoir plus|related"
    r"|(nous )?utilisons des cookies|ce site utilise des cookies|we use cookies"
    r"|this (web)?site uses cookies"
    r"|accepter( les cookies)?|accept( all)? cookies|gerer (les )?cookies"
    r"|abonnez vous|inscrivez vous|s inscrire a la newsletter|newsletter|subscribe"
    r"|avec afp|with afp|avec reuters|source afp|photo|credit photo|tous droits reserves"
    r"|publicite|advertisement|sponsored"
    r")\b"
)
# Attribution tails inside a line: "(Avec AFP)", "(AFP)", "- Reuters".
_ATTRIBUTION = re.compile(r"\((?:avec |with |source ?: ?)?(?:afp|reuters|ap|belga|ats)\)", re.I)
# Numbers, and the "XNUMX" mask content farms put in their place, compare as one token.
# "40 000" (a space between thousands, as French writes) is one number, as its mask is one word.
# Each alternative starts with a plain character, then looks behind it for a word start: the
# regex engine can then skip ahead to candidate characters instead of trying every position.
_NUMBER = re.compile(r"(?:\d(?<!\S\d)\d*(?: \d{3}(?!\S))*|x(?<!\Sx)numx\S*)(?!\S)")
NUMBER_TOKEN = "#"  # noqa: S105 - a placeholder word, not a secret
# Lines this short are captions, bylines and buttons more often than story.
_MAX_BOILERPLATE_WORDS = 12


# Folding the whole text at once is cheaper than line by line, but turns line breaks into
# spaces: a word that no text contains marks them through the fold.
_LINE_MARK = "qzxlinebreakqzx"


def story_lines(text: str) -> list[str]:
    """The lines (paragraphs) of decoded text that are story, not boilerplate, each folded
    (lowercase, no accents, words separated by single spaces): the form a feed's repeated
    lines are counted in."""
    folded = fold_word_text(_ATTRIBUTION.sub(" ", text).replace("\n", f" {_LINE_MARK} "))
    kept = []
    for line in folded.split(_LINE_MARK):
        line = line.strip()
        if not line:
            continue
        if _BOILERPLATE_LINE.match(line) and line.count(" ") < _MAX_BOILERPLATE_WORDS * 2:
            continue
        kept.append(line)
    return kept


def story_words(lines: Iterable[str], *, drop: frozenset[str] = frozenset()) -> list[str]:
    """The words of folded story lines, numbers masked, skipping lines in `drop` (lines a feed
    repeats on every item, learned per feed)."""
    kept = [line for line in lines if line not in drop] if drop else lines
    return _NUMBER.sub(NUMBER_TOKEN, "\n".join(kept)).split()


class RepeatedLines:
    """Lines a feed repeats on many of its items (its own footer, a signature, a promotion):
    boilerplate learned per feed, to leave out of fingerprints. A line counts once per item."""

    MIN_ITEMS = 3
    MIN_SHARE = 0.5

    def __init__(self) -> None:
        self._items = 0
        self._counts: dict[str, int] = {}

    def add(self, lines: Iterable[str]) -> None:
        self._items += 1
        for line in set(lines):
            self._counts[line] = self._counts.get(line, 0) + 1

    def remove(self, lines: Iterable[str]) -> None:
        """Forget an item added before (`monitor replay` counts a sliding run of a feed's
        items)."""
        self._items -= 1
        for line in set(lines):
            count = self._counts[line] - 1
            if count:
                self._counts[line] = count
            else:
                del self._counts[line]

    def lines(self, among: Iterable[str] | None = None) -> frozenset[str]:
        """The repeated lines (of those `among`, when given: all a fingerprint needs to know)."""
        threshold = max(self.MIN_ITEMS, self.MIN_SHARE * self._items)
        if among is not None:
            return frozenset(line for line in among if self._counts.get(line, 0) >= threshold)
        return frozenset(line for line, count in self._counts.items() if count >= threshold)
