"""`monitor feeds`: the health of every configured feed, after real polls of a loopback server."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from monitor.cli import main
from tests.feed_server import FeedServer, rss
from tests.smtp_server import SmtpServer, unused_port
from tests.test_end_to_end import OLD_NEWS, poll, write_config


def test_feeds_reports_each_feed_as_json_and_as_a_table(
    tmp_path: Path, feed_server: FeedServer, smtp: SmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    good = feed_server.serve("/rss.xml", rss("Bon", [OLD_NEWS]))
    missing = feed_server.url("/gone.xml")
    unreachable = f"http://127.0.0.1:{unused_port()}/rss.xml"
    config = write_config(tmp_path, [good, missing, unreachable], smtp)
    assert poll(config) == 0
    assert poll(config, "--all") == 0
    later = feed_server.serve("/later.xml", rss("Plus tard", []))
    config = write_config(tmp_path, [good, missing, unreachable, later], smtp)
    capsys.readouterr()

    assert main(["--config", str(config), "feeds", "--json"]) == 0
    reports = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_url = {report["url"]: report for report in reports}
    assert list(by_url) == [good, missing, unreachable, later]
    assert by_url[good]["status"] == "not_modified"
    assert by_url[good]["items"] == 1 and by_url[good]["last_success"] is not None
    assert by_url[missing]["status"] == "error:http_status"
    assert by_url[missing]["error_kind"] == "http_status"
    assert "404" in by_url[missing]["error"] and by_url[missing]["error_count"] == 2
    assert by_url[missing]["last_success"] is None
    assert by_url[unreachable]["status"] == "error:unreachable"
    assert by_url[later] | {"name": None} == {
        "url": later,
        "name": None,
        "status": "new",
        "error_kind": None,
        "error": None,
        "error_count": 0,
        "last_success": None,
        "last_checked": None,
        "next_check": None,
        "items": 0,
        "moved_to": None,
        "stale_since": None,
    }

    assert main(["--config", str(config), "feeds"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["STATUS", "LAST"]
    good_line = next(line for line in table if good in line)
    # The same status words as the JSON and `poll --once`.
    assert good_line.startswith("not_modified ") and "ago" in good_line
    assert any(line.startswith("error:http_status (2 in a row)") for line in table)
    assert any(line.startswith(f"{missing}: HTTP 404") for line in table)
    assert any(line.startswith("error:unreachable (2 in a row)") for line in table)
    assert any(line.startswith("new ") and later in line for line in table)
    assert table[-1] == "4 feeds: 1 ok, 2 failing, 1 not polled yet"


def test_a_feed_its_server_says_is_gone_is_dead_and_checked_daily(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp: SmtpServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone = feed_server.serve("/old.xml", "Gone", "text/plain", status=410)
    config = write_config(tmp_path, [gone], smtp)
    assert poll(config) == 1  # every feed failed
    assert any("is gone" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    capsys.readouterr()
    assert main(["--config", str(config), "feeds", "--json"]) == 0
    (report,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert report["status"] == "dead" and report["error_kind"] is None
    assert report["error"].startswith("HTTP 410 Gone")
    checked = datetime.fromisoformat(report["last_checked"])
    assert datetime.fromisoformat(report["next_check"]) - checked >= timedelta(hours=23)
    assert main(["--config", str(config), "feeds"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("dead (checked daily)")
