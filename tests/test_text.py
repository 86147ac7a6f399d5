"""monitor.text: HTML to text, folding with offsets, sentence spans."""

from __future__ import annotations

import random
import re

import pytest

from monitor.text.fold import fold, fold_chars
from monitor.text.html import _parsed, html_to_text
from monitor.text.sentences import sentence_around, sentence_span
from monitor.text.wordfold import fold_word_text, fold_words, one_of, separator_chars

# --- html_to_text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        # entities, html.unescape semantics
        ("l&#8217;OTAN", "l’OTAN"),
        ("l&rsquo;Otan &amp; l&#x2019;UE", "l’Otan & l’UE"),
        ("a&eacute;rienne", "aérienne"),
        ("zone&nbsp;d&apos;exclusion", "zone\u00a0d'exclusion"),  # NBSP kept (rule 13)
        ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),  # decoded once, not twice
        ("AT&T &amp c", "AT&T & c"),
        # tags
        ("<p>Le <b>secrétaire</b> <a href='x'>général</a></p>", "Le secrétaire général"),
        ("<b>O</b>TAN", "OTAN"),  # inline tags do not split words
        ("<script>var otan = '<p>';</script>Texte", "Texte"),
        ("<style>p { color: red }</style>Texte", "Texte"),
        ("avant<!-- OTAN -->après", "avantaprès"),
        ("<noscript>Activez JavaScript</noscript>Texte", "Texte"),
        ("<![CDATA[l’OTAN]]>", "l’OTAN"),
        (
            "<table><tr><td>un</td><td>deux</td></tr><tr><td>trois</td></tr></table>",
            "un\n\ndeux\n\ntrois",  # a table cell ends a block (rule 16)
        ),
        ("texte<img src='x.png'>suite", "texte suite"),
        # markup: blocks end with a blank line (rule 16), other whitespace renders as one space,
        # the no-break space stays
        ("<p>Un.</p><p>Deux.</p>", "Un.\n\nDeux."),
        ("un<br>deux<br/>trois", "un\n\ndeux\n\ntrois"),
        ("<ul><li>un</li><li>deux</li></ul>", "un\n\ndeux"),
        ("<h1>Titre</h1>Texte<blockquote>Cité</blockquote>", "Titre\n\nTexte\n\nCité"),
        ("<div>\n\n  <p>  un  \n  </p>\n\n</div>", "un"),
        ("<p>un\u00a0\u202f deux\t\ttrois</p>", "un\u00a0\u202f deux trois"),
        ("<p>ligne\ncoupée</p>", "ligne coupée"),
        # no markup: the text as given, whitespace and all (rule 13)
        ("Plain text, no tags.", "Plain text, no tags."),
        ("un\u00a0\u202f deux\t\ttrois", "un\u00a0\u202f deux\t\ttrois"),
        ("Selon  l’OTAN\n", "Selon  l’OTAN\n"),
        (
            "Premier paragraphe.\n\nSecond.\r\n\r\nTroisième.",
            "Premier paragraphe.\n\nSecond.\r\n\r\nTroisième.",
        ),
        ("a < b and c > d", "a < b and c > d"),
        ("prix <5 %", "prix <5 %"),
        # broken markup
        ("<p>unclosed <b", "unclosed"),
        ("<div<p>texte", "texte"),
        ("texte</p></div></span>", "texte"),
        ("<p>texte <a href='x", "texte"),
        ("avant <!-- jamais fermé", "avant"),
        ("<script>never closed", ""),
        ("nul\x00byte", "nulbyte"),
        ("", ""),
    ],
)
def test_html_to_text(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


def test_html_to_text_never_raises_and_renders_markup_whitespace() -> None:
    pieces = ["<", ">", "</", "/>", "<!--", "-->", "<![CDATA[", "]]>", "<!", "<?", "&", ";",
              "&#", "&#x", "amp", "nbsp", "<p", "<script>", "</script>", "<style", "'", '"', "=",
              " ", "\n", "\xa0", "OTAN", "é", "\x00", "<br>", "</p>", "<li>", "x"]  # fmt: skip
    generator = random.Random(1234)
    for _ in range(2000):
        markup = "".join(generator.choice(pieces) for _ in range(generator.randint(0, 30)))
        text = html_to_text(markup)
        assert "\x00" not in text
        if re.search("<[A-Za-z/!?]", markup) is None:
            continue  # no markup: as given, entities decoded
        assert text == text.strip(" \n")
        for leftover in ("  ", " \n", "\n ", "\n\n\n"):
            assert leftover not in text


def test_html_to_text_fast_path_agrees_with_the_parser() -> None:
    # Simple tags, references and whitespace: the fast path must render them as the parser does.
    tags = ["<p>", "</p>", "<br>", "<br/>", "<BR />", "<b>", "</b>", "<em>", "</em>", "<li>",
            '<a href="https://x.fr/?a=1&amp;b=2">', "</a>", "<div class='x'>", "</div>",
            "<img src='x.png'>", "<h2>", "</h2>", "<td>", "<span>", "</span>"]  # fmt: skip
    texts = ["OTAN", "l’Otan", "é", "&eacute;", "&amp;", "&lt;p&gt;", "&#8217;", "&#x41;",
             "&nbsp;", "&#32;", "&copy", "\xa0", " ", "  ", "\n", "\t", "\r\n", "a < b", "1 > 0",
             "AT&T", "«", "'", '"']  # fmt: skip
    generator = random.Random(4321)
    for _ in range(3000):
        pieces = [
            generator.choice(tags) if generator.random() < 0.35 else generator.choice(texts)
            for _ in range(generator.randint(1, 25))
        ]
        if not any(piece in tags for piece in pieces):
            continue  # no markup: the text as given, which the parser does not keep
        markup = "".join(pieces)
        assert html_to_text(markup) == _parsed(markup), markup


# --- fold ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("aérienne", "aerienne"),
        ("ZONE", "zone"),
        ("Œuvre cœur", "oeuvre coeur"),
        ("Ærø", "aero"),
        ("Straße STRASSE", "strasse strasse"),
        ("l’OTAN", "l otan"),
        ("l'Otan l‘Otan lʼOTAN l´OTAN l`OTAN", "l otan l otan l otan l otan l otan"),
        ("jusqu’à lorsqu’il", "jusqu a lorsqu il"),
        ("no-fly no‐fly no‑fly no–fly", "no fly no fly no fly no fly"),
        ("zone\u00a0d’exclusion\u202faérienne", "zone d exclusion aerienne"),
        ("a \t\n b", "a b"),
        ("l’ \u00a0OTAN", "l otan"),
        ("bota\u00adnique zero\u200bwidth", "botanique zerowidth"),
        ("ae\u0301rienne", "aerienne"),  # decomposed accent
        ("ﬁn ＯＴＡＮ", "fin otan"),  # ligature, full-width
        ("İstanbul Łódź", "istanbul lodz"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text).text == folded


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("l’OTAN", "l OTAN"),
        ("Œuvre Straße Élysée", "OEuvre Strasse Elysee"),
        ("Poutine no‑fly", "Poutine no fly"),
    ],
)
def test_fold_keep_case(text: str, folded: str) -> None:
    assert fold(text, keep_case=True).text == folded


