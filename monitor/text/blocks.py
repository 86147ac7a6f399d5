"""Where a block of text ends (docs/design.md §4 rule 16): a paragraph break, which phrases and
NEAR pairs do not cross.

Decoded HTML marks the end of every paragraph, list item, heading, table cell and `<br>` with a
blank line (monitor.text.html); plain text has its own blank lines. A single line break is not
one: plain text wraps its lines. NEAR reads this; a phrase's gap test (monitor.match.spelling)
says the same in its own regular expression.
"""

from __future__ import annotations

import re

# Two line breaks with only other whitespace between them (`\n\n`, `\r\n\r\n`, `\n \n`), or a
# paragraph separator.
BLOCK_BREAK = re.compile(r"\n[^\S\n]*\n|\r[^\S\r\n]*\r|\u2029")


def crosses_block(text: str, start: int, end: int) -> bool:
    """Whether `text[start:end]` holds a paragraph break."""
    return BLOCK_BREAK.search(text, start, end) is not None
