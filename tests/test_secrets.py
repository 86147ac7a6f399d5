"""Secrets stay secret, part by part: `${NAME}` from systemd credentials, feed `url_file:`,
Apprise's own log lines, the OPML export, and the SQLite files' modes."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ConfigError, load_config
from monitor.notify import valid_apprise_url
from monitor.store import open_engine, upgrade
from monitor.store.database import DatabaseError

WATCHLIST = "watchlists:\n  - {name: otan, terms: [OTAN]}\n"


def errors_of(path: Path, environ: dict[str, str]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ)
    return tuple(raised.value.errors)


def test_a_credential_file_wins_over_the_environment(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "smtp_password").write_text("from-the-credential\n", encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "channels:\n  a: {url: 'json://veille:${smtp_password}@127.0.0.1:9/?k=${OTHER}'}\n"
        + WATCHLIST,
        encoding="utf-8",
    )
    environ = {
        "CREDENTIALS_DIRECTORY": str(credentials),
        "smtp_password": "from-the-environment",
        "OTHER": "plain",  # no credential of that name: the environment's
    }
    loaded = load_config(config, environ)
    assert loaded.config.channels["a"].url == (
        "json://veille:from-the-credential@127.0.0.1:9/?k=plain"
    )


def test_a_name_neither_credential_nor_variable_is_an_error_naming_both(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    config = tmp_path / "monitor.yaml"
    config.write_text("channels:\n  a: {url: 'json://u:${nowhere}@127.0.0.1:9/'}\n" + WATCHLIST)
    [error] = errors_of(config, {"CREDENTIALS_DIRECTORY": str(credentials)})
    assert error.endswith(
        "channels.a.url: 'nowhere' is neither a credential of the service nor an environment"
        " variable"
    )


def test_a_credential_value_never_shows_in_an_error(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "feed").write_text("ftp://example.org/rss?token=Cr3dSecret", encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds:\n  - url: '${feed}'\n" + WATCHLIST, encoding="utf-8")
    [error] = errors_of(config, {"CREDENTIALS_DIRECTORY": str(credentials)})
    assert "Cr3dSecret" not in error
    assert error.endswith("feeds[0].url: expected an http:// or https:// URL, got '${feed}'")


def test_a_feed_url_comes_from_its_url_file(tmp_path: Path) -> None:
    (tmp_path / "feed_url").write_text("https://example.org/rss?token=F33d\n", encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "feeds:\n  - url_file: feed_url\n    name: Privé\n" + WATCHLIST, encoding="utf-8"
    )
    [feed] = load_config(config, {}).config.feeds
    assert (feed.url, feed.url_file, feed.name) == (
        "https://example.org/rss?token=F33d",
        "feed_url",
        "Privé",
    )


@pytest.mark.parametrize(
    ("entry", "file_text", "expected"),
    [
        ("url_file: absent", None, "feeds[0].url_file: cannot read '{dir}/absent': No such file"),
        ("url_file: feed_url", "  \n", "feeds[0].url_file: '{dir}/feed_url' is empty"),
        (
            "url_file: feed_url",
            "ftp://example.org/rss?token=F33d",
            "feeds[0].url_file: 'feed_url' holds no usable feed URL; expected an http:// or"
            " https:// URL",
        ),
        (
            "{url: 'https://example.org/rss', url_file: feed_url}",
            "https://example.org/rss",
            "feeds[0]: expected exactly one of 'url' or 'url_file'",
        ),
    ],
    ids=["missing file", "empty file", "not http", "both"],
)
def test_a_feed_url_file_problem_is_one_line_without_the_url(
    tmp_path: Path, entry: str, file_text: str | None, expected: str
) -> None:
    if file_text is not None:
        (tmp_path / "feed_url").write_text(file_text, encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(f"feeds:\n  - {entry}\n" + WATCHLIST, encoding="utf-8")
    [error] = errors_of(config, {})
    assert expected.format(dir=tmp_path) in error
    assert "F33d" not in error


def test_a_feed_url_file_listed_twice_is_named_by_its_file(tmp_path: Path) -> None:
    (tmp_path / "feed_url").write_text("https://example.org/rss?token=F33d", encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "feeds:\n  - url_file: feed_url\n  - url: https://example.org/rss?token=F33d\n" + WATCHLIST,
        encoding="utf-8",
    )
    [error] = errors_of(config, {})
    assert error.endswith("feeds[1].url: feed 'feed_url' is listed twice")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_apprise_log_lines_keep_only_the_scheme_of_a_url() -> None:
    apprise_logger = logging.getLogger("apprise")
    collect = _Collect()
    apprise_logger.addHandler(collect)
    try:
        assert not valid_apprise_url("slakc://T0000/B0000/XOXBSLACK7TOKEN")
        assert valid_apprise_url("json://veille:Pa55w0rd@127.0.0.1:9/hook")
        apprise_logger.error("posting to %s failed", "https://hooks.example/T1/B2/S3cr3t")
    finally:
        apprise_logger.removeHandler(collect)
    assert "Unparseable URL slakc://…" in collect.lines
    assert "posting to https://… failed" in collect.lines
    assert not [line for line in collect.lines if "XOXBSLACK7TOKEN" in line or "S3cr3t" in line]
    assert not [line for line in collect.lines if "Pa55w0rd" in line]


def _feeds_config(tmp_path: Path, database: str | None = None) -> Path:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"database: sqlite:///{database or tmp_path / 'monitor.db'}\n"
        "feeds:\n"
        "  - url: https://veille:P4ss@example.org/rss?token=T0ken&page=2\n    name: Privé\n"
        "  - url: https://example.org/public.xml\n" + WATCHLIST,
        encoding="utf-8",
    )
    return config


def test_the_opml_export_masks_credentials_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _feeds_config(tmp_path)
    assert main(["--config", str(config), "feeds", "--export-opml"]) == 0
    masked = capsys.readouterr().out
    assert "https://veille:***@example.org/rss?token=***&amp;page=2" in masked
    assert "P4ss" not in masked and "T0ken" not in masked
    assert 'xmlUrl="https://example.org/public.xml"' in masked
    assert main(["--config", str(config), "feeds", "--export-opml", "--include-secrets"]) == 0
    assert "https://veille:P4ss@example.org/rss?token=T0ken&amp;page=2" in capsys.readouterr().out


def test_include_secrets_goes_only_with_the_opml_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(_feeds_config(tmp_path)), "feeds", "--include-secrets"])
    assert exited.value.code == 2
    assert "feeds --include-secrets goes with --export-opml" in capsys.readouterr().err


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_sqlite_database_and_its_wal_files_are_created_owner_only(tmp_path: Path) -> None:
    database = tmp_path / "monitor.db"
    engine = open_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with engine.connect() as connection:  # WAL mode: -wal and -shm exist while it is open
            connection.exec_driver_sql("SELECT count(*) FROM feeds")
            files = [database, tmp_path / "monitor.db-wal", tmp_path / "monitor.db-shm"]
            assert {file.name: _mode(file) for file in files} == {
                file.name: 0o600 for file in files
            }
    finally:
        engine.dispose()


def test_the_default_state_directory_is_created_owner_only(tmp_path: Path) -> None:
    from monitor.daemon.runtime import build_runtime

    state = tmp_path / "state" / "monitor"
    config = tmp_path / "monitor.yaml"
    config.write_text(f"state_dir: {state}\n" + WATCHLIST, encoding="utf-8")
    runtime = build_runtime(load_config(config, {}))
    try:
        runtime.prepare_database()
    finally:
        runtime.engine.dispose()
    assert _mode(state) == 0o700
    assert _mode(state / "monitor.db") == 0o600


def test_a_configured_database_in_a_missing_directory_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "such"
    config = _feeds_config(tmp_path, str(missing / "monitor.db"))
    assert main(["--config", str(config), "feeds"]) == 1
    error = capsys.readouterr().err
    assert error == (
        f"error: cannot open database sqlite:///{missing}/monitor.db: the directory {missing}"
        f" does not exist; create it (mkdir -m 700 {missing}) or correct `database:`\n"
    )
    assert not (tmp_path / "no").exists()
    with pytest.raises(DatabaseError):
        open_engine(f"sqlite:///{missing / 'monitor.db'}")


# -- issue 13 review: URLs Apprise logs without `://`, urllib3's request lines, `${NAME}`
# values in what is printed, bound parameters in database errors.


@pytest.mark.parametrize(
    "url",
    [
        "slack:/T0000/B0000/XOXBSLACK7TOKEN",
        "XOXBSLACK7TOKEN",
        "slack//T0000/B0000/XOXBSLACK7TOKEN",
    ],
    ids=["one slash", "bare token", "no colon"],
)
def test_apprise_log_lines_show_no_url_without_a_scheme(url: str) -> None:
    apprise_logger = logging.getLogger("apprise")
    collect = _Collect()
    apprise_logger.addHandler(collect)
    try:
        assert not valid_apprise_url(url)
        # A configured URL Apprise was handed is hidden wherever a later line repeats it.
        apprise_logger.error("giving up on %s for now", url)
    finally:
        apprise_logger.removeHandler(collect)
    assert collect.lines, "Apprise said nothing: the test checks nothing"
    assert not [line for line in collect.lines if "XOXBSLACK7TOKEN" in line], collect.lines
    assert [line for line in collect.lines if line.startswith("Unsupported URL: ")]


def test_check_config_on_a_url_without_a_scheme_prints_no_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        'channels:\n  desk: {url: "slack:/T0000/B0000/XOXBSLACK7TOKEN"}\n' + WATCHLIST,
        encoding="utf-8",
    )
    assert main(["--config", str(config), "check-config"]) == 2
    shown = capsys.readouterr()
    logged = [record.getMessage() for record in caplog.records]
    assert "Unsupported URL: …" in logged
    assert "XOXBSLACK7TOKEN" not in shown.out + shown.err + "\n".join(logged)


def test_verbose_logs_no_webhook_path(tmp_path: Path, feed_server: object) -> None:
    """`-v` (debug) with a webhook answered on loopback: urllib3, under Apprise through
    requests, would log the request line with the path, which is the webhook's secret."""
    import subprocess
    import sys

    from tests.daemon_cli import REPO
    from tests.feed_server import FeedServer

    assert isinstance(feed_server, FeedServer)
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"channels:\n  hook: {{url: 'json://127.0.0.1:{feed_server.port}/hook/HookS3cretTok'}}\n"
        + WATCHLIST,
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "-v", "--config", str(config), "test-alert", "hook"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr  # the loopback server answers POST with 501
    assert feed_server.connections, "no request reached the server: the test checks nothing"
    assert "HookS3cretTok" not in done.stderr, done.stderr


