"""Command line (docs/design.md §7): argument parsing, loading the configuration with the
checks of the layers above it, and output formatting.

Exit codes: 0 success, 1 runtime failure, 2 invalid usage or configuration; `feeds --check`
has those of a Nagios plugin (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor import logs
from monitor.config import ConfigChecks, ConfigError, LoadedConfig, load_config
from monitor.config.summary import summarize
from monitor.store import DatabaseError

if TYPE_CHECKING:
    from monitor.config.schema import Config
    from monitor.daemon.runtime import Runtime

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

log = logging.getLogger("monitor")


def _query_error(query: str) -> str | None:
    from monitor.match.query import QueryError, parse_query

    try:
        parse_query(query)
    except QueryError as error:
        return f"position {error.position + 1}: {error.message}"
    return None


def _apprise_url_valid(url: str) -> bool:
    from monitor.notify import valid_apprise_url  # Apprise is slow to import: only when asked

    return valid_apprise_url(url)


def _private_apprise_url(url: str) -> str:
    from monitor.notify import privacy_url

    return privacy_url(url)


def _redact_url(url: str) -> str:
    from monitor.feeds import redact_url

    return redact_url(url)


def _fulltext_available() -> bool:
    from monitor.feeds import fulltext_available

    return fulltext_available()


# Every command loads the configuration with these, and a reload (SIGHUP) makes them again.
CONFIG_CHECKS = ConfigChecks(
    query_error=_query_error,
    apprise_url_valid=_apprise_url_valid,
    private_apprise_url=_private_apprise_url,
    fulltext_available=_fulltext_available,
    redact_url=_redact_url,
)


def _default_config() -> str:
    return os.environ.get("MONITOR_CONFIG") or "monitor.yaml"


CONFIG_HELP = "configuration file (default: $MONITOR_CONFIG, then ./monitor.yaml)"


def _common_options() -> argparse.ArgumentParser:
    """`--config` and `-v` as every command takes them after its name too. SUPPRESS: given
    there, they replace the value given before the name; not given, they leave it alone."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, metavar="PATH", help=CONFIG_HELP)
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug details"
    )
    return common


