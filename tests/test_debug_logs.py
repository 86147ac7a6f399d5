"""`-v` shows our own decisions at DEBUG: what a fetch asked and got, which watchlists fired."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pytest_httpserver import HTTPServer

from monitor.config.schema import WatchlistSpec
from monitor.feeds.fetch import build_client, fetch_feed
from monitor.feeds.policy import FetchPolicy
from monitor.match import compile_watchlists
from monitor.model import FetchResult, ItemText, Validators

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def fetch(url: str, validators: Validators) -> FetchResult:
    policy = FetchPolicy(
        user_agent="monitor-tests/1.0",
        timeout=5.0,
        max_body_bytes=1_000_000,
        allow_private_networks=True,
    )

    async def run() -> FetchResult:
        async with build_client(policy) as client:
            return await fetch_feed(client, url, validators, policy)

    return asyncio.run(run())


def fetch_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.name == "monitor.fetch"]
    caplog.clear()
    return lines


def test_a_fetch_logs_its_request_redirects_and_answer(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.fetch")
    etag = '"v1"'
    httpserver.expect_request("/feed.xml", headers={"If-None-Match": etag}).respond_with_data(
        "", status=304, headers={"Cache-Control": "max-age=600"}
    )
    httpserver.expect_request("/old").respond_with_data(
        "", 301, {"Location": httpserver.url_for("/feed.xml")}
    )
    httpserver.expect_request("/feed.xml").respond_with_data(FEED, headers={"ETag": etag})
    old, url = httpserver.url_for("/old"), httpserver.url_for("/feed.xml")

    first = fetch(old, Validators())
    assert fetch_lines(caplog) == [
        f"GET {old} unconditional",
        f"{old}: HTTP 301 redirect to {url}",
        f"GET {url} unconditional",
        f"{url}: HTTP 200, {len(FEED)} bytes, validators ETag, no freshness given",
    ]
    assert fetch(url, first.validators).not_modified
    assert fetch_lines(caplog) == [
        f"GET {url} conditional (If-None-Match)",
        f"{url}: HTTP 304 Not Modified, validators ETag, fresh for 600 s",
    ]


def test_a_fetch_log_masks_a_token_in_the_url(
    httpserver: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.fetch")
    httpserver.expect_request("/feed.xml").respond_with_data(FEED)
    fetch(httpserver.url_for("/feed.xml") + "?token=s3cret", Validators())
    lines = fetch_lines(caplog)
    assert lines and not any("s3cret" in line for line in lines)


def test_matching_logs_which_watchlists_fired_for_an_item(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="monitor.match")
    matcher = compile_watchlists(
        [
            WatchlistSpec.model_validate({"name": "otan", "terms": ["OTAN"]}),
            WatchlistSpec.model_validate(
                {"name": "defense", "terms": ["OTAN"], "exclude": ["sommet"]}
            ),
            WatchlistSpec.model_validate({"name": "meteo", "terms": ["orage"]}),
        ]
    )
    matcher.match(ItemText(title="Sommet de l’OTAN à Bruxelles"))
    matcher.match(ItemText(title="Rien à signaler"))  # no term found: no line
    assert [r.getMessage() for r in caplog.records if r.name == "monitor.match"] == [
        "item 'Sommet de l’OTAN à Bruxelles': watchlists fired: otan;"
        " a term found but not fired: defense"
    ]
