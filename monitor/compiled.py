"""The matching engine's compiled modules (docs/design.md §4, performance), and the switch that
runs them as pure Python.

`setup.py` compiles these modules with Cython where a C compiler is at hand: the same source,
compiled, so results never differ and a machine without a compiler runs the pure Python, slower.
`MONITOR_PURE_PYTHON=1` in the environment runs the Python source even where compiled modules
are installed (tests compare both; a developer who edits one of these files runs it at once).
This module imports only the standard library: `setup.py` reads its list before anything is
installed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

# The modules every item goes through: HTML to text, folding, the scan, the evaluation.
COMPILED_MODULES = (
    "monitor.text.html",
    "monitor.text.bounded",
    "monitor.text.blocks",
    "monitor.text.fold",
    "monitor.text.wordfold",
    "monitor.match.spelling",
    "monitor.match.scanner",
    "monitor.match.evaluate",
    "monitor.match.scope",
    "monitor.match.matcher",
)
PURE_PYTHON_VARIABLE = "MONITOR_PURE_PYTHON"
_PACKAGE_ROOT = Path(__file__).resolve().parent


def pure_python_asked() -> bool:
    return os.environ.get(PURE_PYTHON_VARIABLE) == "1"


class _SourceOnly(importlib.abc.MetaPathFinder):
    """Finds `monitor`'s modules as Python source, never as extension modules."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not name.startswith("monitor.") or path is None:
            return None
        loaders = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
        for entry in path:
            spec = importlib.machinery.FileFinder(entry, loaders).find_spec(name)
            if spec is not None:
                return spec
        return None


def run_pure_python() -> None:
    """From now on, import `monitor`'s modules from their source (before they are imported)."""
    if not any(isinstance(finder, _SourceOnly) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SourceOnly())


def engine_state() -> str:
    """One line for `--version` and the benchmarks: which of the engine's modules run compiled."""
    compiled = [name for name in COMPILED_MODULES if _is_compiled(name)]
    if not compiled:
        reason = f"{PURE_PYTHON_VARIABLE}=1" if pure_python_asked() else "not compiled"
        return f"matching engine: pure Python ({reason})"
    if len(compiled) == len(COMPILED_MODULES):
        return "matching engine: compiled"
    return f"matching engine: {len(compiled)} of {len(COMPILED_MODULES)} modules compiled"


def stale_compiled_modules() -> list[str]:
    """Compiled modules older than their source: an editable install whose source changed since
    it was built runs the old code until `pip install -e .` builds it again."""
    stale = []
    for name in COMPILED_MODULES:
        source = _PACKAGE_ROOT.parent.joinpath(*name.split(".")).with_suffix(".py")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            built = source.with_suffix(suffix)
            if built.exists() and built.stat().st_mtime < source.stat().st_mtime:
                stale.append(name)
    return stale


def _is_compiled(name: str) -> bool:
    module = sys.modules.get(name)
    if module is None:
        module = importlib.import_module(name)
    origin = getattr(module, "__file__", None) or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
