"""A dictionary that computes a missing value once, for look-ups on every item of the text path.

A plain dict look-up (and `map(cache.__getitem__, keys)`, all in C) is the cheapest cache there
is; it is cleared when full, so input that keeps bringing new keys (odd markup, a long-running
daemon meeting new languages) cannot grow it for ever. Two threads missing the same key at once
both compute it, and one value is kept: the values are pure functions of their keys.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

_Key = TypeVar("_Key", bound=Hashable)
_Value = TypeVar("_Value")


class BoundedCache(dict[_Key, _Value], Generic[_Key, _Value]):
    """`value(key)` computed once per key, at most `size` kept; a key `keeps` refuses (a huge
    one) is computed every time instead."""

    def __init__(
        self,
        value: Callable[[_Key], _Value],
        size: int,
        keeps: Callable[[_Key], bool] | None = None,
    ) -> None:
        super().__init__()
        self._value = value
        self._size = size
        self._keeps = keeps

    def __missing__(self, key: _Key) -> _Value:
        value = self._value(key)
        if self._keeps is None or self._keeps(key):
            if len(self) >= self._size:
                self.clear()
            self[key] = value
        return value
