"""Which watchlists may fire for an item, by its feed and its language (docs/design.md §4,
scope): a watchlist's `sources` and `languages`.

A feed is judged once and the answer kept (`FeedScopes`), so a configuration without `sources`
or `languages` costs nothing per item, and one with them costs a dictionary look-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.config.schema import (
    UNDETERMINED_LANGUAGES,
    FeedSpec,
    SourcesSpec,
    WatchlistSpec,
    language_code,
)

# How every reason a watchlist is out of scope starts (`monitor explain` tells them apart).
OUT_OF_SCOPE = "out of scope:"


@dataclass(frozen=True)
class FeedIdentity:
    """What a watchlist's `sources` are judged on: the feed's URL, its configured name, its
    tags. An item read without a feed has none, and `sources` are then not applied. Its
    configured `language`: the language of its items that name none (as the daemon gives them)."""

    url: str
    name: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None

    @classmethod
    def of(cls, spec: FeedSpec) -> FeedIdentity:
        return cls(spec.url, spec.name, spec.tags, spec.language)

    @property
    def shown(self) -> str:
        return self.name or self.url


class ConfiguredFeeds:
    """A feed as an item names it (item JSON's `feed`, a stored feed's URL) -> the configured
    feed of that URL or name; a feed not configured is known by that reference only."""

    def __init__(self, feeds: Sequence[FeedSpec]) -> None:
        self._known: dict[str, FeedIdentity] = {}
        for spec in feeds:
            for reference in (spec.url, spec.name):
                if reference:
                    self._known.setdefault(reference, FeedIdentity.of(spec))

    def __call__(self, reference: str | None) -> FeedIdentity | None:
        if reference is None:
            return None
        found = self._known.get(reference)
        if found is None:
            found = self._known[reference] = FeedIdentity(reference)
        return found


@dataclass(frozen=True)
class WatchlistScope:
    sources: SourcesSpec | None
    languages: frozenset[str] | None

    @classmethod
    def of(cls, spec: WatchlistSpec) -> WatchlistScope | None:
        """None for a watchlist that watches every feed in every language."""
        if spec.sources is None and spec.languages is None:
            return None
        languages = None if spec.languages is None else frozenset(spec.languages)
        return cls(spec.sources, languages)

    def feed_refusal(self, feed: FeedIdentity) -> str | None:
        """Why an item of `feed` is out of this watchlist's sources; None when it is in."""
        if self.sources is None:
            return None
        reason = self.sources.refusal(feed.shown, (feed.url, feed.name), feed.tags)
        return None if reason is None else f"{OUT_OF_SCOPE} {reason}"

    def language_refusal(self, language: str | None) -> str | None:
        """Why an item in `language` is out of this watchlist's languages; None when it is in.
        An item whose language is unknown (none declared, none detected) stays in scope: a
        short headline rarely tells its language, and a missed alert costs more than a stray."""
        if self.languages is None or language is None:
            return None
        code = language_code(language)
        if code in UNDETERMINED_LANGUAGES or code in self.languages:  # `und`: no known language
            return None
        return (
            f"{OUT_OF_SCOPE} the item's language is {language}, not one of languages:"
            f" {', '.join(sorted(self.languages))}"
        )


class FeedScopes:
    """The watchlists (by index) out of scope for a feed or a language, each decided once."""

    def __init__(self, scopes: Sequence[WatchlistScope | None]) -> None:
        self._scopes = [(index, scope) for index, scope in enumerate(scopes) if scope is not None]
        self._by_feed: dict[FeedIdentity, frozenset[int]] = {}
        self._by_language: dict[str, frozenset[int]] = {}

    def __bool__(self) -> bool:
        """Whether any watchlist has a scope: without one, nothing is ever out of scope."""
        return bool(self._scopes)

    def out_of_scope(self, feed: FeedIdentity | None, language: str | None) -> frozenset[int]:
        by_feed = frozenset() if feed is None else self._for_feed(feed)
        if language is None:
            return by_feed
        code = language_code(language)
        by_language = self._by_language.get(code)
        if by_language is None:
            by_language = self._by_language[code] = frozenset(
                index for index, scope in self._scopes if scope.language_refusal(code)
            )
        return by_feed | by_language if by_feed else by_language

    def _for_feed(self, feed: FeedIdentity) -> frozenset[int]:
        found = self._by_feed.get(feed)
        if found is None:
            found = self._by_feed[feed] = frozenset(
                index for index, scope in self._scopes if scope.feed_refusal(feed)
            )
        return found

    def refusal(self, index: int, feed: FeedIdentity | None, language: str | None) -> str | None:
        """Why watchlist `index` is out of scope for the item (`monitor explain`), or None."""
        for position, scope in self._scopes:
            if position == index:
                return (None if feed is None else scope.feed_refusal(feed)) or (
                    scope.language_refusal(language)
                )
        return None
