"""The sample feeds of `monitor demo`: six French outlets shipped as package data
(`monitor/demo/feeds/*.xml`), each served in two stages.

Each file is the outlet's RSS 2.0 document as it stands at the second stage, with three
attributes of the `demo:` namespace on its items, removed before the document is served:
`demo:stage="new"` (the item appears at the second stage; the others are the backlog the first
poll finds), `demo:age` (how long before the demo started the item was published, a duration as
the configuration writes them: publication dates follow the clock, so the new items are always
within `max_age`) and `demo:role` (what the demo expects of the item, see `Role`)."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET  # our own package data, not feed text from the network
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from enum import StrEnum
from importlib import resources
from importlib.resources.abc import Traversable

from monitor.config.schema import parse_duration

_NAMESPACE = "urn:monitor:demo"
_STAGE, _AGE, _ROLE = (f"{{{_NAMESPACE}}}{name}" for name in ("stage", "age", "role"))


class Role(StrEnum):
    WIRE = "wire"  # one wire story, carried by five outlets: one alert listing the others
    ORIGINAL = "original"  # an outlet's own article on the watched subject: its own alert
    BOTANIQUE = "botanique"  # « jardin botanique »: OTAN is not in « botanique », no alert
    OTHER = "other"


@dataclass(frozen=True)
class SampleItem:
    title: str
    new: bool  # appears at the second stage
    role: Role


@dataclass(frozen=True)
class SampleFeed:
    slug: str  # its file's name without .xml, and its path on the demo's server
    title: str
    items: tuple[SampleItem, ...]
    _root: ET.Element

    def document(self, stage: int, started: datetime) -> bytes:
        """The RSS document served at `stage` (1: the backlog, 2: with the new items), its
        dates counted back from `started`."""
        root = copy.deepcopy(self._root)
        channel = root.find("channel")
        assert channel is not None
        for element in channel.findall("item"):
            if element.get(_STAGE) == "new" and stage < 2:
                channel.remove(element)
                continue
            published = ET.SubElement(element, "pubDate")
            published.text = format_datetime(started - parse_duration(element.get(_AGE, "1d")))
            for name in (_STAGE, _AGE, _ROLE):
                element.attrib.pop(name, None)
        return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def feeds_folder() -> Traversable:
    return resources.files("monitor.demo").joinpath("feeds")


def sample_feeds() -> tuple[SampleFeed, ...]:
    """The outlets, by file name."""
    found = []
    for entry in sorted(feeds_folder().iterdir(), key=lambda entry: entry.name):
        if not entry.name.endswith(".xml"):
            continue
        root = ET.fromstring(entry.read_bytes())  # noqa: S314 (package data)
        channel = root.find("channel")
        assert channel is not None
        items = tuple(
            SampleItem(
                title=element.findtext("title", ""),
                new=element.get(_STAGE) == "new",
                role=Role(element.get(_ROLE, Role.OTHER)),
            )
            for element in channel.findall("item")
        )
        found.append(
            SampleFeed(entry.name.removesuffix(".xml"), channel.findtext("title", ""), items, root)
        )
    return tuple(found)
