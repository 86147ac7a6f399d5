"""`new_tuple(Span, (start, end))`: a named tuple made as cheaply as a plain one, for the objects
the engine makes on every item (a fold per field, a span per candidate, a hit per match).

Calling a named tuple class runs the Python frame of its `__new__`; `tuple.__new__(cls, fields)`
skips it but parses its arguments and copies them on the way. Where the install compiled the C
helpers (monitor/compiled.py), `new_tuple` allocates the tuple once and fills it.
"""

from __future__ import annotations

try:
    from monitor.text._speedups import new_tuple as new_tuple
except ImportError:  # no C compiler at install, or MONITOR_PURE_PYTHON=1
    new_tuple = tuple.__new__  # type: ignore[assignment]
