"""Compiled watchlist automata kept on disk between runs (docs/design.md §4, performance).

Building the automaton of 10,000 terms takes about a second; loading it back takes a fifth of
that, so `monitor match` and the daemon start faster with the same watchlists. An entry is
found by the matcher's own key (the compiled spellings, the languages, the format), mixed here
with a fingerprint of the matching engine's source and the package version: a cached automaton
is never read by another version of the code. Every failure is a miss: a file absent,
unreadable, truncated or damaged (its checksum is verified before it is unpickled) means the
automaton is built again, and a cache directory that cannot be written is skipped.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import zlib
from contextlib import suppress
from functools import cache
from pathlib import Path

import monitor

log = logging.getLogger("monitor.match")

# An automaton is tens of MB: only the newest few entries are kept (a watchlist file changed
# leaves its two stale entries behind: the compiled watchlists and their automaton).
_KEPT = 4
_SUFFIX = ".automaton"
# A CRC-32 before the pickled data: it catches a truncated or damaged file (not an attacker:
# the directory is the user's own), at several times the speed of a cryptographic hash.
_CHECKSUM = 4


def cache_directory() -> Path:
    """systemd's CacheDirectory=, else the XDG cache home."""
    if os.environ.get("CACHE_DIRECTORY"):
        return Path(os.environ["CACHE_DIRECTORY"].split(":")[0])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "monitor"


class FileAutomatonCache:
    """`monitor.match.scanner.AutomatonCache` in a directory of files."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = cache_directory() if directory is None else directory

    def load(self, key: str) -> memoryview | None:
        try:
            stored = self._path(key).read_bytes()
        except OSError:
            return None
        data = memoryview(stored)[_CHECKSUM:]  # not a copy: an automaton is tens of MB
        if stored[:_CHECKSUM] != _crc(data):
            log.info("cached automaton %s is corrupt: building it again", self._path(key).name)
            return None
        return data

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            with partial.open("wb") as out:
                out.write(_crc(data))
                out.write(data)
            os.replace(partial, path)  # readers see the whole entry or none
            self._prune()
        except OSError as error:
            log.info("cannot cache the compiled automaton in %s: %s", self.directory, error)
            with suppress(OSError):
                partial.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        name = hashlib.sha256(f"{_engine_fingerprint()}\n{key}".encode()).hexdigest()
        return self.directory / f"{name}{_SUFFIX}"

    def _prune(self) -> None:
        entries = sorted(
            self.directory.glob(f"*{_SUFFIX}"), key=lambda entry: entry.stat().st_mtime
        )
        for stale in entries[:-_KEPT]:
            stale.unlink(missing_ok=True)


def _crc(data: bytes | memoryview) -> bytes:
    return zlib.crc32(data).to_bytes(_CHECKSUM, "big")


@cache
def _engine_fingerprint() -> str:
    """The package version and the source of the code that builds and reads automata."""
    digest = hashlib.sha256(importlib.metadata.version("monitor").encode())
    root = Path(monitor.__file__).parent
    for source in sorted([*(root / "match").glob("*.py"), *(root / "text").glob("*.py")]):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()
