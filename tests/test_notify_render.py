"""Rendering per channel kind: feed text is hostile in every field (titles, sources, quotes,
outlet names and links, watchlist names, notices), each format escapes it its own way,
highlights land on the matched words, times are in the configured zone. Stories here; digests,
operations and the length bounds in test_notify_render_digest.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from monitor.model import Highlight, Message, Outlet, Snippet
from monitor.notify import channel_kind, render
from tests.render_messages import (
    ESCAPED,
    HOSTILE,
    PARIS,
    RAW_MARKUP,
    URL,
    digest,
    notice,
    ops,
    otan_quote,
    story,
)

KINDS = ["email", "slack", "telegram", "text", "console"]
MARKUP_KINDS = ["email", "slack", "telegram"]


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
def test_feed_text_is_escaped_in_every_field_of_a_story(kind: str, body_format: str) -> None:
    hostile_everywhere = story(
        watchlists=(f"liste {HOSTILE}",),
        outlets=(Outlet(f"Outlet {HOSTILE}", "https://o.example/"),),
    )
    rendered = render(hostile_everywhere, kind, PARIS)
    assert rendered.body_format == body_format
    escaped = ESCAPED[kind]
    # A Slack anchor's text loses its "|", which would end the URL part early.
    in_anchor = escaped.replace("|", "") if kind == "slack" else escaped
    body = rendered.body
    assert f"Titre {in_anchor}" in body
    assert f"Source {escaped}" in body
    assert f"liste {escaped}" in body
    assert f"Outlet {in_anchor}" in body
    assert f"Selon l’OTAN, {escaped} fin." in _without_marks(body)
    if kind in MARKUP_KINDS:
        assert not any(raw in body for raw in RAW_MARKUP)


@pytest.mark.parametrize("kind", MARKUP_KINDS)
@pytest.mark.parametrize(
    "message",
    [digest(), ops()],
    ids=["digest", "ops"],
)
def test_feed_text_is_escaped_in_digests_and_notices(kind: str, message: Message) -> None:
    body = render(message, kind, PARIS).body
    assert ESCAPED[kind] in body
    assert not any(raw in body for raw in RAW_MARKUP)


def _without_marks(body: str) -> str:
    return re.sub(r"<mark[^>]*>|</mark>|</?b>|\*+(?=OTAN)|(?<=OTAN)\*+", "", body)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.hrefs: list[str] = []
        self.open: list[str] = []
        self.balanced = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [value or "" for name, value in attrs if name == "href"]
        if tag not in ("meta", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.balanced = False


def parsed(body: str) -> _Tags:
    parser = _Tags()
    parser.feed(body)
    parser.close()
    return parser


EMAIL_TAGS = {
    "html", "head", "meta", "title", "body", "div", "h1", "h2", "p", "b", "a", "mark",
    "blockquote", "br", "span", "code",
}  # fmt: skip
TELEGRAM_TAGS = {"b", "a", "i", "code"}
ALLOWED_LINKS = {URL, "https://agence.example/copie?a=1&b=2", "https://news.example/1",
                 "https://news.example/2"}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "allowed_tags"), [("email", EMAIL_TAGS), ("telegram", TELEGRAM_TAGS)]
)
@pytest.mark.parametrize("message", [story(), digest(), ops()], ids=["story", "digest", "ops"])
def test_html_formats_contain_only_our_tags_balanced(
    kind: str, allowed_tags: set[str], message: Message
) -> None:
    tags = parsed(render(message, kind, PARIS).body)
    assert tags.tags <= allowed_tags
    assert tags.balanced and not tags.open
    assert tags.hrefs
    assert set(tags.hrefs) <= ALLOWED_LINKS


@pytest.mark.parametrize("message", [story(), digest(), ops()], ids=["story", "digest", "ops"])
def test_slack_contains_only_our_anchors(message: Message) -> None:
    body = render(message, "slack", PARIS).body
    anchors = re.findall(r"<([^>]*)>", body)
    assert anchors
    links = {link.replace("&", "&amp;") for link in ALLOWED_LINKS}
    assert all(anchor.split("|")[0] in links for anchor in anchors), anchors
    assert not any(mark in body for mark in "~`")


def test_slack_bold_marks_are_ours_only() -> None:
    body = render(story(outlets=()), "slack", PARIS).body
    # Two for the bold heading, two for the highlighted word; none from the feed.
    assert body.count("*") == 4


@pytest.mark.parametrize(
    ("kind", "quoted"),
    [
        (
            "email",
            '<blockquote style="margin:10px 0;padding:2px 0 2px 12px;border-left:3px solid '
            '#c6c9ce">Le sommet de l’<mark style="background:#fff0a0">OTAN</mark> à '
            '<mark style="background:#fff0a0">Vilnius</mark>.</blockquote>',
        ),
        ("slack", "> Le sommet de l’*OTAN* à *Vilnius*."),
        ("telegram", "“Le sommet de l’<b>OTAN</b> à <b>Vilnius</b>.”"),
        ("text", "“Le sommet de l’**OTAN** à **Vilnius**.”"),
    ],
)
def test_highlights_wrap_the_matched_words(kind: str, quoted: str) -> None:
    text = "Le sommet de l’OTAN à Vilnius."
    spans = (Highlight(15, 19), Highlight(22, 29))
    body = render(story(quotes=(Snippet(text, spans),)), kind, PARIS).body
    assert quoted in body.splitlines()


def test_the_email_text_part_marks_hits_with_asterisks() -> None:
    text = "Le sommet de l’OTAN à Vilnius."
    rendered = render(story(quotes=(Snippet(text, (Highlight(15, 19),)),)), "email", PARIS)
    assert rendered.text_body is not None
    assert "> Le sommet de l’*OTAN* à Vilnius." in rendered.text_body.splitlines()


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
    body = render(story(quotes=(Snippet("abc de fgh", spans),)), "text", PARIS).body
    assert f"“{expected}”" in body.splitlines()


@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_every_quote_is_shown_in_order_at_most_three(kind: str) -> None:
    quotes = tuple(otan_quote(f"Phrase {n} sur l’OTAN.") for n in range(1, 5))
    rendered = render(story(quotes=quotes), kind, PARIS)
    for body in filter(None, (rendered.body, rendered.text_body)):
        positions = [body.find(f"Phrase {n} ") for n in (1, 2, 3)]
        assert -1 not in positions and positions == sorted(positions)
        assert "Phrase 4" not in body


@pytest.mark.parametrize(
    ("kind", "line"),
    [
        (
            "email",
            '<p style="margin:0 0 4px;color:#5f6368">Also published by (2): '
            '<a href="https://agence.example/copie?a=1&amp;b=2">Agence &lt;A&gt;</a>, '
            "B &amp; Co</p>",
        ),
        (
            "slack",
            "Also published by (2): <https://agence.example/copie?a=1&amp;b=2|Agence &lt;A&gt;>, "
            "B &amp; Co",
        ),
        (
            "telegram",
            'Also published by (2): <a href="https://agence.example/copie?a=1&amp;b=2">'
            "Agence &lt;A&gt;</a>, B &amp; Co",
        ),
        ("text", "Also published by (2): Agence <A>, B & Co"),
    ],
)
def test_other_outlets_are_listed_with_their_links_and_count(kind: str, line: str) -> None:
    assert line in render(story(), kind, PARIS).body.splitlines()
    assert "Also published by" not in render(story(outlets=()), kind, PARIS).body


def test_the_email_text_part_lists_outlets_with_their_links() -> None:
    text_body = render(story(), "email", PARIS).text_body
    assert text_body is not None
    assert (
        "Also published by (2):\n- Agence <A>\n  https://agence.example/copie?a=1&b=2\n- B & Co"
        in text_body
    )


@pytest.mark.parametrize("kind", ["text", "email"])
def test_a_long_list_of_outlets_says_how_many_more(kind: str) -> None:
    outlets = tuple(Outlet(f"Outlet {n}", f"https://o{n}.example/") for n in range(1, 41))
    rendered = render(story(outlets=outlets), kind, PARIS)
    body = rendered.text_body if kind == "email" else rendered.body
    assert body is not None
    assert "Also published by (40)" in body
    assert "Outlet 15" in body
    assert "Outlet 16" not in body
    assert ("- and 25 more" if kind == "email" else "Outlet 15 and 25 more") in body


@pytest.mark.parametrize(
    ("alert_ids", "footer"), [((42,), "Alert 42"), ((42, 43), "Alerts 42, 43"), ((), None)]
)
@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_the_alert_ids_are_in_the_footer(
    kind: str, alert_ids: tuple[int, ...], footer: str | None
) -> None:
    rendered = render(story(alert_ids=alert_ids), kind, PARIS)
    last_line = rendered.body.rstrip().splitlines()[-1 if kind != "email" else -4]
    if footer is None:
        assert "Alert" not in rendered.body
    else:
        assert footer in last_line
        assert rendered.text_body is None or rendered.text_body.endswith(
            f"\n-- \n{footer}, sent by monitor\n"
        )


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("email", "Watchlists: otan, défense"),
        ("text", "Watchlists: otan, défense"),
        ("slack", "*[otan, défense] <https://www.example.fr/a?id=1&amp;x=2|Titre"),
        ("telegram", '<b>[otan, défense] <a href="https://www.example.fr/a?id=1&amp;x=2">Titre'),
    ],
)
def test_every_watchlist_of_the_story_is_named(kind: str, expected: str) -> None:
    rendered = render(story(watchlists=("otan", "défense")), kind, PARIS)
    assert expected in rendered.body
    if kind in ("email", "text"):
        assert rendered.title.startswith("[otan, défense] Titre A <script>")
    else:
        assert rendered.title == ""


SAO_PAULO = ZoneInfo("America/Sao_Paulo")


@pytest.mark.parametrize(
    ("published", "zone", "shown"),
    [
        (datetime(2026, 12, 4, 8, 15, tzinfo=UTC), PARIS, "4 Dec 2026, 09:15 CET"),
        (datetime(2026, 7, 4, 8, 15, tzinfo=UTC), PARIS, "4 Jul 2026, 10:15 CEST"),
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), PARIS, "29 Mar 2026, 01:59 CET"),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), PARIS, "29 Mar 2026, 03:00 CEST"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), PARIS, "1 Jan 2027, 00:30 CET"),
        (datetime(2026, 12, 4, 8, 15), PARIS, "4 Dec 2026, 09:15 CET"),  # naive: read as UTC
        (
            datetime(2026, 12, 4, 9, 15, tzinfo=timezone(timedelta(hours=1))),
            UTC,
            "4 Dec 2026, 08:15 UTC",
        ),
        (datetime(2026, 12, 4, 8, 15, tzinfo=UTC), SAO_PAULO, "4 Dec 2026, 05:15 UTC-03"),
        (
            datetime(2026, 12, 4, 8, 15, tzinfo=UTC),
            timezone(timedelta(hours=5, minutes=30)),
            "4 Dec 2026, 13:45 UTC+05:30",
        ),
    ],
)
@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_the_time_is_shown_in_the_zone_with_its_abbreviation(
    kind: str, published: datetime, zone: ZoneInfo, shown: str
) -> None:
    rendered = render(story(source="Le Monde", published=published), kind, zone)
    assert f"Le Monde · {shown}" in rendered.body
    assert rendered.text_body is None or f"Le Monde · {shown}" in rendered.text_body


def test_without_a_published_time_the_time_it_was_found_is_shown() -> None:
    body = render(story(source="S", published=None), "text", PARIS).body
    assert "S · found 4 Dec 2026, 09:17 CET" in body.splitlines()
    bare = render(story(source="S", published=None, first_seen=None), "text", PARIS).body
    assert "S" in bare.splitlines()


@pytest.mark.parametrize("kind", MARKUP_KINDS)
@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,<b>x</b>", "/relative"])
def test_only_http_links_become_links(kind: str, url: str) -> None:
    message = story(url=url, outlets=(Outlet("O", url),))
    body = render(message, kind, PARIS).body
    assert "href" not in body
    assert "<http" not in body
    assert "Link: " in body
    assert "javascript:" not in body.replace("Link: javascript:", "")


HOSTILE_URL = 'https://example.org/p?q="x"<y>|z w'
ENCODED_URL = "https://example.org/p?q=%22x%22%3Cy%3E%7Cz%20w"


@pytest.mark.parametrize(
    ("message", "kinds"),
    [
        (story(url=HOSTILE_URL, outlets=()), ["email", "slack", "telegram", "text"]),
        # The text format names the other outlets without their links.
        (story(outlets=(Outlet("O", HOSTILE_URL),)), ["email", "slack", "telegram"]),
        (digest((story(url=HOSTILE_URL),)), ["email", "slack", "telegram", "text"]),
        (ops(notice(1, url=HOSTILE_URL)), ["email", "slack", "telegram", "text"]),
    ],
    ids=["story", "outlet", "digest", "ops"],
)
def test_link_quotes_and_brackets_are_percent_encoded(message: Message, kinds: list[str]) -> None:
    for kind in kinds:
        rendered = render(message, kind, PARIS)
        for body in filter(None, (rendered.body, rendered.text_body)):
            assert ENCODED_URL in body
            assert HOSTILE_URL not in body


@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_line_breaks_and_control_characters_in_feed_text_add_no_lines(kind: str) -> None:
    sneaky = "Titre\n> <!channel>\r\nFaux\u2028ligne\x1b[2J\x00"
    plain = render(story(), kind, PARIS)
    rendered = render(
        story(
            title=sneaky,
            source=sneaky,
            watchlists=(sneaky,),
            outlets=(Outlet(sneaky, URL),),
            quotes=(Snippet(sneaky),),
        ),
        kind,
        PARIS,
    )
    for body in filter(None, (rendered.body, rendered.text_body)):
        assert "\x1b" not in body and "\x00" not in body
    assert len(rendered.body.splitlines()) == len(plain.body.splitlines())
    quote_lines = [line for line in rendered.body.splitlines() if line.startswith(">")]
    assert len(quote_lines) == (1 if kind == "slack" else 0)
    assert "\n" not in rendered.title and "\r" not in rendered.title


def test_a_story_without_title_quotes_terms_or_ids_still_renders() -> None:
    bare = story(
        alert_ids=(),
        watchlists=("otan",),
        title="  ",
        url=None,
        source="",
        published=None,
        first_seen=None,
        terms=(),
        quotes=(),
        outlets=(),
    )
    assert render(bare, "text", PARIS).body == "(untitled)\nWatchlist: otan"
    assert render(bare, "email", PARIS).title == "[otan] (untitled)"
    assert render(bare, "slack", PARIS).body == "*[otan] (untitled)*"
    assert render(bare, "telegram", PARIS).body == "<b>[otan] (untitled)</b>"


@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_an_empty_sentence_is_not_quoted(kind: str) -> None:
    with_empty = render(story(quotes=(Snippet("  ", ()),)), kind, PARIS).body
    assert with_empty == render(story(quotes=()), kind, PARIS).body
    assert "blockquote" not in with_empty
    assert "“" not in with_empty


@pytest.mark.parametrize("message", [story(), digest(), ops()], ids=["story", "digest", "ops"])
def test_unknown_kinds_and_the_console_get_plain_text(message: Message) -> None:
    text = render(message, "text", PARIS)
    assert render(message, "discord", PARIS) == text
    assert render(message, "console", PARIS) == text
    assert text.text_body is None


@pytest.mark.parametrize(
    ("kind", "title", "first_line"),
    [
        ("email", f"[otan] Titre {HOSTILE}"[:91] + "…", None),  # cut on a word boundary
        ("text", f"[otan] Titre {HOSTILE}", f"Titre {HOSTILE}"),
        ("slack", "", "*[otan] <https://www.example.fr/a?id=1&amp;x=2|Titre A &lt;script&gt;"),
        ("telegram", "", '<b>[otan] <a href="https://www.example.fr/a?id=1&amp;x=2">Titre A &lt;'),
    ],
)
def test_the_heading_is_the_title_or_leads_the_body(
    kind: str, title: str, first_line: str | None
) -> None:
    rendered = render(story(), kind, PARIS)
    assert rendered.title == title
    if first_line is not None:
        assert rendered.body.splitlines()[0].startswith(first_line)


def test_slack_link_text_cannot_close_the_anchor() -> None:
    body = render(story(title="a|b>c"), "slack", PARIS).body
    assert body.splitlines()[0] == "*[otan] <https://www.example.fr/a?id=1&amp;x=2|ab&gt;c>*"


def test_a_digest_line_and_a_notice_are_escaped_in_the_text_part_too() -> None:
    # text/plain is not interpreted, so the feed's text is kept as it is, on one line.
    for message in (digest(), ops(notice(1))):
        text_body = render(message, "email", PARIS).text_body
        assert text_body is not None
        assert "<script>alert(1)</script>" in text_body
        assert all(line == line.strip("\r") for line in text_body.split("\n"))


@pytest.mark.parametrize("kind", ["email", "slack", "telegram", "text"])
def test_many_matched_terms_are_capped(kind: str) -> None:
    rendered = render(story(terms=tuple(f"terme{n}" for n in range(1, 21))), kind, PARIS)
    for body in filter(None, (rendered.body, rendered.text_body)):
        assert "terme12 and 8 more" in body
        assert "terme13" not in body
