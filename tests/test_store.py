"""The storage layer on a real SQLite file: unique keys, outbox claims and leases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select, update

from monitor.dedup.fingerprint import Fingerprint, fingerprint
from monitor.model import FeedStatus, ItemText, Outlet, PollOutcome, PreparedItem, Validators
from monitor.store import claims as claim_store
from monitor.store import feeds as feed_store
from monitor.store.alerts import create_alert
from monitor.store.claims import claim_due_feeds
from monitor.store.database import upgrade
from monitor.store.feeds import record_poll, sync_feeds
from monitor.store.items import store_items, stored_content_hashes
from monitor.store.messages import open_message
from monitor.store.outbox import (
    claim_channel_deliveries,
    outbox_counts,
    record_retry,
    record_sent,
    release_send_leases,
)
from monitor.store.stories import story_outlets
from monitor.store.tables import alerts, deliveries, feeds, story_fingerprints

NOW = datetime(2026, 3, 23, 12, 0, tzinfo=UTC)


def item(
    key: str, url: str | None = None, body: str = "texte", content_hash: str | None = None
) -> PreparedItem:
    return PreparedItem(
        key=key,
        url=url,
        text=ItemText(title=f"Titre {key}", summary=body),
        published=NOW,
        content_hash=content_hash or f"hash-{key}",
    )


def two_feeds(engine: Engine) -> tuple[int, int]:
    with engine.begin() as connection:
        sync_feeds(connection, [("http://a.test/rss", "A"), ("http://b.test/rss", "B")], NOW)
        rows = connection.execute(select(feeds.c.url, feeds.c.id).order_by(feeds.c.url)).all()
    return rows[0].id, rows[1].id


def test_upgrade_is_idempotent_and_sqlite_uses_wal(engine: Engine) -> None:
    upgrade(engine)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_same_link_or_same_text_in_two_feeds_is_one_story(engine: Engine) -> None:
    feed_a, feed_b = two_feeds(engine)
    with engine.begin() as connection:
        (first,) = store_items(connection, feed_a, [item("a1", url="https://x.test/1")], NOW)
        (same_link,) = store_items(connection, feed_b, [item("b1", url="https://x.test/1")], NOW)
        (same_text,) = store_items(connection, feed_b, [item("b2", content_hash="hash-a1")], NOW)
        (other,) = store_items(connection, feed_b, [item("b3", url="https://x.test/3")], NOW)
    assert first.is_new and same_link.is_new and same_text.is_new
    assert same_link.cluster_id == first.cluster_id == same_text.cluster_id
    assert other.cluster_id != first.cluster_id


def test_a_link_shared_inside_one_feed_is_not_a_story(engine: Engine) -> None:
    feed_a, _ = two_feeds(engine)
    with engine.begin() as connection:
        releases = store_items(
            connection,
            feed_a,
            [item(f"release-{n}", url="https://ngo.example/") for n in range(3)],
            NOW,
        )
    assert len({stored.cluster_id for stored in releases}) == 3


def test_stories_older_than_the_window_are_not_joined(engine: Engine) -> None:
    feed_a, feed_b = two_feeds(engine)
    with engine.begin() as connection:
        (old,) = store_items(connection, feed_a, [item("a1", url="https://x.test/1")], NOW)
        (later,) = store_items(
            connection, feed_b, [item("b1", url="https://x.test/1")], NOW + timedelta(days=8)
        )
    assert later.cluster_id != old.cluster_id


def test_item_updated_in_place_stays_the_same_item(engine: Engine) -> None:
    feed_a, _ = two_feeds(engine)
    with engine.begin() as connection:
        (first,) = store_items(connection, feed_a, [item("a1", body="v1")], NOW)
        (again,) = store_items(
            connection, feed_a, [item("a1", body="v2", content_hash="changed")], NOW
        )
    assert not again.is_new
    assert (again.id, again.cluster_id) == (first.id, first.cluster_id)


def test_one_alert_per_watchlist_and_story(engine: Engine) -> None:
    feed_a, feed_b = two_feeds(engine)
    with engine.begin() as connection:
        (first,) = store_items(connection, feed_a, [item("a1", url="https://x.test/1")], NOW)
        (copy,) = store_items(connection, feed_b, [item("b1", url="https://x.test/1")], NOW)
        created = [
            create_alert(
                connection,
                watchlist="otan",
                cluster_id=stored.cluster_id,
                item_id=stored.id,
                payload={"title": "t"},
                channels=["mail", "chat"],
                now=NOW,
            )
            for stored in (first, copy)
        ]
        assert created[0] is not None and created[1] is None
        assert connection.execute(select(func.count()).select_from(alerts)).scalar() == 1
        assert connection.execute(select(func.count()).select_from(deliveries)).scalar() == 2
        assert story_outlets(connection, first.cluster_id, first.id) == [
            Outlet("B", "https://x.test/1")
        ]


def test_claims_lease_and_resend_after_a_crash(engine: Engine) -> None:
    feed_a, _ = two_feeds(engine)
    with engine.begin() as connection:
        (stored,) = store_items(connection, feed_a, [item("a1")], NOW)
        create_alert(
            connection,
            watchlist="otan",
            cluster_id=stored.cluster_id,
            item_id=stored.id,
            payload={},
            channels=["mail"],
            now=NOW,
        )
    lease = timedelta(minutes=5)
    with engine.begin() as connection:
        (job,) = claim_channel_deliveries(connection, NOW, lease)
        assert job.attempts == 1
        # In flight: nobody else may claim it before the lease ends.
        assert claim_channel_deliveries(connection, NOW + timedelta(minutes=1), lease) == []
    # The process "died" after the claim, before any send: claimed again, not a resend.
    with engine.begin() as connection:
        (again,) = claim_channel_deliveries(connection, NOW + timedelta(minutes=6), lease)
        assert again.id == job.id and again.attempts == 2
        # The first claim's lease is gone: its late outcome is not recorded.
        assert record_sent(connection, [job], NOW + timedelta(minutes=6)) == 0
        # Now a send starts (its message row is open) and the process dies during it.
        open_message(connection, "mail", "story", [again.id], NOW + timedelta(minutes=6))
    with engine.begin() as connection:
        # At the next start on SQLite: its lease ends now, and it was in flight.
        assert release_send_leases(connection, NOW + timedelta(minutes=7)) == 1
        (third,) = claim_channel_deliveries(connection, NOW + timedelta(minutes=7), lease)
        assert third.attempts == 3
        assert record_retry(connection, [third], NOW + timedelta(minutes=30), "smtp refused") == 1
        assert claim_channel_deliveries(connection, NOW + timedelta(minutes=29), lease) == []
        (fourth,) = claim_channel_deliveries(connection, NOW + timedelta(minutes=30), lease)
        assert record_sent(connection, [fourth], NOW + timedelta(minutes=30)) == 1
        assert claim_channel_deliveries(connection, NOW + timedelta(days=9), lease) == []
        counts = outbox_counts(connection)
    assert (counts.sent, counts.pending, counts.resends) == (1, 0, 1)


def test_a_claim_larger_than_one_statement_claims_every_feed(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The lease is written in slices (SQLite binds at most 32,766 values per statement).
    monkeypatch.setattr(claim_store, "_CLAIM_SLICE", 3)
    with engine.begin() as connection:
        sync_feeds(connection, [(f"http://{n}.test/rss", None) for n in range(7)], NOW)
        assert len(claim_due_feeds(connection, NOW, timedelta(minutes=10))) == 7
        assert claim_due_feeds(connection, NOW + timedelta(minutes=9), timedelta(minutes=10)) == []


def test_due_feeds_are_claimed_once(engine: Engine) -> None:
    two_feeds(engine)
    lease = timedelta(minutes=10)
    with engine.begin() as connection:
        assert len(claim_due_feeds(connection, NOW, lease)) == 2
        assert claim_due_feeds(connection, NOW + timedelta(minutes=1), lease) == []
        assert (
            len(claim_due_feeds(connection, NOW + timedelta(minutes=1), lease, all_feeds=True)) == 2
        )


def test_removed_feed_goes_inactive_and_keeps_its_items(engine: Engine) -> None:
    feed_a, _ = two_feeds(engine)
    with engine.begin() as connection:
        store_items(connection, feed_a, [item("a1")], NOW)
        sync_feeds(connection, [("http://b.test/rss", "B")], NOW)
        claimed = claim_due_feeds(connection, NOW, timedelta(minutes=1), all_feeds=True)
    assert [feed.url for feed in claimed] == ["http://b.test/rss"]


def _story_item(key: str, content: str) -> PreparedItem:
    return PreparedItem(key, None, ItemText(title=key, content=content), NOW, f"hash-{key}")


def test_near_copies_join_through_the_stored_index(engine: Engine) -> None:
    from monitor.store.stories import prune_story_index

    story = " ".join(f"mot{n} de la phrase numero {n} du texte" for n in range(60))
    feed_a, feed_b = two_feeds(engine)
    with engine.begin() as connection:
        (original,) = store_items(
            connection,
            feed_a,
            [_story_item("a1", story)],
            NOW,
            fingerprint_of=lambda item: fingerprint(item.text),
        )
    with engine.begin() as connection:
        copy, other = store_items(
            connection,
            feed_b,
            [
                _story_item("b1", "Spread the love\n" + story + "\nLeave A Reply"),
                _story_item(
                    "b2", " ".join(f"autre{n} histoire sans rapport {n}" for n in range(80))
                ),
            ],
            NOW + timedelta(hours=1),
            fingerprint_of=lambda item: fingerprint(item.text),
        )
    assert copy.cluster_id == original.cluster_id
    assert copy.similarity is not None
    assert other.cluster_id != original.cluster_id
    with engine.begin() as connection:
        assert prune_story_index(connection, NOW + timedelta(minutes=30)) == 1
        (late,) = store_items(
            connection,
            feed_b,
            [_story_item("b3", story + " fin")],
            NOW + timedelta(hours=2),
            fingerprint_of=lambda item: fingerprint(item.text),
        )
    # The original was forgotten; the copy, still in the window, is found instead.
    assert late.cluster_id == original.cluster_id


def _fingerprint_of(item: PreparedItem) -> Fingerprint:
    return fingerprint(item.text)


STORY = " ".join(f"mot{n} de la phrase numero {n} du texte" for n in range(60))


def test_one_document_holding_a_story_its_copies_and_a_teaser(engine: Engine) -> None:
    feed_a, _ = two_feeds(engine)
    with engine.begin() as connection:
        original, near, exact, teaser = store_items(
            connection,
            feed_a,
            [
                _story_item("a1", STORY),
                _story_item("a2", "Spread the love\n" + STORY + " fin"),
                PreparedItem("a3", None, ItemText("autre titre", "", STORY), NOW, "hash-a1"),
                _story_item("a4", "Lire la suite"),
            ],
            NOW,
            fingerprint_of=_fingerprint_of,
        )
        filed = set(connection.execute(select(story_fingerprints.c.item_id)).scalars())
    assert near.cluster_id == original.cluster_id and near.similarity is not None
    assert exact.cluster_id == original.cluster_id and exact.similarity == 1.0
    assert teaser.cluster_id != original.cluster_id
    # An exact copy would repeat its original's keys, a teaser can never near-match: neither
    # is filed.
    assert filed == {original.id, near.id}


def test_a_summary_joins_its_stored_full_text_by_containment(engine: Engine) -> None:
    feed_a, feed_b = two_feeds(engine)
    with engine.begin() as connection:
        (full,) = store_items(
            connection, feed_a, [_story_item("a1", STORY)], NOW, fingerprint_of=_fingerprint_of
        )
    summary = " ".join(STORY.split()[:50])
    with engine.begin() as connection:
        (teaser,) = store_items(
            connection,
            feed_b,
            [PreparedItem("b1", None, ItemText("b1", summary=summary), NOW, "hash-b1")],
            NOW + timedelta(hours=1),
            fingerprint_of=_fingerprint_of,
        )
    assert teaser.cluster_id == full.cluster_id
    assert teaser.similarity is not None and teaser.similarity >= 0.7


def test_fingerprints_stored_without_counts_are_still_compared(engine: Engine) -> None:
    """Rows written before migration 0003 have no word and shingle counts."""
    feed_a, feed_b = two_feeds(engine)
    with engine.begin() as connection:
        (original,) = store_items(
            connection, feed_a, [_story_item("a1", STORY)], NOW, fingerprint_of=_fingerprint_of
        )
        connection.execute(update(story_fingerprints).values(words=None, shingles=None))
    with engine.begin() as connection:
        (copy,) = store_items(
            connection,
            feed_b,
            [_story_item("b1", STORY + "\nLeave A Reply")],
            NOW + timedelta(hours=1),
            fingerprint_of=_fingerprint_of,
        )
    assert copy.cluster_id == original.cluster_id


def test_an_id_reused_with_another_link_and_text_is_a_new_item(engine: Engine) -> None:
    feed_a, _ = two_feeds(engine)
    first = item("latest", "https://a.test/1", "premier texte", "hash-1")
    second = item("latest", "https://a.test/2", "second texte", "hash-2")
    with engine.begin() as connection:
        (old,) = store_items(connection, feed_a, [first], NOW)
    with engine.begin() as connection:
        (new,) = store_items(connection, feed_a, [second], NOW)
    assert new.is_new and new.id != old.id and new.cluster_id != old.cluster_id
    with engine.begin() as connection:
        (again,) = store_items(connection, feed_a, [second], NOW)
        (updated,) = store_items(connection, feed_a, [replace(first, content_hash="hash-3")], NOW)
    assert (again.id, again.is_new) == (new.id, False)
    assert (updated.id, updated.is_new) == (old.id, False)  # same link: an update in place


def test_the_migrations_build_the_schema_the_code_declares(engine: Engine) -> None:
    # A column added to tables.py without its migration (or the reverse) shows up here, on the
    # backend where it would fail in production.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from monitor.store.tables import metadata

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_a_poll_outcome_is_read_back_as_the_status_and_error_kind_it_recorded(
    engine: Engine,
) -> None:
    feed_id, _ = two_feeds(engine)
    url = "http://a.test/rss"
    later = NOW + timedelta(minutes=10)
    parsed = PollOutcome(
        url,
        FeedStatus.OK,
        NOW,
        later,
        new_items=3,
        validators=Validators(etag='"v1"'),
        body_hash="body",
        entries_hash="entries",
        title="Le flux A",
        ttl_seconds=600,
    )
    failed = PollOutcome(
        url, FeedStatus.ERROR, later, later, error_kind="http_status", message="HTTP 503"
    )
    with engine.begin() as connection:
        record_poll(connection, feed_id, parsed)
        record_poll(connection, feed_id, failed)
        record_poll(connection, feed_id, replace(failed, checked_at=later, message="HTTP 502"))
        (health, _) = feed_store.feed_health(connection, [url, "http://b.test/rss"])
        (state,) = [s for s in claim_due_feeds(connection, later, timedelta(1)) if s.url == url]
    assert (health.status, health.error_kind, health.status_word) == (
        FeedStatus.ERROR,
        "http_status",
        "error:http_status",
    )
    assert (health.error, health.error_count, health.items) == ("HTTP 502", 2, 3)
    assert health.last_success_at == NOW
    # What the last good poll kept stays through failures.
    assert state.status is FeedStatus.ERROR and state.error_kind == "http_status"
    assert (state.validators.etag, state.body_hash, state.entries_hash) == (
        '"v1"',
        "body",
        "entries",
    )
    assert (state.title, state.ttl_seconds, state.seeded) == ("Le flux A", 600, True)

    not_modified = PollOutcome(url, FeedStatus.NOT_MODIFIED, later, later, validators=Validators())
    with engine.begin() as connection:
        record_poll(connection, feed_id, not_modified)
        (health,) = feed_store.feed_health(connection, [url])
        body_hash = connection.execute(
            select(feeds.c.body_hash).where(feeds.c.id == feed_id)
        ).scalar_one()
    assert (health.status_word, health.error_kind, health.error, health.error_count) == (
        "not_modified",
        None,
        None,
        0,
    )
    assert body_hash == "body"


def test_stored_content_hashes_are_those_of_the_feeds_own_items(engine: Engine) -> None:
    feed_a, feed_b = two_feeds(engine)
    with engine.begin() as connection:
        store_items(connection, feed_a, [item("1"), item("2")], NOW)
        store_items(connection, feed_b, [item("3")], NOW)
        found = stored_content_hashes(connection, feed_a, ["1", "3", "4"])
    assert found == {"1": "hash-1"}


def _migrate(engine: Engine, step: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from monitor.store.database import _migrations_dir

    config = AlembicConfig()
    config.set_main_option("script_location", _migrations_dir())
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)


def test_a_stored_error_status_is_split_into_status_and_kind_by_migration_0007(
    engine: Engine,
) -> None:
    _migrate(engine, "downgrade", "0006")
    now = datetime(2026, 12, 4, tzinfo=UTC)
    with engine.begin() as connection:
        for url, status in (("https://a.example/", "error:timeout"), ("https://b.example/", "ok")):
            connection.execute(
                feeds.insert().values(
                    url=url, active=True, next_check_at=now, status=status, created_at=now
                )
            )
    _migrate(engine, "upgrade", "head")
    with engine.connect() as connection:
        health = feed_store.feed_health(connection, ["https://a.example/", "https://b.example/"])
    assert [(feed.status, feed.error_kind, feed.status_word) for feed in health] == [
        (FeedStatus.ERROR, "timeout", "error:timeout"),
        (FeedStatus.OK, None, "ok"),
    ]
    _migrate(engine, "downgrade", "0006")
    with engine.connect() as connection:
        stored = connection.execute(select(feeds.c.status).order_by(feeds.c.url)).scalars().all()
    assert stored == ["error:timeout", "ok"]
