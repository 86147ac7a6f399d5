"""Public names of a package, imported from their private modules on first use.

A package's `__init__` lists what other packages may use (its `__all__`, as httpx does) without
importing every module behind it: `monitor match` needs `item_text_from_json` from the pipeline,
not the poller's HTTP, database and Apprise imports, which cost it most of a second at start-up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, Sequence[str]]) -> Callable[[str], Any]:
    """The module `__getattr__` (PEP 562) of `package`, whose public names live in its modules
    as `homes` says: {module: [names]}."""
    home_of: dict[str, str] = {}
    for module, names in homes.items():
        for name in names:
            if home_of.setdefault(name, module) != module:
                raise ValueError(f"{package}.{name} is listed in {home_of[name]} and {module}")

    def __getattr__(name: str) -> Any:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
