import textwrap
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import tzlocal

import monitor.config
from monitor.cli import CONFIG_CHECKS, main
from monitor.config import ConfigError, LoadedConfig, summarize
from monitor.config.schema import Rate


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> LoadedConfig:
    """The loader as the commands run it, with the checks of the layers above."""
    return monitor.config.load_config(path, environ, checks=CONFIG_CHECKS)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def errors_of(path: Path, environ: dict[str, str] | None = None) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ or {})
    assert str(caught.value) == "\n".join(caught.value.errors)
    return caught.value.errors


CHANNELS = """
        channels:
          desk:
            url: json://127.0.0.1:9/
          redaction:
            url: json://127.0.0.1:9/
        """

# (yaml, expected error line without the "{file}:" prefix); each YAML has exactly one problem.
ONE_PROBLEM = {
    "unknown top-level key": (
        """
        database: sqlite:///monitor.db
        watchlist:
          - name: otan
        """,
        "2: watchlist: unknown key; expected one of: database, timezone, state_dir, log_format, "
        "max_age, poll_tick, feeds, channels, fetch, delivery, dedup, ops, watchlists, http, "
        "include, watchlists_dir (did you mean 'watchlists'?)",
    ),
    "bad duration": (
        """
        feeds:
          - url: https://example.org/rss
            interval: 5x
        """,
        "3: feeds[0].interval: expected a duration such as 30s, 10m, 2h or 7d, got '5x'",
    ),
    "unknown channel in notify": (
        CHANNELS
        + """
        watchlists:
          - name: otan
            notify:
              - desk
              - desk2
            terms: [OTAN]
        """,
        "11: watchlists[0].notify[1]: unknown channel 'desk2'; "
        "expected one of the channels: desk, redaction",
    ),
    "feed without url": (
        """
        feeds:
          - url: https://example.org/rss
          - name: Exemple
            interval: 5m
        """,
        "3: feeds[1]: expected exactly one of 'url' or 'url_file'",
    ),
    "text instead of a list": (
        CHANNELS
        + """
        watchlists:
          - name: otan
            notify: desk
            terms: [OTAN]
        """,
        "9: watchlists[0].notify: expected a list, got 'desk' (write ['desk'] for a list of one)",
    ),
    "mapping instead of a list": (
        "feeds: {url: https://example.org/rss}\n",
        "1: feeds: expected a list, got a mapping",
    ),
    "not a boolean": (
        "fetch:\n  allow_private_networks: maybe\n",
        "2: fetch.allow_private_networks: expected true or false, got 'maybe'",
    ),
    "not a number": (
        "fetch:\n  max_body_bytes: lots\n",
        "2: fetch.max_body_bytes: expected a whole number, got 'lots'",
    ),
    "empty duration": (
        "max_age:\n",
        "1: max_age: expected a duration such as 30s, 10m, 2h or 7d, got an empty value",
    ),
    "list instead of a term": (
        "watchlists:\n  - name: otan\n    terms:\n      - [OTAN]\n",
        "4: watchlists[0].terms[0]: expected a term: text, or a mapping with 'term', got a list",
    ),
    "channel with both url and url_file": (
        "channels:\n  desk:\n    url: json://127.0.0.1:9/\n    url_file: secret\n",
        "2: channels.desk: expected exactly one of 'url' or 'url_file'",
    ),
    "watchlist name used twice": (
        "watchlists:\n  - name: a\n    terms: [x]\n  - name: a\n    terms: [y]\n",
        "4: watchlists[1].name: watchlist name 'a' is used twice",
    ),
    "duplicate key": (
        "watchlists:\n  - name: a\n    terms: [x]\n    name: b\n",
        "4: watchlists[0].name: duplicate key; first given on line 2",
    ),
    "YAML syntax error": (
        "feeds:\n  - url: https://example.org/rss\n   interval: 5m\n",
        "3: invalid YAML: expected <block end>, but found '<block mapping start>' "
        "(while parsing a block collection on line 2)",
    ),
    "top level is a list": (
        "- database\n",
        "1: expected a mapping of settings (key: value) at the top level",
    ),
    "control character": ("database: a\x07\n", "1: invalid YAML: character #x0007 is not allowed"),
    "unsupported tag": ("database: !secret db\n", "1: database: unsupported YAML tag '!secret'"),
    "query error": (
        """
        watchlists:
          - name: peskov
            terms: [Peskov]
            query: Peskov NEAR/ Kremlin
        """,
        "4: watchlists[0].query: position 8: expected a number after NEAR/ (e.g. NEAR/5)",
    ),
    "query error counts from the quote": (
        "watchlists:\n  - name: a\n    query: '  (Otan OR NATO'\n",
        "3: watchlists[0].query: position 3: expected ) to close this (",
    ),
    "query of a block scalar": (
        """
        watchlists:
          - name: otan
            query: >
              Stoltenberg AND Ukraine
              OR NOT Kyiv
        """,
        "3: watchlists[0].query: position 28: the query can hold without any of its words "
        "occurring; add a positive term (NOT only removes matches)",
    ),
    "blank query": (
        "watchlists:\n  - name: a\n    terms: [x]\n    query: '  '\n",
        "4: watchlists[0].query: expected a query",
    ),
    "query that is not text": (
        "watchlists:\n  - name: a\n    query: [a, b]\n",
        "3: watchlists[0].query: expected text, got a list",
    ),
    "watchlist with neither terms nor query": (
        "watchlists:\n  - name: a\n    exclude: [x]\n",
        "2: watchlists[0]: expected at least one of 'terms' and 'query'",
    ),
    "fuzzy too large": (
        "watchlists:\n  - name: a\n    terms:\n      - term: Peskov\n        fuzzy: 3\n",
        "5: watchlists[0].terms[0].fuzzy: expected 0, 1 or 2 (edits per word) or translit, got '3'",
    ),
    "fuzzy negative": (
        "watchlists:\n  - name: a\n    terms:\n      - term: Peskov\n        fuzzy: -1\n",
        "5: watchlists[0].terms[0].fuzzy: expected 0, 1 or 2 (edits per word) or translit,"
        " got '-1'",
    ),
    "fuzzy misspelt": (
        "watchlists:\n  - name: a\n    terms:\n      - term: Peskov\n"
        "        fuzzy: transliteration\n",
        "5: watchlists[0].terms[0].fuzzy: expected 0, 1 or 2 (edits per word) or translit,"
        " got 'transliteration'",
    ),
    "alias fuzzy bad": (
        "watchlists:\n  - name: a\n    terms:\n      - term: Dmitri Peskov\n"
        "        aliases: [{alias: Peskov, fuzzy: yes}]\n",
        "5: watchlists[0].terms[0].aliases[0].fuzzy: expected 0, 1 or 2 (edits per word) or"
        " translit, got 'yes'",
    ),
    "alias without its text": (
        "watchlists:\n  - name: a\n    terms:\n      - term: Dmitri Peskov\n"
        "        aliases: [{fuzzy: 0}]\n",
        "5: watchlists[0].terms[0].aliases[0]: missing required key 'alias'",
    ),
}


