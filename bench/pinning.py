"""Shared by the benchmarks: run on one core, so the figures are one core's."""

from __future__ import annotations

import os


def pin_to_one_core() -> str:
    """Pin this process (and the children it starts) to one core; says what was done."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this platform)"
    try:
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
    except OSError as error:
        return f"not pinned ({error})"
    return f"pinned to CPU core {core}"
