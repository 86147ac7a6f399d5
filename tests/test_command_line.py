"""The command line as people type it (docs/design.md §7): options after the command name,
`--version`, `poll` without `--once`, a closed pipe, counts in words, every configuration error
at once, a missing configuration file, commands that need none, and what `db upgrade` did."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig

from monitor.cli import EXIT_BROKEN_PIPE, build_parser, main
from monitor.compiled import engine_state
from monitor.store import open_engine
from monitor.text.count import counted
from tests.daemon_cli import REPO, write_config
from tests.feed_server import FeedServer, rss

WATCHLIST = "watchlists:\n  - name: otan\n    terms: [OTAN]\n"
MIGRATIONS = sorted(
    path.stem
    for path in Path(str(resources.files("monitor.migrations") / "versions")).glob("0*.py")
)


def subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple]:
    """Every command line that ends at a command (`db upgrade`, not `db`), with its parser."""
    found: list[tuple] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                deeper = subcommands(sub, (*prefix, name))
                found += deeper or [((*prefix, name), sub)]
    return found


def test_every_command_takes_config_and_verbose_after_its_name() -> None:
    parser = build_parser()
    found = subcommands(parser)
    assert len(found) >= 15  # every command, `db upgrade` counted once
    for words, _ in found:
        needed = {"test-alert": ["desk"], "resend": ["1"]}.get(words[0], [])
        args = parser.parse_args([*words, *needed, "--config", "after.yaml", "-v"])
        assert (args.config, args.verbose) == ("after.yaml", True), words
        # Before the name as before; the one after it wins when both are given.
        args = parser.parse_args(["--config", "before.yaml", *words, *needed])
        assert (args.config, args.verbose) == ("before.yaml", False), words
        args = parser.parse_args(["--config", "before.yaml", *words, *needed, "--config", "a.yaml"])
        assert args.config == "a.yaml", words


def test_config_after_the_command_is_the_one_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds:\n  - url: https://example.org/rss\n" + WATCHLIST, "utf-8")
    assert main(["check-config", "--config", str(config)]) == 0
    assert f"Configuration: {config}" in capsys.readouterr().out
    assert (
        main(["--config", str(tmp_path / "nowhere.yaml"), "check-config", "--config", str(config)])
        == 0
    )
    capsys.readouterr()
    assert main(["db", "upgrade", "--config", str(config), "-v"]) == 0
    assert "database is up to date" in capsys.readouterr().out


def test_demo_still_refuses_config_after_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--config", "monitor.yaml"])
    assert stopped.value.code == 2
    assert "demo runs on its own sample configuration" in capsys.readouterr().err


def test_version_comes_from_the_installed_package() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--version"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0
    version, engine = result.stdout.splitlines()
    assert version == f"monitor {metadata.version('monitor')}"
    assert engine == engine_state()  # compiled or not, as this install is


def test_counts_agree_with_their_number() -> None:
    assert counted(1, "item") == "1 item"
    assert counted(0, "item") == "0 items"
    assert counted(2, "story", "stories") == "2 stories"
    assert counted(1, "copy", "copies") == "1 copy"
    assert counted(12345, "alert") == "12,345 alerts"


def test_poll_without_once_is_one_pass_and_counts_alerts_apart_from_deliveries(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """One alert to two channels is one alert and two deliveries, each in a message."""
    first = {"guid": "1", "title": "Rien à signaler", "link": "https://example.org/1"}
    feed_server.serve("/fil.xml", rss("Fil", [first]))
    config = write_config(
        tmp_path,
        f"feeds:\n  - url: {feed_server.url('/fil.xml')}\n"
        "channels:\n  desk:\n    url: console://\n  night:\n    url: console://\n" + WATCHLIST,
    )
    assert main(["--config", str(config), "poll"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ok ")
    assert lines[1] == (
        "polled 1 feed: 1 new item, 0 alerts; deliveries: 0 sent in 0 messages, 0 retrying,"
        " 0 failed"
    )
    second = {"guid": "2", "title": "L'OTAN se réunit", "link": "https://example.org/2"}
    feed_server.serve("/fil.xml", rss("Fil", [second, first]))
    assert main(["--config", str(config), "poll", "--all"]) == 0
    out = capsys.readouterr().out
    assert (
        "polled 1 feed: 1 new item, 1 alert; deliveries: 2 sent in 2 messages, 0 retrying,"
        " 0 failed\n"
    ) in out
    assert "outbox: 0 pending (0 held for a digest), 2 sent, 0 failed" in out


def test_feeds_summary_says_one_feed(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.serve("/fil.xml", rss("Fil", [{"guid": "1", "title": "Un"}]))
    config = write_config(tmp_path, f"feeds:\n  - url: {feed_server.url('/fil.xml')}\n")
    assert main(["--config", str(config), "poll"]) == 0
    capsys.readouterr()
    assert main(["feeds", "--config", str(config)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 feed: 1 ok, 0 failing"


# -- a reader that leaves early ------------------------------------------------------------


def run_into_closed_pipe(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`monitor ARGS` writing into a pipe whose reader is already gone, as after `| head -1`
    once head has its line: closed before the process starts, so every write meets it."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args],
            input=stdin,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            timeout=120,
        )
    finally:
        os.close(write_end)


def stored_items(tmp_path: Path, feed_server: FeedServer) -> Path:
    items = [{"guid": str(n), "title": f"Dépêche {n} sur l'OTAN"} for n in range(30)]
    feed_server.serve("/fil.xml", rss("Fil", items))
    config = write_config(tmp_path, f"feeds:\n  - url: {feed_server.url('/fil.xml')}\n" + WATCHLIST)
    assert main(["--config", str(config), "poll"]) == 0
    return config


@pytest.mark.parametrize(
    "args", [["items"], ["stories", "--json"], ["feeds"], ["check-config"], ["replay"]]
)
def test_listings_into_a_closed_pipe_end_quietly(
    args: list[str], tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = stored_items(tmp_path, feed_server)
    result = run_into_closed_pipe(["--config", str(config), *args])
    assert (result.returncode, result.stderr) == (EXIT_BROKEN_PIPE, "")


@pytest.mark.parametrize("args", [["match"], ["explain"], ["dedup"], ["replay", "-", "--json"]])
def test_offline_commands_into_a_closed_pipe_end_quietly(args: list[str], tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(WATCHLIST, "utf-8")
    items = "".join(json.dumps({"id": n, "title": f"OTAN {n}"}) + "\n" for n in range(200))
    result = run_into_closed_pipe(["--config", str(config), *args], stdin=items)
    assert (result.returncode, result.stderr) == (EXIT_BROKEN_PIPE, "")


def test_replay_piped_to_head_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    """The real pipeline: more output than a pipe holds, so replay writes after head left."""
    config = tmp_path / "monitor.yaml"
    config.write_text(WATCHLIST, "utf-8")
    items = tmp_path / "items.jsonl"
    with items.open("w", encoding="utf-8") as out:
        for n in range(3000):
            title = f"L'OTAN et l'affaire numéro {n}, " + " ".join(f"mot{n}x{k}" for k in range(12))
            out.write(json.dumps({"id": n, "feed": f"f{n}", "title": title}) + "\n")
    monitor = f"{sys.executable} -m monitor --config {config}"
    result = subprocess.run(
        ["sh", "-c", f"{monitor} replay {items} --json | head -1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout.splitlines()[0])["kind"] == "alert"
    assert result.stderr == ""


@pytest.mark.slow
def test_demo_piped_to_head_ends_quietly() -> None:
    """`monitor demo | head -3`: the daemon, its feed server and temporary folder wound down."""
    result = subprocess.run(
        ["sh", "-c", f"{sys.executable} -m monitor demo | head -3"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 3
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr
    closed = run_into_closed_pipe(["demo"])
    assert closed.returncode == EXIT_BROKEN_PIPE
    assert "Traceback" not in closed.stderr and "BrokenPipe" not in closed.stderr


# -- configuration: every error at once, an empty one, none at all --------------------------


def test_check_config_reports_schema_reference_and_channel_errors_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        "feeds:\n"
        "  - url: https://example.org/rss\n"
        "    interval: 5x\n"  # 3: schema
        "  - url: https://example.org/rss\n"  # 4: listed twice
        "channels:\n"
        "  desk:\n"
        "    url: nosuchservice://token@host\n"  # 7: not an Apprise URL
        "watchlists:\n"
        "  - name: otan\n"
        "    terms: [OTAN]\n"
        "    notify: [dsek]\n"  # 11: unknown channel
        "  - name: vide\n"  # 12: no terms, and
        "    notify: [nuit]\n"  # 13: an unknown channel as well
        "ops:\n"
        "  notify: [pager]\n",  # 15: unknown channel
        encoding="utf-8",
    )
    assert main(["check-config", "--config", str(path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert [line.split(": ", 2)[:2] for line in errors] == [
        [f"{path}:3", "feeds[0].interval"],
        [f"{path}:4", "feeds[1].url"],
        [f"{path}:7", "channels.desk.url"],
        [f"{path}:11", "watchlists[0].notify[0]"],
        [f"{path}:12", "watchlists[1]"],
        [f"{path}:13", "watchlists[1].notify[0]"],
        [f"{path}:15", "ops.notify[0]"],
    ]
    assert "unknown channel 'dsek'; expected one of the channels: desk" in errors[3]
    assert "token" not in "\n".join(errors)


def test_check_config_warns_on_an_empty_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("# nothing yet\n", "utf-8")
    assert main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "0 feeds, 0 channels, 0 watchlists" in out
    assert "warning: no feeds: nothing will be polled" in out
    assert "warning: no watchlists: nothing will alert" in out


def test_a_missing_configuration_file_says_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    assert main(["items"]) == 2
    assert capsys.readouterr().err == (
        "error: no configuration file at monitor.yaml (the default when neither --config nor"
        " $MONITOR_CONFIG names one); name one with `monitor --config PATH COMMAND` or"
        " MONITOR_CONFIG=PATH\n"
    )
    monkeypatch.setenv("MONITOR_CONFIG", str(tmp_path / "etc.yaml"))
    assert main(["feeds"]) == 2
    assert f"no configuration file at {tmp_path / 'etc.yaml'} (named by $MONITOR_CONFIG)" in (
        capsys.readouterr().err
    )
    assert main(["check-config", "--config", "autre.yaml"]) == 2
    assert "no configuration file at autre.yaml (given by --config)" in capsys.readouterr().err


@pytest.mark.parametrize("environ", [None, "nowhere/monitor.yaml"])
def test_dedup_needs_no_configuration(
    environ: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    if environ is None:
        monkeypatch.delenv("MONITOR_CONFIG", raising=False)
    else:
        monkeypatch.setenv("MONITOR_CONFIG", environ)
    lines = [
        json.dumps({"id": n, "title": "Le sommet de l'OTAN s'ouvre à Vilnius"}) for n in (1, 2)
    ]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["dedup"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [record["cluster"] for record in records] == [1, 1]
    # match has watchlists to match against: it does need one.
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["match"]) == 2
    assert "no configuration file" in capsys.readouterr().err


# -- db upgrade ------------------------------------------------------------------------------


def migrate_to(url: str, revision: str) -> None:
    engine = open_engine(url)
    config = AlembicConfig()
    config.set_main_option("script_location", str(resources.files("monitor.migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def check_db_upgrade(config: Path, url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert capsys.readouterr().out == f"applied {', '.join(MIGRATIONS)}; database is up to date\n"
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert capsys.readouterr().out == "nothing to apply; database is up to date\n"


def test_db_upgrade_says_what_it_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(MIGRATIONS) >= 9 and MIGRATIONS[0] == "0001_initial_schema"
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    config = tmp_path / "monitor.yaml"
    config.write_text(f"database: {url}\n", "utf-8")
    check_db_upgrade(config, url, capsys)
    older = f"sqlite:///{tmp_path / 'older.db'}"
    migrate_to(older, MIGRATIONS[-2].split("_")[0])
    config.write_text(f"database: {older}\n", "utf-8")
    assert main(["--config", str(config), "db", "upgrade"]) == 0
    assert capsys.readouterr().out == f"applied {MIGRATIONS[-1]}; database is up to date\n"


@pytest.mark.postgres
def test_db_upgrade_says_what_it_applied_on_postgresql(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(f"database: {postgres_url}\n", "utf-8")
    check_db_upgrade(config, postgres_url, capsys)
