import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from monitor.feeds.parse import MAX_ENTRIES, parse_feed
from monitor.model import ParsedFeed
from monitor.pipeline.prepare import prepare_entry

BASE = "https://news.example.org/feeds/world.xml"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
  <title>Le Monde &amp; Co</title>
  <link>https://news.example.org/</link>
  <item>
    <title>OTAN : sommet &amp; d\xc3\xa9cisions</title>
    <link>https://News.Example.org/2024/otan.html?utm_source=rss&amp;id=7#top</link>
    <guid isPermaLink="false">urn:uuid:otan-7</guid>
    <description>&lt;p&gt;R\xc3\xa9sum\xc3\xa9&lt;/p&gt;</description>
    <content:encoded><![CDATA[<p>Le texte <b>complet</b>.</p>]]></content:encoded>
    <pubDate>Tue, 02 Jul 2024 09:30:00 +0200</pubDate>
  </item>
  <item>
    <title>Second</title>
    <link>https://news.example.org/2024/second.html</link>
    <description>Short</description>
  </item>
</channel>
</rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example.net/">
  <title>Atom blog</title>
  <id>tag:blog.example.net,2024:feed</id>
  <updated>2024-07-02T10:00:00Z</updated>
  <entry>
    <title>Entry one</title>
    <id>tag:blog.example.net,2024:1</id>
    <link rel="alternate" href="posts/1?fbclid=xyz"/>
    <updated>2024-07-01T08:15:00-04:00</updated>
    <summary>Summary one</summary>
    <content type="html">&lt;p&gt;Full one&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Entry two</title>
    <id>tag:blog.example.net,2024:2</id>
    <link href="https://blog.example.net/posts/2"/>
    <updated>2024-07-02T10:00:00Z</updated>
    <content type="html">&lt;p&gt;Only content&lt;/p&gt;</content>
  </entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://rdf.example.com/">
    <title>RDF site</title>
    <link>https://rdf.example.com/</link>
    <description>d</description>
  </channel>
  <item rdf:about="https://rdf.example.com/a">
    <title>RDF item</title>
    <link>https://rdf.example.com/a</link>
    <description>RDF summary</description>
    <dc:date>2024-07-02T12:00:00+00:00</dc:date>
  </item>
