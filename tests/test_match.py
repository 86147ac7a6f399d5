"""monitor.match: watchlist matching rules (docs/design.md §4) and the quoted snippet."""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import pytest

from monitor.config.schema import WatchlistSpec
from monitor.match import compile_watchlists, snippet_for
from monitor.model import Highlight, Hit, ItemText, Snippet
from monitor.text.html import html_to_text

SEED = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "seed"

OTAN: dict[str, Any] = {
    "term": "OTAN",
    "aliases": ["NATO", "Alliance atlantique", "Organisation du traité de l'Atlantique nord"],
}
ZONE = "zone d'exclusion aérienne"
POUTINE_CS: dict[str, Any] = {"term": "Poutine", "case_sensitive": True}


def watchlist(*terms: Any, name: str = "w", **options: Any) -> WatchlistSpec:
    return WatchlistSpec.model_validate({"name": name, "terms": list(terms), **options})


def hit_texts(spec: WatchlistSpec, **fields: str) -> list[str]:
    matches = compile_watchlists([spec]).match(ItemText(**fields))
    return [hit.text for found in matches for hit in found.hits]


# (term, text, the text of each hit in order; [] means the watchlist must not fire)
CASES: list[tuple[Any, str, list[str]]] = [
    # rule 3: apostrophes are equivalent and French elisions split
    (OTAN, "Selon l’OTAN, rien.", ["OTAN"]),
    (OTAN, "le chef de l'Otan", ["Otan"]),
    (OTAN, "L’OTAN répond", ["OTAN"]),
    (OTAN, "l‘Otan et lʼOTAN", ["Otan", "OTAN"]),
    (OTAN, "jusqu’à l´OTAN, lorsqu’OTAN", ["OTAN", "OTAN"]),
    (ZONE, "une zone d’exclusion aérienne", ["zone d’exclusion aérienne"]),
    (ZONE, "une zone dʼexclusion aérienne", ["zone dʼexclusion aérienne"]),
    (
        "Organisation du traité de l’Atlantique nord",
        "l'Organisation du Traité de l'Atlantique Nord",
        ["Organisation du Traité de l'Atlantique Nord"],
    ),
    # rule 5: whole words only
    (OTAN, "la botanique et les otaries", []),
    (OTAN, "OTANIEN", []),
    ("zone", "la couche d’ozone", []),
    ("zone", "zoned out", []),
    ("UE", "une queue", []),
    ("G7", "le G77 se réunit", []),
    # rule 7: acronyms need a capital first letter
    (OTAN, "otan en minuscules", []),
    (OTAN, "NATO summit, Nato allies", ["NATO", "Nato"]),
    (OTAN, "è nato a Roma", []),
    (OTAN, "NATO's role", ["NATO"]),
    ("UE", "l’UE et l'Ue", ["UE", "Ue"]),
    ("UE", "ue", []),
    ("3GPP", "le 3Gpp et le 3GPP, pas le 3gpp", ["3Gpp", "3GPP"]),
    ("ZONE D'EXCLUSION", "une zone d’exclusion", ["zone d’exclusion"]),  # a phrase is no acronym
    # rule 2: case and accents
    ("aérienne", "défense aerienne", ["aerienne"]),
    ("aerienne", "défense AÉRIENNE", ["AÉRIENNE"]),
    ("zone", "ZONE interdite", ["ZONE"]),
    ("Pékin", "à Pekin", ["Pekin"]),
    ("cœur", "au coeur de", ["coeur"]),
    ("Straße", "STRASSE", ["STRASSE"]),
    (ZONE, "ZONE D'EXCLUSION AÉRIENNE", ["ZONE D'EXCLUSION AÉRIENNE"]),
    # rule 4: hyphens, non-breaking hyphens, NBSP and spaces are equivalent inside phrases
    (ZONE, "zone\u00a0d’exclusion\u00a0aérienne", ["zone\u00a0d’exclusion\u00a0aérienne"]),
    (ZONE, "zone\u202fd'exclusion  aérienne", ["zone\u202fd'exclusion  aérienne"]),
    ("no-fly zone", "a no fly zone", ["no fly zone"]),
    ("no fly zone", "a no-fly zone", ["no-fly zone"]),
    ("no-fly zone", "a no\u2011fly zone", ["no\u2011fly zone"]),
    ("no-fly zone", "a no–fly zone", ["no–fly zone"]),
    ("no-fly zone", "a nofly zone", []),
    ("Saint-Pétersbourg", "à Saint Petersbourg", ["Saint Petersbourg"]),
    ("no-fly zone", "say no, fly zone", []),  # sentence punctuation is not a separator
    (ZONE, "la zone d’exclusion", []),  # every word of a phrase must be there
    # rule 6: plural and feminine endings on words of 4+ letters
    (ZONE, "des zones d’exclusion aériennes", ["zones d’exclusion aériennes"]),
    ("aérien", "soutiens aériens", ["aériens"]),
    ("zone", "zones", ["zones"]),
    ("Peskov", "Peskova", []),
    ("mer", "les mers", []),  # 3 letters: exact
    (OTAN, "les OTANs", []),  # acronyms take no endings
    # rule 8: case-sensitive, still accent-insensitive
    (POUTINE_CS, "Vladimir Poutine parle", ["Poutine"]),
    (POUTINE_CS, "une poutine au fromage", []),
    (POUTINE_CS, "POUTINE", []),
    ({"term": "Pékin", "case_sensitive": True}, "à Pekin, pas pekin", ["Pekin"]),
    ("Poutine", "une poutine au fromage", ["poutine"]),
    # invisible characters do not cut words
    (OTAN, "l’O\u00adTAN", ["O\u00adTAN"]),
    # a term of punctuation only can never be a whole word, and never matches everything
    ({"term": "OTAN", "aliases": ["--"]}, "-- rien --", []),
]


