"""The compiled matching engine against its own source (monitor/compiled.py, setup.py).

Where a C compiler was at hand at install, the engine's hot modules run compiled, and the rest
of the suite tests them that way. These tests run the Python source too, through the
MONITOR_PURE_PYTHON=1 switch: the spec table must pass with it, and both must answer alike on a
seeded workload. Without compiled modules (no compiler), the suite already runs the source.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import monitor
from monitor.compiled import (
    COMPILED_MODULES,
    engine_state,
    environment,
    stale_compiled_modules,
)

REPO = Path(__file__).resolve().parent.parent
PURE = environment(pure_python=True)
COMPILED = environment(pure_python=False)

needs_compiled = pytest.mark.skipif(
    engine_state().startswith("matching engine: pure Python"),
    reason=f"{engine_state()}: the rest of the suite already tests the Python source",
)


def _run(
    command: list[str], env: dict[str, str], cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )


def test_the_switch_imports_every_engine_module_from_its_source() -> None:
    origins = "; ".join(
        [
            "import importlib, monitor.compiled as c",
            "print(c.engine_state())",
            "print(*[importlib.import_module(n).__file__ for n in c.COMPILED_MODULES], sep='\\n')",
        ]
    )
    done = _run([sys.executable, "-c", origins], PURE)
    assert done.returncode == 0, done.stderr
    state, *files = done.stdout.splitlines()
    assert state == "matching engine: pure Python (MONITOR_PURE_PYTHON=1)"
    assert len(files) == len(COMPILED_MODULES)
    assert all(file.endswith(".py") for file in files), files


@needs_compiled
def test_compiled_modules_are_built_from_the_current_source() -> None:
    stale = stale_compiled_modules()
    assert stale == [], f"{stale} run from source, untested compiled: `pip install -e .` again"


@needs_compiled
def test_a_module_whose_source_changed_runs_from_its_source(tmp_path: Path) -> None:
    """An edited module must not run its old compiled code (nor write the automaton cache under
    the new source's key): it runs from source, with a warning, and the others stay compiled."""
    package = Path(monitor.__file__).parent
    shutil.copytree(package, tmp_path / "monitor", ignore=shutil.ignore_patterns("*.c"))
    edited = tmp_path / "monitor" / "text" / "blocks.py"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nEDITED = True\n", encoding="utf-8")
    probe = "import monitor.text.blocks as b, monitor.text.html as h; print(b.EDITED, h.__file__)"
    done = _run([sys.executable, "-c", probe], {**COMPILED, "PYTHONPATH": str(tmp_path)}, tmp_path)
    assert done.returncode == 0, done.stderr
    edited_flag, html_origin = done.stdout.split()
    assert edited_flag == "True"
    assert html_origin.startswith(str(tmp_path)) and not html_origin.endswith(".py")
    assert "monitor.text.blocks: compiled from an older source; running the source" in done.stderr


@needs_compiled
def test_the_spec_tables_pass_with_the_python_source() -> None:
    tables = ["tests/test_match_rules.py", "tests/test_query.py"]
    done = _run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider", *tables], PURE
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert " passed" in done.stdout.splitlines()[-1]


@needs_compiled
def test_compiled_and_python_engines_answer_alike() -> None:
    script = [sys.executable, "tests/engine_outputs.py"]
    compiled, pure = _run(script, COMPILED), _run(script, PURE)
    assert compiled.returncode == 0, compiled.stderr
    assert pure.returncode == 0, pure.stderr
    answers = json.loads(compiled.stdout)
    assert sum(len(matches) for matches, _ in answers) > 1000  # the workload makes things fire
    assert answers == json.loads(pure.stdout)
