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
from functools import partial
from html.parser import HTMLParser

from monitor.text.bounded import BoundedCache

try:  # The common case in one C loop, where the install compiled it (monitor/compiled.py).
    from monitor.text._speedups import markup_text as _markup_text_in_c
except ImportError:  # No C compiler at install, or MONITOR_PURE_PYTHON=1: the code below.
    _markup_text_in_c = None  # type: ignore[assignment]

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
# A block break with the whitespace and further breaks after it: one blank line.
_BREAK_RUN = re.compile(r"\x00[\x00 \t\n\r\f]*")
_TAG_START = re.compile(r"<[A-Za-z/!?]")
# Markup the fast path does not handle: comments, CDATA, declarations and elements whose contents
# are dropped go through the full parser. Searched for only where tag names cannot tell.
_NEEDS_PARSER = re.compile(r"<[!?]|<(?:script|style|template|noscript)\b", re.IGNORECASE)
# A tag of the fast path; its group is the name, after the slash of an end tag.
_TAG = re.compile(r"<(/?[A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>")


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
    text = text.strip(_ASCII_WHITESPACE)
    if _BREAK not in text:
        return _SPACE_RUN.sub(" ", text) if _has_run(text, line_breaks=0) else text
    # Each run of breaks takes the whitespace after it along; rstrip takes what is before.
    blocks = [block.rstrip(_ASCII_WHITESPACE) for block in _BREAK_RUN.split(text) if block]
    text = "\n\n".join(blocks)
    if _has_run(text, line_breaks=2 * len(blocks) - 2):
        return "\n\n".join([_SPACE_RUN.sub(" ", block) for block in blocks])
    return text


def _has_run(text: str, line_breaks: int) -> bool:
    """Whether `text` has whitespace to collapse, besides the `line_breaks` of its blank lines.
    Scans in C (memchr, and one for two spaces) are much cheaper than a substitution, which
    tries its pattern at every character, and most texts have no run to collapse."""
    return (
        text.count("\n") != line_breaks
        or "\t" in text
        or "\r" in text
        or "\f" in text
        or "  " in text
    )


def _without_unfinished_tag(markup: str) -> str:
    """Cut a tag left open at the very end ("<p>text <b"): HTML5 drops it at end of input, where
    the stdlib parser would print it as text."""
    tail = markup.rfind(">") + 1
    if markup.find("<", tail) < 0:
        return markup
    opened = _TAG_START.search(markup, tail)
    return markup[: opened.start()] if opened else markup


def _tag_replacement(name: str, *, dropped_stays: bool) -> str:
    """What a tag of the fast path becomes, by its name ("/p" for an end tag): a block break, a
    space or nothing. A start tag whose contents are dropped stays markup if `dropped_stays`,
    which sends the text to the parser."""
    name = name.lower()
    if name in _DROPPED_TAGS and dropped_stays:
        return f"<{name}"
    name = name.removeprefix("/")
    if name in _BLOCK_TAGS:
        return _BREAK
    return " " if name in _SPACING_TAGS else ""


def _decoded_reference(body: str) -> str:
    # The pattern finds the same reference in `&body` alone as in context, so this is what
    # `html.unescape` puts in its place.
    return html.unescape(f"&{body}")


def _short(key: str) -> bool:
    """Tag names and references news text repeats are short; hostile markup's may be huge, and
    are not kept."""
    return len(key) <= _LONGEST_KEPT


_LONGEST_KEPT = 40
_TAG_REPLACEMENTS = BoundedCache(
    partial(_tag_replacement, dropped_stays=True), size=1024, keeps=_short
)
_PLAIN_TAG_REPLACEMENTS = BoundedCache(
    partial(_tag_replacement, dropped_stays=False), size=1024, keeps=_short
)
_DECODED_REFERENCES = BoundedCache(_decoded_reference, size=4096, keeps=_short)
# The character references `html.unescape` decodes (its own pattern).
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")


def _without_tags(text: str, replacements: dict[str, str]) -> str:
    # Splitting on the pattern (its group, the tag name, at odd indexes) and mapping the names
    # through a dict in C costs a fraction of a `re.sub` callback per tag.
    parts = _TAG.split(text)
    parts[1::2] = map(replacements.__getitem__, parts[1::2])
    return "".join(parts)


def _unescape(text: str) -> str:
    """`html.unescape`, each reference decoded alone: a news text repeats a handful of them
    (`&eacute;`, `&nbsp;`, `&#8217;`), so decoding them once is much cheaper than a callback
    per reference."""
    if "&" not in text:
        return text
    parts = _CHARREF.split(text)
    parts[1::2] = map(_DECODED_REFERENCES.__getitem__, parts[1::2])
    return "".join(parts)


def html_to_text(markup: str) -> str:
    """Decoded plain text of `markup`; never raises, whatever the markup."""
    if "<" not in markup:
        # No markup: the text as given (rule 13), entities decoded.
        return _unescape(markup.replace(_BREAK, ""))
    if _markup_text_in_c is not None:
        text = _markup_text_in_c(markup, _TAG_REPLACEMENTS, _DECODED_REFERENCES)
        if text is not None:  # else markup it leaves to the code below
            return text
    whole = markup
    markup = _without_unfinished_tag(markup)
    # Plain text, or simple tags: the same result as the parser at a fraction of its cost (this
    # runs on every field of every item). Tags go first, so an escaped `&lt;p&gt;` stays text.
    text = markup.replace(_BREAK, "")
    had_nul = len(text) != len(markup)
    # What needs the parser shows after the tags go: comments and declarations stay, and so does
    # a start tag of an element whose contents are dropped (told by its name, which comes with
    # the split, cheaper than a search for it). Only a search finds those a NUL hid in the name
    # (`<scr\x00ipt>`, `<script\x00x>`: searched before the NULs go, all tags then plain) and
    # those spelt with a long s, an `s` to a case-insensitive search (`<ſcript>`).
    if (had_nul or "\u017f" in markup) and _NEEDS_PARSER.search(markup) is not None:
        return _parsed(markup)
    if "<" not in text or _TAG_START.search(text) is None:
        text = _unescape(text)
        return text if len(markup) == len(whole) else _rendered_whitespace(text)
    text = _without_tags(text, _PLAIN_TAG_REPLACEMENTS if had_nul else _TAG_REPLACEMENTS)
    if "<" not in text or _TAG_START.search(text) is None:
        return _rendered_whitespace(_unescape(text))
    return _parsed(markup)


def _parsed(markup: str) -> str:
    """The full parser's text of `markup`, whatever it holds."""
    collector = _TextCollector()
    try:
        collector.feed(markup)
        collector.close()
    except Exception:  # noqa: S110 - broken markup must degrade to the text read so far
        pass
    return _rendered_whitespace("".join(collector.parts))
