"""The plan of a changed feed document's ingest, with plain values: what is stored, what is
matched (only what may be new and may alert), and the alerts planned for each item."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from monitor.model import FeedEntry, ItemText, PreparedItem, WatchlistMatch
from monitor.pipeline.ingest_plan import plan_ingest
from monitor.pipeline.prepare import prepare_entry

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(days=2)
FOOTER = "Suivez-nous sur les réseaux sociaux pour ne rien manquer de l'actualité du jour."


def item(key: str, title: str, *, age: timedelta | None = timedelta(hours=1)) -> PreparedItem:
    body = f"<p>{title} : le texte de l'article {key}, assez long pour être une histoire.</p>"
    return prepare_entry(
        FeedEntry(
            key=key,
            url=f"https://example.fr/{key}",
            title=title,
            summary="",
            content=f"{body}<p>{FOOTER}</p>",
            published=None if age is None else NOW - age,
        ),
        "fr",
        now=NOW,
    )


class Watchlists:
    """Fires `otan` on titles naming OTAN, and remembers which texts it was asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, text: ItemText) -> tuple[WatchlistMatch, ...]:
        self.asked.append(text.title)
        return (WatchlistMatch("otan", ()),) if "OTAN" in text.title else ()


def test_the_first_poll_stores_every_item_and_matches_none() -> None:
    items = [item("a", "L'OTAN se réunit"), item("b", "Météo")]
    match = Watchlists()
    plan = plan_ingest(
        items, stored_hashes={}, alerting=False, now=NOW, max_age=MAX_AGE, match=match
    )
    assert plan.items == tuple(items)
    assert match.asked == []
    assert all(plan.alerts_for(stored) == () for stored in items)


def test_only_items_that_may_be_new_are_matched() -> None:
    known = item("known", "L'OTAN hier")
    updated = item("updated", "L'OTAN, texte corrigé")
    new = item("new", "L'OTAN aujourd'hui")
    quiet = item("quiet", "Météo")
    match = Watchlists()
    plan = plan_ingest(
        [known, updated, new, quiet],
        stored_hashes={"known": known.content_hash, "updated": "the hash of its former text"},
        alerting=True,
        now=NOW,
        max_age=MAX_AGE,
        match=match,
    )
    assert plan.items == (known, updated, new, quiet)  # all stored: updates are updates
    # A changed text may be an id reused for another item, which story assignment makes new.
    assert match.asked == ["L'OTAN, texte corrigé", "L'OTAN aujourd'hui", "Météo"]
    assert [w.watchlist for w in plan.alerts_for(new)] == ["otan"]
    assert plan.alerts_for(known) == () and plan.alerts_for(quiet) == ()


def test_old_news_is_not_matched_and_an_undated_item_is() -> None:
    old = item("old", "L'OTAN il y a un mois", age=timedelta(days=30))
    undated = item("undated", "L'OTAN, sans date", age=None)
    match = Watchlists()
    plan = plan_ingest(
        [old, undated], stored_hashes={}, alerting=True, now=NOW, max_age=MAX_AGE, match=match
    )
    assert match.asked == ["L'OTAN, sans date"]
    assert plan.alerts_for(old) == ()
    assert plan.alerts_for(undated) != ()


def test_an_item_filed_under_another_key_keeps_its_planned_alerts() -> None:
    reused = item("latest", "L'OTAN, nouvel article")
    plan = plan_ingest(
        [reused],
        stored_hashes={"latest": "another item's text"},
        alerting=True,
        now=NOW,
        max_age=MAX_AGE,
        match=Watchlists(),
    )
    filed = replace(reused, key="latest reused-id-for https://example.fr/latest")
    assert plan.alerts_for(filed) == plan.alerts_for(reused) != ()


def test_stored_pages_are_not_stored_again_nor_matched() -> None:
    page, teaser = item("page", "L'OTAN, article complet"), item("teaser", "L'OTAN, brève")
    match = Watchlists()
    plan = plan_ingest(
        [page, teaser],
        stored_hashes={"page": "the page's text"},
        not_again={"page"},
        alerting=True,
        now=NOW,
        max_age=MAX_AGE,
        match=match,
    )
    assert plan.items == (teaser,)
    assert match.asked == ["L'OTAN, brève"]


def test_lines_the_document_repeats_are_left_out_of_fingerprints() -> None:
    items = [item(str(number), f"Titre {number}") for number in range(4)]
    plan = plan_ingest(
        items, stored_hashes={}, alerting=False, now=NOW, max_age=MAX_AGE, match=Watchlists()
    )
    assert len(plan.document.repeated) == 1
    (footer,) = plan.document.repeated
    assert "reseaux sociaux" in footer
    assert all(footer in plan.document.by_key[stored.key] for stored in items)
    alone = plan_ingest(
        items[:1], stored_hashes={}, alerting=False, now=NOW, max_age=MAX_AGE, match=Watchlists()
    )
    assert alone.document.repeated == frozenset()
    assert plan.fingerprint_of(items[0]) != alone.fingerprint_of(items[0])
