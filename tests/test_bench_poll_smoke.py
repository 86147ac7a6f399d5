"""bench/poll.py runs to the end on a few feeds and prints its figures (not checked).

About 7 s on the development machine (a feed server process and two fresh interpreters, one per
cycle): marked slow. Only loopback is used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench" / "poll.py"


def test_small_benchmark_prints_its_figures() -> None:
    command = [sys.executable, str(BENCH), "--quick", "--feeds", "50", "--hosts", "4"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("monitor polling benchmark"), done.stdout
    for figure in ("cycle 1 (seeding", "cycle 2 (measured)", "statuses:", "server:", "targets"):
        assert any(line.lstrip().startswith(figure) for line in lines), figure
    measured = next(line for line in lines if line.startswith("cycle 2 (measured)"))
    for unit in ("s wall", "s CPU", "max RSS"):
        assert unit in measured
    statuses = [line for line in lines if line.lstrip().startswith("statuses:")]
    # Every feed answered in both cycles, and cycle 2 saw each kind of answer.
    assert "errors 0" in statuses[0], done.stdout
    assert "errors 0" in statuses[1], done.stdout
    assert "ok 50," in statuses[0]
    for kind in ("not_modified", "unchanged"):
        assert f"{kind} 0," not in statuses[1], statuses[1]
