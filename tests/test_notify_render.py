"""Rendering alerts per channel kind: feed text is hostile, each format escapes it its own way,
highlights land on the matched words, and the other outlets of the story are listed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from monitor.model import AlertMessage, Highlight, Snippet
from monitor.notify import channel_kind, render

HOSTILE = (
    'A <script>alert(1)</script> & *bold* _it_ ~s~ `c` <https://evil.example|x> "q" <!channel>'
)
SENTENCE = f"Selon l’OTAN, {HOSTILE} fin."


def message(**changes: object) -> AlertMessage:
    start = SENTENCE.index("OTAN")
    fields: dict[str, object] = {
        "watchlist": "otan",
        "title": f"Titre {HOSTILE}",
        "url": "https://www.example.fr/a?id=1&x=2",
        "source": f"Source {HOSTILE}",
        "published": datetime(2026, 11, 25, 15, 3, tzinfo=timezone(timedelta(hours=1))),
        "terms": ("OTAN", "NATO"),
        "snippet": Snippet(SENTENCE, (Highlight(start, start + 4),)),
        "also_published_by": ("Agence <A>", "B & Co"),
    }
    fields.update(changes)
    return AlertMessage(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("mailto://user:pw@smtp.example.org", "email"),
        ("mailtos://smtp.example.org?to=a@example.org", "email"),
        ("MAILTO://smtp.example.org", "email"),
        ("slack://T1/B1/C1/#desk", "slack"),
        ("tgram://123:abc/456", "telegram"),
        ("console://", "console"),
        ("discord://id/token", "text"),
        ("json://localhost", "text"),
        ("not a url", "text"),
        ("", "text"),
    ],
)
def test_channel_kind_from_the_url_scheme(url: str, kind: str) -> None:
    assert channel_kind(url) == kind


ESCAPED_FEED_TEXT = {
    "email": "A &lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold* _it_ ~s~ `c` "
    "&lt;https://evil.example|x&gt; &quot;q&quot; &lt;!channel&gt;",
    "slack": "A &lt;script&gt;alert(1)&lt;/script&gt; &amp; ∗bold∗ ˍitˍ ∼s∼ ˋcˋ "
    '&lt;https://evil.example|x&gt; "q" &lt;!channel&gt;',
    "telegram": "A &lt;script&gt;alert(1)&lt;/script&gt; &amp; *bold* _it_ ~s~ `c` "
    "&lt;https://evil.example|x&gt; &quot;q&quot; &lt;!channel&gt;",
    "text": HOSTILE,
    "console": HOSTILE,
}


@pytest.mark.parametrize(
    ("kind", "body_format"),
    [
        ("email", "html"),
        ("slack", "markdown"),
        ("telegram", "html"),
        ("text", "text"),
        ("console", "text"),
    ],
)
def test_feed_text_is_escaped_for_each_format(kind: str, body_format: str) -> None:
    rendered = render(message(), kind)
    assert rendered.body_format == body_format
    escaped = ESCAPED_FEED_TEXT[kind]
    assert f"Source {escaped}" in rendered.body  # the source line
    assert f"Selon l’OTAN, {escaped} fin." in _without_marks(rendered.body)  # the quote
    if kind in ("email", "slack", "telegram"):
        for raw in ("<script>", "<https://evil.example|x>", "<!channel>"):
            assert raw not in rendered.body


def _without_marks(body: str) -> str:
    return re.sub(r"</?mark>|</?b>|\*+(?=OTAN)|(?<=OTAN)\*+", "", body)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]


@pytest.mark.parametrize(
    ("kind", "allowed_tags"),
    [("email", {"p", "b", "a", "mark", "blockquote"}), ("telegram", {"b", "a"})],
)
def test_html_formats_contain_only_our_tags(kind: str, allowed_tags: set[str]) -> None:
    parser = _Tags()
    parser.feed(render(message(), kind).body)
    assert parser.tags <= allowed_tags
    assert parser.hrefs
    assert all(href == "https://www.example.fr/a?id=1&x=2" for href in parser.hrefs)


def test_slack_contains_only_our_anchors_and_bold_marks() -> None:
    body = render(message(), "slack").body
    anchors = re.findall(r"<([^>]*)>", body)
    assert anchors
    assert all(
        re.fullmatch(r"https://www\.example\.fr/a\?id=1&amp;x=2(\|[^|<>]*)?", a) for a in anchors
    )
    # Two for the bold heading, two for the highlighted word; none from the feed.
    assert body.count("*") == 4
    assert not any(mark in body for mark in "_~`")


@pytest.mark.parametrize(
    ("kind", "quoted"),
    [
        (
            "email",
            "<blockquote>Le sommet de l’<mark>OTAN</mark> à <mark>Vilnius</mark>.</blockquote>",
        ),
        ("slack", "> Le sommet de l’*OTAN* à *Vilnius*."),
        ("telegram", "“Le sommet de l’<b>OTAN</b> à <b>Vilnius</b>.”"),
        ("text", "“Le sommet de l’**OTAN** à **Vilnius**.”"),
    ],
)
def test_highlights_wrap_the_matched_words(kind: str, quoted: str) -> None:
    text = "Le sommet de l’OTAN à Vilnius."
    spans = (Highlight(15, 19), Highlight(22, 29))
    body = render(message(snippet=Snippet(text, spans)), kind).body
    assert quoted in body.splitlines()


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        ((Highlight(0, 4), Highlight(2, 8)), "**abc de f**gh"),  # overlapping: merged
        ((Highlight(9, 4),), "abc de fgh"),  # reversed: ignored
        ((Highlight(-3, 3), Highlight(8, 99)), "**abc** de f**gh**"),  # out of range: clipped
        ((Highlight(7, 8), Highlight(0, 1)), "**a**bc de **f**gh"),  # unsorted
        ((), "abc de fgh"),
    ],
)
def test_stray_highlights_are_merged_or_clipped(
    spans: tuple[Highlight, ...], expected: str
) -> None:
    body = render(message(snippet=Snippet("abc de fgh", spans)), "text").body
    assert f"“{expected}”" in body.splitlines()


@pytest.mark.parametrize(
    ("kind", "line"),
    [
        ("email", "<p>Also published by: Agence &lt;A&gt;, B &amp; Co</p>"),
        ("slack", "Also published by: Agence &lt;A&gt;, B &amp; Co"),
        ("telegram", "Also published by: Agence &lt;A&gt;, B &amp; Co"),
        ("text", "Also published by: Agence <A>, B & Co"),
    ],
)
def test_other_outlets_are_listed(kind: str, line: str) -> None:
    assert line in render(message(), kind).body.splitlines()
    assert "Also published by" not in render(message(also_published_by=()), kind).body


def test_a_long_list_of_outlets_says_how_many_more() -> None:
    outlets = tuple(f"Outlet {n}" for n in range(1, 41))
    body = render(message(also_published_by=outlets), "text").body
    assert "Outlet 15 and 25 more" in body
    assert "Outlet 16" not in body


@pytest.mark.parametrize(
    ("published", "line"),
    [
        (
            datetime(2026, 11, 25, 15, 3, tzinfo=timezone(timedelta(hours=1))),
            "Source: S · 2026-11-25 14:03 UTC",
        ),
        (datetime(2026, 11, 25, 14, 3, tzinfo=UTC), "Source: S · 2026-11-25 14:03 UTC"),
        (datetime(2026, 11, 25, 14, 3), "Source: S · 2026-11-25 14:03 UTC"),  # naive: read as UTC
        (None, "Source: S"),
    ],
)
def test_published_time_is_shown_in_utc_or_omitted(published: datetime | None, line: str) -> None:
    body = render(message(source="S", published=published), "text").body
    assert line in body.splitlines()


@pytest.mark.parametrize("kind", ["email", "slack", "telegram"])
@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "/relative"])
def test_only_http_links_become_links(kind: str, url: str) -> None:
    body = render(message(url=url), kind).body
    assert "href" not in body
    assert "<http" not in body
    assert "Link: " in body


@pytest.mark.parametrize(
    ("kind", "title", "first_line"),
    [
        ("email", f"[otan] Titre {HOSTILE}", None),
        ("text", f"[otan] Titre {HOSTILE}", f"Titre {HOSTILE}"),
        ("slack", "", "*[otan] <https://www.example.fr/a?id=1&amp;x=2|Titre A &lt;script&gt;"),
        ("telegram", "", '<b>[otan] <a href="https://www.example.fr/a?id=1&amp;x=2">Titre A &lt;'),
    ],
)
def test_the_heading_is_the_title_or_leads_the_body(
    kind: str, title: str, first_line: str | None
) -> None:
    rendered = render(message(), kind)
    assert rendered.title == title
    if first_line is not None:
        assert rendered.body.splitlines()[0].startswith(first_line)


def test_slack_link_text_cannot_close_the_anchor() -> None:
    body = render(message(title="a|b>c"), "slack").body
    assert body.splitlines()[0] == "*[otan] <https://www.example.fr/a?id=1&amp;x=2|ab&gt;c>*"


def test_link_quotes_and_brackets_are_percent_encoded() -> None:
    url = 'https://example.org/p?q="x"<y>|z w'
    for kind in ("email", "telegram", "slack"):
        assert (
            "https://example.org/p?q=%22x%22%3Cy%3E%7Cz%20w" in render(message(url=url), kind).body
        )


@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_line_breaks_and_control_characters_in_feed_text_add_no_lines(kind: str) -> None:
    sneaky = "Titre\n> <!channel>\r\nFaux\u2028ligne\x1b[2J\x00"
    plain = render(message(), kind).body
    body = render(message(title=sneaky, source=sneaky, also_published_by=(sneaky,)), kind).body
    assert len(body.splitlines()) == len(plain.splitlines())
    assert "\x1b" not in body
    assert "\x00" not in body
    quote_lines = [line for line in body.splitlines() if line.startswith(">")]
    assert len(quote_lines) == (1 if kind == "slack" else 0)


def test_a_message_without_title_snippet_or_terms_still_renders() -> None:
    bare = message(
        title="  ",
        url=None,
        source="",
        published=None,
        terms=(),
        snippet=None,
        also_published_by=(),
    )
    assert render(bare, "text").body == "(untitled)"
    assert render(bare, "email").title == "[otan] (untitled)"
    assert render(bare, "slack").body == "*[otan] (untitled)*"
    assert render(bare, "telegram").body == "<b>[otan] (untitled)</b>"


@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_an_empty_sentence_is_not_quoted(kind: str) -> None:
    with_empty = render(message(snippet=Snippet("  ", ())), kind).body
    assert with_empty == render(message(snippet=None), kind).body
    assert "blockquote" not in with_empty
    assert "“" not in with_empty


def test_unknown_kinds_get_plain_text() -> None:
    assert render(message(), "discord") == render(message(), "text")
