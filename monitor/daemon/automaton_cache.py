"""Compiled watchlists and automaton key tables kept on disk between runs (docs/design.md §4,
performance).

Compiling 10,000 terms and working out their automaton's keys takes over a second; loading them
back a fraction of that (the automaton itself is built from its key table in ~0.2 s: it cannot be
pickled), so `monitor match` and the daemon start faster with the same watchlists. An entry is
found by the matcher's own key (the compiled spellings, the languages, the format), mixed here
with a fingerprint of the matching engine's source and the package version: an entry is never
read by another version of the code. Every failure is a miss: a file absent, unreadable,
truncated or damaged (its checksum is verified before it is unpickled) means it is compiled
again, and a cache directory that cannot be written is skipped.

An entry is unpickled, so only what this user alone could have written is read: the directory
must be ours and writable by nobody else (not a link), and so must each entry (opened without
following links); entries are written owner-only through a new temporary file. Anything else
and the cache is not used: a shared `$XDG_CACHE_HOME` or `HOME=/tmp` costs the speed, never
runs a stranger's pickle.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import stat
import tempfile
import zlib
from collections.abc import Callable
from contextlib import suppress
from functools import cache
from pathlib import Path

import monitor

log = logging.getLogger("monitor.match")

# Entries are a few MB (a key table of 10,000 terms in three languages: ~9 MB): the newest few
# are kept. One configuration writes its compiled watchlists and a key table per set of
# languages met (fr; fr+de; ...): eight leave room for those of two configurations.
_KEPT = 8
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
        if not self._trusted_directory():
            return None
        path = self._path(key)
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            return None
        with os.fdopen(descriptor, "rb") as entry:
            try:
                if not _ours_alone(os.fstat(entry.fileno()), stat.S_ISREG):
                    log.info("cached automaton %s is not this user's alone: ignored", path.name)
                    return None
                stored = entry.read()
                os.utime(entry.fileno())  # used now: pruned last
            except OSError:
                return None
        data = memoryview(stored)[_CHECKSUM:]  # not a copy: an automaton is tens of MB
        if stored[:_CHECKSUM] != _crc(data):
            log.info("cached automaton %s is corrupt: building it again", path.name)
            return None
        return data

    def save(self, key: str, data: bytes) -> None:
        path = self._path(key)
        partial: str | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self._trusted_directory():
                return
            # A new file of its own (O_EXCL, 0600): never one planted under a guessable name.
            descriptor, partial = tempfile.mkstemp(prefix=".", dir=self.directory)
            with os.fdopen(descriptor, "wb") as out:
                out.write(_crc(data))
                out.write(data)
            os.replace(partial, path)  # readers see the whole entry or none
            partial = None
            self._prune()
        except OSError as error:
            log.info("cannot cache the compiled automaton in %s: %s", self.directory, error)
        finally:
            if partial is not None:
                with suppress(OSError):
                    os.unlink(partial)

    def _trusted_directory(self) -> bool:
        """The directory exists, is a directory (not a link to one), is this user's, and
        nobody else may write in it."""
        try:
            found = os.lstat(self.directory)
        except OSError:
            return False
        if _ours_alone(found, stat.S_ISDIR):
            return True
        log.info(
            "cache directory %s is not this user's alone (owner, mode or a link): not used",
            self.directory,
        )
        return False

    def _path(self, key: str) -> Path:
        name = hashlib.sha256(f"{_engine_fingerprint()}\n{key}".encode()).hexdigest()
        return self.directory / f"{name}{_SUFFIX}"

    def _prune(self) -> None:
        """Keep the `_KEPT` entries used last (`load` touches what it reads)."""
        entries = []
        for entry in self.directory.glob(f"*{_SUFFIX}"):
            with suppress(OSError):  # another process pruned it meanwhile
                entries.append((entry.lstat().st_mtime, entry))
        for _, stale in sorted(entries)[:-_KEPT]:
            with suppress(OSError):
                stale.unlink()


def _ours_alone(found: os.stat_result, kind: Callable[[int], bool]) -> bool:
    return (
        kind(found.st_mode)
        and found.st_uid == os.geteuid()
        and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


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
