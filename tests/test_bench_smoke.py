"""bench/match.py --quick runs to the end and prints its table (the figures are not checked).

About 7 s on the development machine, and more under load: marked slow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[1] / "bench" / "match.py"


def test_quick_benchmark_prints_its_table() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "monitor matching benchmark"
    header = next(line for line in lines if line.lstrip().startswith("terms"))
    for column in ("compile s", "items/s", "MB/s", "peak MB", "max RSS MB", "naive items/s"):
        assert column in header
    row_lines = [line for line in lines[lines.index(header) + 1 :] if line.strip()][:2]
    assert [line.split()[0] for line in row_lines] == ["100", "1,000"], done.stdout
    # The machine's yardstick (pyahocorasick, a dev dependency) is measured, not left blank.
    start = header.index("yardstick items/s")
    for line in row_lines:
        assert line[start : start + len("yardstick items/s")].strip().replace(",", "").isdigit()
    assert "failed" not in done.stdout.lower(), done.stdout
    assert "10 output lines" in done.stdout
