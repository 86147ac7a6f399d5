"""`monitor` on a configuration written in a test's folder: shared by the tests that poll a real
loopback feed server through the command line, and by those that run the daemon as a real
process (`Daemon`)."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main

REPO = Path(__file__).resolve().parents[1]


class Daemon:
    """`monitor run` as a child process; its log (stderr) read line by line as it comes."""

    def __init__(self, config: Path) -> None:
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, fragment: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.log.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"no log line with {fragment!r}; got:\n" + "\n".join(self.log))

    def read_log(self) -> list[str]:
        """Every line logged so far (those `wait_for` has not read yet included)."""
        while True:
            try:
                self.log.append(self.lines.get_nowait())
            except queue.Empty:
                return self.log

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def freeze(self) -> None:
        """SIGSTOP: the process does nothing until `thaw` (or `kill`)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as after a crash or the OOM killer."""
        self.process.kill()
        self.process.wait(timeout=30)


def mail_daemon_config(
    directory: Path, feed_urls: list[str], mailto: str, *, interval: str, extra: str = ""
) -> Path:
    """monitor.yaml for `monitor run`: a poll tick of one second, the feeds polled every
    `interval`, alerts on OTAN to the mail channel `redaction`, then `extra` (YAML at the top
    level)."""
    feeds = "".join(f"  - url: {url}\n    interval: {interval}\n" for url in feed_urls)
    return write_config(
        directory,
        f"poll_tick: 1s\nchannels:\n  redaction:\n    url: {mailto}\nfeeds:\n{feeds}"
        f"watchlists:\n  - name: otan\n    terms: [OTAN]\n{extra}",
    )


def write_config(directory: Path, body: str, *, fetch: str = "") -> Path:
    """monitor.yaml in `directory`: its SQLite database there, loopback feeds allowed (the test
    server is on 127.0.0.1) plus the `fetch` lines given, then `body` (feeds, channels,
    watchlists: YAML at the top level)."""
    path = directory / "monitor.yaml"
    path.write_text(
        f"database: sqlite:///{directory / 'monitor.db'}\n"
        f"fetch:\n  allow_private_networks: true\n{fetch}\n{body}",
        encoding="utf-8",
    )
    return path


def poll_all(config: Path) -> int:
    """`monitor poll --once --all`: every configured feed, due or not."""
    return main(["--config", str(config), "poll", "--once", "--all"])


def feed_reports(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    """`monitor feeds --json`, by feed URL."""
    capsys.readouterr()
    assert main(["--config", str(config), "feeds", "--json"]) == 0
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {report["url"]: report for report in reports}


def one_feed_config(directory: Path, url: str, mailto: str, feed_options: str = "") -> Path:
    """One feed (with `feed_options`, YAML lines indented under it), the desk's mail channel,
    and a watchlist for OTAN."""
    options = "".join(f"\n    {line}" for line in feed_options.splitlines())
    return write_config(
        directory,
        f"feeds:\n  - url: {url}{options}\n"
        f"channels:\n  redaction:\n    url: {mailto}\n"
        "watchlists:\n  - name: otan\n    terms: [OTAN]\n",
    )
