"""Story folding of templated items, for `bench/dedup.py --templated`: feeds whose items share
one sentence frame (a council budget, the weather, a job board) and differ by a town's name
and numbers, so they share every band and lead key. Every item is its own story (another
town). Both paths are measured from an empty state: `monitor dedup` (`run_dedup`, in memory)
and the daemon's (`store_items` on a new SQLite file, one transaction per document, the
document's lines read before it as the poller does). The work per item must stay bounded:
twice the items, about twice the time. Run by `bench/dedup.py --templated`."""

from __future__ import annotations

import io
import json
import random
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from monitor.dedup.assign import DocumentLines
from monitor.dedup.exact import content_hash
from monitor.model import ItemText, PreparedItem
from monitor.offline import run_dedup
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.items import store_items
from monitor.store.tables import feeds

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
DOCUMENT = 20  # items per feed document
SEED = 20261204

FRAMES = (
    "Le conseil municipal de {town} a adopté {day} son budget primitif pour {year}. Les"
    " dépenses de fonctionnement atteignent {a} millions d'euros, en hausse de {b} % sur un"
    " an, et les investissements {c} millions d'euros. Le maire de {town} a défendu une hausse"
    " de la taxe foncière de {d} %, que l'opposition a jugée excessive. Les travaux de l'école"
    " et de la médiathèque représentent à eux seuls {e} millions d'euros.",
    "Prévisions météo pour {town} ce {day} : le ciel restera couvert le matin avec {a} mm de"
    " pluie attendus, puis des éclaircies l'après-midi. Les températures iront de {b} à {c}"
    " degrés, avec un vent de sud-ouest soufflant jusqu'à {d} km/h en rafales. À {town}, le"
    " lever du soleil est prévu à {e} h et le coucher à {a} h.",
    "Offre d'emploi à {town} : une entreprise de {a} salariés recherche un développeur"
    " expérimenté pour un poste en contrat à durée indéterminée à partir du {b} {day}. Le"
    " salaire annuel proposé va de {c} à {d} euros selon l'expérience, avec {e} jours de"
    " télétravail par semaine. Les candidatures sont reçues à l'agence de {town} jusqu'au {b}.",
)
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi")
# fmt: off
_STARTS = ("Bel", "Bor", "Cham", "Char", "Font", "Gour", "Lan", "Mar", "Mont", "Pon", "Roche",
           "Sau", "Vil", "Ver", "Bri", "Cour", "Fla", "Mor", "Tal", "Sen")
_MIDDLES = ("a", "e", "i", "o", "ou", "au", "an", "on", "in", "er")
_ENDS = ("ville", "mont", "bourg", "lac", "court", "val", "dun", "nac", "sac", "gny", "rieux",
         "zac", "mas", "ron", "lès", "fort")
# fmt: on


def town(number: int) -> str:
    """A distinct French-like town name per number (for 32,000), all of one shape: the items
    of a larger run cost the same as a smaller run's."""
    parts = []
    for choices in (_STARTS, _MIDDLES, _MIDDLES, _ENDS):
        parts.append(choices[number % len(choices)])
        number //= len(choices)
    return "".join(parts)