@pytest.mark.parametrize(("term", "text", "expected"), CASES)
def test_term_rules(term: Any, text: str, expected: list[str]) -> None:
    assert hit_texts(watchlist(term), content=text) == expected


def test_hit_offsets_are_into_the_original_text_and_name_the_canonical_term() -> None:
    text = "Pour l’Alliance Atlantique et l’Organisation du Traité de l’Atlantique-Nord, rien."
    [found] = compile_watchlists([watchlist(OTAN, name="otan")]).match(ItemText(summary=text))
    assert found.watchlist == "otan"
    assert found.hits == (
        Hit("otan", "OTAN", "summary", 7, 26, "Alliance Atlantique"),
        Hit("otan", "OTAN", "summary", 32, 75, "Organisation du Traité de l’Atlantique-Nord"),
    )
    for hit in found.hits:
        assert text[hit.start : hit.end] == hit.text


def test_hits_keep_their_offsets_among_other_scripts() -> None:
    """The automaton reads folded text as UTF-8 bytes: where the text holds more than ASCII
    (Cyrillic, Greek, Chinese, letters such as þ that fold to themselves), the offsets of its
    matches come back as characters. Random texts of those, with the watched names at known
    places."""
    fillers = ("Кремль", "заявил", "Ελλάδα", "北约", "🇺🇦", "défense", "Straße", "œuvre", "þú", "—")
    fillers += ("l’", "a", "", "  ", "\u00a0", "Ω", "𝔸", "ae\u0301rienne", "AT&T", "½", "\ud800")
    wordings = ("OTAN", "l’Otan", "ПЕСКОВ", "Песков", "zone d’exclusion", "ZONE  d’Exclusion")
    matcher = compile_watchlists([watchlist("OTAN", "Песков", "zone d'exclusion")])
    rng = random.Random(15)
    for _ in range(400):
        pieces, expected, length = [], [], 0
        for _ in range(rng.randint(1, 30)):
            piece = rng.choice(wordings) if rng.random() < 0.2 else rng.choice(fillers)
            if piece in wordings:
                hit = piece.removeprefix("l’")
                expected.append((length + len(piece) - len(hit), hit))
            pieces.append(piece)
            length += len(piece) + 1
        text = " ".join(pieces)
        matches = matcher.match(ItemText(content=text, language="fr"))
        found = [(hit.start, hit.text) for match in matches for hit in match.hits]
        assert found == expected, text
        assert all(text[hit.start : hit.end] == hit.text for match in matches for hit in match.hits)


def test_a_lone_surrogate_separates_words() -> None:
    """`&#xD800;` in a feed or `\\ud800` in JSON is no character: a word separator, where a
    text holding one could not be encoded for the automaton."""
    text = "l’OTAN\ud800OTAN\udfff zone"
    [found] = compile_watchlists([watchlist(OTAN)]).match(ItemText(content=text))
    assert [(hit.start, hit.text) for hit in found.hits] == [(2, "OTAN"), (7, "OTAN")]


def test_hit_span_covers_a_decomposed_accent() -> None:
    text = "défense ae\u0301rienne"
    [found] = compile_watchlists([watchlist("aérienne")]).match(ItemText(content=text))
    [hit] = found.hits
    assert (hit.start, hit.end, hit.text) == (8, 17, "ae\u0301rienne")


