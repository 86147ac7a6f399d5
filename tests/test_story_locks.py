"""Story assignment on PostgreSQL without one global lock (monitor/store/story_locks.py): real
connections racing, released together by barriers; a transaction held open on an event proves
what waits for it and what does not, with `lock_timeout` so that a wait fails instead of hanging."""

from __future__ import annotations

import random
import string
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, select, text
from sqlalchemy.exc import OperationalError

from monitor.dedup.assign import DocumentLines
from monitor.dedup.exact import content_hash
from monitor.dedup.fingerprint import fingerprint
from monitor.model import ItemText, PreparedItem
from monitor.store.database import open_engine, upgrade
from monitor.store.feeds import sync_feeds
from monitor.store.items import StoredItem, store_items
from monitor.store.story_locks import MAX_KEY_LOCKS, NEAR_KEYS_PER_TEXT, WHOLE_INDEX
from monitor.store.tables import feeds

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 3, 23, 12, 0, tzinfo=UTC)
DEADLINE = 60  # seconds: generous, for a loaded machine; never reached when all is well


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = open_engine(postgres_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def make_feeds(engine: Engine, count: int) -> list[int]:
    urls = [f"http://feed{n}.test/rss" for n in range(count)]
    with engine.begin() as connection:
        sync_feeds(connection, [(url, None) for url in urls], NOW)
        ids = {row.url: row.id for row in connection.execute(select(feeds.c.url, feeds.c.id))}
    return [ids[url] for url in urls]


def story(tag: str, words: int = 90) -> str:
    """A text of its own, made of made-up words: no two tags share a shingle."""
    letters = random.Random(tag)
    return " ".join("".join(letters.choices(string.ascii_lowercase, k=7)) for _ in range(words))


def near_copy(body: str, ending: str = "selon nos informations") -> str:
    """The same story with a kicker and its last words changed: another content hash."""
    return "Mise à jour\n" + body.rsplit(" ", 5)[0] + " " + ending


def prepared(key: str, body: str, url: str | None = None) -> PreparedItem:
    item_text = ItemText(title=f"Titre {key}", content=body)
    return PreparedItem(key, url, item_text, NOW, content_hash(item_text, key))


def store(connection: Connection, feed_id: int, items: Sequence[PreparedItem]) -> list[StoredItem]:
    """The daemon's call: one document, its fingerprints computed in the transaction."""
    lines = DocumentLines.of(items)
    return store_items(connection, feed_id, items, NOW, fingerprint_of=lines.fingerprint)


def run_together(tasks: Sequence[Callable[[], object]]) -> list[object]:
    """Each task in its own thread, all released at once; their results in order."""
    results: list[object] = [None] * len(tasks)
    errors: list[BaseException] = []
    start = threading.Barrier(len(tasks), timeout=DEADLINE)

    def run(position: int) -> None:
        try:
            start.wait()
            results[position] = tasks[position]()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(tasks))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE)
    assert not any(thread.is_alive() for thread in threads), "a writer never finished"
    if errors:
        raise errors[0]
    return results


def test_copies_of_one_story_stored_at_once_become_one_story(pg: Engine) -> None:
    """The same text, a near copy with the same link, another near copy, each stored by its
    own connection at the same moment as the original: one story, every time. (Each copy
    finds any other stored before it, so that one story is what every order gives: an
    unrelated text with the same link would make two stories when stored before a copy of the
    same text, which joins by its text first.)"""
    feed_ids = make_feeds(pg, 4)

    def writer(feed_id: int, item: PreparedItem) -> Callable[[], object]:
        def write() -> int:
            with pg.begin() as connection:
                connection.execute(text("SELECT 1"))  # the transaction is open
                (stored,) = store(connection, feed_id, [item])
            return stored.cluster_id

        return write

    for round_ in range(20):
        body = story(f"r{round_}")
        link = f"https://news.test/{round_}"
        copies = [
            prepared(f"a{round_}", body, link),
            prepared(f"b{round_}", body, f"https://other.test/{round_}"),  # same text
            prepared(f"c{round_}", near_copy(body), link),  # same link, a near copy
            prepared(f"d{round_}", near_copy(body, "a déclaré le maire hier")),
        ]
        clusters = run_together(
            [writer(feed_id, item) for feed_id, item in zip(feed_ids, copies, strict=True)]
        )
        assert len(set(clusters)) == 1, f"round {round_}: {clusters}"


class HeldOpen:
    """A transaction that stores a document, then stays open (its locks held) until released."""

    def __init__(self, engine: Engine, feed_id: int, items: Sequence[PreparedItem]) -> None:
        self.stored: list[StoredItem] = []
        self._holding = threading.Event()
        self._release = threading.Event()
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(engine, feed_id, items))

    def _run(self, engine: Engine, feed_id: int, items: Sequence[PreparedItem]) -> None:
        try:
            with engine.begin() as connection:
                self.stored = store(connection, feed_id, items)
                self._holding.set()
                assert self._release.wait(DEADLINE), "never released"
        except BaseException as error:
            self._errors.append(error)
            self._holding.set()

    def __enter__(self) -> HeldOpen:
        self._thread.start()
        assert self._holding.wait(DEADLINE)
        if self._errors:
            raise self._errors[0]
        return self

    def __exit__(self, *_: object) -> None:
        self._release.set()
        self._thread.join(DEADLINE)
        assert not self._thread.is_alive()
        if self._errors:
            raise self._errors[0]