def test_quieted_http_loggers_redact_paths_in_their_warnings() -> None:
    from monitor.cli import configure_logging

    configure_logging(verbose=True)
    connection_pool = logging.getLogger("urllib3.connectionpool")
    assert not connection_pool.isEnabledFor(logging.INFO)
    assert not logging.getLogger("requests").isEnabledFor(logging.INFO)
    collect = _Collect()
    connection_pool.addHandler(collect)
    try:
        connection_pool.warning(
            "Retrying (%r) after connection broken by '%r': %s",
            "Retry(total=0)",
            "ProtocolError('Connection aborted.')",
            "/hook/HookS3cretTok",
        )
    finally:
        connection_pool.removeHandler(collect)
    [line] = collect.lines
    assert "HookS3cretTok" not in line
    assert line.endswith(": /…")


_ENV_SECRETS = {"FEED_PATH": "PathTok3nFeed", "HOOK_TOKEN": "HookS3cretTok"}


def _env_config(tmp_path: Path, port: int = 9) -> Path:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"database: sqlite:///{tmp_path / 'monitor.db'}\n"
        "feeds:\n  - url: http://127.0.0.1:9/priv/${FEED_PATH}/b.xml\n"
        f"channels:\n  hook: {{url: 'json://127.0.0.1:{port}/hook/${{HOOK_TOKEN}}'}}\n"
        "watchlists:\n  - {name: otan, terms: [OTAN], notify: [hook]}\n",
        encoding="utf-8",
    )
    return config


