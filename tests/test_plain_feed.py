"""The fast path for plain RSS 2.0 and Atom 1.0 gives what feedparser gives, and leaves
everything else to feedparser."""

from __future__ import annotations

import random

import pytest

from monitor.feeds.parse import _parse, _parse_with_feedparser, parse_feed
from monitor.feeds.plain_feed import plain_feed
from tests.test_feed_corpora import CORPUS, corpus_files

BASE = "https://www.exemple.fr/rss/une.xml"
RSS_TYPE = "application/rss+xml; charset=UTF-8"

NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title> Le Monde — International </title><link>https://www.exemple.fr/</link>
<ttl>15</ttl>
<item><title>L’OTAN refuse une zone d’exclusion aérienne</title>
  <link>/international/article/2022/03/05/otan.html</link>
  <guid isPermaLink="false">lemonde-123456</guid>
  <pubDate>Sat, 05 Mar 2022 09:15:00 +0100</pubDate><dc:creator>AFP</dc:creator>
  <category>Ukraine</category><category>OTAN</category>
  <media:content url="https://img.exemple.fr/a.jpg" medium="image"/>
  <description><![CDATA[<p>L’Alliance a rejeté &laquo; fermement &raquo; la demande.</p>]]>
  </description>
  <content:encoded>&lt;p&gt;Texte intégral&amp;nbsp;: «&#160;non&#160;».&lt;/p&gt;</content:encoded>
</item>
<item><title>Seulement le contenu</title><guid>https://www.exemple.fr/b.html</guid>
  <dc:date>2022-03-05T10:00:00+01:00</dc:date>
  <content:encoded>&lt;p&gt;Pas de description.&lt;/p&gt;</content:encoded></item>
<item><title>Un guid relatif</title><guid>c.html</guid><description>Texte</description></item>
<item><description>Sans titre ni lien</description></item>
</channel></rss>
"""


def test_a_news_feed_reads_the_same_as_with_feedparser() -> None:
    document = NEWS.encode("utf-8")
    assert plain_feed(document, BASE, RSS_TYPE) is not None
    fast = _parse(document, BASE, RSS_TYPE)
    assert fast == _parse_with_feedparser(document, BASE, RSS_TYPE)
    assert fast.title == "Le Monde — International" and fast.ttl == 900.0
    first, only_content, relative, bare = fast.entries
    assert (first.key, first.url) == (
        "lemonde-123456",
        "https://www.exemple.fr/international/article/2022/03/05/otan.html",
    )
    assert first.content == "<p>Texte intégral&nbsp;: «\xa0non\xa0».</p>"
    assert only_content.summary == "<p>Pas de description.</p>" and only_content.content == ""
    assert only_content.published is not None
    assert relative.key == relative.url == "https://www.exemple.fr/rss/c.html"
    assert bare.key.startswith("hash:") and bare.url is None


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Le Figaro - International</title>
<id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id><updated>2022-03-05T09:00:00Z</updated>
<entry><title type="html">L&#8217;OTAN dit &lt;em&gt;non&lt;/em&gt;</title>
  <link rel="alternate" type="text/html" href="/international/otan-20220305"/>
  <link rel="enclosure" type="image/jpeg" href="https://img.exemple.fr/b.jpg"/>
  <id>tag:lefigaro.fr,2022:otan</id><author><name>AFP</name></author>
  <category term="otan"/><category term="ukraine"/>
  <published>2022-03-05T09:15:00+01:00</published><updated>2022-03-05T10:00:00+01:00</updated>
  <summary type="html">&lt;p&gt;L&#8217;Alliance refuse.&lt;/p&gt;</summary>
  <content type="html">&lt;p&gt;Le texte entier.&lt;/p&gt;</content></entry>
<entry><title>Seulement le contenu</title><link href="https://www.exemple.fr/c"/>
  <id>https://www.exemple.fr/c</id><updated>not a date</updated>
  <content type="text">Texte brut</content></entry>
</feed>
"""
ATOM_TYPE = "application/atom+xml"


def test_an_atom_feed_reads_the_same_as_with_feedparser() -> None:
    document = ATOM.encode("utf-8")
    assert plain_feed(document, BASE, ATOM_TYPE) is not None
    fast = _parse(document, BASE, ATOM_TYPE)
    assert fast == _parse_with_feedparser(document, BASE, ATOM_TYPE)
    first, only_content = fast.entries
    assert first.url == "https://www.exemple.fr/international/otan-20220305"
    assert (first.key, first.title) == ("tag:lefigaro.fr,2022:otan", "L’OTAN dit <em>non</em>")
    assert (only_content.summary, only_content.content, only_content.published) == (
        "Texte brut",
        "",
        None,
    )


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(
            ATOM.replace('<content type="text">Texte brut</content>',
                         '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
                         "<p>XHTML</p></div></content>"),
            id="xhtml",
        ),
        pytest.param(ATOM.replace('type="text/html" href', 'type="text/plain" href'), id="link"),
        pytest.param(ATOM.replace("<feed ", '<feed xml:base="https://x/" '), id="base"),
        pytest.param(ATOM.replace("<author><name>AFP</name></author>", "<source><title>S"
                                  "</title></source>"), id="source"),
        pytest.param(ATOM.replace('type="text">Le', 'src="/a" type="text">Le'), id="src"),
    ],
)  # fmt: skip
def test_atom_the_fast_path_does_not_know_goes_to_feedparser(document: str) -> None:
    data = document.encode("utf-8")
    assert plain_feed(data, BASE, ATOM_TYPE) is None
    assert _parse(data, BASE, ATOM_TYPE) == _parse_with_feedparser(data, BASE, ATOM_TYPE)


