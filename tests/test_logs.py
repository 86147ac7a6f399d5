"""`log_format: json` (docs/design.md §9): a real `monitor poll --once` against a loopback feed
server, every stderr line a JSON object with the fields a log collector filters on; and the
formatter alone for tracebacks and the fields it does not know."""

from __future__ import annotations

import ast
import json
import logging
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.logs import FIELDS, JsonLines
from tests.daemon_cli import REPO, Daemon, write_config
from tests.feed_server import FeedServer, rss
from tests.test_end_to_end import OLD_NEWS, OTAN_ITEM

SECRET = "s3cretFeedToken"


def poll_once(config: Path) -> tuple[list[dict[str, Any]], str]:
    """`monitor poll --once --all` as a process: its stderr lines parsed as JSON, its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "poll", "--once", "--all"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stderr.splitlines()
    assert lines, done.stdout
    events = []
    for line in lines:
        event = json.loads(line)  # fails the test on any line that is not one JSON object
        assert isinstance(event, dict), line
        events.append(event)
    return events, done.stdout


@pytest.mark.slow  # two polls by real processes: 8 s
def test_poll_once_logs_one_json_object_per_event(tmp_path: Path, feed_server: FeedServer) -> None:
    feed = feed_server.serve("/monde.xml", rss("Le Monde", [OLD_NEWS]))
    private = feed_server.serve(
        f"/private.xml?token={SECRET}", "upstream unavailable", "text/plain", status=503
    )
    config = write_config(
        tmp_path,
        "log_format: json\n"
        f"feeds:\n  - url: {feed}\n  - url: {private}\n"
        "channels:\n  terminal:\n    url: console://\n"
        "watchlists:\n  - name: otan\n    terms: [OTAN]\n",
    )
    seeding, _ = poll_once(config)  # the first poll stores the backlog without alerting
    feed_server.serve("/monde.xml", rss("Le Monde", [OTAN_ITEM, OLD_NEWS]))
    events, printed = poll_once(config)
    everything = seeding + events

    for event in everything:
        assert {"time", "level", "logger", "event"} <= event.keys(), event
        assert datetime.fromisoformat(event["time"]).utcoffset() is not None
        assert event["time"].endswith("Z")
        assert event["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert not any(SECRET in json.dumps(event) for event in everything)

    [seeded] = [e for e in seeding if e.get("feed") == feed and "first poll" in e["event"]]
    assert seeded["new_items"] == 1
    assert seeded["status"] == "ok"
    [alert] = [e for e in events if "alert" in e and e["logger"] == "monitor.poll"]
    assert alert["watchlist"] == "otan"
    assert isinstance(alert["alert"], int)
    assert alert["feed"] == feed
    assert alert["event"].startswith(f"alert {alert['alert']}: watchlist otan matched")
    [sent] = [e for e in events if e.get("outcome") == "sent"]
    assert sent["channel"] == "terminal"
    assert sent["alert"] == alert["alert"]
    assert sent["alert_ids"] == [alert["alert"]]
    assert isinstance(sent["message_id"], int)
    assert "zone d’exclusion aérienne" in printed  # the console channel's message
    failing = [e for e in everything if e.get("error_kind")]
    assert failing
    for error in failing:
        assert error["feed"] == feed_server.url("/private.xml?token=***")
        assert error["error_kind"] == "http_status"
        assert error["status"] == "error:http_status"
        assert error["level"] == "WARNING"


@pytest.mark.slow  # a poll by a real process: 4 s
def test_the_default_log_stays_one_readable_line_per_event(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed = feed_server.serve("/monde.xml", rss("Le Monde", [OLD_NEWS]))
    config = write_config(
        tmp_path, f"feeds:\n  - url: {feed}\nwatchlists:\n  - name: otan\n    terms: [OTAN]\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "poll", "--once"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stderr.splitlines()
    assert any(
        line.startswith(f"INFO monitor.poll: feed {feed}: first poll stored") for line in lines
    )
    assert not any(line.startswith("{") for line in lines)


def record(message: str, *args: object, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("monitor.poll", logging.ERROR, __file__, 1, message, args, None)
    made.__dict__.update(fields)
    return made


def test_a_traceback_is_one_string_field_of_one_line() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        failing = record("feed %s: unexpected error while polling", "https://a.example/")
        failing.exc_info = sys.exc_info()
    line = JsonLines().format(failing)
    assert "\n" not in line
    event = json.loads(line)
    assert event["event"] == "feed https://a.example/: unexpected error while polling"
    assert event["traceback"].startswith("Traceback (most recent call last):")
    assert event["traceback"].rstrip().endswith("RuntimeError: boom")


def test_only_known_fields_are_written() -> None:
    event = json.loads(
        JsonLines().format(record("x", feed="https://a.example/", password="hunter2", alert=3))
    )
    assert event["feed"] == "https://a.example/"
    assert event["alert"] == 3
    assert "password" not in event


def test_a_malformed_library_message_is_still_one_event() -> None:
    event = json.loads(JsonLines().format(record("%d items", "many")))
    assert event["event"] == "%d items"


def _extra_keys(tree: ast.AST) -> set[str]:
    keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "extra":
            for inner in ast.walk(node.value):
                if isinstance(inner, ast.Dict):
                    keys |= {k.value for k in inner.keys if isinstance(k, ast.Constant)}
        if isinstance(node, ast.FunctionDef) and node.name == "_fields":
            keys |= {
                target.slice.value
                for target in ast.walk(node)
                if isinstance(target, ast.Subscript)
                and isinstance(target.slice, ast.Constant)
                and isinstance(target.slice.value, str)
            }
            for inner in ast.walk(node):
                if isinstance(inner, ast.Dict):
                    keys |= {k.value for k in inner.keys if isinstance(k, ast.Constant)}
    return keys


def test_every_extra_field_a_call_site_gives_is_one_the_formatter_writes() -> None:
    used: set[str] = set()
    for path in (REPO / "monitor").rglob("*.py"):
        used |= _extra_keys(ast.parse(path.read_text(encoding="utf-8")))
    assert {"feed", "alert", "watchlist", "channel", "error_kind"} <= used
    assert used <= set(FIELDS), used - set(FIELDS)
    # A name LogRecord has already would make logging raise at the call.
    assert not set(FIELDS) & set(vars(logging.makeLogRecord({})))


@pytest.mark.slow  # a daemon process started, reloaded and stopped: 2 s and more
def test_a_reload_switches_the_log_format(tmp_path: Path) -> None:
    body = "watchlists:\n  - name: otan\n    terms: [OTAN]\n"
    config = write_config(tmp_path, body)
    daemon = Daemon(config)
    try:
        daemon.wait_for("INFO monitor.daemon: monitor running")
        write_config(tmp_path, f"log_format: json\n{body}")
        daemon.process.send_signal(signal.SIGHUP)
        reloaded = json.loads(daemon.wait_for('"configuration reloaded from'))
        assert reloaded["logger"] == "monitor.daemon"
        assert reloaded["watchlists"] == 1
    finally:
        assert daemon.stop() == 0
    stopped = json.loads(daemon.wait_for('"monitor stopped"'))
    assert stopped["level"] == "INFO"
