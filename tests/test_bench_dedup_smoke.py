"""bench/dedup.py runs to the end on a small window and prints its figures (not checked).

About 8 s on the development machine (two fresh interpreters build and measure; a third starts
up): marked slow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench" / "dedup.py"


def test_small_benchmark_prints_its_figures(tmp_path: Path) -> None:
    command = [sys.executable, str(BENCH), "--quick", "--sizes", "2000", "--items", "200"]
    command += ["--planted", "30", "--startup-runs", "1", "--keep", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "monitor dedup benchmark (SQLite)"
    for figure in ("build:", "start-up,", "dedup path:", "CPU ms/item:", "database:"):
        assert any(line.lstrip().startswith(figure) for line in lines), figure
    header = next(line for line in lines if line.lstrip().startswith("window items"))
    for column in ("start-up s", "items/s CPU", "items/s wall", "recall", "bytes/item", "RSS MB"):
        assert column in header
    row = lines[lines.index(header) + 1].split()
    assert row[0] == "2,000", done.stdout
    assert (tmp_path / "dedup-2000.db").exists()


@pytest.mark.slow
def test_templated_benchmark_prints_both_paths_side_by_side() -> None:
    command = [sys.executable, str(BENCH), "--templated", "--templated-sizes", "100,200"]
    command += ["--templated-runs", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("items"))
    for column in ("dedup CPU s", "dedup items/s", "daemon CPU s", "daemon items/s", "stories"):
        assert column in header
    rows = [line.split() for line in lines[lines.index(header) + 1 :][:2]]
    assert [row[0] for row in rows] == ["100", "200"]
    assert [(row[3], row[6]) for row in rows] == [("100", "100"), ("200", "200")]  # stories
    assert any(line.lstrip().startswith("ratio 200/100: dedup") for line in lines)
