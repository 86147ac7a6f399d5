"""Story assignment on PostgreSQL without one global lock: a feed document's transaction locks
only what its new items can join, so that documents of unrelated stories are stored at once (by
several connections and instances) while two copies of one story still take turns and become
one story.

A new item joins an earlier one only through a key both have: the same content hash or the
same canonical link (the exact layer), or a near-layer key (a new item looks up its LSH bands
and probed lead keys, `Fingerprint.bands` and `.probes`; an item is filed under its bands and
stored lead keys, `Fingerprint.keys`). A transaction locks every key its items look up or are
filed under before it reads what is filed there. Two transactions whose items share a key take
turns on it, and the second sees the first's items (READ COMMITTED, PostgreSQL's default: each
statement reads what was committed before it started). Two that share no key could not find
each other's items in either order, so storing them at once decides what storing them one after
the other would.

The locks are transaction-scoped advisory locks (`pg_advisory_xact_lock`), by signed 64-bit id:

- the whole index, the smallest id: taken shared by every document, exclusively by one with
  too many keys to lock one by one (a first poll's backlog), which then locks nothing else.
  The lock table is shared by all connections (`max_locks_per_transaction` x `max_connections`
  entries, 6,400 by default): a document holds at most 1 + `MAX_KEY_LOCKS`;
- exact keys, negative: a hash of the content hash or of the link;
- near keys, non-negative: the band and lead keys themselves (63-bit values).

Deadlock freedom. A transaction takes the whole-index lock and its exact keys before the exact
lookup (`exact`), then, once the fingerprints of the items the exact layer did not place by
their text are computed, its near keys before the candidate lookup (`near`): each phase in
ascending order, every id of the first below every id of the second, and no story lock after.
So the ids a transaction takes only grow: it waits only for an id greater than every id it
holds. A cycle of transactions, each waiting for a lock the next one holds, would then need an
id greater than itself. This holds for one document per transaction (the poller's): a
transaction storing a second document would take exact ids again, below the near ids it holds.
After its story locks a transaction waits on rows only: the unique keys of the alerts of the
stories it joined, which the poller creates in (story, watchlist) order for the same reason.
An exact key that happens to hash like another costs a wait, never a wrong story.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import xxhash
from sqlalchemy import Connection, text

from monitor.dedup.fingerprint import LEAD_PROBED, LEAD_STORED, Fingerprint
from monitor.dedup.minhash import BANDS

WHOLE_INDEX = -(2**63)
# Key locks one document may take one by one (about 20 per new item: ~18 near keys and its hash
# and link): 16 documents stored at once (4 instances of 4 database threads) then hold at most
# ~4,100 of the default 6,400 lock-table entries.
MAX_KEY_LOCKS = 256
# The most near keys a text brings: its bands, stored lead keys and probed lead keys. A
# document's near keys are bounded before its fingerprints are computed: only its distinct
# texts get one.
NEAR_KEYS_PER_TEXT = BANDS + LEAD_STORED + LEAD_PROBED

# The first `shared` ids are taken shared; in the array's order (the ordinality scan keeps it,
# and the ORDER BY says so).
_LOCK = text(
    "SELECT CASE WHEN n <= :shared THEN pg_advisory_xact_lock_shared(id)"
    " ELSE pg_advisory_xact_lock(id) END"
    " FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS lock(id, n) ORDER BY n"
)


class StoryLocks:
    """One feed document's story locks in its transaction: `exact`, then `near`."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._whole = False

    def exact(self, hashes: Collection[str], urls: Collection[str]) -> None:
        """Before the exact lookup: the whole index (shared), then the texts' and links' ids;
        or the whole index alone, exclusively, when the document could bring more than
        `MAX_KEY_LOCKS` keys."""
        self._whole = len(hashes) * (1 + NEAR_KEYS_PER_TEXT) + len(urls) > MAX_KEY_LOCKS
        if self._whole:
            self._take([WHOLE_INDEX], shared=0)
            return
        ids = {exact_lock_id("hash", value) for value in hashes}
        ids.update(exact_lock_id("url", value) for value in urls)
        self._take([WHOLE_INDEX, *sorted(ids)], shared=1)

    def near(self, fingerprints: Iterable[Fingerprint]) -> None:
        """Before the candidate lookup: the keys the fingerprints look up or are filed under
        (nothing more when the whole index is held)."""
        if self._whole:
            return
        ids = sorted({key for found in fingerprints for key in (*found.keys, *found.probes)})
        if ids:
            self._take(ids, shared=0)

    def _take(self, ids: Sequence[int], *, shared: int) -> None:
        self._connection.execute(_LOCK, {"ids": list(ids), "shared": shared})


def exact_lock_id(kind: str, value: str) -> int:
    """A content hash's or a link's lock id: negative, above `WHOLE_INDEX`."""
    return -(xxhash.xxh64_intdigest(f"{kind}\x00{value}".encode()) >> 2) - 1