def test_hits_are_ordered_by_field_then_offset() -> None:
    item = ItemText(
        title="OTAN et zone d'exclusion aérienne",
        summary="Poutine, puis l’OTAN",
        content="NATO",
    )
    [found] = compile_watchlists([watchlist(OTAN, ZONE, POUTINE_CS)]).match(item)
    assert [(hit.field, hit.start, hit.term) for hit in found.hits] == [
        ("title", 0, "OTAN"),
        ("title", 8, ZONE),
        ("summary", 0, "Poutine"),
        ("summary", 16, "OTAN"),
        ("content", 0, "OTAN"),
    ]


def test_the_longest_spelling_wins_and_nested_hits_are_dropped() -> None:
    spec = watchlist(
        {"term": "Dmitri Peskov", "aliases": ["Peskov"]},
        "Vladimir Poutine",
        POUTINE_CS,
    )
    text = "Dmitri Peskov, porte-parole de Vladimir Poutine. Peskov a ajouté."
    assert hit_texts(spec, content=text) == ["Dmitri Peskov", "Vladimir Poutine", "Peskov"]


def test_many_terms_each_hit_names_its_own_term() -> None:
    spec = watchlist(*(f"mot{index}" for index in range(500)), {"term": "X", "aliases": ["mot7b"]})
    text = "le mot499, puis mot7 et mot7b, pas mot500"
    [found] = compile_watchlists([spec]).match(ItemText(content=text))
    assert [(hit.text, hit.term) for hit in found.hits] == [
        ("mot499", "mot499"),
        ("mot7", "mot7"),
        ("mot7b", "X"),
    ]


@pytest.mark.parametrize(
    ("item", "fires"),
    [
        (ItemText(content="L’OTAN et le football"), False),
        (ItemText(title="Football", content="L’OTAN"), False),  # outside `fields`, still vetoes
        (ItemText(content="L’OTAN et les FOOTBALLS"), False),
        (ItemText(content="L’OTAN et le foot"), True),
        (ItemText(content="L’OTAN et le footballeur"), True),
    ],
)
def test_exclude_vetoes_the_watchlist_from_any_field(item: ItemText, fires: bool) -> None:
    spec = watchlist(OTAN, exclude=["football"], fields=["content"])
    assert bool(compile_watchlists([spec]).match(item)) is fires


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (["title"], ["title"]),
        (["summary", "content"], ["summary", "content"]),
        (["content", "title"], ["title", "content"]),
    ],
)
def test_fields_restrict_where_the_watchlist_looks(fields: list[str], expected: list[str]) -> None:
    item = ItemText(title="OTAN", summary="l’OTAN", content="de l'Otan")
    matches = compile_watchlists([watchlist(OTAN, fields=fields)]).match(item)
    assert [hit.field for found in matches for hit in found.hits] == expected


def test_watchlists_come_out_ordered_by_name_and_only_when_they_fire() -> None:
    matcher = compile_watchlists(
        [
            watchlist("Ukraine", name="ukraine"),
            watchlist(OTAN, name="otan"),
            watchlist("Kyiv", name="kyiv"),
            watchlist(ZONE, name="aerien"),
        ]
    )
    item = ItemText(title="L’OTAN et l’Ukraine", content="une zone d’exclusion aérienne")
    assert [found.watchlist for found in matcher.match(item)] == ["aerien", "otan", "ukraine"]
    assert matcher.match(ItemText(title="rien")) == ()


@pytest.mark.skipif(not SEED.is_dir(), reason="shared corpus absent")
def test_seed_article_every_otan_and_zone_is_found() -> None:
    text = html_to_text((SEED / "otan-zone-exclusion-aerienne.txt").read_text(encoding="utf-8"))
    spec = watchlist(OTAN, ZONE, {"term": "Dmitri Peskov", "aliases": ["Dmitry Peskov"]})
    [found] = compile_watchlists([spec]).match(ItemText(content=text))
    texts = [hit.text for hit in found.hits]
    assert texts.count("OTAN") == len(re.findall(r"\bOTAN\b", text))
    assert texts.count("zone d’exclusion aérienne") == text.count("zone d’exclusion aérienne")
    assert "Organisation du Traité de l’Atlantique Nord" in texts
    assert {"Dmitri Peskov", "Dmitry Peskov"} <= set(texts)
    assert all(text[hit.start : hit.end] == hit.text for hit in found.hits)


# --- snippets -----------------------------------------------------------------------------------


def _hits(spec: WatchlistSpec, item: ItemText) -> list[Hit]:
    return [hit for found in compile_watchlists([spec]).match(item) for hit in found.hits]


def _highlighted(snippet: Snippet) -> list[str]:
    return [snippet.text[light.start : light.end] for light in snippet.highlights]