@pytest.mark.parametrize(("text", "expected"), ONE_PROBLEM.values(), ids=ONE_PROBLEM.keys())
def test_one_problem_is_reported_with_file_line_and_key_path(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "monitor.yaml", text)
    assert errors_of(path) == (f"{path}:{expected}",)


def channel(*lines: str, url: str = "json://127.0.0.1:9/") -> str:
    """A file with one channel `desk`: its url, then `lines` (the first on line 4)."""
    return "\n".join(
        ["channels:", "  desk:", f"    url: {url}", *(f"    {line}" for line in lines)]
    )


# The delivery policy's keys (docs/design.md §6): each YAML has exactly one problem.
DELIVERY_PROBLEMS = {
    "timezone not IANA": (
        "timezone: Paris\n",
        "1: timezone: expected an IANA timezone name such as Europe/Paris, got 'Paris'",
    ),
    "timezone a folder": (
        "timezone: Europe\n",
        "1: timezone: expected an IANA timezone name such as Europe/Paris, got 'Europe'",
    ),
    "timezone a path": (
        "timezone: ../../etc/passwd\n",
        "1: timezone: expected an IANA timezone name such as Europe/Paris, got '../../etc/passwd'",
    ),
    "timezone empty": (
        "timezone: ''\n",
        "1: timezone: expected an IANA timezone name such as Europe/Paris, got ''",
    ),
    "digest not a mapping": (
        channel("digest: 30m"),
        "4: channels.desk.digest: expected a mapping such as {every: 1h} or "
        '{at: ["08:00", "17:30"]}, got \'30m\'',
    ),
    "digest with both": (
        channel('digest: {every: 1h, at: ["08:00"]}'),
        "4: channels.desk.digest: expected exactly one of 'every' or 'at'",
    ),
    "digest with neither": (
        channel("digest: {}"),
        "4: channels.desk.digest: expected exactly one of 'every' or 'at'",
    ),
    "digest unknown key": (
        channel("digest:", "  evry: 1h"),
        "5: channels.desk.digest.evry: unknown key; expected one of: every, at "
        "(did you mean 'every'?)",
    ),
    "digest every too short": (
        channel("digest: {every: 30s}"),
        "4: channels.desk.digest.every: expected a duration from 1m to 1d, got '30s'",
    ),
    "digest every too long": (
        channel("digest: {every: 2d}"),
        "4: channels.desk.digest.every: expected a duration from 1m to 1d, got '2d'",
    ),
    "digest every not a duration": (
        channel("digest: {every: hourly}"),
        "4: channels.desk.digest.every: expected a duration such as 30s, 10m, 2h or 7d, "
        "got 'hourly'",
    ),
    "digest at not a list": (
        channel('digest: {at: "08:00"}'),
        "4: channels.desk.digest.at: expected a list, got '08:00' (write ['08:00'] for a list "
        "of one)",
    ),
    "digest at empty": (
        channel("digest: {at: []}"),
        "4: channels.desk.digest.at: expected a list of at least one time of day such as 08:00",
    ),
    "digest at hour 24": (
        channel("digest:", "  at:", '    - "08:00"', '    - "24:00"'),
        "7: channels.desk.digest.at[1]: expected a time of day HH:MM (24-hour) such as 08:00 "
        "or 17:30, got '24:00'",
    ),
    "digest at without minutes": (
        channel("digest: {at: [8h]}"),
        "4: channels.desk.digest.at[0]: expected a time of day HH:MM (24-hour) such as 08:00 "
        "or 17:30, got '8h'",
    ),
    "digest at minute 60": (
        channel('digest: {at: ["07:60"]}'),
        "4: channels.desk.digest.at[0]: expected a time of day HH:MM (24-hour) such as 08:00 "
        "or 17:30, got '07:60'",
    ),
    "quiet hours not a mapping": (
        channel('quiet_hours: "22:00-07:00"'),
        '4: channels.desk.quiet_hours: expected a mapping such as {from: "22:00", '
        "to: \"07:00\"}, got '22:00-07:00'",
    ),
    "quiet hours from equals to": (
        channel('quiet_hours: {from: "22:00", to: "22:00"}'),
        "4: channels.desk.quiet_hours: expected 'from' and 'to' to differ, got 22:00 for both",
    ),
    "quiet hours without to": (
        channel('quiet_hours: {from: "22:00"}'),
        "4: channels.desk.quiet_hours: missing required key 'to'",
    ),
    "quiet hours bad time": (
        channel("quiet_hours:", '  from: "22:00"', "  to: 7h"),
        "6: channels.desk.quiet_hours.to: expected a time of day HH:MM (24-hour) such as "
        "08:00 or 17:30, got '7h'",
    ),
    "quiet hours empty from": (
        channel("quiet_hours:", "  from:", '  to: "07:00"'),
        "5: channels.desk.quiet_hours.from: expected a time of day HH:MM (24-hour) such as "
        "08:00 or 17:30, got an empty value",
    ),
    "quiet hours unknown key": (
        channel("quiet_hours:", '  from: "22:00"', '  to: "07:00"', '  until: "08:00"'),
        "7: channels.desk.quiet_hours.until: unknown key; expected one of: from, to",
    ),
    "rate limit zero": (
        channel("rate_limit: 0/min"),
        "4: channels.desk.rate_limit: expected at least 1 message per period, got '0/min'",
    ),
    "rate limit per day": (
        channel("rate_limit: 20/day"),
        "4: channels.desk.rate_limit: expected a rate such as 20/min (a number of messages "
        "per s, min or h), got '20/day'",
    ),
    "rate limit in words": (
        channel("rate_limit: 20 per minute"),
        "4: channels.desk.rate_limit: expected a rate such as 20/min (a number of messages "
        "per s, min or h), got '20 per minute'",
    ),
    "rate limit a bare number": (
        channel("rate_limit: 20"),
        "4: channels.desk.rate_limit: expected a rate such as 20/min (a number of messages "
        "per s, min or h), got '20'",
    ),
    "rate limit a mapping": (
        channel("rate_limit: {count: 20, period: 1m}"),
        "4: channels.desk.rate_limit: expected a rate such as 20/min (a number of messages "
        "per s, min or h), got a mapping",
    ),
    "urgent not a boolean": (
        "watchlists:\n  - name: otan\n    terms: [OTAN]\n    urgent: very\n",
        "4: watchlists[0].urgent: expected true or false, got 'very'",
    ),
}