class _Commands:
    """The subparsers, each made with the common options."""

    def __init__(self, parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
        self.commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
        self.common = common

    def add_parser(self, name: str, **options: Any) -> argparse.ArgumentParser:
        return self.commands.add_parser(name, parents=[self.common], **options)


class _ShowVersion(argparse.Action):
    """`--version`: the installed package's, read only when asked (importlib.metadata is not
    free, and every command builds this parser)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings,
            dest=argparse.SUPPRESS,
            default=argparse.SUPPRESS,
            nargs=0,
            help="print the installed version and whether its engine is compiled, and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib import metadata

        try:
            version = metadata.version("monitor")
        except metadata.PackageNotFoundError:  # a source tree that was never installed
            version = "(version unknown: not installed)"
        from monitor.compiled import engine_state

        # On stdout, as argparse's own version action prints; the second line tells whether the
        # install compiled the engine (setup.py), which makes matching faster.
        print(f"monitor {version}\n{engine_state()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor", description="Media-monitoring alert daemon for RSS/Atom feeds."
    )
    parser.add_argument("--config", default=None, metavar="PATH", help=CONFIG_HELP)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--version", action=_ShowVersion)
    common = _common_options()
    commands = _Commands(parser, common)
    commands.add_parser("run", help="run the daemon")
    commands.add_parser(
        "demo",
        help="see it work: the daemon for a few seconds on sample feeds served on loopback,"
        " alerts on the console (no configuration, no network)",
    )
    poll = commands.add_parser("poll", help="one polling pass, then deliver what is due")
    poll.add_argument(
        "--once", action="store_true", help="poll once and exit (what `poll` does anyway)"
    )
    poll.add_argument("--all", action="store_true", help="poll every feed, due or not")
    commands.add_parser("check-config", help="validate the configuration and summarise it")
    commands.add_parser(
        "config-schema",
        help="print the JSON Schema of the configuration, for editors (no configuration read)",
    )
    database = commands.add_parser("db", help="database maintenance")
    database_commands = database.add_subparsers(dest="db_command", required=True)
    database_commands.add_parser(
        "upgrade", parents=[common], help="apply pending schema migrations"
    )
    commands.add_parser(
        "match", help="match JSON Lines items from stdin against the watchlists (no DB, no network)"
    )
    commands.add_parser(
        "dedup", help="cluster JSON Lines items from stdin into stories, in arrival order"
    )
    explain = commands.add_parser(
        "explain", help="say, for every watchlist, why an item does or does not match"
    )
    explain.add_argument(
        "--item", type=int, metavar="ID", help="a stored item (default: JSON Lines on stdin)"
    )
    explain.add_argument("--json", action="store_true", help="one JSON object per item")
    test_alert = commands.add_parser(
        "test-alert", help="send a sample alert to a channel and say whether it arrived"
    )
    test_alert.add_argument(
        "channel", metavar="CHANNEL", help="a channel name of the configuration"
    )
    replay = commands.add_parser(
        "replay",
        help="the backtest: the alerts the watchlists would have sent for stored or given items",
    )
    replay.add_argument(
        "input",
        nargs="?",
        metavar="FILE",
        help="JSON Lines items to replay ('-': stdin); default: the stored items",
    )
    replay.add_argument(
        "--since",
        type=_duration,
        metavar="SPAN",
        help="stored items first seen in the last SPAN (default 30d)",
    )
    replay.add_argument("--watchlist", metavar="W", help="only this watchlist")
    replay.add_argument("--json", action="store_true", help="one JSON object per alert")
    stories = commands.add_parser("stories", help="list stored stories, newest first")
    _listing_arguments(stories, "story")
    listed_items = commands.add_parser(
        "items", help="list stored items, newest first (the ids `explain --item` takes)"
    )
    _listing_arguments(listed_items, "item")
    alerts = commands.add_parser(
        "alerts", help="list stored alerts and their deliveries, newest first"
    )
    _listing_arguments(alerts, "alert")
    alerts.add_argument(
        "--status",
        choices=("pending", "sent", "failed"),
        help="only alerts with a delivery in this state (pending: also those being sent)",
    )
    alerts.add_argument(
        "--message",
        type=int,
        metavar="ID",
        help="the alerts one message carried (a digest names its id); no other filter",
    )
    resend = commands.add_parser("resend", help="deliver a stored alert again, now")
    resend.add_argument("alert", type=int, metavar="ALERT_ID", help="an id `monitor alerts` shows")
    resend.add_argument(
        "--channel", metavar="C", help="only to this channel (default: every channel it has)"
    )
    feeds = commands.add_parser("feeds", help="how polling goes for each configured feed")
    feeds_output = feeds.add_mutually_exclusive_group()
    feeds_output.add_argument("--json", action="store_true", help="one JSON object per feed")
    feeds_output.add_argument(
        "--export-opml", action="store_true", help="the configured feeds as an OPML file"
    )
    feeds_output.add_argument(
        "--check",
        action="store_true",
        help="one line, exit 0 all ok, 1 some failing or stale, 2 none ok or no poll for long,"
        " 3 unknown (cron, Nagios)",
    )
    feeds.add_argument(
        "--include-secrets",
        action="store_true",
        help="with --export-opml: feed URLs as configured, passwords and tokens included"
        " (default: masked)",
    )
    return parser


def _duration(value: str) -> timedelta:
    from monitor.config.schema import parse_duration

    try:
        return parse_duration(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


def _listing_arguments(command: argparse.ArgumentParser, noun: str) -> None:
    command.add_argument(
        "--since", type=_duration, metavar="SPAN", help="only the last SPAN (30m, 12h, 2d)"
    )
    command.add_argument("--watchlist", metavar="W", help="only those watchlist W alerted on")
    command.add_argument("--feed", metavar="F", help="only those of a feed (its name or URL)")
    command.add_argument(
        "--limit", type=_positive, metavar="N", help="at most N, newest first (default 50)"
    )
    command.add_argument("--json", action="store_true", help=f"one JSON object per {noun}")


def configure_logging(verbose: bool, log_format: logs.LogFormat = "text") -> None:
    logs.configure_logging(logging.DEBUG if verbose else logging.INFO, log_format)
    # Per-request lines from httpx and Apprise's own chatter would drown the one-event-a-line log.
    # urllib3's (under Apprise, through requests) name the request's path, a webhook's secret;
    # the warnings left are cut to no path (monitor/notify/apprise_log.py).
    for noisy in ("httpx", "httpcore", "urllib3", "requests", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # A failed send is logged once, by the dispatcher, with the reason classified from what
    # Apprise logged (monitor/notify/apprise_log.py reads its records whatever this level);
    # Apprise's own warning about it would say the same thing less clearly.
    logging.getLogger("apprise").setLevel(logging.ERROR)


# What a shell reports for a process SIGPIPE ended (128 + 13), as `yes | head -1` does.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; a reader that leaves early (`monitor items | head -1`) ends it quietly
    with EXIT_BROKEN_PIPE, as SIGPIPE ends other tools, but after our own clean-up ran."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # what is still buffered meets the closed pipe here, not at exit
    except BrokenPipeError:
        # Python flushes stdout again as it exits: point it at /dev/null so that flush neither
        # fails nor prints "Exception ignored ... BrokenPipeError".
        devnull = os.open(os.devnull, os.O_WRONLY)
        with suppress(OSError, ValueError):  # a stdout with no file behind it (a test's)
            os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_BROKEN_PIPE
    return status


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "replay" and args.input is not None and args.since is not None:
        parser.error("replay --since reads stored items: give it no FILE")
    if args.command == "alerts" and args.message is not None:
        given = [
            flag
            for flag in ("since", "watchlist", "feed", "limit", "status")
            if getattr(args, flag)
        ]
        if given:
            parser.error(f"alerts --message takes no other filter (given: --{', --'.join(given)})")
    if args.command == "feeds" and args.include_secrets and not args.export_opml:
        parser.error("feeds --include-secrets goes with --export-opml")
    if args.command == "demo" and args.config is not None:
        parser.error("demo runs on its own sample configuration: it takes no --config")
    configure_logging(args.verbose)
    if args.command == "demo":
        return _demo(verbose=args.verbose)
    if args.command == "config-schema":
        from monitor.config.json_schema import config_json_schema

        print(json.dumps(config_json_schema(), indent=2, ensure_ascii=False))
        return EXIT_OK
    config_path = Path(args.config or _default_config())
    if args.command == "dedup" and args.config is None and not config_path.exists():
        # Story folding needs no configuration: without one, the default thresholds.
        from monitor.offline import run_dedup

        return run_dedup(sys.stdin, sys.stdout, sys.stderr)
    checking = args.command == "feeds" and args.check
    if not config_path.exists():
        message = _no_config_file(config_path, given=args.config is not None)
        return _unknown(message) if checking else _error(message, EXIT_USAGE)
    try:
        loaded = load_config(config_path, checks=CONFIG_CHECKS)
    except ConfigError as error:
        return _unknown("; ".join(error.errors)) if checking else _error(str(error), EXIT_USAGE)
    configure_logging(args.verbose, loaded.config.log_format)
    try:
        return _dispatch(args, loaded)
    except DatabaseError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except UnicodeDecodeError:  # items read from a file or stdin
        print("error: the input is not UTF-8 text", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_FAILURE


def _error(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def _unknown(message: str) -> int:
    """`feeds --check` could not tell: Nagios's UNKNOWN, the error in one line on stdout,
    which is what a plugin's caller shows."""
    from monitor.daemon.health import CHECK_UNKNOWN

    print(f"UNKNOWN: {message.removeprefix('error: ')}")
    return CHECK_UNKNOWN


def _no_config_file(path: Path, *, given: bool) -> str:
    """Where the missing file's name came from, and the ways to name another."""
    if given:
        source = "given by --config"
    elif os.environ.get("MONITOR_CONFIG"):
        source = "named by $MONITOR_CONFIG"
    else:
        source = "the default when neither --config nor $MONITOR_CONFIG names one"
    return (
        f"error: no configuration file at {path} ({source}); name one with"
        " `monitor --config PATH COMMAND` or MONITOR_CONFIG=PATH"
    )


def _dispatch(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    if args.command == "check-config":
        from monitor.notify.policy import describe_channel_policy

        for line in summarize(loaded, describe_channel_policy):
            print(line)
        return EXIT_OK
    if args.command in ("match", "explain"):
        return _offline(args, loaded)
    if args.command == "test-alert":
        return _test_alert(loaded, args.channel)
    if args.command == "replay":
        return _replay(args, loaded)
    if args.command == "dedup":
        from monitor.dedup.decide import Thresholds
        from monitor.offline import run_dedup

        return run_dedup(sys.stdin, sys.stdout, sys.stderr, Thresholds.of(loaded.config.dedup))
    if args.command == "feeds" and args.check:
        return _feeds_check(loaded.config)
    from monitor.daemon.runtime import build_runtime  # the daemon's imports cost start-up time

    runtime = build_runtime(loaded)
    if args.command == "db":
        return _db_upgrade(runtime)
    if args.command == "feeds":
        return _feeds(
            runtime,
            as_json=args.json,
            as_opml=args.export_opml,
            include_secrets=args.include_secrets,
        )
    if args.command == "alerts" and args.message is not None:
        return _alerts(runtime, args.message, as_json=args.json)
    if args.command in ("stories", "items", "alerts"):
        return _listing(runtime, args)
    if args.command == "resend":
        return _resend(runtime, args.alert, args.channel)
    if args.command == "poll":
        from monitor.daemon.once import poll_once

        return poll_once(runtime, all_feeds=args.all, out=sys.stdout)
    if args.command == "run":
        import asyncio

        from monitor.daemon.http import ListenError
        from monitor.daemon.service import Service

        try:
            asyncio.run(Service(runtime).run())
        except ListenError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_FAILURE
        return EXIT_OK
    raise AssertionError(args.command)


def _db_upgrade(runtime: Runtime) -> int:
    from monitor.store import upgrade_applied

    applied = upgrade_applied(runtime.engine)
    done = f"applied {', '.join(applied)}" if applied else "nothing to apply"
    print(f"{done}; database is up to date")
    return EXIT_OK


def _demo(*, verbose: bool) -> int:
    """The daemon on sample feeds; its own configuration, in a temporary folder."""
    try:
        from monitor.demo import run_demo  # the daemon's imports take a moment: Ctrl-C then too

        return run_demo(CONFIG_CHECKS, sys.stdout, sys.stderr, verbose=verbose)
    except KeyboardInterrupt:
        print("monitor demo stopped", file=sys.stderr)
        return EXIT_FAILURE


def _test_alert(loaded: LoadedConfig, name: str) -> int:
    """A sample alert through the channel's real path; the outcome in one line. No database."""
    channel = loaded.config.channels.get(name)
    if channel is None or channel.url is None:
        known = ", ".join(sorted(loaded.config.channels)) or "none"
        print(f"error: no channel {name!r} in {loaded.path} (channels: {known})", file=sys.stderr)
        return EXIT_USAGE
    from monitor.notify import AppriseSender
    from monitor.pipeline import outcome_line, send_sample_alert

    sender = AppriseSender()
    outcome = send_sample_alert(sender, channel.url, datetime.now(UTC), loaded.config.zone())
    # The privacy form keeps a webhook's path: a `${NAME}` in it is shown as written.
    print(loaded.mask(outcome_line(name, sender.privacy_url(channel.url), outcome)))
    return EXIT_OK if outcome.ok else EXIT_FAILURE


def _feeds_check(config: Config) -> int:
    """`feeds --check`: the verdict of docs/design.md §7 in one line, for cron and Nagios. It
    reads as `replay` does: the database opened read-only, at this version's schema, never
    created or migrated (by whoever runs the check); one it cannot read is UNKNOWN."""
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.daemon.health import FeedLimits, check_verdict
    from monitor.daemon.runtime import database_error_line, database_url
    from monitor.store import feed_health, reading

    try:
        with reading(database_url(config)) as connection:
            found = feed_health(connection, [feed.url for feed in config.feeds])
    except DatabaseError as error:
        return _unknown(str(error))
    except SQLAlchemyError as error:  # read past the schema check: a damaged file, say
        return _unknown(database_error_line(error))
    code, line = check_verdict(found, FeedLimits.of(config), datetime.now(UTC))
    print(line)
    return code


def _feeds(runtime: Runtime, *, as_json: bool, as_opml: bool, include_secrets: bool) -> int:
    from monitor.config.opml import ExportedFeed, write_opml
    from monitor.daemon.health import FeedLimits, health_json, health_table
    from monitor.feeds import redact_url
    from monitor.store import feed_health, upgrade

    upgrade(runtime.engine)
    configured = runtime.config.feeds
    with runtime.engine.connect() as connection:
        found = feed_health(connection, [feed.url for feed in configured])
    if as_opml:
        exported = [
            ExportedFeed(
                spec.url if include_secrets else redact_url(spec.url),
                spec.name or health.title,
                spec.tags,
            )
            for spec, health in zip(configured, found, strict=True)
        ]
        sys.stdout.write(write_opml(exported))
    elif as_json:
        for feed in found:
            print(json.dumps(health_json(feed), ensure_ascii=False))
    else:
        for line in health_table(found, FeedLimits.of(runtime.config), runtime.clock()):
            print(line)
    return EXIT_OK


def _alerts(runtime: Runtime, message_id: int, *, as_json: bool) -> int:
    from monitor.daemon.listing import carried_alert_json, carried_alerts_table
    from monitor.store import message_alerts, upgrade

    upgrade(runtime.engine)
    with runtime.engine.connect() as connection:
        carried = message_alerts(connection, message_id)
    if not carried:
        print(f"error: no message with id {message_id} carried any alert", file=sys.stderr)
        return EXIT_FAILURE
    if as_json:
        for alert in carried:
            print(json.dumps(carried_alert_json(alert), ensure_ascii=False))
    else:
        for line in carried_alerts_table(carried, runtime.config.zone()):
            print(line)
    return EXIT_OK


def _listing(runtime: Runtime, args: argparse.Namespace) -> int:
    from monitor.daemon.listing import listing_lines
    from monitor.store import ListingFilter, find_feeds, upgrade

    upgrade(runtime.engine)
    zone = runtime.config.zone()
    with runtime.engine.connect() as connection:
        feed_ids = None if args.feed is None else find_feeds(connection, args.feed)
        if feed_ids == ():
            print(f"error: no feed named or at {args.feed!r}", file=sys.stderr)
            return EXIT_USAGE
        narrowed = ListingFilter(
            since=None if args.since is None else runtime.clock() - args.since,
            watchlist=args.watchlist,
            feed_ids=feed_ids,
            limit=args.limit or 50,
        )
        lines = listing_lines(
            connection,
            args.command,
            narrowed,
            zone,
            status=getattr(args, "status", None),
            as_json=args.json,
        )
    for line in lines:
        print(line)
    return EXIT_OK


def _replay(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    """The backtest. It reads and never writes: stored items come from the database opened
    read-only, at this version's schema (never migrated here, a running daemon may use it)."""
    config = loaded.config
    if args.watchlist is not None and args.watchlist not in {w.name for w in config.watchlists}:
        known = ", ".join(sorted(w.name for w in config.watchlists)) or "none"
        print(
            f"error: no watchlist {args.watchlist!r} in {loaded.path} (watchlists: {known})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        if args.input is not None:
            return _replay_file(args.input, config, watchlist=args.watchlist, as_json=args.json)
        return _replay_stored(args, config)
    except KeyboardInterrupt:
        print("monitor replay stopped", file=sys.stderr)
        return EXIT_FAILURE


def _replay_stored(args: argparse.Namespace, config: Config) -> int:
    from monitor.daemon.replay import replay_stored
    from monitor.daemon.replay_fold import two_cores
    from monitor.daemon.runtime import database_url
    from monitor.store import reading

    try:
        since: datetime | None = datetime.now(UTC) - (args.since or timedelta(days=30))
    except OverflowError:  # a span longer than the calendar: every stored item
        since = None
    with reading(database_url(config)) as connection:
        return replay_stored(
            connection,
            config,
            sys.stdout,
            since=since,
            watchlist=args.watchlist,
            as_json=args.json,
            parallel=two_cores(),
        )


def _replay_file(name: str, config: Config, *, watchlist: str | None, as_json: bool) -> int:
    from monitor.daemon.replay import replay_stream

    if name == "-":
        return replay_stream(
            config, sys.stdin, sys.stdout, sys.stderr, watchlist=watchlist, as_json=as_json
        )
    try:
        source = open(name, encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as error:
        print(f"error: cannot read {name}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    with source:
        # Outside the `except OSError` above: a reader gone (BrokenPipeError) is main's to end.
        return replay_stream(
            config, source, sys.stdout, sys.stderr, watchlist=watchlist, as_json=as_json, name=name
        )


def _resend(runtime: Runtime, alert_id: int, channel: str | None) -> int:
    from monitor.daemon.resend import UnknownTarget, all_sent, resend_alert

    try:
        outcomes = resend_alert(runtime, alert_id, channel)
    except UnknownTarget as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    for outcome in outcomes:
        print(outcome.line)
    return EXIT_OK if all_sent(outcomes) else EXIT_FAILURE


def _offline(args: argparse.Namespace, loaded: LoadedConfig) -> int:
    from monitor.daemon.automaton_cache import FileAutomatonCache
    from monitor.match import ConfiguredFeeds, compile_watchlists
    from monitor.offline import run_explain, run_match, write_stored_explanation

    matcher = compile_watchlists(loaded.config.watchlists, cache=FileAutomatonCache())
    feeds = ConfiguredFeeds(loaded.config.feeds)
    if args.command == "match":
        return run_match(matcher, sys.stdin, sys.stdout, sys.stderr, feeds)
    if args.item is None:
        return run_explain(
            matcher, sys.stdin, sys.stdout, sys.stderr, as_json=args.json, feeds=feeds
        )
    from monitor.daemon.runtime import build_runtime
    from monitor.store import stored_item, story_alerts, upgrade

    runtime = build_runtime(loaded)
    upgrade(runtime.engine)
    with runtime.engine.connect() as connection:
        item = stored_item(connection, args.item)
        alerted = {} if item is None else story_alerts(connection, item.story_id)
    if item is None:
        print(f"error: no stored item with id {args.item}", file=sys.stderr)
        return EXIT_FAILURE
    write_stored_explanation(matcher, loaded.config, item, alerted, sys.stdout, as_json=args.json)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
