"""The sentence an alert quotes, with its hits highlighted (docs/design.md §4 rule 13, §6)."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.model import FIELDS, Highlight, Hit, ItemText, Snippet
from monitor.text.sentences import sentence_around, sentence_span

ELLIPSIS = "…"
# The title is already at the top of every alert: quote the body when a hit is there.
_FIELD_PREFERENCE = ("summary", "content", "title")


def snippet_for(item: ItemText, hits: Sequence[Hit], *, max_chars: int = 400) -> Snippet:
    """The sentence of the first hit in the summary or content (else in the title), cut to about
    `max_chars` around that hit, with every hit inside it as a highlight relative to the snippet
    text. A cut side is marked with an ellipsis. No usable hit gives an empty snippet."""
    usable = [hit for hit in hits if hit.field in FIELDS and _fits(item, hit)]
    if not usable:
        return Snippet(text="")
    anchor = min(usable, key=lambda hit: (_FIELD_PREFERENCE.index(hit.field), hit.start, hit.end))
    text = item.field_text(anchor.field)
    start, end = sentence_around(text, anchor.start, anchor.end, max_chars)
    whole_start, whole_end = sentence_span(text, anchor.start, anchor.end)
    prefix = ELLIPSIS if start > whole_start else ""
    suffix = ELLIPSIS if end < whole_end else ""
    spans = sorted(
        (max(hit.start, start), min(hit.end, end))
        for hit in usable
        if hit.field == anchor.field and hit.start < end and hit.end > start
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
    # A hit can span a line break ("zone\nd'exclusion"); a quote is one line.
    quoted = text[start:end].replace("\n", " ")
    return Snippet(text=f"{prefix}{quoted}{suffix}", highlights=tuple(highlights))


def _fits(item: ItemText, hit: Hit) -> bool:
    return 0 <= hit.start < hit.end <= len(item.field_text(hit.field))
