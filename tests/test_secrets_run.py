"""Acceptance (issue 13): secrets planted in a configuration never show in any log line or any
command's output of a full run, as real processes, except where asked for
(`feeds --export-opml --include-secrets`).

Planted: a channel password (a systemd credential, `${smtp_password}`), a Slack token in a
mistyped scheme, a feed token (a feed `url_file:`) and a `${FEED_KEY}` environment value."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon_cli import REPO, Daemon
from tests.feed_server import FeedServer, rss
from tests.smtp_server import running_smtp_server
from tests.test_end_to_end import OTAN_ITEM

SECRETS = {
    "channel password": "Chan9Pass4Word",
    # Upper case and digits: Apprise's own masking (cwe312) lets it through whole.
    "slack token": "XOXBSLACK7TOKEN",
    "feed token": "Feed5Tok3nX",
    "environment value": "EnvS3cretVal",
    # A webhook's path: Apprise's privacy form of a json:// URL keeps it.
    "hook token": "HookS3cretTok",
}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write_config(directory: Path, feed_b: str, smtp: str, hook: str, *, mistyped: bool) -> Path:
    """Feed A's URL in a file, feed B's with `${FEED_KEY}`; `smtp` and `hook` are host:port."""
    mail = "?from=monitor@example.org&to=veille@example.org"
    mistyped_channel = (
        f"  desk:\n    url: slakc://T0000/B0000/{SECRETS['slack token']}\n" if mistyped else ""
    )
    config = directory / "monitor.yaml"
    config.write_text(
        f"database: sqlite:///{directory / 'monitor.db'}\n"
        "poll_tick: 1s\n"
        "fetch:\n  allow_private_networks: true\n  timeout: 5s\n"
        "feeds:\n"
        "  - url_file: credentials/feed_a\n    interval: 1s\n"
        f"  - url: {feed_b}\n    interval: 1s\n"
        "channels:\n"
        f"  redaction:\n    url: mailto://veille:${{smtp_password}}@{smtp}{mail}\n"
        f"  broken:\n    url: mailto://veille:${{smtp_password}}@127.0.0.1:{_closed_port()}{mail}\n"
        f"  hook:\n    url: json://{hook}/hook/${{HOOK_TOKEN}}\n"
        f"{mistyped_channel}"
        "watchlists:\n  - name: otan\n    notify: [redaction]\n    terms: [OTAN]\n",
        encoding="utf-8",
    )
    return config


class _Run:
    """Every command as a real process, with the credentials directory and environment a
    systemd unit would give it; everything they print is kept."""

    def __init__(self, config: Path, environment: dict[str, str]) -> None:
        self.config = config
        self.environment = environment
        self.outputs: list[tuple[str, str]] = []  # (command, stdout + stderr)

    def __call__(self, *arguments: str, expect: int = 0) -> str:
        [stdout] = self.together([*arguments], expect=expect)
        return stdout

    def together(self, *commands: list[str], expect: int = 0) -> list[str]:
        """Commands that only read, started at once: each is an interpreter's start-up
        (seconds on a loaded machine), and none waits for another's."""
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(self.config), *arguments],
                cwd=REPO,
                env=self.environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for arguments in commands
        ]
        stdouts = []
        for arguments, process in zip(commands, processes, strict=True):
            stdout, stderr = process.communicate(timeout=120)
            shown = " ".join(arguments)
            assert process.returncode == expect, f"{shown}: exit {process.returncode}\n{stderr}"
            self.outputs.append((shown, stdout + stderr))
            stdouts.append(stdout)
        return stdouts


def _leaks(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text]


@pytest.mark.slow
def test_no_planted_secret_shows_in_any_log_line_or_output(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    feed_a = feed_server.serve(f"/a.xml?token={SECRETS['feed token']}", rss("A", []))
    (credentials / "feed_a").write_text(feed_a + "\n", encoding="utf-8")
    (credentials / "smtp_password").write_text(SECRETS["channel password"] + "\n")
    feed_b = feed_server.serve(f"/b.xml?key={SECRETS['environment value']}", rss("B", []))
    environment = {
        **os.environ,
        "CREDENTIALS_DIRECTORY": str(credentials),
        "FEED_KEY": SECRETS["environment value"],
        "HOOK_TOKEN": SECRETS["hook token"],
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)  # the daemon below inherits them
    with running_smtp_server(credentials=("veille", SECRETS["channel password"])) as smtp:
        written_b = feed_b.replace(SECRETS["environment value"], "${FEED_KEY}")
        server = f"{smtp.host}:{smtp.port}"
        hook = f"{feed_server.host}:{feed_server.port}"  # it answers a POST with 501
        config = _write_config(tmp_path, written_b, server, hook, mistyped=False)
        run = _Run(config, environment)
        run("check-config")
        run("db", "upgrade")
        run("poll", "--once")  # the first poll seeds silently
        feed_server.serve(f"/a.xml?token={SECRETS['feed token']}", rss("A", [OTAN_ITEM]))
        run("-v", "poll", "--once", "--all")  # due or not: a fast machine polls within 1 s
        assert len(smtp.messages) == 1, "the alert went out through the credential's password"
        listings = [["feeds"], ["alerts"], ["items"], ["stories"]]
        run.together(
            *listings,
            *([*listing, "--json"] for listing in listings),
            ["explain", "--item", "1"],
            ["explain", "--item", "1", "--json"],
            ["replay"],
        )
        run("resend", "1")
        run("test-alert", "redaction")
        run("test-alert", "broken", expect=1)
        run("-v", "test-alert", "hook", expect=1)
        masked = run("feeds", "--export-opml")
        assert "token=***" in masked and "key=***" in masked
        with_secrets = run("feeds", "--export-opml", "--include-secrets")
        run.outputs.pop()  # asked for: the one output that holds them
        assert SECRETS["feed token"] in with_secrets
        assert SECRETS["environment value"] in with_secrets

        daemon = Daemon(config)
        try:
            daemon.wait_for("monitor running: 2 feeds")
            _write_config(tmp_path, written_b, server, hook, mistyped=True)
            daemon.process.send_signal(signal.SIGHUP)
            refused = daemon.wait_for("reload refused")
            assert "channels.desk.url: not a usable Apprise URL (slakc://…)" in refused
        finally:
            assert daemon.stop() == 0
        run("check-config", expect=2)
        run("-v", "poll", "--once", expect=2)

    assert len(run.outputs) > 20
    for command, text in run.outputs:
        assert not _leaks(text), f"`monitor {command}` shows {_leaks(text)}:\n{text}"
    daemon_log = "\n".join(daemon.read_log())
    assert "Unparseable URL slakc://…" in daemon_log  # Apprise's own line, cut to the scheme
    assert not _leaks(daemon_log), f"the daemon's log shows {_leaks(daemon_log)}:\n{daemon_log}"
