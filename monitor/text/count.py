"""A count with its noun, for every line a user reads: "1 item", "2 items", "3 stories"."""

from __future__ import annotations


def counted(number: int, one: str, many: str | None = None) -> str:
    """`number` and the noun agreeing with it; `many` when adding "s" is not the plural."""
    return f"{number:,} {one if number == 1 else (many or one + 's')}"
