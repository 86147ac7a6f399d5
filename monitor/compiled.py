"""The matching engine's compiled modules (docs/design.md §4, performance), and the switch that
runs them as pure Python.

`setup.py` compiles these modules with Cython where a C compiler is at hand: the same source,
compiled, so results never differ and a machine without a compiler runs the pure Python, slower.
`MONITOR_PURE_PYTHON=1` in the environment runs the Python source even where compiled modules
are installed (tests compare both; profilers and tracebacks see the source).

A compiled module runs only beside the source it was built from: the build records each
source's digest (`_compiled_sources.json`), and a module whose source has changed since (an
editable install after an edit) runs from its source, with one warning, until it is built again.
This module imports only the standard library: `setup.py` reads it before anything is installed.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
from collections.abc import Collection, Sequence
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
    # C loops for the common case of HTML to text and of folding; not Python, so nothing runs
    # in their place without a compiler but the Python modules' own code.
    "monitor.text._speedups",
)
# Modules written in Cython, not Python: without their compiled form they are not there.
CYTHON_ONLY = frozenset({"monitor.text._speedups"})
PURE_PYTHON_VARIABLE = "MONITOR_PURE_PYTHON"
_PACKAGE_ROOT = Path(__file__).resolve().parent
# Written by setup.py when it compiles: module name -> digest of the source it compiled.
SOURCES_FILE = _PACKAGE_ROOT / "_compiled_sources.json"


def pure_python_asked() -> bool:
    return os.environ.get(PURE_PYTHON_VARIABLE) == "1"


def environment(*, pure_python: bool) -> dict[str, str]:
    """This process's environment for a child that runs the engine compiled (where installed so)
    or from its source."""
    env = {key: value for key, value in os.environ.items() if key != PURE_PYTHON_VARIABLE}
    if pure_python:
        env[PURE_PYTHON_VARIABLE] = "1"
    return env


def source_path(name: str) -> Path:
    suffix = ".pyx" if name in CYTHON_ONLY else ".py"
    return _PACKAGE_ROOT.parent.joinpath(*name.split(".")).with_suffix(suffix)


def source_digest(name: str) -> str:
    return hashlib.sha256(source_path(name).read_bytes()).hexdigest()


class _SourceOnly(importlib.abc.MetaPathFinder):
    """Finds the modules `names` (every `monitor` module when None) as Python source, never as
    extension modules."""

    def __init__(self, names: Collection[str] | None = None) -> None:
        self.names = names

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if not name.startswith("monitor.") or path is None:
            return None
        if self.names is not None and name not in self.names:
            return None
        if name in CYTHON_ONLY:
            raise ModuleNotFoundError(f"{name} runs compiled only", name=name)
        loaders = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
        for entry in path:
            spec = importlib.machinery.FileFinder(entry, loaders).find_spec(name)
            # A folder without `__init__.py` (a namespace) is left to the usual finders.
            if spec is not None and spec.loader is not None:
                return spec
        return None


def choose_modules() -> None:
    """Before any engine module is imported (`monitor/__init__.py`): the source for all of them
    if asked, else for those whose compiled module was built from another source."""
    if pure_python_asked():
        sys.meta_path.insert(0, _SourceOnly())
        return
    stale = stale_compiled_modules()
    if stale:
        print(
            f"monitor: {', '.join(stale)}: compiled from an older source; running the source"
            " (`pip install -e .` compiles it again)",
            file=sys.stderr,
        )
        sys.meta_path.insert(0, _SourceOnly(frozenset(stale)))


def stale_compiled_modules() -> list[str]:
    """Compiled modules whose source changed since they were built."""
    built = [name for name in COMPILED_MODULES if _extension_of(name) is not None]
    if not built:
        return []
    try:
        digests = json.loads(SOURCES_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        digests = {}
    return [name for name in built if digests.get(name) != source_digest(name)]


def engine_state() -> str:
    """One line for `--version` and the benchmarks: which of the engine's modules run compiled."""
    compiled = [name for name in COMPILED_MODULES if _is_compiled(name)]
    if not compiled:
        if pure_python_asked():
            return f"matching engine: pure Python ({PURE_PYTHON_VARIABLE}=1)"
        stale = stale_compiled_modules()
        return "matching engine: pure Python (" + ("stale build" if stale else "not compiled") + ")"
    if len(compiled) == len(COMPILED_MODULES):
        return "matching engine: compiled"
    return f"matching engine: {len(compiled)} of {len(COMPILED_MODULES)} modules compiled"


def _extension_of(name: str) -> Path | None:
    source = source_path(name)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        built = source.with_suffix(suffix)
        if built.exists():
            return built
    return None


def _is_compiled(name: str) -> bool:
    module = sys.modules.get(name)
    if module is None:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a Cython-only module, not built or not to be run
            return False
    origin = getattr(module, "__file__", None) or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