def test_check_config_shows_environment_values_by_their_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _ENV_SECRETS.items():
        monkeypatch.setenv(name, value)
    assert main(["--config", str(_env_config(tmp_path)), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "  feed http://127.0.0.1:9/priv/${FEED_PATH}/b.xml: every 10m" in out
    assert "  channel hook: json://127.0.0.1:9/hook/${HOOK_TOKEN} — " in out
    assert not [value for value in _ENV_SECRETS.values() if value in out]


def test_a_credential_value_is_shown_by_its_name(tmp_path: Path) -> None:
    from monitor.config import summarize

    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "HOOK_TOKEN").write_text("HookS3cretTok\n", encoding="utf-8")
    environ = {"CREDENTIALS_DIRECTORY": str(credentials), "FEED_PATH": "PathTok3nFeed"}
    loaded = load_config(_env_config(tmp_path), environ)
    text = "\n".join(summarize(loaded))
    assert "PathTok3nFeed" not in text and "HookS3cretTok" not in text
    assert loaded.mask("posting to json://127.0.0.1:9/hook/HookS3cretTok") == (
        "posting to json://127.0.0.1:9/hook/${HOOK_TOKEN}"
    )


def test_test_alert_shows_environment_values_by_their_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _ENV_SECRETS.items():
        monkeypatch.setenv(name, value)
    closed = _closed_port()
    assert main(["--config", str(_env_config(tmp_path, closed)), "test-alert", "hook"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"test alert to hook (json://127.0.0.1:{closed}/hook/${{HOOK_TOKEN}})")
    assert "HookS3cretTok" not in out


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_config_error_shows_an_environment_value_by_its_name(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "feeds:\n  - url: https://example.org/rss\n    tags: ${FEED_KEY}\n"
        "  - url: https://example.org/${FEED_KEY}/x.xml\n    interval: often\n" + WATCHLIST,
        encoding="utf-8",
    )
    errors = errors_of(config, {"FEED_KEY": "EnvS3cretVal"})
    assert [error for error in errors if "EnvS3cretVal" in error] == []
    assert errors[0].endswith(
        "feeds[0].tags: expected a list, got '${FEED_KEY}' (write ['${FEED_KEY}'] for a list"
        " of one)"
    )


def test_database_errors_hold_no_bound_parameters(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from monitor.store.tables import feeds

    database = tmp_path / "monitor.db"
    now = datetime.now(UTC)
    row = {"url": "https://example.org/rss?token=DbT0ken", "next_check_at": now, "created_at": now}
    engine = open_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(feeds.insert(), row)
        with pytest.raises(SQLAlchemyError) as duplicate, engine.begin() as connection:
            connection.execute(feeds.insert(), row)  # the URL is unique
    finally:
        engine.dispose()
    assert "UNIQUE constraint failed" in str(duplicate.value)
    assert "DbT0ken" not in str(duplicate.value)
    reader = open_engine(f"sqlite:///{database}", read_only=True)
    try:
        with pytest.raises(SQLAlchemyError) as refused, reader.begin() as connection:
            connection.execute(feeds.insert(), row)  # a read-only database
    finally:
        reader.dispose()
    assert "readonly" in str(refused.value)
    assert "DbT0ken" not in str(refused.value)


def test_check_config_names_a_feed_read_from_a_file_by_its_file(tmp_path: Path) -> None:
    from monitor.config import summarize

    (tmp_path / "feed_url").write_text("https://example.org/priv/P4thT0k/rss", encoding="utf-8")
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds:\n  - url_file: feed_url\n" + WATCHLIST, encoding="utf-8")
    text = "\n".join(summarize(load_config(config, {})))
    assert "  feed (from feed_url): every 10m" in text
    assert "P4thT0k" not in text
