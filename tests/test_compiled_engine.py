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
    CYTHON_ONLY,
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


_ORIGINS = """
import importlib, monitor.compiled as c
print(c.engine_state())
for name in c.COMPILED_MODULES:
    try:
        print(name, importlib.import_module(name).__file__)
    except ModuleNotFoundError:
        print(name, "absent")
"""


def test_the_switch_imports_every_engine_module_from_its_source() -> None:
    done = _run([sys.executable, "-c", _ORIGINS], PURE)
    assert done.returncode == 0, done.stderr
    state, *lines = done.stdout.splitlines()
    assert state == "matching engine: pure Python (MONITOR_PURE_PYTHON=1)"
    origins = dict(line.split(" ", 1) for line in lines)
    assert list(origins) == list(COMPILED_MODULES)
    # The Cython-only C loops are not there: the Python modules' own code does their work.
    for name, origin in origins.items():
        assert origin == "absent" if name in CYTHON_ONLY else origin.endswith(".py"), origins


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
    # A Cython-only module edited: its old build is not run, the Python code does its work.
    loops = tmp_path / "monitor" / "text" / "_speedups.pyx"
    loops.write_text(loops.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    probe = (
        "import monitor.text.blocks as b, monitor.text.html as h; print(b.EDITED, h.__file__,"
        " h._markup_text_in_c is None, repr(h.html_to_text('<p>a</p>b')))"
    )
    done = _run([sys.executable, "-c", probe], {**COMPILED, "PYTHONPATH": str(tmp_path)}, tmp_path)
    assert done.returncode == 0, done.stderr
    edited_flag, html_origin, without_loop, text = done.stdout.split()
    assert edited_flag == "True"
    assert html_origin.startswith(str(tmp_path)) and not html_origin.endswith(".py")
    assert without_loop == "True" and text == repr("a\n\nb")
    assert "monitor.text.blocks, monitor.text._speedups: compiled from an older source" in (
        done.stderr
    )


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
