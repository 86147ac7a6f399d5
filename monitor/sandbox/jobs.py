"""Jobs a sandbox runs: plain module-level functions, registered with the pool by name and found
again in the child by their module and name (the child imports them; the sandbox never does)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

# A job, in the child: the request's parameters and content in, the answer's bytes out. Its
# stage owns both this function and the codec that reads the answer back in the parent.
JobFunction = Callable[[Mapping[str, Any], bytes], bytes]


def address_of(function: JobFunction) -> str:
    """`module:name`, by which the child imports the job; ValueError for a function a child
    could not import (a lambda, a nested function, one defined in __main__)."""
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", "")
    if not module or module == "__main__" or not name.isidentifier():
        raise ValueError(f"a sandbox job must be a module-level function, not {function!r}")
    return f"{module}:{name}"


def import_job(address: str) -> JobFunction:
    module, _, name = address.partition(":")
    function: JobFunction = getattr(importlib.import_module(module), name)
    return function