</rdf:RDF>"""


def rss(items: str, channel_title: str = "T") -> bytes:
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{channel_title}</title>'
        f"{items}</channel></rss>"
    ).encode()


def hash_key(title: str, summary: str, content: str = "") -> str:
    return "hash:" + hashlib.sha256("\x1f".join((title, summary, content)).encode()).hexdigest()


@pytest.mark.parametrize(
    ("name", "document", "content_type", "feed_title", "expected"),
    [
        (
            "rss 2.0",
            RSS,
            "application/rss+xml",
            "Le Monde & Co",
            [
                ("urn:uuid:otan-7", "https://news.example.org/2024/otan.html?id=7"),
                (
                    "link:https://news.example.org/2024/second.html",
                    "https://news.example.org/2024/second.html",
                ),
            ],
        ),
        (
            "atom with xml:base",
            ATOM,
            "application/atom+xml",
            "Atom blog",
            [
                ("tag:blog.example.net,2024:1", "https://blog.example.net/posts/1"),
                ("tag:blog.example.net,2024:2", "https://blog.example.net/posts/2"),
            ],
        ),
        (
            "rdf",
            RDF,
            "application/rdf+xml",
            "RDF site",
            [("https://rdf.example.com/a", "https://rdf.example.com/a")],  # rdf:about,
        ),
        (
            "relative link against the feed URL",
            rss("<item><title>a</title><link>../2024/a.html?utm_medium=x</link></item>"),
            "text/xml",
            "T",
            [("link:https://news.example.org/2024/a.html", "https://news.example.org/2024/a.html")],
        ),
        (
            "no guid: link key",
            rss("<item><title>a</title><link>https://x.example/a?gclid=1&amp;b=2</link></item>"),
            None,
            "T",
            [("link:https://x.example/a?b=2", "https://x.example/a?b=2")],
        ),
        (
            "no guid and no link: hash key",
            rss("<item><title>a</title><description>b</description></item>"),
            None,
            "T",
            [(hash_key("a", "b"), None)],
        ),
        (
            "blank guid falls back to the link",
            rss("<item><guid> </guid><link>https://x.example/a</link></item>"),
            None,
            "T",
            [("link:https://x.example/a", "https://x.example/a")],
        ),
        (
            "a permalink guid is a URL: resolved, and the link when there is no other",
            rss("<item><guid>2024/p7?utm_source=rss</guid><title>a</title></item>"),
            None,
            "T",
            [
                (
                    "https://news.example.org/feeds/2024/p7?utm_source=rss",
                    "https://news.example.org/feeds/2024/p7",
                )
            ],
        ),
        (
            "javascript link is not a link",
            rss("<item><title>a</title><link>javascript:alert(1)</link></item>"),
            None,
            "T",
            [(hash_key("a", ""), None)],
        ),
        (
            "rss served as text/html still parses",
            rss('<item><guid isPermaLink="false">g1</guid></item>'),
            "text/html; charset=utf-8",
            "T",
            [("g1", None)],
        ),
    ],
)
def test_entries(
    name: str,
    document: bytes,
    content_type: str | None,
    feed_title: str,
    expected: list[tuple[str, str | None]],
) -> None:
    parsed = parse_feed(document, base_url=BASE, content_type=content_type)
    assert parsed.error is None
    assert parsed.title == feed_title
    assert [(entry.key, entry.url) for entry in parsed.entries] == expected


@pytest.mark.parametrize(
    ("name", "document", "content_type", "error"),
    [
        ("empty bytes", b"", None, "not a feed: the server returned no body"),
        (
            "whitespace only",
            b" \r\n\t",
            "application/rss+xml",
            "not a feed: the server returned no body",
        ),
        (
            "html page by content type",
            b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi<br></body></html>",
            "text/html; charset=utf-8",
            "not a feed: the server returned an HTML page",
        ),
        (
            "html page by its start",
            b"\n  <HTML><body>Moved</body></HTML>",
            "application/xml",
            "not a feed: the server returned an HTML page",
        ),
        (
            "malformed xml",
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></chanel></rss>',
            "application/rss+xml",
            "malformed feed: mismatched tag at line 1, column 84",
        ),
        (
            "binary garbage",
            bytes(range(256)) * 8,
            None,
            "not a feed: the server returned a body that is not XML",
        ),
        (
            "an image",
            b"\x89PNG\r\n\x1a\n" + bytes(64),
            "image/png",
            "not a feed: the server returned image/png content that is not XML",
        ),
        (
            "html after a comment",
            b"\xef\xbb\xbf<!-- cache -->\n<!DOCTYPE html><html><body>Bienvenue</body></html>",
            "text/plain",
            "not a feed: the server returned an HTML page",
        ),
        (
            "json",
            b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
            "application/feed+json",
            "not a feed: the server returned JSON, not RSS or Atom",
        ),
        (
            "xml that is not a feed",
            b'<?xml version="1.0"?><config><a>1</a></config>',
            "application/xml",
            "not a feed: no RSS, Atom or RDF document found",
        ),
    ],
)
def test_errors(name: str, document: bytes, content_type: str | None, error: str) -> None:
    parsed = parse_feed(document, base_url=BASE, content_type=content_type)
    kind = "not_a_feed" if error.startswith("not a feed") else "parse"
    assert parsed == ParsedFeed(title=parsed.title, entries=(), error=error, error_kind=kind)


def test_empty_feed_is_not_an_error() -> None:
    parsed = parse_feed(rss("", channel_title="Quiet"), base_url=BASE, content_type="text/xml")
    assert parsed == ParsedFeed(title="Quiet", entries=())


def test_truncated_feed_keeps_its_entries_with_a_warning() -> None:
    document = rss(
        '<item><guid isPermaLink="false">1</guid><title>one</title></item>'
        '<item><guid isPermaLink="false">2</guid>'
    )
    parsed = parse_feed(document[: document.index(b"</channel>")], base_url=BASE)
    assert parsed.error is None
    assert [entry.key for entry in parsed.entries] == ["1", "2"]
    assert parsed.warning is not None
    assert parsed.warning.startswith("malformed feed: no element found")


def test_entry_fields() -> None:
    first, second = parse_feed(RSS, base_url=BASE, content_type="application/rss+xml").entries
    assert first.title == "OTAN : sommet & décisions"
    assert first.summary == "<p>Résumé</p>"
    assert first.content == "<p>Le texte <b>complet</b>.</p>"
    assert first.published == datetime(2024, 7, 2, 7, 30, tzinfo=UTC)
    assert second.published is None
    assert second.content == ""


def test_atom_fields() -> None:
    one, two = parse_feed(ATOM, base_url=BASE).entries
    assert (one.summary, one.content) == ("Summary one", "<p>Full one</p>")
    assert one.published == datetime(2024, 7, 1, 12, 15, tzinfo=UTC)
    assert (two.summary, two.content) == ("<p>Only content</p>", "")


def test_rdf_date() -> None:
    (entry,) = parse_feed(RDF, base_url=BASE).entries
    assert entry.published == datetime(2024, 7, 2, 12, 0, tzinfo=UTC)


def test_entity_encoded_titles_are_left_to_the_text_stage() -> None:
    document = rss("<item><guid>g</guid><title>Caf&amp;eacute; &amp;amp; cr&#232;me</title></item>")
    (entry,) = parse_feed(document, base_url=BASE).entries
    assert entry.title == "Caf&eacute; &amp; crème"


def test_invalid_dates_become_none() -> None:
    document = rss(
        "<item><guid>a</guid><pubDate>not a date</pubDate></item>"
        "<item><guid>b</guid><pubDate>Tue, 31 Feb 2024 99:99:99 GMT</pubDate></item>"
    )
    assert [entry.published for entry in parse_feed(document, base_url=BASE).entries] == [
        None,
        None,
    ]


def test_scripts_and_attributes_never_reach_the_item_text() -> None:
    # feedparser's sanitizer is off (monitor.text.html does the job for every field): the
    # entry keeps the feed's HTML, the prepared item has its text only.
    document = rss(
        "<item><guid>g</guid><title>Titre &lt;script&gt;t()&lt;/script&gt;</title>"
        "<description>&lt;p onclick='x()'&gt;ok&lt;script&gt;alert(1)"
        "&lt;/script&gt;&lt;style&gt;p{}&lt;/style&gt;&lt;/p&gt;</description></item>"
    )
    (entry,) = parse_feed(document, base_url=BASE).entries
    text = prepare_entry(entry, "fr", now=datetime.now(UTC)).text
    assert (text.title, text.summary) == ("Titre", "ok")


SECRET = "TOP-SECRET-7f3a9c"


@pytest.mark.parametrize(
    "template",
    [
        # declaration on its own line, as feedparser expects it
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY xxe SYSTEM "{target}">\n]>\n'
        '<rss version="2.0"><channel><title>&xxe;</title>'
        "<item><guid>g</guid><title>t &xxe;</title><description>&xxe;</description></item>"
        "</channel></rss>",
        # everything on one line, which feedparser's own stripping does not see
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{target}">]>'
        '<rss version="2.0"><channel><title>&xxe;</title>'
        "<item><guid>g</guid><title>t &xxe;</title></item></channel></rss>",
        # a parameter entity pulling in an external DTD
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY % p SYSTEM "{target}"> %p;]>\n'
        '<rss version="2.0"><channel><title>x</title><item><guid>g</guid></item></channel></rss>',
        # an external DTD subset
        '<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{target}">\n'
        '<rss version="2.0"><channel><title>x</title><item><guid>g</guid></item></channel></rss>',
    ],
)
@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/html"])
def test_external_entities_are_never_read(
    template: str, content_type: str, tmp_path: Path, httpserver: HTTPServer
) -> None:
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(SECRET)
    httpserver.expect_request("/secret.dtd").respond_with_data(SECRET)
    for target in (secret_file.as_uri(), httpserver.url_for("/secret.dtd")):
        document = template.replace("{target}", target).encode()
        parsed = parse_feed(document, base_url=BASE, content_type=content_type)
        assert isinstance(parsed, ParsedFeed)
        assert SECRET not in repr(parsed)
    assert httpserver.log == []


def test_billion_laughs_is_not_expanded() -> None:
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, 10))
    document = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol0 "lol">\n{entities}]>\n'
        '<rss version="2.0"><channel><title>&lol9;</title>'
        "<item><guid>g</guid><title>&lol9;</title></item></channel></rss>"
    ).encode()
    parsed = parse_feed(document, base_url=BASE)
    assert len(repr(parsed)) < 10_000


@pytest.mark.parametrize("content_type", ["application/rss+xml", "text/html"])
def test_entities_the_document_declares_are_not_expanded(content_type: str) -> None:
    document = (
        '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY secret "VALEUR CACHÉE">\n'
        "<!ENTITY % param 'x'>\n<!ENTITY tricky \"a > b\">\n]>\n"
        '<rss version="2.0"><channel><title>OTAN &secret;</title>'
        "<item><guid>g</guid><title>OTAN &secret; &tricky;</title></item></channel></rss>"
    ).encode()
    parsed = parse_feed(document, base_url=BASE, content_type=content_type)
    assert "VALEUR" not in repr(parsed) and "a > b" not in repr(parsed)
    assert [entry.title for entry in parsed.entries] == ["OTAN &secret; &tricky;"]


def test_at_most_max_entries_are_read_from_a_document() -> None:
    items = "".join(f"<item><guid>{n}</guid><title>t{n}</title></item>" for n in range(6_000))
    for content_type in ("application/rss+xml", "text/xml; charset=iso-8859-1"):  # both paths
        parsed = parse_feed(rss(items), base_url=BASE, content_type=content_type)
        assert len(parsed.entries) == MAX_ENTRIES
        assert parsed.entries[-1].title == f"t{MAX_ENTRIES - 1}"
        assert parsed.warning == "the document lists 6,000 items: only the first 5,000 read"


@pytest.mark.parametrize(
    ("ttl", "seconds"),
    [
        ("15", 900.0),
        ("0", None),
        ("-5", None),
        ("soon", None),
        ("999999999", 366 * 86_400.0),  # over a year says "rarely": a year
        ("9" * 5000, 366 * 86_400.0),  # past int()'s digit limit
    ],
)
def test_ttl_in_seconds_at_most_a_year(ttl: str, seconds: float | None) -> None:
    document = rss("").replace(b"<title>T</title>", f"<title>T</title><ttl>{ttl}</ttl>".encode())
    for content_type in ("application/rss+xml", "text/xml; charset=iso-8859-1"):  # both paths
        assert parse_feed(document, base_url=BASE, content_type=content_type).ttl == seconds


@pytest.mark.parametrize("reference", ["&#xD800;", "&#55296;", "&#xdfff;"])
def test_a_reference_to_a_lone_surrogate_does_not_lose_the_feed(reference: str) -> None:
    document = rss(f"<item><guid>1</guid><title>OTAN {reference} suite</title></item>")
    for content_type in ("application/rss+xml", "text/xml; charset=iso-8859-1"):
        parsed = parse_feed(document, base_url=BASE, content_type=content_type)
        assert parsed.error is None
        assert [entry.title for entry in parsed.entries] == ["OTAN \ufffd suite"]


def test_overlong_links_and_ids_do_not_multiply_a_small_document() -> None:
    base = "https://fil.example/" + "b" * 14_000 + "/"
    items = "".join(f"<item><title>t{n}</title><link>x{n}</link></item>" for n in range(50))
    items += f"<item><guid isPermaLink='false'>{'g' * 5000}</guid><title>long id</title></item>"
    parsed = parse_feed(rss(items), base_url=base, content_type="application/rss+xml")
    assert len(parsed.entries) == 51
    assert all(entry.url is None for entry in parsed.entries)
    assert max(len(entry.key) for entry in parsed.entries) < 100
    assert parsed.entries[-1].key.startswith("guid-hash:")
