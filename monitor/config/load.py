"""Load monitor.yaml: YAML with lines, `${ENV}`, `url_file:` secrets, included watchlist files,
validation, and every problem reported as `{file}:{line}: {key.path}: {message}`.

Included files (`include:` and `watchlists_dir:`) add watchlists after those of the main file:
first the `include:` files in the order listed, then the `*.yaml`/`*.yml` files of
`watchlists_dir` sorted by name. An error inside an included file names that file and line, and
its key path counts from that file's first watchlist (`watchlists[0]` is the first watchlist of
that file), because that is what the reader of that file sees.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor.config.checks import SCHEMA_ONLY, ConfigChecks
from monitor.config.env import Expansion, expand_tree, mask_values
from monitor.config.errors import ConfigError, Problem
from monitor.config.messages import describe_error
from monitor.config.references import reference_errors
from monitor.config.schema import ChannelSpec, Config, FeedSpec, KeyPath, check_feed_url
from monitor.config.yaml_lines import ParsedYaml, YamlSyntaxError, parse_yaml
from monitor.gc_pause import paused_gc

# Keys the loader consumes itself; the schema never sees them.
LOADER_KEYS = ("include", "watchlists_dir")


@dataclass(frozen=True)
class LoadedConfig:
    """A valid configuration, the files it was read from (for reload change detection), the
    checks it passed (a reload makes the same) and the values `${NAME}` stood for, which may be
    secrets: what is printed or logged about the configuration goes through `mask`."""

    config: Config
    path: Path
    source_files: tuple[Path, ...]
    checks: ConfigChecks = SCHEMA_ONLY
    expanded_values: tuple[tuple[str, str], ...] = ()  # (value, `${NAME}`)

    def mask(self, text: str) -> str:
        """`text` with every value a `${NAME}` stood for shown as `${NAME}`."""
        return mask_values(text, self.expanded_values)


def load_config(
    path: str | Path,
    environ: Mapping[str, str] | None = None,
    *,
    checks: ConfigChecks = SCHEMA_ONLY,
) -> LoadedConfig:
    """Read and validate a configuration file. Raises ConfigError listing every problem.

    `checks` come from the layers above (the commands load through `monitor.cli`, which gives
    them all); without them, queries, Apprise URLs and the full-text extra go unchecked."""
    with paused_gc():
        return _Loading(Path(path), os.environ if environ is None else environ, checks).run()


def _watchlist_path(path: KeyPath, prefix: KeyPath) -> tuple[int, KeyPath] | None:
    """`path` inside the list of watchlists found at `prefix`, as (index, rest of the path);
    None when `path` is not inside one watchlist."""
    index = path[len(prefix) : len(prefix) + 1]
    if path[: len(prefix)] != prefix or not index or not isinstance(index[0], int):
        return None
    return index[0], path[len(prefix) + 1 :]


_OPML_KEYS = frozenset({"opml", "interval", "language", "tags"})


def _is_opml(entry: Any) -> bool:
    return isinstance(entry, dict) and "opml" in entry


@dataclass(frozen=True)
class _Location:
    file: Path
    line: int
    shown: KeyPath  # the key path as the reader of `file` sees it


class _Loading:
    """One load: collects located problems instead of stopping at the first."""

    def __init__(self, main: Path, environ: Mapping[str, str], checks: ConfigChecks) -> None:
        self.main = main
        self.checks = checks
        self.base_dir = main.parent
        self.environ = environ
        self.locations: dict[KeyPath, _Location] = {}  # key path in the merged data -> origin
        self.problems: list[Problem] = []
        self.flagged: set[KeyPath] = set()  # paths already reported; validation stays quiet there
        self.expansion = Expansion()
        self.source_files: list[Path] = [main]
        self.url_files: dict[str, str] = {}  # channel name -> URL read from its url_file
        self.feed_url_files: dict[int, str] = {}  # feed index -> URL read from its url_file

    def run(self) -> LoadedConfig:
        parsed = self._parse(self.main)
        if parsed is None:
            raise ConfigError(problem.render() for problem in self.problems)
        for path, line in parsed.lines.items():
            self.locations[path] = _Location(self.main, line, path)
        self._report_main_parse_problems(parsed)
        data = parsed.data if parsed.data is not None else {}
        if not isinstance(data, dict):
            self._report((), "expected a mapping of settings (key: value) at the top level")
            raise ConfigError(problem.render() for problem in self.problems)
        data = self._expand(data, ())
        extra_files = self._included_files(data)
        self._merge_watchlists(data, extra_files)
        self._import_opml(data)
        self._read_url_files(data)
        config = self._validate(data)
        if self.problems or config is None:
            order = {file: index for index, file in enumerate(self.source_files)}
            self.problems.sort(key=lambda problem: (order.get(problem.file, 0), problem.line or 0))
            raise ConfigError(self._masked(problem.render()) for problem in self.problems)
        config = self._with_url_files(config)
        values = tuple(self.expansion.values.items())
        return LoadedConfig(config, self.main, tuple(self.source_files), self.checks, values)

    # -- reading ---------------------------------------------------------------------------

    def _parse(self, file: Path, cited_at: KeyPath | None = None) -> ParsedYaml | None:
        """Parse one file; on failure report it (at `cited_at` for an included file) -> None."""
        try:
            raw = file.read_bytes()
        except OSError as error:
            reason = error.strerror or str(error)
            if cited_at is None:
                self.problems.append(Problem(file, None, (), f"cannot read: {reason}"))
            else:
                self._report(cited_at, f"cannot read {str(file)!r}: {reason}")
            return None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = raw.count(b"\n", 0, error.start) + 1
            self.problems.append(Problem(file, line, (), "invalid YAML: not UTF-8 text"))
            return None
        try:
            return parse_yaml(text)
        except YamlSyntaxError as error:
            self.problems.append(Problem(file, error.line, (), f"invalid YAML: {error.problem}"))
            return None

    def _report_main_parse_problems(self, parsed: ParsedYaml) -> None:
        for path, line, message in parsed.problems:
            self.flagged.add(path)
            self.problems.append(Problem(self.main, line, path, message))

    def _expand(self, value: Any, path: KeyPath) -> Any:
        before = len(self.expansion.problems)
        expanded = expand_tree(value, path, self.environ, self.expansion)
        for problem_path, message in self.expansion.problems[before:]:
            self._report(problem_path, message)
        return expanded

    # -- included watchlist files ------------------------------------------------------------

    def _included_files(self, data: dict[str, Any]) -> list[tuple[Path, KeyPath]]:
        """Pop the loader's own keys; return each file to include with the key that named it."""
        files: list[tuple[Path, KeyPath]] = []
        include = data.pop("include", None)
        if isinstance(include, str):
            include = [include]
        if isinstance(include, list):
            for index, name in enumerate(include):
                if isinstance(name, str) and name:
                    files.append((self.base_dir / name, ("include", index)))
                else:
                    self._report(("include", index), "expected a file name")
        elif include is not None:
            self._report(("include",), "expected a list of file names")
        directory = data.pop("watchlists_dir", None)
        if isinstance(directory, str) and directory:
            files += [(file, ("watchlists_dir",)) for file in self._list_dir(directory)]
        elif directory is not None:
            self._report(("watchlists_dir",), "expected a directory name")
        return files

    def _list_dir(self, directory: str) -> list[Path]:
        folder = self.base_dir / directory
        try:
            entries = list(folder.iterdir())
        except OSError as error:
            reason = error.strerror or str(error)
            self._report(("watchlists_dir",), f"cannot read directory {str(folder)!r}: {reason}")
            return []
        # Dot files are editor backups and lock files, not watchlists.
        chosen = [
            entry
            for entry in entries
            if entry.suffix in (".yaml", ".yml") and not entry.name.startswith(".")
        ]
        return sorted(chosen, key=lambda entry: entry.name)

    def _merge_watchlists(self, data: dict[str, Any], files: list[tuple[Path, KeyPath]]) -> None:
        if data.get("watchlists") is None:
            data["watchlists"] = []
        merged = data["watchlists"]
        seen = {self.main.resolve()}
        for file, cited_at in files:
            if file.resolve() in seen:  # listed twice, or both included and in the directory
                continue
            seen.add(file.resolve())
            self.source_files.append(file)
            if not isinstance(merged, list):  # the main file's own list is wrong: say only that
                self._watchlists_of(file, cited_at, base=0)
                continue
            base = len(merged)
            for index, entry in enumerate(self._watchlists_of(file, cited_at, base)):
                merged.append(self._expand(entry, ("watchlists", base + index)))

    def _watchlists_of(self, file: Path, cited_at: KeyPath, base: int) -> list[Any]:
        """The watchlists of an included file; their lines are recorded under the key paths they
        get in the merged list, starting at index `base`."""
        parsed = self._parse(file, cited_at)
        if parsed is None:
            return []
        data = parsed.data
        # Local key paths: `(0, ...)` in a bare list, `("watchlists", 0, ...)` in a mapping.
        prefix: KeyPath = ()
        if isinstance(data, dict):
            prefix = ("watchlists",)
            for key in data:
                if key != "watchlists":
                    message = "unknown key; expected one of: watchlists"
                    self.problems.append(Problem(file, parsed.lines[(key,)], (key,), message))
            data = data.get("watchlists")
        for path, line, message in parsed.problems:
            inside = _watchlist_path(path, prefix)
            if inside is not None:
                index, rest = inside
                self.flagged.add(("watchlists", base + index, *rest))
            shown = path if inside is None else ("watchlists", inside[0], *inside[1])
            self.problems.append(Problem(file, line, shown, message))
        if data is None:
            return []
        if not isinstance(data, list):
            line = parsed.lines.get(prefix, 1)
            self.problems.append(Problem(file, line, prefix, "expected a list of watchlists"))
            return []
        for path, line in parsed.lines.items():
            inside = _watchlist_path(path, prefix)
            if inside is not None:
                index, rest = inside
                shown = ("watchlists", index, *rest)
                self.locations[("watchlists", base + index, *rest)] = _Location(file, line, shown)
        return data

    # -- feeds imported from OPML ------------------------------------------------------------

    def _import_opml(self, data: dict[str, Any]) -> None:
        """Replace each `- opml: FILE` entry of `feeds` by the feeds of that file, with the
        entry's `interval`, `language` and `tags`. A feed listed explicitly, or by an earlier
        OPML entry, is not imported again. Errors in imported feeds point at the entry's line."""
        feeds = data.get("feeds")
        if not isinstance(feeds, list) or not any(_is_opml(entry) for entry in feeds):
            return
        listed = {entry.get("url") for entry in feeds if isinstance(entry, dict)}
        merged: list[Any] = []
        locations: dict[KeyPath, _Location] = {}
        for index, entry in enumerate(feeds):
            origin = {
                path[2:]: location
                for path, location in self.locations.items()
                if path[:2] == ("feeds", index)
            }
            if not _is_opml(entry):
                locations |= {("feeds", len(merged), *rest): at for rest, at in origin.items()}
                merged.append(entry)
                continue
            for feed in self._opml_feeds(entry, index):
                if feed["url"] in listed:
                    continue
                listed.add(feed["url"])
                if () in origin:
                    locations[("feeds", len(merged))] = origin[()]
                merged.append(feed)
        self.locations = {
            path: location
            for path, location in self.locations.items()
            if path[:1] != ("feeds",) or len(path) == 1
        } | locations
        data["feeds"] = merged

    def _opml_feeds(self, entry: dict[str, Any], index: int) -> list[dict[str, Any]]:
        # XML and its parsers only for a configuration that lists an OPML file.
        from monitor.config.opml import OpmlError, read_opml

        unknown = sorted(set(entry) - _OPML_KEYS)
        if unknown:
            expected = ", ".join(sorted(_OPML_KEYS))
            self._add(("feeds", index, unknown[0]), f"unknown key; expected one of: {expected}")
            return []
        name = entry["opml"]
        if not isinstance(name, str) or not name.strip():
            self._add(("feeds", index, "opml"), "expected the name of an OPML file")
            return []
        try:
            imported = read_opml(self.base_dir / name.strip())
        except OpmlError as error:
            self._add(("feeds", index, "opml"), str(error))
            return []
        tags = entry.get("tags") or []
        shared: dict[str, Any] = {
            key: entry[key] for key in ("interval", "language") if key in entry
        }
        return [
            {
                "url": feed.url,
                **({"name": feed.title} if feed.title else {}),
                **shared,
                "tags": [*tags, *feed.categories] if isinstance(tags, list) else tags,
            }
            for feed in imported
        ]

    # -- secrets from files ------------------------------------------------------------------

    def _read_url_files(self, data: dict[str, Any]) -> None:
        channels = data.get("channels")
        for name, channel in channels.items() if isinstance(channels, dict) else ():
            url = self._url_from_file(channel, ("channels", name, "url_file"), "an Apprise URL")
            if url is not None:
                self.url_files[name] = url
        feeds = data.get("feeds")
        for index, feed in enumerate(feeds if isinstance(feeds, list) else ()):
            url = self._url_from_file(feed, ("feeds", index, "url_file"), "a feed URL")
            if url is not None:
                self.feed_url_files[index] = url
                # A message that would echo the URL names its file instead.
                self.expansion.replaced.append((url, feed["url_file"]))

    def _url_from_file(self, entry: Any, where: KeyPath, expected: str) -> str | None:
        """The URL in the file an entry's `url_file` names, or None (a problem reported)."""
        if not isinstance(entry, dict) or not isinstance(entry.get("url_file"), str):
            return None
        if "url" in entry:  # the schema refuses both; reading the file would add nothing
            return None
        file = self.base_dir / entry["url_file"].strip()
        try:
            url: str = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = getattr(error, "strerror", None) or "not UTF-8 text"
            self._report(where, f"cannot read {str(file)!r}: {reason}")
            return None
        if not url:
            self._report(where, f"{str(file)!r} is empty; expected {expected}")
            return None
        return url

    def _with_feed_urls(self, config: Config) -> Config:
        """Feeds with `url_file` get the URL read from it, checked as an inline one is, before
        the checks that compare feeds (a URL listed twice)."""
        feeds = list(config.feeds)
        for index, url in self.feed_url_files.items():
            try:
                check_feed_url(url)
            except ValueError:  # its message would echo the secret URL
                file = config.feeds[index].url_file
                self._add(
                    ("feeds", index, "url_file"),
                    f"{file!r} holds no usable feed URL; expected an http:// or https:// URL",
                )
                continue
            feeds[index] = feeds[index].model_copy(update={"url": url})
        return config.model_copy(update={"feeds": tuple(feeds)})

    def _with_url_files(self, config: Config) -> Config:
        # The schema refuses `url` and `url_file` together in the YAML, so the URL read from the
        # file is set after validation; `url_file` stays as written, for the summary and reload.
        channels = {
            name: spec.model_copy(update={"url": self.url_files[name]})
            if name in self.url_files
            else spec
            for name, spec in config.channels.items()
        }
        return config.model_copy(update={"channels": channels})

    # -- validation --------------------------------------------------------------------------

    def _validate(self, data: dict[str, Any]) -> Config | None:
        config: Config | None = None
        invalid: list[KeyPath] = []  # where the schema found a problem
        try:
            config = Config.model_validate(data, context=self.checks)
        except ValidationError as error:
            for detail in error.errors(include_url=False):
                path, message = describe_error(detail, Config, LOADER_KEYS)
                invalid.append(path)
                if not self._quiet_at(path, []):
                    self._add(path, message)
        if config is not None:
            config = self._with_feed_urls(config)
        # The checks below do not need the whole configuration valid, so a schema error
        # reported above hides none of theirs elsewhere; where it was reported, they stay quiet.
        for path, message in reference_errors(data, self.feed_url_files):
            if not self._quiet_at(path, invalid):
                self._add(path, message)
        feeds, channels = self._valid_parts(config, data)
        self._check_fulltext(feeds, invalid)
        self._check_channel_urls(channels, invalid)
        return config

    def _quiet_at(self, path: KeyPath, invalid: list[KeyPath]) -> bool:
        """Whether a problem at `path` is already told: by the loader at it or above it, or by
        the schema at one of its keys (`watchlists[0].notify`, not the whole watchlist, whose
        "expected at least one of 'terms' and 'query'" leaves its channels worth checking)."""
        told = [*self.flagged, *(other for other in invalid if len(other) >= 3)]
        return any(path[: len(other)] == other for other in told)

    def _valid_parts(
        self, config: Config | None, data: dict[str, Any]
    ) -> tuple[list[tuple[int, FeedSpec]], dict[str, ChannelSpec]]:
        """The feeds (by index) and channels that validate, for the checks that need their
        values: all of them when the whole configuration did, else each that does alone."""
        if config is not None:
            return list(enumerate(config.feeds)), dict(config.channels)
        feeds: list[tuple[int, FeedSpec]] = []
        raw_feeds = data.get("feeds")
        for index, entry in enumerate(raw_feeds if isinstance(raw_feeds, list) else []):
            with suppress(ValidationError):
                feeds.append((index, FeedSpec.model_validate(entry, context=self.checks)))
        channels: dict[str, ChannelSpec] = {}
        raw_channels = data.get("channels")
        for name, entry in (raw_channels if isinstance(raw_channels, dict) else {}).items():
            with suppress(ValidationError):
                channels[name] = ChannelSpec.model_validate(entry, context=self.checks)
        return feeds, channels

    def _check_fulltext(self, feeds: list[tuple[int, FeedSpec]], invalid: list[KeyPath]) -> None:
        """`fulltext: true` needs an optional extra: say so now, not at the first new item."""
        wanting = [index for index, feed in feeds if feed.fulltext]
        if not wanting or self.checks.fulltext_available():
            return
        for index in wanting:
            path: KeyPath = ("feeds", index, "fulltext")
            if not self._quiet_at(path, invalid):
                self._add(
                    path, "needs the optional full-text extractor: pip install 'monitor[fulltext]'"
                )

    def _check_channel_urls(self, channels: dict[str, ChannelSpec], invalid: list[KeyPath]) -> None:
        """A channel URL Apprise cannot read would only fail at the first alert: refuse it now."""
        for name, channel in channels.items():
            url = self.url_files.get(name, channel.url)
            key = "url_file" if name in self.url_files else "url"
            path: KeyPath = ("channels", name, key)
            if url is None or self._quiet_at(path, invalid) or self.checks.apprise_url_valid(url):
                continue
            shown = self.checks.private_apprise_url(url)
            self._add(
                path,
                f"not a usable Apprise URL ({shown}); expected a service URL such as "
                "mailtos://user:password@smtp.example.org?to=alerts@example.org",
            )

    # -- reporting ---------------------------------------------------------------------------

    def _report(self, path: KeyPath, message: str) -> None:
        """Report a problem the loader found; validation stays quiet below `path`."""
        self.flagged.add(path)
        self._add(path, message)

    def _add(self, path: KeyPath, message: str) -> None:
        """Add a problem at a key path of the merged data, at the line it came from."""
        for length in range(len(path), -1, -1):
            origin = self.locations.get(path[:length])
            if origin is not None:
                shown = (*origin.shown, *path[length:])
                self.problems.append(Problem(origin.file, origin.line, shown, message))
                return
        self.problems.append(Problem(self.main, 1, path, message))

    def _masked(self, line: str) -> str:
        """Show `${VAR}` as written instead of the value it stood for, which may be secret:
        a whole value quoted as written, then each value inside any other text by its name."""
        for expanded, written in self.expansion.replaced:
            line = line.replace(repr(expanded), repr(written))
        return mask_values(line, self.expansion.values.items())
