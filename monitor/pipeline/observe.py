"""What a poll pass tells an observer (the daemon's metrics), so that measuring stays at this
edge: nothing in match/ or dedup/ knows it is watched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from monitor.model import PollOutcome


class PollObserver(Protocol):
    def fetched(self, seconds: float) -> None:
        """One feed document's fetch ended (a body, a 304 or an error) after `seconds`."""

    def matched(self, seconds: float) -> None:
        """One item's text went through the watchlists in `seconds`."""

    def folded(self, seconds: float, layers: Sequence[str | None]) -> None:
        """A document's new items were stored in their stories in `seconds` in all; for each,
        the layer that folded it into an earlier story (`StoryDecision.layer`), None for a
        story's first item."""

    def polled(self, outcome: PollOutcome) -> None:
        """One feed's poll ended."""


class Unobserved:
    """The observer of `poll --once` and tests: nothing is measured."""

    def fetched(self, seconds: float) -> None:
        pass

    def matched(self, seconds: float) -> None:
        pass

    def folded(self, seconds: float, layers: Sequence[str | None]) -> None:
        pass

    def polled(self, outcome: PollOutcome) -> None:
        pass
