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
