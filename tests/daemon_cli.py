"""`monitor` on a configuration written in a test's folder: shared by the tests that poll a real
loopback feed server through the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main


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
