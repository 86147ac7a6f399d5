"""OPML, the feed-list format of every feed reader: `feeds: - opml: FILE` imports one, and
`monitor feeds --export-opml` writes the configured feeds as one. Pure apart from reading the
file; errors are one line."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr


class OpmlError(Exception):
    """An OPML file that cannot be read, with a one-line reason."""


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    title: str | None
    categories: tuple[str, ...]  # the texts of the outlines it is nested in


def read_opml(path: Path) -> list[OpmlFeed]:
    """The feeds of an OPML file: every outline with an `xmlUrl`, in document order, with the
    outlines around it as categories."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise OpmlError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
    return parse_opml(raw, str(path))


def parse_opml(raw: bytes, name: str = "OPML") -> list[OpmlFeed]:
    # A feed list needs no document type: refusing one rules out entity tricks (billion laughs,
    # external entities) whatever the XML parser would do with them.
    if b"<!DOCTYPE" in raw.upper() or b"<!ENTITY" in raw.upper():
        raise OpmlError(f"{name}: refused: OPML with a DOCTYPE or entity declarations")
    try:
        root = ElementTree.fromstring(raw)  # noqa: S314 - no DOCTYPE, so no entities
    except ElementTree.ParseError as error:
        raise OpmlError(f"{name}: not valid XML: {error}") from None
    if root.tag != "opml":
        raise OpmlError(f"{name}: not OPML (the root element is <{root.tag}>, expected <opml>)")
    body = root.find("body")
    if body is None:
        raise OpmlError(f"{name}: no <body> element")
    found: list[OpmlFeed] = []
    _collect(body, (), found)
    return found


def _collect(
    element: ElementTree.Element, categories: tuple[str, ...], found: list[OpmlFeed]
) -> None:
    for outline in element.findall("outline"):
        title = (outline.get("title") or outline.get("text") or "").strip() or None
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if url:
            listed = [
                part.strip().strip("/")
                for part in (outline.get("category") or "").split(",")
                if part.strip().strip("/")
            ]
            found.append(OpmlFeed(url, title, (*categories, *listed)))
        _collect(outline, (*categories, title) if title and not url else categories, found)


@dataclass(frozen=True)
class ExportedFeed:
    url: str
    title: str | None
    tags: tuple[str, ...]


def write_opml(feeds: Sequence[ExportedFeed], title: str = "monitor feeds") -> str:
    """OPML 2.0 of `feeds`: one outline each, its tags as a `category` attribute."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    for feed in feeds:
        attributes = {"type": "rss", "text": feed.title or feed.url, "xmlUrl": feed.url}
        if feed.title:
            attributes["title"] = feed.title
        if feed.tags:
            attributes["category"] = ",".join(feed.tags)
        rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attributes.items())
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
