"""The exact layer of story folding: a fingerprint of an item's normalized text, equal for the
same text republished with other markup, case, accents, punctuation or spacing."""

from __future__ import annotations

import hashlib

from monitor.model import ItemText
from monitor.text.wordfold import fold_word_text

# Below this many words a body ("Lire la suite", a bare teaser) says too little to call two
# items the same story on its own, so the title joins the fingerprint.
_MIN_BODY_WORDS = 20


def content_hash(text: ItemText, item_key: str) -> str:
    body = fold_word_text(text.content) or fold_word_text(text.summary)  # words, single-spaced
    if not body or body.count(" ") + 1 < _MIN_BODY_WORDS:
        body = " ".join(part for part in (fold_word_text(text.title), "\x00", body) if part)
    if body == "\x00":
        # Nothing to compare: only the item itself can be this item.
        body = f"\x01 {item_key}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