@pytest.mark.parametrize(
    ("text", "expected"), DELIVERY_PROBLEMS.values(), ids=DELIVERY_PROBLEMS.keys()
)
def test_delivery_policy_problems_name_file_line_and_key_path(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "monitor.yaml", text)
    assert errors_of(path) == (f"{path}:{expected}",)


def test_a_delivery_policy_loads(tmp_path: Path) -> None:
    text = """
    timezone: Europe/Paris
    channels:
      desk:
        url: json://127.0.0.1:9/
        digest: {every: 90m}
        quiet_hours: {from: "22:00", to: "07:00"}
        rate_limit: 20/min
      redaction:
        url: json://127.0.0.1:9/
        digest:
          at: ["17:30", "8:00", "08:00", "00:00"]
        rate_limit: 3 / Hour
      plain:
        url: json://127.0.0.1:9/
    watchlists:
      - name: otan
        urgent: yes
        terms: [OTAN]
      - name: sport
        terms: [football]
    """
    config = load_config(write(tmp_path, "monitor.yaml", text), {}).config
    assert config.timezone == "Europe/Paris"
    assert config.zone() == ZoneInfo("Europe/Paris")
    desk, redaction, plain = (config.channels[name] for name in ("desk", "redaction", "plain"))
    assert desk.digest is not None and desk.digest.every == timedelta(minutes=90)
    assert desk.digest.at is None
    assert desk.quiet_hours is not None
    assert (desk.quiet_hours.start, desk.quiet_hours.end) == (time(22), time(7))
    assert desk.rate_limit == Rate(count=20, period=timedelta(minutes=1))
    # Sorted, each once.
    assert redaction.digest is not None
    assert redaction.digest.at == (time(0), time(8), time(17, 30))
    assert redaction.rate_limit == Rate(count=3, period=timedelta(hours=1))
    assert (plain.digest, plain.quiet_hours, plain.rate_limit) == (None, None, None)
    assert [watchlist.urgent for watchlist in config.watchlists] == [True, False]


