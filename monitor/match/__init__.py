"""Watchlist matching: compile watchlists once, then item -> hits (docs/design.md §4)."""

from monitor.match.matcher import Matcher, compile_watchlists
from monitor.match.snippet import snippet_for

__all__ = ["Matcher", "compile_watchlists", "snippet_for"]
