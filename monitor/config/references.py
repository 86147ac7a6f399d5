"""Checks that span several sections: a feed listed twice, a watchlist name used twice or
reserved, a channel named but not defined, a feed or tag in a watchlist's `sources` that no feed
has.

They read the merged data as written rather than the validated `Config`, so that a schema error
in one place hides none of them elsewhere: `check-config` reports every problem in one go.
Values of the wrong type are skipped here; the schema reports those.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from monitor.config.schema import RESERVED_WATCHLIST, KeyPath, SourcesSpec


def reference_errors(
    data: Mapping[str, Any], file_urls: Mapping[int, str] | None = None
) -> list[tuple[KeyPath, str]]:
    """Each problem with the key path of the offending value, so the loader can point at its
    line. `file_urls`: the URLs read from feeds' `url_file`, by feed index; such a feed is
    named by its file, never by the URL (a secret)."""
    errors: list[tuple[KeyPath, str]] = []
    first_named: dict[str, str | None] = {}  # URL -> the file that named it first, if any
    for index, feed in _entries(data.get("feeds")):
        file = _text(feed.get("url_file"))
        url = _text(feed.get("url")) or (file_urls or {}).get(index)
        if url is None:
            continue
        if url in first_named:
            shown = first_named[url] or file or url
            key = "url" if "url" in feed else "url_file"
            errors.append((("feeds", index, key), f"feed {shown!r} is listed twice"))
            continue
        first_named[url] = file if "url" not in feed else None
    channels = data.get("channels")
    if channels is None:
        channels = {}
    # A `channels:` that is not a mapping is the schema's error; every name would look unknown.
    known = sorted(str(name) for name in channels) if isinstance(channels, dict) else None
    seen_names: set[str] = set()
    for index, watchlist in _entries(data.get("watchlists")):
        name = _text(watchlist.get("name"))
        if name is not None and name in seen_names:
            errors.append((("watchlists", index, "name"), f"watchlist name {name!r} is used twice"))
        if name is not None:
            seen_names.add(name)
        if name == RESERVED_WATCHLIST:
            errors.append(
                (
                    ("watchlists", index, "name"),
                    f"{RESERVED_WATCHLIST!r} is reserved for operations alerts; expected another"
                    " name",
                )
            )
        errors += _unknown_channels(watchlist.get("notify"), known, ("watchlists", index, "notify"))
        errors += _unknown_sources(watchlist.get("sources"), data, file_urls, index)
    ops = data.get("ops")
    if isinstance(ops, dict):
        errors += _unknown_channels(ops.get("notify"), known, ("ops", "notify"))
    return errors


def _unknown_channels(
    notify: Any, known: list[str] | None, path: KeyPath
) -> list[tuple[KeyPath, str]]:
    if known is None or not isinstance(notify, list):
        return []
    listed = ", ".join(known) or "none are defined"
    return [
        ((*path, position), f"unknown channel {channel!r}; expected one of the channels: {listed}")
        for position, channel in enumerate(map(_text, notify))
        if channel is not None and channel not in known
    ]


def _unknown_sources(
    sources: Any, data: Mapping[str, Any], file_urls: Mapping[int, str] | None, index: int
) -> list[tuple[KeyPath, str]]:
    """A feed or tag in `sources` that no feed has would silently watch nothing (or exclude
    nothing): a typo, most likely. Feeds are named by `name` or URL."""
    if not isinstance(sources, dict):
        return []
    # Each feed's names (name, URL) and tags.
    feeds: list[tuple[set[str], set[str]]] = []
    for position, feed in _entries(data.get("feeds")):
        feed_names = {value for key in ("name", "url") if (value := _text(feed.get(key)))}
        if position in (file_urls or {}):
            feed_names.add((file_urls or {})[position])
        feed_tags = set()
        if isinstance(feed.get("tags"), list):
            feed_tags = {tag for tag in map(_text, feed["tags"]) if tag is not None}
        feeds.append((feed_names, feed_tags))
    names = set().union(*(feed_names for feed_names, _ in feeds))
    tags = set().union(*(feed_tags for _, feed_tags in feeds))
    expected = {
        "feed": "expected the name or URL of one of the feeds",
        "tag": f"expected a tag that some feed has: {', '.join(sorted(tags)) or 'none has one'}",
    }
    errors: list[tuple[KeyPath, str]] = []
    for key, known, kind in (
        ("feeds", names, "feed"),
        ("exclude_feeds", names, "feed"),
        ("tags", tags, "tag"),
        ("exclude_tags", tags, "tag"),
    ):
        listed = sources.get(key)
        if not isinstance(listed, list):
            continue
        errors.extend(
            (
                ("watchlists", index, "sources", key, position),
                f"unknown {kind} {value!r}; {expected[kind]}",
            )
            for position, value in enumerate(map(_text, listed))
            if value is not None and value not in known
        )
    if not errors and feeds:
        errors += _no_feed_left(sources, feeds, index)
    return errors


def _no_feed_left(
    sources: dict[str, Any], feeds: list[tuple[set[str], set[str]]], index: int
) -> list[tuple[KeyPath, str]]:
    """Sources that leave out every feed (`tags: [x]` with `exclude_tags: [x]`) would silently
    watch nothing, as an unknown tag would."""
    try:
        spec = SourcesSpec.model_validate(sources)
    except ValidationError:
        return []  # the schema's to say
    if any(spec.refusal("", feed_names, feed_tags) is None for feed_names, feed_tags in feeds):
        return []
    return [
        (
            ("watchlists", index, "sources"),
            "these sources leave out every feed, so the watchlist would watch nothing",
        )
    ]


def _entries(section: Any) -> list[tuple[int, dict[str, Any]]]:
    """The mappings of a list section with their index; anything else is the schema's to say."""
    if not isinstance(section, list):
        return []
    return [(index, entry) for index, entry in enumerate(section) if isinstance(entry, dict)]


def _text(value: Any) -> str | None:
    # The schema strips whitespace from every string: compare as it will.
    return value.strip() if isinstance(value, str) and value.strip() else None