@pytest.mark.parametrize(
    ("written", "count", "period"),
    [
        ("1/s", 1, timedelta(seconds=1)),
        ("1/second", 1, timedelta(seconds=1)),
        ("20/min", 20, timedelta(minutes=1)),
        ("20/minute", 20, timedelta(minutes=1)),
        ("100/h", 100, timedelta(hours=1)),
        ("100/hour", 100, timedelta(hours=1)),
        ("5 / MIN", 5, timedelta(minutes=1)),
    ],
)
def test_rate_limit_forms(tmp_path: Path, written: str, count: int, period: timedelta) -> None:
    path = write(tmp_path, "monitor.yaml", channel(f"rate_limit: {written}"))
    assert load_config(path, {}).config.channels["desk"].rate_limit == Rate(
        count=count, period=period
    )


def test_fuzzy_translit_and_per_alias_fuzzy(tmp_path: Path) -> None:
    """docs/design.md §4 rule 9: `fuzzy` is 0-2 or translit, on a term or on one alias; an
    alias without its own inherits the term's, and a plain string alias is still an alias."""
    path = write(
        tmp_path,
        "monitor.yaml",
        """
        watchlists:
          - name: kremlin
            terms:
              - term: Dmitri Peskov
                fuzzy: translit
                aliases: [Peskov, {alias: Peskow, fuzzy: 0}, {alias: Dmitry Peskov, fuzzy: "1"}]
        """,
    )
    (term,) = load_config(path, {}).config.watchlists[0].terms
    assert term.fuzzy == "translit"
    assert term.alias_names() == ("Peskov", "Peskow", "Dmitry Peskov")
    assert term.spellings() == ("Dmitri Peskov", "Peskov", "Peskow", "Dmitry Peskov")
    assert term.fuzzy_spellings() == (
        ("Dmitri Peskov", "translit"),
        ("Peskov", "translit"),
        ("Peskow", 0),
        ("Dmitry Peskov", 1),
    )


def test_without_timezone_the_machine_zone_is_used(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "monitor.yaml", "feeds: []\n"), {}).config
    assert config.timezone is None
    assert str(config.zone()) == (tzlocal.get_localzone_name() or "UTC")


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "monitor.yaml",
        """
        feeds:
          - url: ftp://example.org/rss
            interval: 0s
          - name: no url
          - url: http://example.org:99999/rss
        colour: blue
        """,
    )
    assert errors_of(path) == (
        f"{path}:2: feeds[0].url: expected an http:// or https:// URL, got 'ftp://example.org/rss'",
        f"{path}:3: feeds[0].interval: expected a duration of at least 1s",
        f"{path}:4: feeds[1]: expected exactly one of 'url' or 'url_file'",
        f"{path}:5: feeds[2].url: expected a port from 1 to 65535 in the URL, got "
        "'http://example.org:99999/rss'",
        f"{path}:6: colour: unknown key; expected one of: database, timezone, state_dir, "
        "log_format, max_age, poll_tick, feeds, channels, fetch, delivery, dedup, ops, watchlists, "
        "http, include, watchlists_dir",
    )


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_bytes("feeds: []\n# café\n".encode("latin-1"))
    assert errors_of(path) == (f"{path}:2: invalid YAML: not UTF-8 text",)