@pytest.mark.parametrize(
    ("document", "content_type"),
    [
        pytest.param(
            NEWS.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"'), RSS_TYPE, id="latin-1"
        ),
        pytest.param(NEWS, "application/rss+xml; charset=windows-1252", id="http-charset"),
        pytest.param(
            NEWS.replace("<rss", '<!DOCTYPE rss [<!ENTITY x "y">]>\n<rss'), RSS_TYPE, id="doctype"
        ),
        pytest.param(NEWS.replace("<channel>", '<channel xml:base="/x/">'), RSS_TYPE, id="base"),
        pytest.param(NEWS.replace("</item>", "", 1), RSS_TYPE, id="not-well-formed"),
        pytest.param(NEWS.replace('version="2.0"', 'version="3.0"'), RSS_TYPE, id="version"),
        pytest.param(
            NEWS.replace("<dc:creator>AFP</dc:creator>", "<dc:title>Autre</dc:title>"),
            RSS_TYPE,
            id="other-field-source",
        ),
        pytest.param(
            NEWS.replace("<category>Ukraine</category>", "<title>Deux titres</title>"),
            RSS_TYPE,
            id="repeated-field",
        ),
        pytest.param(
            NEWS.replace("<title>Un guid", "<title><b>Un</b> guid"), RSS_TYPE, id="markup"
        ),
        pytest.param(
            '<?xml version="1.0"?><feed xmlns="http://purl.org/atom/ns#"><title>A</title></feed>',
            RSS_TYPE,
            id="atom-0.3",
        ),
    ],
)
def test_anything_else_goes_to_feedparser(document: str, content_type: str) -> None:
    data = document.encode("utf-8")
    assert plain_feed(data, BASE, content_type) is None
    assert _parse(data, BASE, content_type) == _parse_with_feedparser(data, BASE, content_type)


def test_entities_are_never_expanded_on_either_path() -> None:
    laughs = NEWS.replace(
        "<rss",
        '<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "\n<rss",
    ).replace("Texte</description>", "&b;</description>")
    parsed = parse_feed(laughs.encode("utf-8"), base_url=BASE, content_type=RSS_TYPE)
    assert "aaaaaaaaaa" not in "".join(entry.summary for entry in parsed.entries)


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"feed corpus not found at {CORPUS}")
def test_every_corpus_file_the_fast_path_takes_reads_as_with_feedparser() -> None:
    taken = 0
    for path in corpus_files():
        data = path.read_bytes()
        base = f"https://corpus.example/{path.parent.name}/{path.name}"
        if plain_feed(data, base, None) is None:
            continue
        taken += 1
        assert _parse(data, base, None) == _parse_with_feedparser(data, base, None), path
    assert taken > 600  # the suites' plain RSS 2.0 and Atom 1.0 documents


def test_a_failure_of_the_fast_path_falls_back_to_feedparser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("monitor.feeds.parse.plain_feed", broken)
    parsed = parse_feed(NEWS.encode("utf-8"), base_url=BASE, content_type=RSS_TYPE)
    assert parsed.error is None and len(parsed.entries) == 4


EDGE_CASES = {
    "atom-related-link-only": b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry>'
    b'<id>x</id><title>a</title><link rel="related" href="https://ex.fr/r"/></entry></feed>',
    "atom-relative-id": b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry>'
    b"<id>/a/b</id><title>a</title></entry></feed>",
    "atom-empty-summary": b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry>'
    b"<id>x</id><summary></summary><content>c</content></entry></feed>",
    "rss-item-outside-channel": b'<rss version="0.91"><channel><title>T</title></channel>'
    b"<item><title>a</title><link>https://ex.fr/a</link></item></rss>",
    "rss-empty-link-and-guid": b'<rss version="2.0"><channel><title>T</title><item><link></link>'
    b"<guid>g</guid></item></channel></rss>",
    "rss-empty-description": b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules'
    b'/content/"><channel><title>T</title><item><description></description><content:encoded>c'
    b"</content:encoded></item></channel></rss>",
    "rss-whitespace": b'<rss version="2.0"><channel><title> T </title><item><title> a </title>'
    b"<link>\n  https://ex.fr/a\n</link><guid>  https://ex.fr/g  </guid></item></channel></rss>",
    "rss-bad-dates": b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
    b"<title>T</title><item><pubDate>Mon, 31 Feb 2022 99:99:99 GMT</pubDate><dc:date>2022-01-01"
    b"T00:00:00Z</dc:date></item></channel></rss>",
    "rss-bom": b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
    b"<title>T</title><item><title>a</title></item></channel></rss>",
}


