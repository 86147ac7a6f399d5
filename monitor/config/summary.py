"""A short human summary of a loaded configuration, for `monitor check-config`.

Nothing secret is printed: channel URLs in Apprise's privacy form, database and feed URLs
without their passwords, a feed URL read from a file not at all, and every value a `${NAME}`
stood for as `${NAME}` (a privacy form keeps a webhook's path, a feed's path may hold a token).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, tzinfo

from monitor.config.load import LoadedConfig
from monitor.config.schema import ChannelSpec, Config, WatchlistSpec
from monitor.text.count import counted

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


# A channel's delivery policy in one phrase; the policy, with its defaults per kind of
# channel, belongs to `notify` (monitor.notify.policy.describe_channel_policy).
DescribePolicy = Callable[[ChannelSpec, tzinfo], str]


def summarize(loaded: LoadedConfig, describe_policy: DescribePolicy | None = None) -> list[str]:
    """The summary's lines; with `describe_policy`, each channel's line ends with its policy."""
    config, checks = loaded.config, loaded.checks
    lines = [f"Configuration: {loaded.path}"]
    lines += [f"  includes {file}" for file in loaded.source_files[1:]]
    database = private_database_url(config.database) if config.database else None
    lines.append(f"Database: {database or 'default (monitor.db in the state directory)'}")
    zone = config.zone()
    lines.append(f"Timezone: {zone}" + ("" if config.timezone else " (the machine's)"))
    lines.append(
        f"{counted(len(config.feeds), 'feed')}, {counted(len(config.channels), 'channel')}, "
        f"{counted(len(config.watchlists), 'watchlist')}"
    )
    for feed in config.feeds:
        label = feed.name or (f"(from {feed.url_file})" if feed.url_file else "")
        label = label or checks.redact_url(feed.url)
        lines.append(f"  feed {label}: every {format_duration(feed.interval)}")
    for name, channel in sorted(config.channels.items()):
        source = f" (from {channel.url_file})" if channel.url_file else ""
        # The query holds Apprise's generic defaults (retry, overflow, ...): noise in a summary.
        shown = checks.private_apprise_url(channel.url or "")
        policy = f" — {describe_policy(channel, zone)}" if describe_policy else ""
        lines.append(f"  channel {name}: {shown}{source}{policy}")
    for watchlist in config.watchlists:
        targets = ", ".join(config.channels_for(watchlist)) or "no channel"
        searches = [counted(len(watchlist.terms), "term")] if watchlist.terms else []
        searches += ["a query"] if watchlist.query else []
        urgent = " (urgent: no quiet hours, no digest)" if watchlist.urgent else ""
        lines.append(
            f"  watchlist {watchlist.name}: {' and '.join(searches)}{_scope(watchlist)}"
            f" -> {targets}{urgent}"
        )
    if config.http is not None:
        lines.append(f"Health and metrics: http://{config.http.listen}/healthz and /metrics")
    lines += [f"warning: {warning}" for warning in warnings(config)]
    return [loaded.mask(line) for line in lines]


def warnings(config: Config) -> list[str]:
    """What is valid but probably not meant; `check-config` prints these and the daemon logs
    them at start."""
    empty = [
        *(["no feeds: nothing will be polled"] if not config.feeds else []),
        *(["no watchlists: nothing will alert"] if not config.watchlists else []),
    ]
    return empty + [
        f"watchlist {watchlist.name!r} notifies no channel: its alerts are recorded, never sent"
        for watchlist in config.watchlists
        if not config.channels_for(watchlist)
    ]


def private_database_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        scheme, found, _ = url.partition("://")
        return f"{scheme}://…" if found else "(not a database URL)"


def format_duration(value: timedelta) -> str:
    """timedelta -> the config's own notation (`300s` -> `5m`)."""
    seconds = value.total_seconds()
    for unit, size in _UNITS:
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _scope(watchlist: WatchlistSpec) -> str:
    """`, in feeds tagged presse-fr; languages fr, en`: what a watchlist's scope leaves in."""
    parts = []
    sources = watchlist.sources
    if sources is not None:
        for key, label in (
            ("tags", "tags"),
            ("feeds", "feeds"),
            ("exclude_tags", "not tags"),
            ("exclude_feeds", "not feeds"),
        ):
            if values := getattr(sources, key):
                parts.append(f"{label} {', '.join(values)}")
    if watchlist.languages is not None:
        parts.append(f"languages {', '.join(watchlist.languages)}")
    return f" ({'; '.join(parts)})" if parts else ""
