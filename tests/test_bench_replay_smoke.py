"""bench/replay.py runs to the end on a small database and prints its figures side by side (not
checked). Six fresh interpreters measure: marked slow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench" / "replay.py"


def test_small_replay_benchmark_prints_its_figures(tmp_path: Path) -> None:
    command = [sys.executable, str(BENCH), "--quick", "--items", "1500", "--terms", "30"]
    done = subprocess.run(
        [*command, "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("replay benchmark: 1,500 stored items over 30 days")
    header = next(line for line in lines if line.startswith("run "))
    for column in ("items/s CPU", "CPU s", "wall s", "max RSS MB"):
        assert column in header
    rows = lines[lines.index(header) + 1 :]
    labels = ("read the stored items", "read + story folding", "read + matching")
    labels += ("replay (in process)", "monitor replay, 1 core", "monitor replay, all cores")
    for label in labels:
        assert any(row.startswith(label) for row in rows), label
    assert any(line.startswith("monitor replay --since 31d: ") for line in lines)
