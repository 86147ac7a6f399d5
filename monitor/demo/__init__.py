"""`monitor demo`: the daemon on sample feeds served on loopback, to see it work before writing a
configuration (docs/design.md §7)."""

from monitor.demo.run import run_demo

__all__ = ["run_demo"]