def test_missing_file_cannot_be_read(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert errors_of(path) == (f"{path}: cannot read: No such file or directory",)


@pytest.mark.parametrize("text", ["", "# nothing configured yet\n", "---\n"])
def test_an_empty_file_is_an_empty_config(tmp_path: Path, text: str) -> None:
    loaded = load_config(write(tmp_path, "monitor.yaml", text), {})
    assert loaded.config.feeds == ()
    assert loaded.config.watchlists == ()
    assert loaded.config.max_age == timedelta(days=2)


def test_scalars_stay_text_where_the_schema_wants_text(tmp_path: Path) -> None:
    # YAML 1.1 would read `no` as false and `1.10` as 1.1.
    text = """
    feeds:
      - url: https://example.no/rss
        language: no
    watchlists:
      - name: versions
        terms: [1.10, 2024]
        exclude:
          - term: on
            case_sensitive: yes
    """
    config = load_config(write(tmp_path, "monitor.yaml", text), {}).config
    assert config.feeds[0].language == "no"
    assert [term.term for term in config.watchlists[0].terms] == ["1.10", "2024"]
    assert config.watchlists[0].exclude[0].term == "on"
    assert config.watchlists[0].exclude[0].case_sensitive is True


def test_anchors_and_merge_keys_share_settings(tmp_path: Path) -> None:
    text = """
    watchlists:
      - &base
        name: a
        fields: [title]
        terms: [x]
      - <<: *base
        name: b
    """
    config = load_config(write(tmp_path, "monitor.yaml", text), {}).config
    assert [(w.name, w.fields, w.terms[0].term) for w in config.watchlists] == [
        ("a", ("title",), "x"),
        ("b", ("title",), "x"),
    ]


def test_an_alias_to_itself_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "monitor.yaml", "watchlists: &loop\n  - *loop\n")
    # An alias has no node of its own: the line is the anchor's.
    assert errors_of(path) == (f"{path}:1: watchlists[0]: an alias refers back to itself",)


def test_environment_variables_are_substituted_in_strings(tmp_path: Path) -> None:
    text = """
    channels:
      redaction:
        url: mailtos://veille:${SMTP_PASSWORD}@smtp.example.org?to=veille@example.org
    feeds:
      - url: https://example.org/rss
        name: "$${NOT_A_VARIABLE} ${FEED_NAME}"
        interval: ${INTERVAL}
    """
    environ = {"SMTP_PASSWORD": "pa%40ss$1", "FEED_NAME": "x\ninjected: true", "INTERVAL": "5m"}
    config = load_config(write(tmp_path, "monitor.yaml", text), environ).config
    assert config.channels["redaction"].url == (
        "mailtos://veille:pa%40ss$1@smtp.example.org?to=veille@example.org"
    )
    # Substitution happens after parsing: a value can never add keys.
    assert config.feeds[0].name == "${NOT_A_VARIABLE} x\ninjected: true"
    assert config.feeds[0].interval == timedelta(minutes=5)


def test_an_undefined_environment_variable_is_an_error(tmp_path: Path) -> None:
    text = """
    channels:
      redaction:
        url: mailtos://veille:${SMTP_PASSWORD}@smtp.example.org
    """
    path = write(tmp_path, "monitor.yaml", text)
    assert errors_of(path) == (
        f"{path}:3: channels.redaction.url: environment variable 'SMTP_PASSWORD' is not set",
    )


def test_the_process_environment_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_TEST_DB", "sqlite:////var/lib/monitor/monitor.db")
    path = write(tmp_path, "monitor.yaml", "database: ${MONITOR_TEST_DB}\n")
    assert load_config(str(path)).config.database == "sqlite:////var/lib/monitor/monitor.db"


def test_an_undefined_variable_in_an_included_file_names_that_file(tmp_path: Path) -> None:
    included = write(tmp_path, "extra.yaml", "- name: a\n  terms:\n    - ${TERM}\n")
    path = write(tmp_path, "monitor.yaml", "include: [extra.yaml]\n")
    assert errors_of(path) == (
        f"{included}:3: watchlists[0].terms[0]: environment variable 'TERM' is not set",
    )


def test_errors_show_the_variable_not_its_secret_value(tmp_path: Path) -> None:
    path = write(tmp_path, "monitor.yaml", "feeds:\n  - url: ${PRIVATE_FEED}\n")
    errors = errors_of(path, {"PRIVATE_FEED": "ftp://reader:s3cret@example.org/feed"})
    assert errors == (
        f"{path}:2: feeds[0].url: expected an http:// or https:// URL, got '${{PRIVATE_FEED}}'",
    )