_FOLD_SAMPLES = [
    "L’Œuvre de l’OTAN à Straße\u00a0no‑fly",
    "ae\u0301rienne cœur ÆSIR ﬁn",
    "  zone  d’exclusion\u202faérienne  ",
    "bota\u00adnique\u200b İstanbul ẞ",
    "e\u0301\u0301\u0301 ß ß",
]
_FOLD_ALPHABET = [*"aAeéEÉoOtnN ’'-‑\u00a0\u202f\u00ad\u200bœŒßæ.,«»", "e\u0301", "ﬁ", "İ"]


def _fold_samples() -> list[str]:
    generator = random.Random(42)
    generated = [
        "".join(generator.choice(_FOLD_ALPHABET) for _ in range(generator.randint(1, 25)))
        for _ in range(300)
    ]
    return _FOLD_SAMPLES + generated


@pytest.mark.parametrize("keep_case", [False, True])
def test_fold_offsets_map_back_to_the_source(keep_case: bool) -> None:
    for source in _fold_samples():
        folded = fold(source, keep_case=keep_case)
        assert folded.source == source
        assert len(folded.offsets) == len(folded.text)
        assert list(folded.offsets) == sorted(folded.offsets)
        for index, char in enumerate(folded.text):
            # each folded character comes from the source character it points at
            origin = fold(source[folded.offsets[index]], keep_case=keep_case).text
            assert char in origin, (source, index)
        # every folded word refolds, from its source span, to exactly itself
        position = 0
        for word in folded.text.split(" "):
            if word:
                start, end = folded.source_span(position, position + len(word))
                assert fold(source[start:end], keep_case=keep_case).text == word, (source, word)
            position += len(word) + 1


