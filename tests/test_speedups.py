"""The C loops of monitor/text/_speedups.pyx against the Python code they stand in for, and its
`new_tuple` against `tuple.__new__`.

`html.html_to_text` and `wordfold.fold_words` hand their common case to those loops where the
install compiled them; the Python code stays the reference. Here each input goes through both,
the loop and the Python code alone (the loop switched off), and the answers must be equal: on
tricky cases, on tens of thousands of random strings made of the pieces that make markup and
folding hard, and on every text field of the real-world feed corpora. The loops must also take
the common case, or the speed they exist for is gone without a failing test.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.feeds.parse import parse_feed
from monitor.match.spelling import Span
from monitor.model import Hit, WatchlistMatch
from monitor.text import html, tuples, wordfold
from monitor.text.wordfold import WordFold

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"

pytestmark = pytest.mark.skipif(
    html._markup_text_in_c is None or wordfold._folded_text_in_c is None,
    reason="monitor.text._speedups is not compiled here (no C compiler at install, or "
    "MONITOR_PURE_PYTHON=1): the Python code runs alone, as the rest of the suite tests",
)

MARKUP_PIECES = (
    *("<p>", "</p>", "<br/>", "<br />", "<BR>", "<li>", "<td>", "<h1>", '<div class="a">'),
    *("</div>", "<span>", "<wbr>", "<img src=x>", "<a href='x>y'>", "</a>", "<scriptx>"),
    *("<script>", "</script>", "<SCRIPT>", "<style>", "<!--", "-->", "<?", "<!DOCTYPE x>"),
    *("<p-x>", "<b", "<<p>p>", "<<p>!", "<p\x00>", "<p ſ>", "<p\u3000x>", "<a\xa0b>", "<\x00"),
    *("<", ">", "/", "a", "B", "é", "’", " ", "  ", "\n", "\t", "\r", "\f", "\v", "\xa0"),
    *("\u2028", "\u3000", "\x00", "ſ", "𝔸", "x", "1", ";", "#"),
    *("&", "&amp;", "&amp", "&ampx", "&eacute;", "&Aacute", "&notit;", "&lt;p&gt;", "&lt"),
    *("&#8217;", "&#x41;", "&#;", "&#x;", "&#10;", "&#0;", "&#9;", "&#12;", "&nbsp;"),
)
TEXT_PIECES = (
    *("a", "B", "é", "É", "ÿ", "Å", "x", "1", " ", "  ", "\n", "\t", "\xa0", "\x00", "\x7f"),
    *("\x85", "’", "‘", "—", "…", "«", "»", ",", ".", "'", "-", "´", "`", "\u202f", "\u2009"),
    *("\u2028", "\u3000", "\u200b", "\ufeff", "\u0301", "\xad", "&", "AT&T", "ß", "æ", "þ"),
    *("½", "œ", "Œ", "ﬁ", "ﬀ", "ﬃ", "µ", "μ", "Ω", "ω", "ğ", "Ł", "Ж", "İ", "ǆ", "№", "™", "Ⅻ"),
    *("①", "ſ", "𝔸", "\ud800", "/", ":", "://", "www", "WwW.", "w", "http"),
)
HARD_CASES = (
    "<p>L’OTAN refuse une zone d&#8217;exclusion a&eacute;rienne&nbsp;:</p><p>Kyiv</p>",
    "<p>  a \n b </p>\n\n<p>\tc</p>  ",
    "<p>AT&amp;T &amp S&P</p>",
    "<p>&am<b>p;</p>",
    "<p>a</p><!-- c --><p>b</p>",
    "<p>a < b</p>",
    "<p>x <b",
    "x<br>y<br/>z<br />w",
    "<div>Volodymyr</div><div>Zelensky</div>",
    "<p>" + "&" * 40 + "x;</p>",
    "<p>" + "é" * 300 + "&unknownreference;</p>",
)
FOLD_CASES = (
    "L’OTAN refuse « une zone d’exclusion aérienne » — Kyiv…",
    "OTAN\xa0»,\xa0a   l'    OTAN",
    "Erdoğan et Wałęsa, cœur et sœur, Straße, ½ et ¼, AT&T",
    "voir https://x.fr/a-b et www.Example.org/c",
    "   trois espaces au début",
    "µ et ğ ensemble",
    "",
)


def _reference_html(markup: str) -> str:
    loop, html._markup_text_in_c = html._markup_text_in_c, None
    try:
        return html.html_to_text(markup)
    finally:
        html._markup_text_in_c = loop


def _reference_fold(text: str, without_links: bool) -> WordFold:
    loop, wordfold._folded_text_in_c = wordfold._folded_text_in_c, None
    try:
        return wordfold.fold_words(text, without_links=without_links)
    finally:
        wordfold._folded_text_in_c = loop


def _assert_html_alike(markup: str) -> None:
    assert html.html_to_text(markup) == _reference_html(markup), repr(markup)


def _assert_fold_alike(text: str) -> None:
    for without_links in (True, False):
        fold = wordfold.fold_words(text, without_links=without_links)
        reference = _reference_fold(text, without_links)
        assert fold == reference, (repr(text), without_links)
        # Equal strings, and equal in kind too (an ASCII text must be marked so).
        assert fold.text.isascii() == reference.text.isascii(), repr(text)


def _random_strings(pieces: tuple[str, ...], count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))


@pytest.mark.parametrize("markup", HARD_CASES)
def test_html_loop_answers_as_the_python_code_on_hard_cases(markup: str) -> None:
    _assert_html_alike(markup)


@pytest.mark.parametrize("text", FOLD_CASES)
def test_fold_loop_answers_as_the_python_code_on_hard_cases(text: str) -> None:
    _assert_fold_alike(text)
    _assert_fold_alike(html.html_to_text(f"<p>{text}</p>"))


def test_html_loop_answers_as_the_python_code_on_random_markup() -> None:
    taken = 0
    for markup in _random_strings(MARKUP_PIECES, 40_000, seed=5):
        _assert_html_alike(markup)
        taken += (
            html._markup_text_in_c(markup, html._TAG_REPLACEMENTS, html._DECODED_REFERENCES)
            is not None
        )
    assert taken > 5_000  # the loop answered, not only the Python code


def test_fold_loop_answers_as_the_python_code_on_random_text() -> None:
    for text in _random_strings(TEXT_PIECES, 40_000, seed=7):
        _assert_fold_alike(text)


def test_the_loops_take_the_common_case() -> None:
    """News markup and its text take the C loops: were they to leave everything to the Python
    code, the results would stay right and the speed would go."""
    markup = "<p>L’OTAN refuse une zone d’exclusion a&eacute;rienne au-dessus de l’Ukraine.</p>"
    assert html._markup_text_in_c(markup, html._TAG_REPLACEMENTS, html._DECODED_REFERENCES)
    tables = wordfold._tables()
    for text in ("L’OTAN refuse « une zone » — Kyiv", "Le cœur de l’Europe, AT&T"):
        assert wordfold._folded_text_in_c(
            text,
            tables.latin1,
            tables.latin1_gaps,
            wordfold._COMMON_WIDE_SEPARATORS,
            tables.mapping,
            True,
        )


def _corpus_fields() -> Iterator[str]:
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file():
            parsed = parse_feed(path.read_bytes(), base_url=f"https://corpus.example/{path.name}")
            for entry in parsed.entries:
                yield from (entry.title, entry.summary, entry.content)


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"feed corpus not found at {CORPUS}")
def test_the_loops_answer_as_the_python_code_on_the_feed_corpora() -> None:
    fields = 0
    for field in _corpus_fields():
        _assert_html_alike(field)
        _assert_fold_alike(html.html_to_text(field))
        fields += 1
    assert fields > 4_000


def test_new_tuple_makes_what_tuple_new_makes() -> None:
    """The engine's named tuples come from `new_tuple`: equal to, and of the class of, what
    `tuple.__new__` makes, holding their own reference to each field."""
    assert tuples.new_tuple is not tuple.__new__  # the C helper, where the loops are compiled
    source = "".join(["L’OTAN ", "refuse"])  # a string no other object holds
    held = sys.getrefcount(source)
    fields = ("otan", "OTAN", "title", 3, 7, source)
    hit = tuples.new_tuple(Hit, fields)
    assert type(hit) is Hit and hit == tuple.__new__(Hit, fields) == Hit(*fields)
    assert (hit.watchlist, hit.text, hit[3:5]) == ("otan", source, (3, 7))
    assert sys.getrefcount(source) == held + 2  # `fields`' and the hit's own
    del fields
    assert sys.getrefcount(source) == held + 1
    del hit
    assert sys.getrefcount(source) == held
    span = tuples.new_tuple(Span, (1, 5))
    assert type(span) is Span and span.end == 5
    match = tuples.new_tuple(WatchlistMatch, ("otan", ()))
    assert match == WatchlistMatch("otan", ()) and hash(match) == hash(("otan", ()))
    with pytest.raises(TypeError, match="not a subclass of tuple"):
        tuples.new_tuple(list, (1, 2))  # type: ignore[type-var]
    for cls, fields in ((Span, [1, 2]), (None, (1, 2)), (Span, None)):
        with pytest.raises(TypeError):
            tuples.new_tuple(cls, fields)  # type: ignore[arg-type]


def test_the_loops_write_inside_their_buffers() -> None:
    """A write past a buffer is silent in a normal run (the allocator rounds sizes up) until it
    corrupts the heap of a daemon months later; Python's debug allocator catches it at once."""
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("speedups_under_guard.py"))],
        env={**os.environ, "PYTHONMALLOC": "debug"},
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "inside"), done.stderr[-3000:]