def documents(count: int) -> list[tuple[int, list[PreparedItem]]]:
    """`count` templated items in feed documents of DOCUMENT items: (feed number, items);
    a feed keeps its frame, 30 feeds take turns."""
    rng = random.Random(SEED)
    found = []
    for first in range(0, count, DOCUMENT):
        feed = (first // DOCUMENT) % 30 + 1
        frame = FRAMES[feed % len(FRAMES)]
        batch = []
        for number in range(first, min(first + DOCUMENT, count)):
            values = {name: rng.randrange(2, 999) for name in "abcde"}
            body = frame.format(
                town=town(number), day=rng.choice(_DAYS), year=rng.randrange(2020, 2030), **values
            )
            title = body.split(" : ")[0].split(". ")[0][:90]
            text = ItemText(title, "", body, "fr")
            key = f"https://annonces{feed}.example.fr/{number}"
            batch.append(PreparedItem(key, key, text, NOW, content_hash(text, key)))
        found.append((feed, batch))
    return found


class _Marks:
    """CPU seconds and stories when the stream reaches each mark (a number of items)."""

    def __init__(self, marks: Sequence[int]) -> None:
        self.marks = sorted(marks)
        self.seconds: list[float] = []
        self.stories: list[int] = []
        self._clusters: set[object] = set()
        self._items = 0
        self._started = time.process_time()

    def passed(self, clusters: Sequence[object]) -> None:
        self._clusters.update(clusters)
        self._items += len(clusters)
        if len(self.seconds) < len(self.marks) and self._items >= self.marks[len(self.seconds)]:
            self.seconds.append(time.process_time() - self._started)
            self.stories.append(len(self._clusters))


class _Records(io.StringIO):
    """`run_dedup`'s output, told to the marks as it is written (one record per write)."""

    def __init__(self, marks: _Marks) -> None:
        super().__init__()
        self._marks = marks

    def write(self, text: str) -> int:
        self._marks.passed([json.loads(text)["cluster"]])
        return len(text)


def through_dedup(docs: Sequence[tuple[int, list[PreparedItem]]], marks: _Marks) -> None:
    """`run_dedup` over the items as JSON Lines."""
    lines = "".join(
        json.dumps(
            {"id": item.key, "feed": f"feed {feed}", "url": item.url, "title": item.text.title,
             "content": item.text.content}, ensure_ascii=False,
        ) + "\n"
        for feed, batch in docs
        for item in batch
    )  # fmt: skip
    source = io.StringIO(lines)
    marks._started = time.process_time()
    run_dedup(source, _Records(marks), io.StringIO())


def through_daemon(docs: Sequence[tuple[int, list[PreparedItem]]], marks: _Marks) -> None:
    """The daemon's story path over a new SQLite file, document by document."""
    with tempfile.TemporaryDirectory() as directory:
        engine = open_engine(f"sqlite:///{Path(directory) / 'templated.db'}")
        upgrade(engine)
        with engine.begin() as connection:
            sync_feeds(connection, [(f"https://annonces{n}.example.fr/rss", None)
                                    for n in range(1, 31)], NOW)  # fmt: skip
            ids = {row.url: row.id for row in connection.execute(select(feeds.c.url, feeds.c.id))}
        marks._started = time.process_time()
        for feed, batch in docs:
            document = DocumentLines.of(batch)
            with engine.begin() as connection:
                stored = store_items(
                    connection,
                    ids[f"https://annonces{feed}.example.fr/rss"],
                    batch,
                    NOW,
                    fingerprint_of=document.fingerprint,
                )
            marks.passed([item.cluster_id for item in stored])
        engine.dispose()


def measure_one(sizes: Sequence[int], path: str) -> dict[str, Any]:
    """One path over max(sizes) items from an empty state, in a fresh interpreter
    (bench/dedup.py starts one per run), timed as it passes each size: the smaller sizes are
    the same items' first ones, measured in the same run, under the same load."""
    marks = _Marks(sizes)
    (through_dedup if path == "dedup" else through_daemon)(documents(max(sizes)), marks)
    return {"seconds": marks.seconds, "stories": marks.stories}


def print_rows(rows: Sequence[dict[str, Any]]) -> None:
    print("templated items: 3 sentence frames, another town and other numbers in each item;")
    print(
        f"  feed documents of {DOCUMENT} items, 30 feeds; every item its own story; CPU time of"
        f" each path from an empty state in a fresh interpreter, at each size as one run passes"
        f" it, the least of {rows[0]['runs'] if rows else 0} runs"
    )
    print(
        f"  {'items':>7}  {'dedup CPU s':>11}  {'dedup items/s':>13}  {'stories':>7}"
        f"  {'daemon CPU s':>12}  {'daemon items/s':>14}  {'stories':>7}"
    )
    for row in rows:
        print(
            f"  {row['items']:>7,}  {row['dedup s']:>11.2f}"
            f"  {row['items'] / row['dedup s']:>13,.0f}"
            f"  {row['dedup stories']:>7,}  {row['daemon s']:>12.2f}"
            f"  {row['items'] / row['daemon s']:>14,.0f}  {row['daemon stories']:>7,}"
        )
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        print(
            f"  ratio {last['items']:,}/{first['items']:,}:"
            f" dedup {last['dedup s'] / first['dedup s']:.2f}x,"
            f" daemon {last['daemon s'] / first['daemon s']:.2f}x (linear: "
            f"{last['items'] / first['items']:.2f}x)"
        )