def test_url_file_is_read_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "credentials/slack_url", "https://hooks.slack.com/services/T1/B2/abc\n\n")
    path = write(
        tmp_path,
        "monitor.yaml",
        "channels:\n  desk:\n    url_file: credentials/slack_url\n",
    )
    monkeypatch.chdir("/")
    desk = load_config(path, {}).config.channels["desk"]
    assert desk.url == "https://hooks.slack.com/services/T1/B2/abc"
    assert desk.url_file == "credentials/slack_url"


def test_url_file_path_may_come_from_the_environment(tmp_path: Path) -> None:
    # systemd passes LoadCredential= files through $CREDENTIALS_DIRECTORY.
    write(tmp_path, "run/desk_url", "json://127.0.0.1:9/")
    path = write(
        tmp_path,
        "etc/monitor.yaml",
        "channels:\n  desk:\n    url_file: ${CREDENTIALS_DIRECTORY}/desk_url\n",
    )
    loaded = load_config(path, {"CREDENTIALS_DIRECTORY": str(tmp_path / "run")})
    assert loaded.config.channels["desk"].url == "json://127.0.0.1:9/"


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "cannot read '{file}': No such file or directory"),
        ("\n", "'{file}' is empty; expected an Apprise URL"),
    ],
    ids=["missing", "empty"],
)
def test_url_file_problems_name_the_channel(
    tmp_path: Path, secret: str | None, message: str
) -> None:
    if secret is not None:
        write(tmp_path, "slack_url", secret)
    path = write(tmp_path, "monitor.yaml", "channels:\n  desk:\n    url_file: slack_url\n")
    expected = message.format(file=tmp_path / "slack_url")
    assert errors_of(path) == (f"{path}:3: channels.desk.url_file: {expected}",)


def included_setup(tmp_path: Path) -> Path:
    write(
        tmp_path,
        "lists/otan.yaml",
        """
        - name: otan
          terms: [OTAN]
        - name: peskov
          terms: [Peskov]
        """,
    )
    write(
        tmp_path,
        "watchlists.d/20-sport.yml",
        "watchlists:\n  - name: sport\n    terms: [football]\n",
    )
    write(tmp_path, "watchlists.d/10-climat.yaml", "- name: climat\n  terms: [GIEC]\n")
    write(tmp_path, "watchlists.d/notes.txt", "not a watchlist")
    write(tmp_path, "watchlists.d/.10-climat.yaml.swp", "not a watchlist")
    return write(
        tmp_path,
        "monitor.yaml",
        """
        include: [lists/otan.yaml]
        watchlists_dir: watchlists.d
        watchlists:
          - name: main
            terms: [x]
        """,
    )


def test_included_watchlists_are_appended_in_order(tmp_path: Path) -> None:
    loaded = load_config(included_setup(tmp_path), {})
    names = [watchlist.name for watchlist in loaded.config.watchlists]
    assert names == ["main", "otan", "peskov", "climat", "sport"]
    assert loaded.source_files == (
        tmp_path / "monitor.yaml",
        tmp_path / "lists/otan.yaml",
        tmp_path / "watchlists.d/10-climat.yaml",
        tmp_path / "watchlists.d/20-sport.yml",
    )


def test_errors_inside_included_files_name_that_file_and_line(tmp_path: Path) -> None:
    path = included_setup(tmp_path)
    otan = write(
        tmp_path,
        "lists/otan.yaml",
        """
        - name: otan
          terms: [OTAN]
        - name: peskov
          term: [Peskov]
        """,
    )
    sport = write(
        tmp_path,
        "watchlists.d/20-sport.yml",
        "watchlists:\n  - name: sport\n    terms: [football]\n    fields: [body]\n",
    )
    assert errors_of(path) == (
        f"{otan}:4: watchlists[1].term: unknown key; expected one of: name, notify, terms, "
        "query, exclude, fields, sources, languages, urgent (did you mean 'terms'?)",
        f"{sport}:4: watchlists[0].fields: expected a list of title, summary, content; "
        "got ['body']",
    )


def test_cross_file_errors_point_into_the_included_file(tmp_path: Path) -> None:
    path = included_setup(tmp_path)
    climat = write(tmp_path, "watchlists.d/10-climat.yaml", "- name: main\n  terms: [GIEC]\n")
    sport = write(
        tmp_path,
        "watchlists.d/20-sport.yml",
        "watchlists:\n  - name: sport\n    terms: [football]\n    notify: [nowhere]\n",
    )
    assert errors_of(path) == (
        f"{climat}:1: watchlists[0].name: watchlist name 'main' is used twice",
        f"{sport}:4: watchlists[0].notify[0]: unknown channel 'nowhere'; "
        "expected one of the channels: none are defined",
    )