@pytest.mark.parametrize("document", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases_read_as_with_feedparser(document: bytes) -> None:
    assert _parse(document, BASE, None) == _parse_with_feedparser(document, BASE, None)


TEXTS = ["Titre", "  espaces  ", "L&#8217;OTAN", "a &amp;amp; b", "&lt;p&gt;x&lt;/p&gt;",
         "<![CDATA[<p>cdata</p>]]>", "", "é à ç", "x &lt; y", "\n multi\nligne \n"]  # fmt: skip
LINKS = ["https://ex.fr/a", "/rel/path", "rel2", "  https://ex.fr/ws  ", "", "javascript:x()",
         "http://ex.fr/?", "mailto:a@b.c", "https://ex.fr/a#frag", "//ex.fr/proto"]  # fmt: skip
DATES = ["Sat, 05 Mar 2022 09:15:00 +0100", "2022-03-05T09:15:00Z", "not a date", "",
         "Mon, 31 Feb 2022 99:99:99 GMT"]  # fmt: skip


def random_rss(rng: random.Random) -> str:
    def element(tag: str) -> str:
        if tag == "guid":
            flag = rng.choice(["", ' isPermaLink="true"', ' isPermaLink="false"'])
            return f"<guid{flag}>{rng.choice([*LINKS, 'id-123'])}</guid>"
        if tag == "link":
            return f"<link>{rng.choice(LINKS)}</link>"
        if tag in ("pubDate", "dc:date"):
            return f"<{tag}>{rng.choice(DATES)}</{tag}>"
        if tag == "enclosure":
            return '<enclosure url="https://ex.fr/a.mp3" type="audio/mpeg" length="1"/>'
        return f"<{tag}>{rng.choice(TEXTS)}</{tag}>"

    tags = ["title", "link", "guid", "description", "pubDate", "content:encoded", "dc:date",
            "category", "category", "author", "enclosure", "dc:creator"]  # fmt: skip
    items = "".join(
        "<item>" + "".join(map(element, rng.sample(tags, rng.randint(0, 8)))) + "</item>"
        for _ in range(rng.randint(0, 4))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" xmlns:content="http://purl.org/'
        'rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>'
        f"{rng.choice(TEXTS)}</title>{rng.choice(['', '<ttl>15</ttl>'])}{items}</channel></rss>"
    )


def random_atom(rng: random.Random) -> str:
    def element(tag: str) -> str:
        if tag == "link":
            rel = rng.choice(["", ' rel="alternate"', ' rel="related"', ' rel="enclosure"'])
            kind = rng.choice(["", ' type="text/html"', ' type="application/xhtml+xml"'])
            return f'<link{rel}{kind} href="{rng.choice(LINKS).strip() or "x"}"/>'
        if tag in ("published", "updated"):
            return f"<{tag}>{rng.choice(DATES)}</{tag}>"
        if tag == "author":
            return "<author><name>AFP</name></author>"
        if tag == "id":
            return f"<id>{rng.choice([*LINKS, 'tag:ex.fr,2022:1', 'urn:uuid:1'])}</id>"
        kind = rng.choice(["", ' type="text"', ' type="html"'])
        return f"<{tag}{kind}>{rng.choice(TEXTS)}</{tag}>"

    tags = ["id", "title", "link", "link", "summary", "content", "published", "updated", "author"]
    entries = "".join(
        "<entry>" + "".join(map(element, rng.sample(tags, rng.randint(0, 8)))) + "</entry>"
        for _ in range(rng.randint(0, 4))
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{rng.choice(TEXTS)}</title>{entries}</feed>"
    )


def test_random_feeds_read_as_with_feedparser() -> None:
    # Fields in any order, present, empty or missing; relative and odd links; bad dates.
    rng = random.Random(20261125)
    taken = 0
    for _ in range(600):
        document = (random_rss if rng.random() < 0.5 else random_atom)(rng).encode("utf-8")
        taken += plain_feed(document, BASE, None) is not None
        fast, reference = _parse(document, BASE, None), _parse_with_feedparser(document, BASE, None)
        assert (fast.title, fast.entries, fast.ttl) == (
            reference.title,
            reference.entries,
            reference.ttl,
        ), document
    assert taken > 550  # the fast path's results, not feedparser's twice
