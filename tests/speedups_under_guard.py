"""Run by tests/test_speedups.py under PYTHONMALLOC=debug, which puts guard bytes around every
block the C loops allocate and aborts the process when a write went past one: inputs that make
the loops' buffers grow (expansions before plain text, references that decode to two
characters, runs of block tags), and long random strings, each checked against the Python
code as well."""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script
from monitor.match.spelling import Span
from monitor.text import html, tuples, wordfold
from tests.test_speedups import (
    MARKUP_PIECES,
    TEXT_PIECES,
    _assert_fold_alike,
    _assert_html_alike,
)

GROWING_TEXT = (
    *("&" * k + "a" * m for k, m in ((16, 1), (40, 20), (3_000, 2_000), (30_000, 20_000))),
    *("½" * k + "é" * m for k, m in ((20, 5), (2_000, 1_500))),
    *("㎯" * k + "x" * m for k, m in ((10, 30), (1_000, 3_000))),
    "œ" * 5_000 + "’" * 5_000 + "a" * 5_000,
)
GROWING_MARKUP = (
    "<p>" + "&amp;" * 3_000 + "x" * 2_000 + "</p>",
    "<p>" + "&nvlt;" * 2_000 + "</p>",
    "<p>a</p>" * 5_000,
    "<br>" * 10_000 + "x",
    "<p>" + "&#10;" * 3_000 + "y" + "&NotEqualTilde;" * 1_000 + "</p>",
)


def main() -> None:
    for text in GROWING_TEXT:
        _assert_fold_alike(text)
    for markup in GROWING_MARKUP:
        _assert_html_alike(markup)
        _assert_fold_alike(html.html_to_text(markup))
    rng = random.Random(11)
    for _ in range(300):
        markup = "".join(rng.choice(MARKUP_PIECES) for _ in range(rng.randint(50, 400)))
        _assert_html_alike(markup)
        text = "".join(rng.choice(TEXT_PIECES) for _ in range(rng.randint(50, 400)))
        _assert_fold_alike(text)
    spans = [tuples.new_tuple(Span, (at, at + 3)) for at in range(10_000)]
    assert spans[-1] == Span(9_999, 10_002) and len(set(spans)) == len(spans)
    assert html._markup_text_in_c is not None and wordfold._folded_text_in_c is not None
    print("inside")


if __name__ == "__main__":
    main()
