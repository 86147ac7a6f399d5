"""The collector pause around start-up's large builds (monitor/gc_pause.py)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.gc_pause import paused_gc
from monitor.match import compile_watchlists
from monitor.model import ItemText


@pytest.fixture
def collector_enabled() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.mark.usefixtures("collector_enabled")
def test_the_collector_is_off_inside_and_back_after_even_on_error() -> None:
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # nested: the inner one leaves it off
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("build failed")
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off() -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.usefixtures("collector_enabled")
def test_cycles_made_during_the_pause_are_still_collected() -> None:
    with paused_gc():
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        gone = weakref.ref(first)
        del first, second
        kept = [_Node() for _ in range(1_000)]
    gc.collect()
    assert gone() is None
    assert len(kept) == 1_000


@pytest.mark.parametrize("enabled", [True, False])
def test_start_up_leaves_the_collector_as_it_found_it(enabled: bool) -> None:
    """A daemon left with the collector off would never free a reference cycle again."""
    was_enabled = gc.isenabled()
    gc.enable() if enabled else gc.disable()
    try:
        example = Path(__file__).resolve().parents[1] / "config" / "example.yaml"
        loaded = load_config(example, {})
        assert gc.isenabled() == enabled
        matcher = compile_watchlists(loaded.config.watchlists)
        assert gc.isenabled() == enabled
        matcher.match(ItemText(title="L’OTAN refuse", language="fr"))  # builds the automaton
        assert gc.isenabled() == enabled
    finally:
        gc.enable() if was_enabled else gc.disable()
