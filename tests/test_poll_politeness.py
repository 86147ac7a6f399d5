"""Polling politely, against a real loopback server: per-host and global concurrency."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main
from monitor.feeds.fetch import build_client, fetch_feed
from monitor.feeds.policy import FetchPolicy
from monitor.model import Validators
from tests.daemon_cli import feed_reports, poll_all, write_config
from tests.feed_server import FeedServer, rss


def write_feeds_config(directory: Path, urls: list[str], fetch: str) -> Path:
    feeds = "\n".join(f"  - url: {url}" for url in urls)
    body = f"feeds:\n{feeds}\nwatchlists:\n  - name: otan\n    terms: [OTAN]\n"
    return write_config(directory, body, fetch=f"  timeout: 10s\n{fetch}")


def slow_feeds_on_two_hosts(feed_server: FeedServer) -> list[str]:
    """Six feeds answering after 0.2 s, three under each of two host names for the same server:
    each name is a host of its own for the limits."""
    paths = [f"/feed{n}.xml" for n in range(6)]
    for path in paths:
        feed_server.serve(path, rss("Lent", []), delay=0.2)
    port = feed_server.port
    urls = [f"http://127.0.0.1:{port}{path}" for path in paths[:3]]
    return urls + [f"http://localhost:{port}{path}" for path in paths[3:]]


def test_feeds_of_one_host_are_fetched_at_most_max_per_host_at_a_time(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    urls = slow_feeds_on_two_hosts(feed_server)
    config = write_feeds_config(tmp_path, urls, "  max_per_host: 1\n  max_connections: 8")
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert feed_server.most_in_flight == {"127.0.0.1": 1, "localhost": 1}


@pytest.mark.slow
def test_the_global_limit_holds_across_hosts(tmp_path: Path, feed_server: FeedServer) -> None:
    urls = slow_feeds_on_two_hosts(feed_server)
    config = write_feeds_config(tmp_path, urls, "  max_per_host: 3\n  max_connections: 1")
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert max(feed_server.most_in_flight.values()) == 1
    assert sum(feed_server.most_in_flight.values()) == 2  # both hosts, one after the other


def wait_minutes(report: dict[str, Any]) -> float:
    checked = datetime.fromisoformat(report["last_checked"])
    return (datetime.fromisoformat(report["next_check"]) - checked).total_seconds() / 60


def test_a_feed_that_moved_permanently_is_polled_at_its_new_address(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    old = feed_server.serve("/old.xml", "", status=301, headers={"Location": "/new.xml"})
    new = feed_server.serve("/new.xml", rss("Déménagé", []))
    config = write_feeds_config(tmp_path, [old], "")
    assert main(["--config", str(config), "poll", "--once"]) == 0
    assert feed_server.requests == ["/old.xml", "/new.xml"]
    assert main(["--config", str(config), "poll", "--once", "--all"]) == 0
    assert feed_server.requests[2:] == ["/new.xml"]
    report = feed_reports(config, capsys)[old]
    assert report["moved_to"] == new
    assert report["status"] == "not_modified"


def test_server_hints_lengthen_the_interval_up_to_max_interval(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cached = feed_server.serve(
        "/cached.xml", rss("Cache", []), headers={"Cache-Control": "max-age=1800"}
    )
    ttl = feed_server.serve(
        "/ttl.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>TTL</title>'
        "<link>https://example.org/</link><description>d</description><ttl>45</ttl>"
        "</channel></rss>",
    )
    long = feed_server.serve(
        "/long.xml", rss("Long", []), headers={"Cache-Control": "max-age=86400"}
    )
    plain = feed_server.serve("/plain.xml", rss("Plain", []))
    config = write_feeds_config(tmp_path, [cached, ttl, long, plain], "  max_interval: 1h")
    assert main(["--config", str(config), "poll", "--once"]) == 0
    reports = feed_reports(config, capsys)
    assert 30 <= wait_minutes(reports[cached]) <= 33.1
    assert 45 <= wait_minutes(reports[ttl]) <= 49.6
    assert 60 <= wait_minutes(reports[long]) <= 66.1
    assert 10 <= wait_minutes(reports[plain]) <= 11.1
    # A 304 keeps honouring the <ttl> its last document announced.
    assert main(["--config", str(config), "poll", "--once", "--all"]) == 0
    reports = feed_reports(config, capsys)
    assert reports[ttl]["status"] == "not_modified"
    assert 45 <= wait_minutes(reports[ttl]) <= 49.6


def test_polls_answered_304_reuse_one_connection(feed_server: FeedServer) -> None:
    # A 304's end must be read, or the connection closes and every poll opens a new one.
    url = feed_server.serve("/feed.xml", rss("Stable", []))

    async def poll_three_times() -> list[bool]:
        seen = []
        policy = FetchPolicy(
            "monitor-test", timeout=10, max_body_bytes=10**6, allow_private_networks=True
        )
        async with build_client(policy) as client:
            validators = Validators()
            for _ in range(3):
                result = await fetch_feed(client, url, validators, policy)
                validators = result.validators
                seen.append(result.not_modified)
        return seen

    assert asyncio.run(poll_three_times()) == [False, True, True]
    assert feed_server.connections == 1


def test_a_document_whose_items_did_not_change_is_not_stored_again(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    def build(built: str, items: list[dict[str, str]]) -> str:
        # Many feeds stamp every build: new bytes, the same items.
        return rss("Horodaté", items).replace(
            "</description>", f"</description><lastBuildDate>{built}</lastBuildDate>", 1
        )

    first = {"guid": "a-1", "title": "Premier", "link": "https://example.org/1"}
    second = {"guid": "a-2", "title": "Second", "link": "https://example.org/2"}
    url = feed_server.serve("/stamped.xml", build("Mon, 01 Jun 2026 10:00:00 GMT", [first]))
    config = write_feeds_config(tmp_path, [url], "")
    assert poll_all(config) == 0  # seeding
    statuses = []
    for built, items in [
        ("Mon, 01 Jun 2026 10:00:00 GMT", [first]),  # the same bytes, no validators
        ("Mon, 01 Jun 2026 10:05:00 GMT", [first]),  # rebuilt: the same items
        ("Mon, 01 Jun 2026 10:10:00 GMT", [second, first]),  # a new item
        ("Mon, 01 Jun 2026 10:15:00 GMT", [second, {**first, "title": "Premier, modifié"}]),
    ]:
        feed_server.serve("/stamped.xml", build(built, items), etag=False)
        assert poll_all(config) == 0
        report = feed_reports(config, capsys)[url]
        statuses.append((report["status"], report["items"]))
    assert statuses == [
        ("unchanged", 1),
        ("unchanged", 1),
        ("ok", 2),
        ("ok", 2),  # an item edited in place: parsed and updated, not a new item
    ]
