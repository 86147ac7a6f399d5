"""Feed HTML (or plain text) -> decoded plain text, the text that matching and quoting work on.

Entities are decoded once (html.unescape semantics, through the stdlib parser), tags are removed
and script/style contents are dropped. Hit offsets index this text (docs/design.md §4 rule 13), so
text without tags comes back as given, whitespace and no-break spaces included. Markup is
rendered as a browser would: its runs of ASCII whitespace collapse to one space, and every block
boundary (paragraph, list item, heading, table cell, `<br>`) becomes one blank line, "\\n\\n", the
mark of a paragraph break that phrases and NEAR pairs do not cross (rule 16).
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from html.parser import HTMLParser

# Elements that end a line when rendered. Their text must not run into the next block's text.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "th", "thead",
        "tfoot", "tr", "ul",
    }
)  # fmt: skip
# Elements that separate words without ending a line (images between words).
_SPACING_TAGS = frozenset({"img"})
# Elements whose contents are not text for a reader.
_DROPPED_TAGS = frozenset({"script", "style", "template", "noscript"})

# Stands for a block break until whitespace is collapsed; NUL never survives from the input.
_BREAK = "\x00"
# Markup's whitespace as HTML renders it: ASCII whitespace (never the no-break space) around a
# block break is that break; any other run of it, or a lone tab or line break, is one space.
_ASCII_WHITESPACE = " \t\n\r\f"
_SPACE_RUN = re.compile(r"[\t\n\r\f][ \t\n\r\f]*| [ \t\n\r\f]+")
_TAG_START = re.compile(r"<[A-Za-z/!?]")
# Markup the fast path may handle: plain tags only. Comments, CDATA, declarations and elements
# whose contents are dropped go through the full parser.
_NEEDS_PARSER = re.compile(r"<[!?]|<(?:script|style|template|noscript)\b", re.IGNORECASE)
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropped_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_TAGS:
            self._dropped_depth += 1
        else:
            self._separate(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # A self-closed <script/> has no contents to drop; <br/> still breaks the line.
        if tag not in _DROPPED_TAGS:
            self._separate(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_TAGS:
            self._dropped_depth = max(0, self._dropped_depth - 1)
        else:
            self._separate(tag)

    def handle_data(self, data: str) -> None:
        if not self._dropped_depth:
            self.parts.append(data.replace(_BREAK, ""))

    def unknown_decl(self, data: str) -> None:
        # <![CDATA[...]]> inside HTML content is text an author meant to show.
        if data.startswith("CDATA[") and not self._dropped_depth:
            self.parts.append(data[len("CDATA[") :].replace(_BREAK, ""))

    def _separate(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append(_BREAK)
        elif tag in _SPACING_TAGS:
            self.parts.append(" ")


def _rendered_whitespace(text: str) -> str:
    """Markup's whitespace as rendered: each run one space, or one blank line where it holds a
    block break; none at either end."""
    blocks = (block.strip(_ASCII_WHITESPACE) for block in text.split(_BREAK))
    return "\n\n".join(_rendered_block(block) for block in blocks if block)


def _rendered_block(block: str) -> str:
    # Most blocks have no run to collapse: five scans in C are cheaper than one regex pass.
    if "  " in block or "\n" in block or "\t" in block or "\r" in block or "\f" in block:
        return _SPACE_RUN.sub(" ", block)
    return block


def _without_unfinished_tag(markup: str) -> str:
    """Cut a tag left open at the very end ("<p>text <b"): HTML5 drops it at end of input, where
    the stdlib parser would print it as text."""
    tail = markup.rfind(">") + 1
    opened = _TAG_START.search(markup, tail)
    return markup[: opened.start()] if opened else markup


# What a tag of the fast path becomes, by its lowercase name: a block break, a space, or
# nothing (every other tag).
_TAG_REPLACEMENTS = {name: _BREAK for name in _BLOCK_TAGS} | {name: " " for name in _SPACING_TAGS}
# The character references `html.unescape` decodes (its own pattern).
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
_CACHED_CHARREF_LENGTH = 40


def _without_tags(text: str) -> str:
    # Splitting on the pattern (its group, the tag name, at odd indexes) and mapping the names
    # in one comprehension costs a fraction of a `re.sub` callback per tag.
    parts = _TAG.split(text)
    parts[1::2] = [_TAG_REPLACEMENTS.get(name.lower(), "") for name in parts[1::2]]
    return "".join(parts)


def _unescape(text: str) -> str:
    """`html.unescape`, each reference decoded alone: a news text repeats a handful of them
    (`&eacute;`, `&nbsp;`, `&#8217;`), so decoding them once is much cheaper than a callback
    per reference."""
    parts = _CHARREF.split(text)
    parts[1::2] = [
        _decoded(body) if len(body) <= _CACHED_CHARREF_LENGTH else html.unescape(f"&{body}")
        for body in parts[1::2]
    ]
    return "".join(parts)


@lru_cache(maxsize=4096)
def _decoded(body: str) -> str:
    # The pattern finds the same reference in `&body` alone as in context, so this is what
    # `html.unescape` puts in its place.
    return html.unescape(f"&{body}")


def html_to_text(markup: str) -> str:
    """Decoded plain text of `markup`; never raises, whatever the markup."""
    whole = markup
    markup = _without_unfinished_tag(markup)
    if _NEEDS_PARSER.search(markup) is None:
        # Plain text, or simple tags: the same result as the parser at a fraction of its cost
        # (this runs on every field of every item). Tags go first, so an escaped `&lt;p&gt;`
        # stays text.
        text = markup.replace(_BREAK, "")
        if "<" not in text or _TAG_START.search(text) is None:
            # No markup: the text as given (rule 13), entities decoded.
            text = _unescape(text) if "&" in text else text
            return text if len(markup) == len(whole) else _rendered_whitespace(text)
        text = _without_tags(text)
        if _TAG_START.search(text) is None:
            if "&" in text:
                text = _unescape(text)
            return _rendered_whitespace(text)
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:  # noqa: S110 - broken markup must degrade to the text read so far
        pass
    return _rendered_whitespace("".join(collector.parts))