def test_fold_span_takes_in_trailing_combining_marks() -> None:
    source = "cafe\u0301 noir"
    folded = fold(source)
    assert folded.text == "cafe noir"
    assert folded.source_span(0, 4) == (0, 5)
    assert source[slice(*folded.source_span(0, 4))] == "cafe\u0301"


def test_fold_span_rejects_empty_spans() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        fold("abc").source_span(1, 1)


@pytest.mark.parametrize("keep_case", [False, True])
def test_characters_folded_together_fold_as_each_alone(keep_case: bool) -> None:
    # The word-folding tables fold every character at once; nothing may cross from one
    # character to the next (combining marks reordered, a letter composed with the next).
    chars = [chr(code) for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF]
    chars += ["\U0001d400", "\U0001f600", "\U00020000", "\U000e0001"]
    random.Random(15).shuffle(chars)
    together = fold_chars(chars, keep_case=keep_case)
    alone = [fold_chars(char, keep_case=keep_case)[0] for char in chars]
    assert together == alone


# --- word fold (matching): `&`, links, long gaps (docs/design.md §4 rules 13-15) ---------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("AT&T, AT & T, S&P 500", "at & t at & t s & p 500"),
        ("AT&amp;T", "at & amp t"),  # decoding is html_to_text's job, before folding
        ("voir https://www.lemonde.fr/l-otan_1.html et l’OTAN", "voir et l otan"),
        ("www.otan.int, WWW.NATO.INT/x OTAN", "otan"),
        ("http seul, pas de lien : OTAN", "http seul pas de lien otan"),
        ("a’b‘c“d”e…f—g–h", "a b c d e f g h"),  # more separators than failed encodings
        ("«\u00a0Erdoğan\u00a0» – l’OTAN… “oui”", "erdogan l otan oui"),
    ],
)
def test_fold_words_for_matching(text: str, words: str) -> None:
    assert " ".join(fold_words(text, without_links=True).text.split()) == words


def test_fold_words_keeps_links_unless_asked() -> None:
    assert fold_word_text("www.otan.int") == "www otan int"


def test_fold_words_collapses_long_whitespace_gaps_only() -> None:
    fold = fold_words("zone \r\n\t d’exclusion,  «\u00a0Otan\u00a0»,  fin")
    assert "zone d exclusion" in fold.text  # whitespace: one space, for the phrase keys
    assert "otan     fin" in fold.text  # punctuation: no phrase gap, left as it is
    assert fold_words("zone \n - \n exclusion, l’OTAN").text == " zone exclusion  l otan "


def test_fold_words_offsets_map_back_with_ampersands_links_and_gaps() -> None:
    pieces = ["AT&T", " & ", "&", "Œuvre", "ae\u0301rienne", "https://x.fr/a-b", " ", "  \n\t  ",
              "OTAN", "’", "ß", "www.x.fr", "Ñandú", "\u00a0", "-", "»,"]  # fmt: skip
    generator = random.Random(99)
    for _ in range(500):
        source = "".join(generator.choice(pieces) for _ in range(generator.randint(1, 14)))
        fold = fold_words(source, without_links=True)
        for word in re.finditer(r"\S+", fold.text):
            start, end = fold.source_span(word.start(), word.end())
            assert fold_word_text(source[start:end]) == word.group(), (source, word.group())


# --- sentences ----------------------------------------------------------------------------------

_ARTICLE = (
    "Le sommet s’ouvre demain. L’OTAN n’enverra pas de troupes, a dit M. Stoltenberg. "
    "« L’OTAN ne fait pas partie du conflit », a-t-il ajouté ! Est-ce clair ? Oui.\n"
    "Une ligne… puis la suite. Fin"
)