@pytest.mark.parametrize(
    ("included", "expected"),
    [
        ("- name: a\n  terms: [x\n", "{inc}:3: invalid YAML: "),
        ("name: a\nwatchlists: []\n", "{inc}:1: name: unknown key; expected one of: watchlists"),
        ("watchlists: {name: a}\n", "{inc}:1: watchlists: expected a list of watchlists"),
        (None, "{main}:1: include[0]: cannot read '{inc}': No such file or directory"),
    ],
    ids=["syntax", "unknown key", "not a list", "missing"],
)
def test_included_file_problems(tmp_path: Path, included: str | None, expected: str) -> None:
    inc = tmp_path / "extra.yaml"
    if included is not None:
        write(tmp_path, "extra.yaml", included)
    main = write(tmp_path, "monitor.yaml", "include: [extra.yaml]\n")
    errors = errors_of(main)
    assert len(errors) == 1
    assert errors[0].startswith(expected.format(main=main, inc=inc))


def test_watchlists_dir_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path, "monitor.yaml", "feeds: []\nwatchlists_dir: lists\n")
    assert errors_of(path) == (
        f"{path}:2: watchlists_dir: cannot read directory '{tmp_path / 'lists'}': "
        "No such file or directory",
    )


FULL_EXAMPLE = """
database: sqlite:///monitor.db          # default: monitor.db in the state directory
feeds:
  - url: https://www.example.fr/international/rss.xml
    name: Exemple International
    interval: 5m                         # default 10m
    language: fr
    tags: [presse-fr]
channels:
  redaction:
    url: mailtos://veille:${SMTP_PASSWORD}@smtp.example.org?to=veille@example.org
  desk:
    url_file: slack_url
fetch:
  allow_private_networks: false          # loopback, private and link-local refused unless true
watchlists:
  - name: otan
    notify: [redaction, desk]
    terms:                               # the watchlist fires if ANY term matches ...
      - term: OTAN
        aliases: [NATO, "Alliance atlantique", "Organisation du traité de l'Atlantique nord"]
      - "zone d'exclusion aérienne"
      - term: Dmitri Peskov
        aliases: [Peskov]
        fuzzy: 1
      - term: Poutine
        case_sensitive: true
    query: 'Stoltenberg AND (Ukraine OR Kyiv)'   # ... or if this query holds
    exclude: [football]                  # ... unless any of these matches
    fields: [title, summary, content]    # default: all three
"""


def load_full_example(tmp_path: Path) -> LoadedConfig:
    write(tmp_path, "slack_url", "https://hooks.slack.com/services/T1234/B5678/abcdefSECRETxyz\n")
    path = write(tmp_path, "monitor.yaml", FULL_EXAMPLE)
    return load_config(path, {"SMTP_PASSWORD": "hunter2-secret"})


def test_the_full_example_loads(tmp_path: Path) -> None:
    loaded = load_full_example(tmp_path)
    config = loaded.config
    assert loaded.path == tmp_path / "monitor.yaml"
    assert loaded.source_files == (tmp_path / "monitor.yaml",)
    assert config.database == "sqlite:///monitor.db"
    (feed,) = config.feeds
    assert (feed.name, feed.interval, feed.language, feed.tags) == (
        "Exemple International",
        timedelta(minutes=5),
        "fr",
        ("presse-fr",),
    )
    assert config.fetch.allow_private_networks is False
    (otan,) = config.watchlists
    assert otan.notify == ("redaction", "desk")
    assert [term.term for term in otan.terms] == [
        "OTAN",
        "zone d'exclusion aérienne",
        "Dmitri Peskov",
        "Poutine",
    ]
    assert otan.terms[0].aliases[2].alias == "Organisation du traité de l'Atlantique nord"
    assert otan.terms[3].case_sensitive is True
    assert [term.fuzzy for term in otan.terms] == [0, 0, 1, 0]
    assert otan.query == "Stoltenberg AND (Ukraine OR Kyiv)"
    assert [term.term for term in otan.exclude] == ["football"]
    assert "hunter2-secret" in (config.channels["redaction"].url or "")


def test_summary_names_everything_and_prints_no_secret(tmp_path: Path) -> None:
    loaded = load_full_example(tmp_path)
    text = "\n".join(summarize(loaded))
    assert "hunter2-secret" not in text
    assert "SECRET" not in text
    assert f"Configuration: {tmp_path / 'monitor.yaml'}" in text
    assert "Database: sqlite:///monitor.db" in text
    assert "1 feed, 2 channels, 1 watchlist" in text
    assert "  feed Exemple International: every 5m" in text
    assert "  channel redaction: mailtos://veille:****@smtp.example.org" in text
    assert "  channel desk: slack://" in text
    assert "  watchlist otan: 4 terms and a query -> redaction, desk" in text


