"""The exact layer of story folding: a fingerprint of an item's normalized text, equal for the
same text republished with other markup, case, accents, punctuation or spacing."""

from __future__ import annotations

import hashlib

from monitor.model import ItemText
from monitor.text.wordfold import fold_word_text

# Below this many words a body ("Lire la suite", a bare teaser) says too little to call two
# items the same story on its own, so the title joins the fingerprint.
_MIN_BODY_WORDS = 20


def _words(text: str) -> list[str]:
    return fold_word_text(text).split()


def content_hash(text: ItemText, item_key: str) -> str:
    body = _words(text.content) or _words(text.summary)
    if len(body) < _MIN_BODY_WORDS:
        body = [*_words(text.title), "\x00", *body]
    if body == ["\x00"]:
        # Nothing to compare: only the item itself can be this item.
        body = ["\x01", item_key]
    return hashlib.sha256(" ".join(body).encode("utf-8")).hexdigest()
