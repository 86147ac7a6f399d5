"""The sentences an alert quotes, with their hits highlighted (docs/design.md §4 rule 13, §6)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.model import FIELDS, Highlight, Hit, ItemText, Snippet
from monitor.text.sentences import sentence_around, sentence_span

ELLIPSIS = "…"
MAX_QUOTES = 3
# The title is already at the top of every alert: quote the body when a hit is there.
_FIELD_PREFERENCE = ("summary", "content", "title")


def quotes_for(
    item: ItemText, hits: Sequence[Hit], *, limit: int = MAX_QUOTES, max_chars: int = 400
) -> tuple[Snippet, ...]:
    """Every sentence that holds a hit, in text order (the summary's, then the content's), at
    most `limit`; the title's only when the body holds no hit. Each is cut to about
    `max_chars` around its first hit (a cut side marked with an ellipsis), with every hit
    inside it as a highlight relative to the quote. A sentence the summary and the content
    both hold is quoted once."""
    usable = [hit for hit in hits if hit.field in FIELDS and _fits(item, hit)]
    in_body = [hit for hit in usable if hit.field != "title"]
    chosen = in_body or usable
    quotes: list[Snippet] = []
    seen: set[str] = set()
    for field in _FIELD_PREFERENCE:
        text = item.field_text(field)
        field_hits = sorted(
            (hit for hit in chosen if hit.field == field), key=lambda hit: (hit.start, hit.end)
        )
        quoted_until = 0  # the end of the last sentence quoted in this field
        for hit in field_hits:
            if len(quotes) >= limit:
                return tuple(quotes)
            if hit.start < quoted_until:
                continue  # inside a sentence already quoted
            quote, sentence_end = _quote(text, hit, field_hits, max_chars)
            quoted_until = sentence_end
            key = " ".join(quote.text.split()).casefold()
            if key not in seen:
                seen.add(key)
                quotes.append(quote)
    return tuple(quotes)


def snippet_for(item: ItemText, hits: Sequence[Hit], *, max_chars: int = 400) -> Snippet:
    """The first quote of `quotes_for` (the sentence of the first hit in the summary or
    content, else in the title); an empty snippet when no hit is usable."""
    quotes = quotes_for(item, hits, limit=1, max_chars=max_chars)
    return quotes[0] if quotes else Snippet(text="")


def _quote(
    text: str, anchor: Hit, field_hits: Sequence[Hit], max_chars: int
) -> tuple[Snippet, int]:
    """The sentence of `anchor`, cut around it, with the hits inside it highlighted; and the
    end of the whole sentence."""
    start, end = sentence_around(text, anchor.start, anchor.end, max_chars)
    whole_start, whole_end = sentence_span(text, anchor.start, anchor.end)
    prefix = ELLIPSIS if start > whole_start else ""
    suffix = ELLIPSIS if end < whole_end else ""
    spans = sorted(
        (max(hit.start, start), min(hit.end, end))
        for hit in field_hits
        if hit.start < end and hit.end > start
    )
    highlights: list[Highlight] = []
    for span_start, span_end in spans:
        shifted = Highlight(span_start - start + len(prefix), span_end - start + len(prefix))
        if highlights and shifted.start <= highlights[-1].end:
            # Hits of several watchlists can overlap: one highlight covers them.
            merged_end = max(highlights[-1].end, shifted.end)
            highlights[-1] = Highlight(highlights[-1].start, merged_end)
        else:
            highlights.append(shifted)
    # A sentence can span a line break ("zone\nd'exclusion", plain text wrapped as given); a
    # quote is one line. One space for one character: the highlights' offsets stay.
    quoted = text[start:end].translate(_ONE_LINE)
    return Snippet(text=f"{prefix}{quoted}{suffix}", highlights=tuple(highlights)), whole_end


_ONE_LINE = str.maketrans(dict.fromkeys("\n\r\u2028\u2029\x0b\x0c\x85", " "))


def _fits(item: ItemText, hit: Hit) -> bool:
    return 0 <= hit.start < hit.end <= len(item.field_text(hit.field))
