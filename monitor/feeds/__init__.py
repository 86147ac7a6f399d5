"""Feeds: HTTP fetch behind one address gate, feed parsing in the sandbox, canonical URLs and item
keys, article full text. Other packages use these names; the modules behind them are private."""

from typing import TYPE_CHECKING

from monitor.exports import lazy_exports

if TYPE_CHECKING:
    from monitor.feeds.fetch import build_client, fetch_feed
    from monitor.feeds.fulltext import (
        PAGE_JOB,
        answer_page,
        as_html,
        fetch_main_text,
        fulltext_available,
    )
    from monitor.feeds.parse import MAX_ENTRIES, link_key, text_key
    from monitor.feeds.parse_job import FEED_JOB, ParseProcesses, answer_feed
    from monitor.feeds.policy import FetchPolicy
    from monitor.feeds.urls import canonical_url, redact_url

__all__ = [
    "FEED_JOB",
    "MAX_ENTRIES",
    "PAGE_JOB",
    "FetchPolicy",
    "ParseProcesses",
    "answer_feed",
    "answer_page",
    "as_html",
    "build_client",
    "canonical_url",
    "fetch_feed",
    "fetch_main_text",
    "fulltext_available",
    "link_key",
    "redact_url",
    "text_key",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "fetch": ["build_client", "fetch_feed"],
        "fulltext": ["PAGE_JOB", "answer_page", "as_html", "fetch_main_text", "fulltext_available"],
        "parse": ["MAX_ENTRIES", "link_key", "text_key"],
        "parse_job": ["FEED_JOB", "ParseProcesses", "answer_feed"],
        "policy": ["FetchPolicy"],
        "urls": ["canonical_url", "redact_url"],
    },
)
