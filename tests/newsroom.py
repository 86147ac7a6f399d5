"""Feeds that publish news for the daemon tests, and the count of what the mail server got.

Every item matches the watchlist OTAN, is a story of its own (its words drawn at random, so
story folding joins none of them) and carries a reference in its title, `REF0001X`, that the
test looks for in the mails: a message may one day name several alerts, so alerts are counted
by the references read in the mails, not by the mails.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from tests.feed_server import FeedServer, Resource, rss

_REFERENCE = re.compile(r"REF\d{4}X")
# Words of news items, drawn at random: two items share a few, seldom side by side.
_VOCABULARY = """
accord alliance armée assemblée audience bataillon bilan brigade budget calendrier
campagne capitale cessez colonne comité commandant conférence congrès conseil contrat
convoi corridor débat décret défense délégation démission député dialogue diplomate
dossier drone échange élection embargo émissaire enquête entente escadre escorte état
exercice flotte force frégate frontière garnison gouvernement hélicoptère hiver
hôpital infanterie inspection juge justice littoral logistique manœuvre marine
médiateur mémorandum mission munitions navire négociation neutralité observateur
offensive opposition parlement patrouille pacte plateforme port préfecture président
procès protocole radar rapport recrutement réforme région réserve résolution retrait
réunion ravitaillement satellite sanction secours sénat sommet soutien stratégie
tribunal trêve troupe unité usine vallée vote zone
"""
_WORDS = _VOCABULARY.split()


def references_in(message: EmailMessage) -> set[str]:
    """The item references a mail names: in its subject and its text parts, decoded."""
    found = set(_REFERENCE.findall(str(message.get("Subject", ""))))
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found.update(_REFERENCE.findall(str(part.get_content())))
    return found


def received(messages: list[EmailMessage]) -> Counter[str]:
    """How many mails named each reference."""
    counts: Counter[str] = Counter()
    for message in list(messages):
        counts.update(references_in(message))
    return counts


class Newsroom:
    """`feeds` feeds on `server`, `/fil0.xml`, `/fil1.xml`, …, empty at first."""

    def __init__(self, server: FeedServer, feeds: int, *, seed: int) -> None:
        self.server = server
        self._random = random.Random(seed)
        self.paths = [f"/fil{number}.xml" for number in range(feeds)]
        self._items: dict[str, list[dict[str, str]]] = {path: [] for path in self.paths}
        self._holds: dict[str, Callable[[], bool] | None] = dict.fromkeys(self.paths)
        # Each reference and when its item was published (time.monotonic()).
        self.published: dict[str, float] = {}
        for path in self.paths:
            self._serve(path)

    @property
    def urls(self) -> list[str]:
        return [self.server.url(path) for path in self.paths]

    def publish(self, feed: int | None = None) -> str:
        """A new item on top of feed `feed` (one at random if None); its reference."""
        path = self.paths[self._random.randrange(len(self.paths)) if feed is None else feed]
        reference = f"REF{len(self.published) + 1:04d}X"
        words = self._random.sample(_WORDS, 30)
        self._items[path].insert(
            0,
            {
                "guid": f"urn:test:{reference}",
                "title": f"OTAN : {' '.join(words[:6])} {reference}",
                "link": f"https://presse.example.fr/{reference.lower()}",
                "description": " ".join(words[6:]) + ".",
                "pubDate": format_datetime(datetime.now(UTC)),
            },
        )
        self._serve(path)
        self.published[reference] = time.monotonic()
        return reference

    def hold(self, feed: int, until: Callable[[], bool] | None) -> None:
        """Feed `feed` answers only once `until()` holds (None: at once), publications or not."""
        self._holds[self.paths[feed]] = until
        self._serve(self.paths[feed])

    def resource(self, feed: int) -> Resource:
        """What the server answers for feed `feed` now (replaced at each publication)."""
        return self.server.resources[self.paths[feed]]

    def _serve(self, path: str) -> None:
        document = rss(f"Le fil {path}", self._items[path])
        self.server.serve(path, document, release_when=self._holds[path])
