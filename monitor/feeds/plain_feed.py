"""A fast path for the common case: a well-formed RSS 2.0 or Atom 1.0 document in UTF-8, read
with the C XML parser instead of feedparser, with the same results (tests/test_plain_feed.py
compares the two on every corpus file the fast path accepts).

feedparser calls Python code for every element and every run of text between entities: about
15 ms for a 70 KB news feed, the largest single cost of a polling cycle (bench/poll.py). Here
the same document takes about 1 ms. Anything else — another format, another encoding, a
DOCTYPE, xml:base, a document that is not well-formed — returns None and goes to feedparser,
whose loose parsing and encoding rules stay the reference.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import Any

from feedparser.datetimes import _parse_date
from feedparser.urls import _urljoin

# Entity declarations (and with them every entity expansion attack) and xml:base (relative
# links resolved against it) are feedparser's to handle.
_DECLINED = re.compile(rb"<!DOCTYPE|<!ENTITY|xml:base", re.IGNORECASE)
# A namespace name with whitespace in it: the C parser takes it, feedparser's SAX parser calls
# the document malformed.
_ODD_NAMESPACE = re.compile(rb"""xmlns(?::[\w.-]+)?\s*=\s*(?:"[^"]*\s[^"]*"|'[^']*\s[^']*')""")
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.IGNORECASE)
_UTF8 = frozenset({"utf-8", "utf8"})
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_DC = "{http://purl.org/dc/elements/1.1/}"
_DC_DATE = f"{_DC}date"
_MEDIA = "{http://search.yahoo.com/mrss/}"
# What an item may hold for this path: the fields read here, and elements feedparser reads
# into other keys (authors, tags, enclosures, comments) or ignores.
_ITEM_CHILDREN = frozenset(
    {
        "title", "link", "guid", "description", "pubDate", _CONTENT, _DC_DATE,
        "category", "author", "comments", "enclosure", "source",
        f"{_DC}creator", f"{_DC}subject", f"{_DC}rights", f"{_DC}language",
        f"{_MEDIA}thumbnail", f"{_MEDIA}content",
        "{http://purl.org/rss/1.0/modules/slash/}comments",
        "{http://wellformedweb.org/CommentAPI/}commentRss",
        "{http://rssnamespace.org/feedburner/ext/1.0}origLink",
    }
)  # fmt: skip
# The ones read here: each may come once (categories, enclosures... may repeat).
_ITEM_FIELDS = frozenset({"title", "link", "guid", "description", "pubDate", _CONTENT, _DC_DATE})
_RSS_VERSIONS = frozenset({"2.0", "2.0.1", "0.91", "0.92", "0.93", "0.94"})
_ATOM = "{http://www.w3.org/2005/Atom}"
# An entry's elements this path reads, and the ones feedparser reads into other keys; only
# authors may have children (name, email, uri).
_ENTRY_CHILDREN = frozenset(
    {f"{_ATOM}{name}" for name in ("id", "title", "link", "summary", "content", "published",
                                   "updated", "category", "author", "contributor", "rights")}
    | {f"{_MEDIA}thumbnail", f"{_MEDIA}content"}
)  # fmt: skip
_ENTRY_FIELDS = frozenset(
    f"{_ATOM}{name}" for name in ("id", "title", "summary", "content", "published", "updated")
)
_WITH_CHILDREN = frozenset({f"{_ATOM}author", f"{_ATOM}contributor"})
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TEXT_TYPES = frozenset({"text", "html", "text/plain", "text/html"})


def plain_feed(content: bytes, base_url: str, content_type: str | None) -> dict[str, Any] | None:
    """The title, ttl and items (raw fields, as feedparser would give them) of a plain RSS 2.0
    or Atom 1.0 document; None when the document is not one (feedparser reads it instead)."""
    if _DECLINED.search(content) or _ODD_NAMESPACE.search(content):
        return None
    if not _is_utf8(content, content_type):
        return None
    try:
        # No DOCTYPE got here, so no entity is declared: nothing to expand, nothing external.
        root = ElementTree.fromstring(content)  # noqa: S314
    except (ElementTree.ParseError, ValueError):
        return None
    if root.tag == f"{_ATOM}feed":
        return _atom(root, base_url)
    if root.tag != "rss" or root.get("version", "").strip() not in _RSS_VERSIONS:
        return None
    channels = root.findall("channel")
    if len(channels) != 1:
        return None
    channel = channels[0]
    title = channel.find("title")
    if title is None or len(title):
        return None  # a title from elsewhere (dc:title), or markup in it
    items = []
    if sum(1 for _ in root.iter("item")) != sum(1 for _ in channel.iter("item")):
        return None  # items outside the channel (RSS 0.9x style): feedparser reads them
    for item in channel.iter("item"):
        fields = _item(item, base_url)
        if fields is None:
            return None
        items.append(fields)
    ttls = channel.findall("ttl")
    return {
        "title": _text(title),
        "ttl": _text(ttls[-1]) if ttls else "",
        "items": items,
    }


def _item(item: ElementTree.Element, base_url: str) -> dict[str, Any] | None:
    children: dict[str, ElementTree.Element] = {}
    for child in item:
        # Other elements feedparser reads into these fields (dc:title, media:description,
        # atom:summary, itunes:summary...), markup inside one, a repeated field: its rules.
        if child.tag not in _ITEM_CHILDREN or len(child):
            return None
        if child.tag in children and child.tag in _ITEM_FIELDS:
            return None
        children.setdefault(child.tag, child)
    link_element = children.get("link")
    if link_element is not None and link_element.attrib:
        return None  # <link href=... rel=...>: an Atom link, feedparser's rules
    guid_element = children.get("guid")
    guid = _text(guid_element)
    link = _text(link_element)
    # RSS 2.0: a guid is a permalink unless it says otherwise; then it is a URI like a link.
    permalink = guid_element is not None and (
        (guid_element.get("isPermaLink") or "true").strip().lower() == "true"
    )
    if permalink and guid:
        guid = _urljoin(base_url, guid)
        if link_element is None:  # an empty <link/> is a link, as for feedparser
            link = guid
    description = children.get("description")
    encoded = _text(children.get(_CONTENT))
    return {
        "id": guid,
        "link": _urljoin(base_url, link) if link else "",  # resolved, as feedparser does
        "title": _text(children.get("title")),
        # Without a description (an empty one is one), feedparser's summary is the content.
        "summary": encoded if description is None else _text(description),
        "content": encoded,
        "published_parsed": _date(children.get("pubDate")),
        "updated_parsed": _date(children.get(_DC_DATE)),
    }


def _atom(feed: ElementTree.Element, base_url: str) -> dict[str, Any] | None:
    title = feed.find(f"{_ATOM}title")
    if title is None or not _plain_text_construct(title):
        return None
    items = []
    for entry in feed.iter(f"{_ATOM}entry"):
        fields = _entry(entry, base_url)
        if fields is None:
            return None
        items.append(fields)
    return {"title": _text(title), "ttl": "", "items": items}


def _entry(entry: ElementTree.Element, base_url: str) -> dict[str, Any] | None:
    children: dict[str, ElementTree.Element] = {}
    links = []
    for child in entry:
        tag = child.tag
        if tag not in _ENTRY_CHILDREN or (len(child) and tag not in _WITH_CHILDREN):
            return None
        if tag == f"{_ATOM}link":
            links.append(child)
        elif tag in children and tag in _ENTRY_FIELDS:
            return None
        children.setdefault(tag, child)
    fields = [children.get(f"{_ATOM}{name}") for name in ("title", "summary", "content")]
    if any(field is not None and not _plain_text_construct(field) for field in fields):
        return None
    alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
    if (
        len(alternates) > 1
        or any(not link.get("href") for link in links)
        or any(link.get("type", "text/html") not in _PAGE_TYPES for link in alternates)
    ):
        return None  # which link feedparser keeps then is its own rule
    title, summary, content = (_text(field) for field in fields)
    if fields[1] is None:  # no summary element: feedparser's summary is the content
        summary = content
    ident = _text(children.get(f"{_ATOM}id"))
    ident = _urljoin(base_url, ident) if ident else ""
    link = alternates[0].get("href", "").strip() if alternates else ""
    return {
        "id": ident,
        # Without an alternate link, feedparser takes the id for one.
        "link": _urljoin(base_url, link) if link else ident,
        "title": title,
        "summary": summary,
        "content": content,
        "published_parsed": _date(children.get(f"{_ATOM}published")),
        "updated_parsed": _date(children.get(f"{_ATOM}updated")),
    }


def _date(element: ElementTree.Element | None) -> Any:
    text = _text(element)
    return _parse_date(text) if text else None


def _plain_text_construct(element: ElementTree.Element) -> bool:
    """Text or escaped HTML (not XHTML markup, not content elsewhere: `src`)."""
    kind = (element.get("type") or "text").strip().lower()
    return kind in _TEXT_TYPES and not len(element) and element.get("src") is None


def _text(element: ElementTree.Element | None) -> str:
    if element is None:
        return ""
    return (element.text or "").strip()


def _is_utf8(content: bytes, content_type: str | None) -> bool:
    declared = _DECLARED_ENCODING.match(content)
    if declared and declared.group(1).decode("ascii").lower() not in _UTF8:
        return False
    charset = _CHARSET.search(content_type or "")
    if charset and charset.group(1).lower() not in _UTF8:
        return False
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