def store_waiting_at_most(
    engine: Engine, feed_id: int, items: Sequence[PreparedItem], timeout: str
) -> list[StoredItem]:
    with engine.begin() as connection:
        connection.execute(text(f"SET LOCAL lock_timeout = '{timeout}'"))
        return store(connection, feed_id, items)


def waits(engine: Engine, feed_id: int, items: Sequence[PreparedItem]) -> None:
    """Storing `items` waits for a lock: it gives up after 300 ms, enough to prove it waited,
    since what it waits for stays held."""
    with pytest.raises(OperationalError, match="lock timeout"):
        store_waiting_at_most(engine, feed_id, items, "300ms")


def test_unrelated_stories_proceed_in_parallel_and_related_ones_wait(pg: Engine) -> None:
    feed_a, feed_b = make_feeds(pg, 2)
    body = story("held")
    link = "https://news.test/held"
    with HeldOpen(pg, feed_a, [prepared("a1", body, link)]) as held:
        # Unrelated: stored and committed while the other transaction is open. With one global
        # lock this would give up after 10 s.
        (other,) = store_waiting_at_most(pg, feed_b, [prepared("b1", story("other"))], "10s")
        assert other.is_new
        # Related through the text, the link, a near copy: each must wait for the held one.
        waits(pg, feed_b, [prepared("b2", body)])
        waits(pg, feed_b, [prepared("b3", story("linked"), link)])
        waits(pg, feed_b, [prepared("b4", near_copy(body))])
    (original,) = held.stored
    assert other.cluster_id != original.cluster_id
    with pg.begin() as connection:
        copies = store(
            connection,
            feed_b,
            [
                prepared("b2", body),
                prepared("b3", story("linked"), link),
                prepared("b4", near_copy(body)),
            ],
        )
    assert [copy.cluster_id for copy in copies] == [original.cluster_id] * 3
    assert copies[2].layer == "similar_text"


def test_a_document_too_big_to_lock_key_by_key_takes_the_whole_index(pg: Engine) -> None:
    feed_a, feed_b = make_feeds(pg, 2)
    texts = MAX_KEY_LOCKS // (1 + NEAR_KEYS_PER_TEXT) + 1
    backlog = [prepared(f"a{n}", story(f"backlog{n}")) for n in range(texts)]
    with HeldOpen(pg, feed_a, backlog):
        waits(pg, feed_b, [prepared("b1", story("unrelated"))])
    with HeldOpen(pg, feed_a, backlog[:-1]):  # one text fewer: locked key by key
        (stored,) = store_waiting_at_most(pg, feed_b, [prepared("b1", story("unrelated"))], "10s")
    assert stored.is_new


def test_a_document_locks_its_keys_in_ascending_order_of_id(pg: Engine) -> None:
    """The whole index, then exact keys (negative), then near keys, each phase sorted: the ids
    of a transaction only grow, the premise of deadlock freedom. A document of two new texts
    (and a copy of one of them) takes 1 + 2 hashes + 2 links + the texts' near keys."""
    (feed_id,) = make_feeds(pg, 1)
    document = [
        prepared("a1", story("first"), "https://news.test/first"),
        prepared("a2", story("second"), "https://news.test/second"),
        prepared("a3", story("first")),  # the same text: no fingerprint, no near key
    ]
    near = {
        key
        for item in document[:2]
        for found in [fingerprint(item.text)]
        for key in (*found.keys, *found.probes)
    }
    taken: list[list[int]] = []

    def record(_c: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if "pg_advisory_xact_lock" in statement:
            taken.append(list(parameters["ids"]))

    event.listen(pg, "before_cursor_execute", record)
    try:
        with pg.begin() as connection:
            store(connection, feed_id, document)
            held = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                )
            ).scalar_one()
    finally:
        event.remove(pg, "before_cursor_execute", record)
    exact, near_taken = taken
    assert exact[0] == WHOLE_INDEX and all(WHOLE_INDEX < id_ < 0 for id_ in exact[1:])
    assert set(near_taken) == near and min(near) >= 0
    in_order = [*exact, *near_taken]
    assert in_order == sorted(set(in_order))
    assert held == 1 + 4 + len(near) and len(near) <= 2 * NEAR_KEYS_PER_TEXT


def test_documents_sharing_stories_in_shuffled_orders_keep_one_story_each(pg: Engine) -> None:
    """Four writers store documents mixing the same stories (copies, near copies) in shuffled
    orders, released together round after round: no error, and each story stays one."""
    feed_ids = make_feeds(pg, 4)
    shuffler = random.Random(14)

    def writer(feed_id: int, items: Sequence[PreparedItem]) -> Callable[[], object]:
        def write() -> list[tuple[str, int]]:
            with pg.begin() as connection:
                connection.execute(text("SELECT 1"))
                stored = store(connection, feed_id, items)
            return [(done.item.key, done.cluster_id) for done in stored]

        return write

    for round_ in range(20):
        bodies = [story(f"s{round_}x{n}") for n in range(6)]
        documents = [
            [
                prepared(f"{round_}-{n}", near_copy(bodies[n]) if number % 2 else bodies[n])
                for n in shuffler.sample(range(len(bodies)), 4)
            ]
            for number in range(len(feed_ids))
        ]
        results = run_together(
            [writer(feed_id, items) for feed_id, items in zip(feed_ids, documents, strict=True)]
        )
        story_clusters: dict[str, set[int]] = {}
        for result in results:
            assert isinstance(result, list)
            for key, cluster in result:
                story_clusters.setdefault(key, set()).add(cluster)
        assert all(len(clusters) == 1 for clusters in story_clusters.values()), story_clusters
