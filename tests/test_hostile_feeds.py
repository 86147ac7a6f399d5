"""Hostile feeds through the whole daemon path (`monitor poll --once` against a real loopback
server): each ends with a clear status within its deadline, and the other feeds go on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.daemon_cli import feed_reports, poll_all, write_config
from tests.feed_server import FeedServer, rss

NEWS = rss("Le Fil", [{"guid": "1", "title": "L’OTAN se réunit", "link": "https://fil.example/1"}])


@pytest.mark.slow
def test_a_document_too_complex_to_parse_does_not_hold_up_the_other_feeds(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # 3 MB of nested elements: tens of seconds of feedparser's time, and hundreds of MB.
    nested = '<?xml version="1.0"?><rss version="2.0"><channel><item>' + "<a>" * 1_000_000
    hostile = feed_server.serve("/nested.xml", nested)
    slow = feed_server.serve("/slow.xml", NEWS, delay=1.5)  # answers while the parse runs
    plain = feed_server.serve("/plain.xml", NEWS)
    feeds = "".join(f"  - url: {url}\n" for url in (hostile, slow, plain))
    config = write_config(
        tmp_path,
        f"feeds:\n{feeds}watchlists:\n  - name: otan\n    terms: [OTAN]\n",
        fetch="  timeout: 3s\n  max_per_host: 3",
    )
    started = time.monotonic()
    poll_all(config)
    elapsed = time.monotonic() - started
    reports = feed_reports(config, capsys)
    assert reports[hostile]["status"] == "error:parse"
    assert reports[hostile]["error"] == (
        "document too complex: not parsed within 3 s (parser stopped)"
    )
    assert reports[slow]["status"] == "ok" and reports[slow]["items"] == 1
    assert reports[plain]["status"] == "ok" and reports[plain]["items"] == 1
    assert elapsed < 15


def test_a_feed_that_sets_cookies_and_a_non_ascii_etag_is_polled_again_and_again(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = feed_server.serve(
        "/cookies.xml",
        NEWS,
        headers={"Set-Cookie": "tracker=" + "x" * 2000, "ETag": '"été"'},
        etag=False,
    )
    config = write_config(
        tmp_path, f"feeds:\n  - url: {url}\nwatchlists:\n  - name: otan\n    terms: [OTAN]\n"
    )
    for _ in range(3):
        assert poll_all(config) == 0
    assert feed_reports(config, capsys)[url]["status"] in {"ok", "unchanged"}
    assert feed_server.requests == ["/cookies.xml"] * 3
