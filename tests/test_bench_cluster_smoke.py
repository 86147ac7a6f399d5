"""bench/cluster.py runs to the end on a small workload and prints its table (not checked).

About 15 s on the development machine (a story generator, then 1, 2, 4 and 2 instances, each a
fresh interpreter): marked slow. Needs the PostgreSQL server; skips when it is unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BENCH = Path(__file__).resolve().parents[1] / "bench" / "cluster.py"


def test_quick_cluster_benchmark_prints_its_table(postgres_url: str) -> None:
    # The benchmark creates and drops databases of its own on the server the fixture reached.
    env = os.environ | {"MONITOR_TEST_POSTGRES_URL": postgres_url}
    command = [sys.executable, str(BENCH), "--quick", "--items", "120", "--base", "20"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "monitor cluster benchmark (PostgreSQL)"
    assert "on this same machine" in lines[1]
    header = next(line for line in lines if line.startswith("configuration"))
    for column in ("instances", "items/s", "ratio", "Python CPU s", "PostgreSQL CPU s", "stories"):
        assert column in header
    rows = [line.split() for line in lines[lines.index(header) + 1 :][:4]]
    labels = [["1", "instance"], ["2", "instances"], ["4", "instances"], ["2,", "global"]]
    assert [row[:2] for row in rows] == labels, done.stdout
    assert rows[0][4] == "1.00x"
    assert any("(the same in every configuration)" in line for line in lines), done.stdout
    assert any(line.lstrip().startswith("where it goes") for line in lines)