@pytest.mark.parametrize(
    ("needle", "sentence"),
    [
        ("sommet", "Le sommet s’ouvre demain."),
        ("troupes", "L’OTAN n’enverra pas de troupes, a dit M. Stoltenberg."),
        ("Stoltenberg", "L’OTAN n’enverra pas de troupes, a dit M. Stoltenberg."),
        ("conflit", "« L’OTAN ne fait pas partie du conflit », a-t-il ajouté !"),
        ("clair", "Est-ce clair ?"),
        ("Oui", "Oui."),
        ("ligne", "Une ligne… puis la suite."),  # … before a lowercase word does not end it
        ("Fin", "Fin"),
    ],
)
def test_sentence_around(needle: str, sentence: str) -> None:
    start = _ARTICLE.index(needle)
    span = sentence_around(_ARTICLE, start, start + len(needle))
    assert _ARTICLE[slice(*span)] == sentence
    assert sentence_span(_ARTICLE, start, start + len(needle)) == span


def test_sentence_around_keeps_a_hit_that_crosses_a_line_break() -> None:
    text = "Avant. Une zone\nd’exclusion aérienne. Après."
    start = text.index("zone")
    end = text.index(" aérienne")
    assert text[slice(*sentence_around(text, start, end))] == "Une zone\nd’exclusion aérienne."


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        # Plain text wrapped as given: a line break inside a sentence does not end it.
        (
            "Avant. L’OTAN refuse\r\nune zone d’exclusion aérienne. Après.",
            "L’OTAN refuse\r\nune zone d’exclusion aérienne.",
        ),
        # A paragraph break (how decoded text marks a block's end) does.
        ("Un titre sans point\n\nL’OTAN refuse une zone. Après.", "L’OTAN refuse une zone."),
        ("Un titre sans point\r\n\r\nL’OTAN refuse une zone.", "L’OTAN refuse une zone."),
        ("Un titre\u2029L’OTAN refuse une zone.", "L’OTAN refuse une zone."),
    ],
)
def test_a_sentence_ends_at_a_paragraph_break_not_at_a_wrapped_line(
    text: str, sentence: str
) -> None:
    start = text.index("OTAN")
    assert text[slice(*sentence_around(text, start, start + 4))] == sentence


@pytest.mark.parametrize("max_chars", [20, 40, 80, 150])
@pytest.mark.parametrize("needle", ["OTAN", "premier", "dernier", "zone d’exclusion"])
def test_sentence_around_trims_at_word_boundaries_around_the_hit(
    max_chars: int, needle: str
) -> None:
    text = (
        "Intro. Le premier mot d’une très longue phrase où l’OTAN parle d’une zone d’exclusion "
        "aérienne, de troupes, de soutien et encore de bien d’autres choses jusqu’au dernier. Fin."
    )
    start = text.index(needle)
    end = start + len(needle)
    span_start, span_end = sentence_around(text, start, end, max_chars=max_chars)
    assert span_start <= start
    assert end <= span_end
    assert span_end - span_start <= max_chars
    assert span_start == start or text[span_start - 1] == " "
    assert span_end == end or text[span_end] in " ,."
    whole = sentence_span(text, start, end)
    assert whole[0] <= span_start
    assert span_end <= whole[1]


def test_sentence_around_returns_the_hit_when_it_is_longer_than_max_chars() -> None:
    text = "Une phrase avec un très long passage au milieu. Fin."
    assert sentence_around(text, 4, 40, max_chars=10) == (4, 40)


def test_sentence_around_rejects_spans_outside_the_text() -> None:
    with pytest.raises(ValueError, match="inside the text"):
        sentence_around("abc", 2, 5)


def test_one_of_matches_exactly_the_characters_given_in_any_order() -> None:
    separators = separator_chars()
    chosen = random.Random(7).sample(separators, len(separators) // 3)
    pattern = one_of([*chosen, *chosen[:50]])  # out of order, some twice
    # Thousands of separators make few ranges: a pattern that compiles in a blink.
    assert len(one_of(separators).pattern) < len(separators) / 5
    wanted = set(chosen)
    for char in {*separators, *"aZ9-[]^\\"}:
        assert (pattern.fullmatch(char) is not None) == (char in wanted), hex(ord(char))