@pytest.mark.parametrize(
    ("database", "channel_url", "shown"),
    [
        (
            "postgresql://monitor:db-secret@127.0.0.1/monitor",
            "mailtos://veille:mail-secret@smtp.example.org?to=a@example.org",
            "mailtos://veille:****@smtp.example.org",
        ),
        ("sqlite:///monitor.db", "console://", "console://"),
    ],
)
def test_summary_hides_passwords(
    tmp_path: Path, database: str, channel_url: str, shown: str
) -> None:
    text = f"database: {database}\nchannels:\n  mail:\n    url: {channel_url}\n"
    loaded = load_config(write(tmp_path, "monitor.yaml", text), {})
    summary = "\n".join(summarize(loaded))
    assert "secret" not in summary
    assert f"  channel mail: {shown}" in summary


def test_an_unusable_apprise_url_is_an_error_that_hides_the_secret(tmp_path: Path) -> None:
    text = "channels:\n  mail:\n    url: mailtos://veille:mail-secret\n"
    path = write(tmp_path, "monitor.yaml", text)
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:3: channels.mail.url: not a usable Apprise URL (mailtos://…)")
    assert "secret" not in error


def test_a_summary_without_the_commands_checks_shows_urls_by_their_scheme_only(
    tmp_path: Path,
) -> None:
    # Without the checks of the layers above, nothing tells which parts of a URL are secret.
    text = """
        feeds:
          - url: https://reader:hunter2@example.org/rss?token=hunter2
        channels:
          mail:
            url: mailtos://user:hunter2@smtp.example.org
    """
    loaded = monitor.config.load_config(write(tmp_path, "monitor.yaml", text), {})
    summary = summarize(loaded)
    assert "  feed https://…: every 10m" in summary
    assert "  channel mail: mailtos://…" in summary
    assert "hunter2" not in "\n".join(summary)


POLICY_EXAMPLE = """
timezone: Europe/Paris
channels:
  desk:
    url_file: slack_url
    digest: {every: 1h}
    quiet_hours: {from: "22:00", to: "07:00"}
    rate_limit: 20/min
  groups:
    url: tgram://123456789:abcdefSECRETxyz/-100123456/987654
    digest: {at: ["17:30", "08:00"]}
  chat:
    url: tgram://123456789:abcdefSECRETxyz/987654
    quiet_hours: {from: "23:30", to: "06:00"}
  mail:
    url: mailtos://veille:hunter2-secret@smtp.example.org?to=veille@example.org
watchlists:
  - name: otan
    urgent: true
    terms: [OTAN]
  - name: sport
    notify: [mail]
    terms: [football]
"""


def test_check_config_shows_each_channel_policy_and_the_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "slack_url", "https://hooks.slack.com/services/T1234/B5678/abcdefSECRETxyz\n")
    path = write(tmp_path, "monitor.yaml", POLICY_EXAMPLE)
    assert main(["--config", str(path), "check-config"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "Timezone: Europe/Paris" in lines
    policies = {
        line.split(":")[0].strip(): line.partition(" — ")[2]
        for line in lines
        if line.startswith("  channel ")
    }
    assert policies == {
        # Set, not defaulted: the Slack default (1/s) gives way.
        "channel desk": "digest every 1h, quiet 22:00–07:00 Europe/Paris, at most 20/min",
        # A Telegram group among the chats: the group limit.
        "channel groups": "digest at 08:00 and 17:30 Europe/Paris, at most 20/min",
        "channel chat": "each alert at once, quiet 23:30–06:00 Europe/Paris, at most 1/s",
        "channel mail": "each alert at once",
    }
    urgent = (
        "  watchlist otan: 1 term -> chat, desk, groups, mail (urgent: no quiet hours, no digest)"
    )
    assert urgent in lines
    assert "  watchlist sport: 1 term -> mail" in lines
    assert "SECRET" not in "\n".join(lines) and "hunter2" not in "\n".join(lines)


def test_the_summary_names_the_machine_zone_when_none_is_set(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, "monitor.yaml", "feeds: []\n"), {})
    zone = tzlocal.get_localzone_name() or "UTC"
    assert f"Timezone: {zone} (the machine's)" in summarize(loaded)


def test_a_summary_without_a_policy_describer_shows_no_policy(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, "monitor.yaml", channel("digest: {every: 1h}")), {})
    (line,) = [line for line in summarize(loaded) if line.startswith("  channel desk: ")]
    assert "—" not in line and "digest" not in line
