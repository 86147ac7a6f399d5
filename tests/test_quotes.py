"""The sentences an alert quotes (every one holding a hit, in text order, at most three), how
the alert row stores them, how older rows with one snippet are still read, and how the alert
rows of one story become one message."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from monitor.match import quotes_for, snippet_for
from monitor.model import (
    Highlight,
    Hit,
    ItemText,
    Outlet,
    PreparedItem,
    Snippet,
    StoryMessage,
    WatchlistMatch,
)
from monitor.notify import render
from monitor.pipeline.payload import alert_payload, payload_quotes, story_message
from monitor.pipeline.sample_alert import sample_alert
from tests.render_messages import PARIS


def hits_of(item: ItemText, *words: str, watchlist: str = "otan") -> list[Hit]:
    """A hit for every occurrence of each word, in every field."""
    found = []
    for field in ("title", "summary", "content"):
        text = item.field_text(field)
        for word in words:
            for match in re.finditer(re.escape(word), text):
                found.append(Hit(watchlist, word, field, match.start(), match.end(), word))
    return found


def highlighted(quote: Snippet) -> list[str]:
    return [quote.text[span.start : span.end] for span in quote.highlights]


def test_every_sentence_holding_a_hit_is_quoted_in_text_order() -> None:
    item = ItemText(
        title="L’OTAN à Vilnius",
        summary="Le sommet s’ouvre. L’OTAN promet. Rien ici. Vilnius accueille l’OTAN.",
    )
    quotes = quotes_for(item, hits_of(item, "OTAN", "Vilnius"))
    assert [quote.text for quote in quotes] == ["L’OTAN promet.", "Vilnius accueille l’OTAN."]
    assert highlighted(quotes[1]) == ["Vilnius", "OTAN"]  # both hits of the sentence


def test_a_sentence_wrapped_over_lines_is_one_quote_on_one_line() -> None:
    item = ItemText(
        content="Titre sans point\r\n\r\nL’OTAN refuse\r\nune zone d’exclusion. Rien ici."
    )
    (quote,) = quotes_for(item, hits_of(item, "OTAN", "zone"))
    assert quote.text == "L’OTAN refuse  une zone d’exclusion."  # one space per line break
    assert highlighted(quote) == ["OTAN", "zone"]


def test_at_most_three_sentences_are_quoted() -> None:
    item = ItemText(content=" ".join(f"Phrase {n} sur l’OTAN." for n in range(1, 7)))
    quotes = quotes_for(item, hits_of(item, "OTAN"))
    assert [quote.text for quote in quotes] == [f"Phrase {n} sur l’OTAN." for n in (1, 2, 3)]
    assert len(quotes_for(item, hits_of(item, "OTAN"), limit=5)) == 5


def test_the_summary_then_the_content_and_a_sentence_both_hold_is_quoted_once() -> None:
    item = ItemText(
        title="OTAN",
        summary="L’OTAN se réunit.",
        content="L’OTAN se réunit. Puis l’OTAN vote.",
    )
    quotes = quotes_for(item, hits_of(item, "OTAN"))
    assert [quote.text for quote in quotes] == ["L’OTAN se réunit.", "Puis l’OTAN vote."]


def test_the_title_is_quoted_only_when_the_body_holds_no_hit() -> None:
    item = ItemText(title="Sommet de l’OTAN. Suite", summary="Rien ici.")
    quotes = quotes_for(item, hits_of(item, "OTAN"))
    assert [(quote.text, highlighted(quote)) for quote in quotes] == [
        ("Sommet de l’OTAN.", ["OTAN"])
    ]


def test_a_long_sentence_is_one_quote_cut_around_its_first_hit() -> None:
    words = " ".join(f"mot{n}" for n in range(200))
    item = ItemText(content=f"Début. {words} l’OTAN {words} et l’OTAN encore {words}. Fin.")
    quotes = quotes_for(item, hits_of(item, "OTAN"), max_chars=80)
    assert len(quotes) == 1
    assert quotes[0].text.startswith("…") and quotes[0].text.endswith("…")
    assert highlighted(quotes[0]) == ["OTAN"]


def test_no_usable_hit_no_quote() -> None:
    item = ItemText(title="OTAN")
    stray = Hit("otan", "OTAN", "summary", 5, 9, "OTAN")  # outside the (empty) summary
    assert quotes_for(item, [stray]) == ()
    assert snippet_for(item, [stray]) == Snippet(text="")


def _prepared(text: ItemText) -> PreparedItem:
    return PreparedItem(
        key="k",
        url="https://news.example/1",
        text=text,
        published=datetime(2026, 12, 4, 8, 15, tzinfo=UTC),
        content_hash="h",
    )


def test_the_alert_payload_stores_the_quotes_and_reads_them_back() -> None:
    text = ItemText(title="Sommet", summary="L’OTAN promet. Rien. Vilnius accueille l’OTAN.")
    match = WatchlistMatch("otan", tuple(hits_of(text, "OTAN", "Vilnius")))
    payload = alert_payload(_prepared(text), match, "Le Monde")
    assert payload["quotes"] == [
        {"text": "L’OTAN promet.", "highlights": [[2, 6]]},
        {"text": "Vilnius accueille l’OTAN.", "highlights": [[0, 7], [20, 24]]},
    ]
    assert "snippet" not in payload
    assert payload_quotes(payload) == quotes_for(text, match.hits)


@pytest.mark.parametrize(
    ("payload", "quotes"),
    [
        (
            {"snippet": {"text": "L’OTAN promet.", "highlights": [[2, 6]]}},
            (Snippet("L’OTAN promet.", (Highlight(2, 6),)),),
        ),
        ({"snippet": {"text": "", "highlights": []}}, ()),
        ({"snippet": None}, ()),
        ({}, ()),
        (
            {"quotes": [{"text": "x", "highlights": [[0, 1], "bad", [1]]}]},
            (Snippet("x", (Highlight(0, 1),)),),
        ),
    ],
    ids=["old-row", "old-row-empty", "no-snippet", "nothing", "stray-highlights"],
)
def test_older_rows_with_one_snippet_are_read(
    payload: dict[str, object], quotes: tuple[Snippet, ...]
) -> None:
    assert payload_quotes(payload) == quotes


def test_the_alert_rows_of_one_story_become_one_message_naming_every_watchlist() -> None:
    first = {
        "title": "Sommet",
        "url": "https://news.example/1",
        "source": "Le Monde",
        "published": "2026-12-04T08:15:00+00:00",
        "terms": ["OTAN"],
        "quotes": [{"text": "L’OTAN promet.", "highlights": [[2, 6]]}],
    }
    second = {
        "title": "Autre titre",
        "terms": ["Vilnius", "OTAN"],
        "quotes": [
            {"text": "L’OTAN promet.", "highlights": [[0, 1]]},
            {"text": "Vilnius accueille.", "highlights": [[0, 7]]},
            {"text": "Trois.", "highlights": []},
            {"text": "Quatre.", "highlights": []},
        ],
    }
    old_row = {
        "title": "Vieux",
        "terms": ["défense"],
        "snippet": {"text": "Cinq.", "highlights": []},
    }
    seen = datetime(2026, 12, 4, 8, 16, tzinfo=UTC)
    message = story_message(
        (42, 43, 44),
        ("otan", "vilnius", "défense"),
        (first, second, old_row),
        (Outlet("AFP"),),
        seen,
    )
    assert message == StoryMessage(
        alert_ids=(42, 43, 44),
        watchlists=("otan", "vilnius", "défense"),
        title="Sommet",
        url="https://news.example/1",
        source="Le Monde",
        published=datetime(2026, 12, 4, 8, 15, tzinfo=UTC),
        terms=("OTAN", "Vilnius", "défense"),
        quotes=(
            Snippet("L’OTAN promet.", (Highlight(0, 1), Highlight(2, 6))),  # the hits of both
            Snippet("Vilnius accueille.", (Highlight(0, 7),)),
            Snippet("Trois."),
        ),
        outlets=(Outlet("AFP"),),
        first_seen=seen,
    )
    with pytest.raises(ValueError, match="at least one"):
        story_message((), (), ())


def test_the_sample_alert_shows_two_quotes_and_two_outlets() -> None:
    message = sample_alert(datetime(2026, 12, 4, 8, 15, tzinfo=UTC))
    assert len(message.quotes) == 2 and len(message.outlets) == 2
    text_body = render(message, "email", PARIS).text_body
    assert text_body is not None
    assert text_body.count("\n\n> ") == 2  # each quote a paragraph of "> " lines
    assert "*OTAN*" in text_body and "*terme surveillé*" in text_body
    assert "Also published by (2):" in text_body
    assert "monitor test-alert · 4 Dec 2026, 09:15 CET" in text_body
