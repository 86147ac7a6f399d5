"""Watchlist matching: compile watchlists once, then item -> hits (docs/design.md §4)."""

from monitor.match.matcher import Matcher, compile_watchlists
from monitor.match.scope import ConfiguredFeeds, FeedIdentity
from monitor.match.snippet import quotes_for, snippet_for

__all__ = [
    "ConfiguredFeeds",
    "FeedIdentity",
    "Matcher",
    "compile_watchlists",
    "quotes_for",
    "snippet_for",
]
