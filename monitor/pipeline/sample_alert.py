"""`monitor test-alert CHANNEL`: a sample alert sent through a channel's real delivery path
(render for its kind, send, classify the failure), so a user learns whether the channel works
before the first story needs it."""

from __future__ import annotations

from datetime import datetime

from monitor.model import AlertMessage, Highlight, SendOutcome, Snippet
from monitor.pipeline.dispatch import Sender, deliver

_SENTENCE = (
    "Ceci est un message de test de monitor : le canal fonctionne, l’OTAN n’y est pour rien."
)
_TERM = "OTAN"


def sample_alert(now: datetime) -> AlertMessage:
    """An alert as a real one looks: a title, a source, a time, a quoted sentence with its hit."""
    start = _SENTENCE.index(_TERM)
    return AlertMessage(
        watchlist="test",
        title="monitor : alerte de test",
        url=None,
        source="monitor test-alert",
        published=now,
        terms=(_TERM,),
        snippet=Snippet(_SENTENCE, (Highlight(start, start + len(_TERM)),)),
    )


def send_sample_alert(sender: Sender, url: str, now: datetime) -> SendOutcome:
    return deliver(sender, url, sample_alert(now))


def outcome_line(channel: str, shown_url: str, outcome: SendOutcome) -> str:
    """The one line `monitor test-alert` prints."""
    if outcome.ok:
        return f"test alert sent to {channel} ({shown_url})"
    kind = "permanent: fix the channel" if outcome.permanent else "worth a retry"
    return f"test alert to {channel} ({shown_url}) failed, {kind}: {outcome.error or 'no reason'}"
