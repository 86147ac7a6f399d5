"""Configuration errors: one line per problem, `{file}:{line}: {key.path}: {message}`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from monitor.config.schema import KeyPath


class ConfigError(Exception):
    """The configuration cannot be used. `errors` holds every problem found, one line each."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = tuple(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class Problem:
    """One problem, located. `line` is None when the file itself could not be read; `path` is
    the key path as the reader of `file` sees it."""

    file: Path
    line: int | None
    path: KeyPath
    message: str

    def render(self) -> str:
        where = str(self.file) if self.line is None else f"{self.file}:{self.line}"
        if self.path:
            return f"{where}: {format_key_path(self.path)}: {self.message}"
        return f"{where}: {self.message}"


def format_key_path(path: KeyPath) -> str:
    """`("feeds", 0, "interval")` -> `feeds[0].interval`."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text