def test_snippet_quotes_the_body_sentence_of_the_first_hit() -> None:
    item = ItemText(
        title="L’OTAN exclut une zone d’exclusion aérienne",
        summary="Bruxelles, mercredi. Stoltenberg a dit que l’OTAN refuse une zone d’exclusion "
        "aérienne au-dessus de l’Ukraine. L’OTAN soutient Kyiv.",
    )
    snippet = snippet_for(item, _hits(watchlist(OTAN, ZONE), item))
    assert snippet.text == (
        "Stoltenberg a dit que l’OTAN refuse une zone d’exclusion aérienne au-dessus de l’Ukraine."
    )
    assert snippet.highlights == (Highlight(24, 28), Highlight(40, 65))
    assert _highlighted(snippet) == ["OTAN", "zone d’exclusion aérienne"]


def test_snippet_prefers_summary_then_content_then_title() -> None:
    spec = watchlist(OTAN)
    content_only = ItemText(title="L’OTAN", content="Texte. Puis l’Otan parle.")
    assert snippet_for(content_only, _hits(spec, content_only)).text == "Puis l’Otan parle."
    title_only = ItemText(title="Sommet de l’OTAN. Suite", content="Rien ici.")
    snippet = snippet_for(title_only, _hits(spec, title_only))
    assert (snippet.text, _highlighted(snippet)) == ("Sommet de l’OTAN.", ["OTAN"])


def test_snippet_of_a_long_sentence_is_cut_and_marked_with_ellipses() -> None:
    words = " ".join(f"mot{index}" for index in range(200))
    item = ItemText(content=f"Début. {words} puis l’OTAN arrive {words} fin. Autre.")
    snippet = snippet_for(item, _hits(watchlist(OTAN), item), max_chars=80)
    assert snippet.text.startswith("…")
    assert snippet.text.endswith("…")
    assert len(snippet.text) <= 82
    assert _highlighted(snippet) == ["OTAN"]


def test_snippet_merges_overlapping_hits_of_several_watchlists() -> None:
    item = ItemText(content="Avant. La zone d’exclusion aérienne est exclue. Après.")
    hits = _hits(watchlist(ZONE, name="a"), item) + _hits(watchlist("exclusion", name="b"), item)
    snippet = snippet_for(item, hits)
    assert snippet.text == "La zone d’exclusion aérienne est exclue."
    assert _highlighted(snippet) == ["zone d’exclusion aérienne"]


def test_snippet_without_hits_is_empty() -> None:
    assert snippet_for(ItemText(title="OTAN"), []) == Snippet(text="")


def test_phrase_forms_answer_like_the_word_by_word_walk() -> None:
    """A phrase of plain words is verified by looking up each word in its forms in aligned text
    (`phrase_forms`); it must answer exactly as the word-by-word walk, whatever stands
    between the words (docs/design.md §4 rules 3-4, 16). Seeded random texts."""
    import random

    from monitor.match.spelling import compile_spelling, phrase_forms, verify
    from monitor.text.wordfold import fold_words

    gaps = [" ", "  ", "'", "’", "-", " - ", ",", ", ", ".", "\n", "\n\n", "\r\n", "\xa0"]
    gaps += ["\u202f", "«", "«\xa0", "\t", "_", "µ", "(", "/", "\u2029", "\u2028", "\x85", "—"]
    gaps += ["…", "&", "–", "\u00ad"]
    words = ["zone", "zones", "d", "exclusion", "exclusions", "aerienne", "aériennes", "OTAN"]
    words += ["l", "de", "Zone", "ZONE", "zonez", "exclu", "aerien", "aériens", "des", "la"]
    phrases = ["zone d'exclusion aérienne", "sommet de l'OTAN", "zone d exclusion", "de l OTAN"]
    phrases += ["zones de la zone", "aérienne de zone", "la zone"]
    rng = random.Random(20261204)
    compared = 0
    for _ in range(3_000):
        tests = compile_spelling(rng.choice(phrases))
        phrase = phrase_forms(tests, "fr")
        if phrase is None:  # an acronym's case is checked in the source: the walk only
            continue
        text = rng.choice(["", "a ", "x, "])
        for _ in range(rng.randint(2, 7)):
            text += rng.choice(words) + rng.choice(gaps)
        fold = fold_words(text, without_links=True)
        position = 0
        for word in fold.text.split():
            start = fold.text.find(f" {word} ", position) + 1
            position = start
            token = (start, start + len(word))
            # The scanner hands `verify` an anchor word it has accepted.
            for anchor in (a for a, test in enumerate(tests) if test.accepts(word, "fr")):
                walked = verify(tests, anchor, fold, token, "fr")
                assert verify(tests, anchor, fold, token, "fr", phrase) == walked, (text, anchor)
                compared += 1
    assert compared > 3_000
