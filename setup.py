"""Compiles the matching engine's hot modules with Cython where it can (monitor/compiled.py says
which, and why); everything else about the package is in pyproject.toml.

Without a C compiler, or with MONITOR_PURE_PYTHON=1 at install time, nothing is compiled and
`monitor` runs as pure Python: the same results, slower. A module that fails to compile is
skipped alone (`optional`).
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

from setuptools import Extension, setup

_ROOT = Path(__file__).resolve().parent
_compiled = runpy.run_path(str(_ROOT / "monitor" / "compiled.py"))


def _extensions() -> list[Extension]:
    if _compiled["pure_python_asked"]():
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        print("monitor: no Cython: the matching engine stays pure Python", file=sys.stderr)
        return []
    modules = [
        Extension(name, [str(_compiled["source_path"](name).relative_to(_ROOT))])
        for name in _compiled["COMPILED_MODULES"]
    ]
    # Python's semantics throughout: annotations are not C types (Cython would refuse a
    # subclass of a builtin type where an annotation names the builtin).
    directives = {"language_level": 3, "annotation_typing": False, "binding": True}
    extensions = cythonize(modules, compiler_directives=directives, quiet=True)
    for extension in extensions:
        extension.optional = True  # cythonize() drops it: without a compiler, install the source
    # What each module is compiled from: a module whose source changes later runs the source.
    digests = {name: _compiled["source_digest"](name) for name in _compiled["COMPILED_MODULES"]}
    sources_file: Path = _compiled["SOURCES_FILE"]
    sources_file.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return extensions


# Two compilers at once: each module takes tens of seconds.
setup(ext_modules=_extensions(), options={"build_ext": {"parallel": 2}})
