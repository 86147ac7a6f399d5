"""The cyclic garbage collector paused while a large structure that lives for the whole run is
built: the configuration, the compiled watchlists, the automaton's key table.

Each of those builds allocates millions of container objects and frees almost none, so every
collection the allocations trigger walks the ever larger heap to find no garbage: a seventh of
`monitor match`'s start with 10,000 terms. Reference counting still frees what a build drops; a
cycle it leaves is found by a later full collection.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """The collector off inside the block, and back as it was after (pauses nest)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # What the block made is all in the youngest generation, which the next collection
        # would walk whole: moved to the oldest one instead, as it will live as long.
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()
