"""`monitor test-alert CHANNEL`: a sample alert sent through a channel's real delivery path
(render for its kind, send, classify the failure), so a user learns whether the channel works
before the first story needs it — and sees what an alert will look like there."""

from __future__ import annotations

from datetime import datetime, tzinfo

from monitor.model import Highlight, Outlet, SendOutcome, Snippet, StoryMessage
from monitor.pipeline.dispatch import Sender, deliver

_TERM = "OTAN"
_SENTENCES = (
    "Ceci est un message de test de monitor : le canal fonctionne, l’OTAN n’y est pour rien.",
    "Une vraie alerte cite ainsi chaque phrase où un terme surveillé apparaît, jusqu’à trois.",
)
_HIGHLIGHTED = (_TERM, "terme surveillé")


def sample_alert(now: datetime) -> StoryMessage:
    """A story as a real one looks: a title, a source, a time, two quoted sentences with their
    hits, two other outlets."""
    quotes = tuple(
        Snippet(sentence, (Highlight(start, start + len(word)),))
        for sentence, word in zip(_SENTENCES, _HIGHLIGHTED, strict=True)
        for start in (sentence.index(word),)
    )
    return StoryMessage(
        alert_ids=(),  # no alert row: no id in the footer
        watchlists=("test",),
        title="monitor : alerte de test",
        url=None,
        source="monitor test-alert",
        published=now,
        terms=(_TERM,),
        quotes=quotes,
        outlets=(Outlet("Agence exemple", "https://example.org/"), Outlet("Journal exemple")),
        first_seen=now,
    )


def send_sample_alert(sender: Sender, url: str, now: datetime, zone: tzinfo) -> SendOutcome:
    """The sample alert to `url`, its times in `zone` (the configuration's timezone)."""
    return deliver(sender, url, sample_alert(now), zone)


def outcome_line(channel: str, shown_url: str, outcome: SendOutcome) -> str:
    """The one line `monitor test-alert` prints."""
    if outcome.ok:
        return f"test alert sent to {channel} ({shown_url})"
    if outcome.refused_message:  # the channel works; this message did not pass
        kind = "the message was refused"
    elif outcome.permanent:
        kind = "permanent: fix the channel"
    else:
        kind = "worth a retry"
    return f"test alert to {channel} ({shown_url}) failed, {kind}: {outcome.error or 'no reason'}"
