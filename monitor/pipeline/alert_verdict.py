"""Why a watchlist did not alert for a stored item (`monitor explain --item`), decided from the
facts the store and the matcher give, in the order the daemon's own decisions apply them (pure:
the facts are read elsewhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class WhyNot(StrEnum):
    COPY = "copy"  # the story had already alerted, through another of its items
    BACKLOG = "backlog"  # stored by its feed's first poll, which alerts on nothing
    TOO_OLD = "too_old"  # published more than `max_age` before it was seen
    OUT_OF_SCOPE = "out_of_scope"  # its `sources` or `languages` leave the item out
    EXCLUDED = "excluded"  # an `exclude:` term occurs
    NO_MATCH = "no_match"
    NO_CHANNEL = "no_channel"  # the alert was decided but had nowhere to go
    # It matches today, yet nothing was decided when it was stored: the watchlist (or its
    # terms) came later, or the item's text changed in an update (updates never alert).
    MATCHED_LATER = "matched_later"


def is_history(published: datetime | None, seen: datetime, max_age: timedelta) -> bool:
    """Whether an item published at `published`, seen at `seen`, is history that never alerts
    (`max_age`); an item without a date is news. The poll's rule (`ingest_plan`), and so
    `monitor explain --item`'s."""
    return published is not None and seen - published > max_age


@dataclass(frozen=True)
class AlertFacts:
    alerted_item: bool  # an alert of this watchlist names this very item
    delivered: bool  # that alert has deliveries (channels to go to)
    alerted_story: bool  # an alert of this watchlist names another item of the story
    backlog: bool
    too_old: bool
    excluded: bool
    matches: bool
    has_channel: bool  # the configuration gives the watchlist a channel today
    # Its `sources` or `languages` leave the item out (it may match it otherwise).
    out_of_scope: bool = False


def why_not(facts: AlertFacts) -> WhyNot | None:
    """None: an alert went out for this item."""
    if facts.alerted_item and facts.delivered:
        return None
    if facts.alerted_story:
        return WhyNot.COPY
    if facts.backlog:
        return WhyNot.BACKLOG
    if facts.too_old:
        return WhyNot.TOO_OLD
    if facts.out_of_scope:  # the matcher leaves it out before its exclude terms are looked at
        return WhyNot.OUT_OF_SCOPE
    if facts.excluded:
        return WhyNot.EXCLUDED
    if not facts.matches:
        return WhyNot.NO_MATCH
    if facts.alerted_item or not facts.has_channel:
        return WhyNot.NO_CHANNEL
    return WhyNot.MATCHED_LATER
