"""Feed documents parsed, and article pages' main text extracted, in child processes, each
under a deadline and a memory cap.

A feed's bytes come from a server we do not control. A document of a few megabytes can hold
millions of elements: feedparser then calls Python code for each (a minute of CPU), and the C
XML parser builds a tree of hundreds of megabytes. In the daemon's own process that would stall
every other feed's poll, the watchdog's heartbeat, and the memory of the whole service. In a
child, the document costs the child: killed at the deadline, stopped by its address-space
limit, and replaced by a fresh one for the next document.

The child speaks over its standard input and output: a request is a JSON header (the job, and
its base URL and content type) and the raw document; the answer is JSON (a ParsedFeed, or the
page's text), so that nothing the child sends can be more than data to the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import struct
import sys
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, BinaryIO

from monitor.feeds.fulltext import extract_main_text
from monitor.feeds.parse import PARSE, parse_failure, parse_feed
from monitor.feeds.urls import redact_url
from monitor.model import FeedEntry, ParsedFeed

log = logging.getLogger("monitor.parse")

# Address space a parsing child may use. A 10 MiB news or podcast feed needs well under half of
# it; a tree of millions of elements does not fit, which is the point.
DEFAULT_MEMORY_BYTES = 768 * 1024 * 1024
DEFAULT_PROCESSES = 2
# A child that grew past this keeps the memory while idle: it is replaced after its answer.
_RECYCLE_BYTES = 200 * 1024 * 1024
# An answer longer than this is refused unread: a document's entries, as JSON, stay within a
# small multiple of the document (at most 10 MiB by default), links and keys being capped.
_MAX_ANSWER_BYTES = 64 * 1024 * 1024
_LENGTH = struct.Struct("!I")
_START_TIMEOUT = 30.0  # seconds for a child to import the parser and say it is ready
_READY = b"ready\n"


class ParseProcesses:
    """Parses feed documents in up to `processes` child processes, started on first use and
    reused; an async context manager that stops them on exit.

    Two children by default: a document that takes a child to its deadline does not hold up
    the other feeds, and on a small machine the parse runs beside the daemon's own work.
    """

    def __init__(
        self, *, processes: int = DEFAULT_PROCESSES, memory_bytes: int = DEFAULT_MEMORY_BYTES
    ) -> None:
        self._memory_bytes = memory_bytes
        self._slots = asyncio.Semaphore(processes)
        self._idle: list[_Child] = []
        self._closed = False

    async def __aenter__(self) -> ParseProcesses:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def parse(
        self, content: bytes, *, base_url: str, content_type: str | None, deadline: float
    ) -> ParsedFeed:
        """parse_feed(content, ...) in a child; a document not parsed within `deadline`
        seconds, or whose child died, is an error ParsedFeed like any unreadable feed."""
        job = {"job": "feed", "base_url": base_url, "content_type": content_type}
        answer = await self._run(job, content, deadline)
        if isinstance(answer, _Failed):
            return parse_failure(PARSE, f"document {answer.reason}")
        try:
            return parsed_from_json(answer)
        except ValueError as exc:
            return parse_failure(PARSE, f"document not parsed: {exc}")

    async def main_text(self, page: bytes, *, url: str, deadline: float) -> str | None:
        """The main text of an article page (fulltext.extract_main_text) in a child; None,
        logged, when there is none or it could not be had within `deadline` seconds."""
        answer = await self._run({"job": "page", "url": url}, page, deadline)
        if isinstance(answer, _Failed):
            log.warning("full text of %s: page %s", redact_url(url), answer.reason)
            return None
        try:
            text = json.loads(answer)["text"]
        except (ValueError, KeyError, TypeError):
            text = None
        return text if isinstance(text, str) else None

    async def _run(self, job: dict[str, Any], content: bytes, deadline: float) -> bytes | _Failed:
        if self._closed:
            raise RuntimeError("parse processes are closed")
        async with self._slots:
            child = await self._idle_child() or await _Child.start(self._memory_bytes)
            try:
                answer = await child.exchange(job, content, deadline)
            except TimeoutError:
                await child.stop()
                return _Failed(f"too complex: not parsed within {deadline:g} s (parser stopped)")
            except _AnswerTooLarge as exc:
                await child.stop()
                return _Failed(f"too large to parse: its items came to {exc} bytes")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                code = await child.stop()
                log.warning("parse process %d failed (exit status %s): %r", child.pid, code, exc)
                return _Failed(f"not parsed: the parser process failed (exit {code})")
            except BaseException:  # cancelled mid-exchange: its stream is out of step now
                await child.stop()
                raise
            if child.resident_bytes() > _RECYCLE_BYTES:
                await child.stop(gently=True)
            else:
                self._idle.append(child)
            return answer

    async def _idle_child(self) -> _Child | None:
        """An idle child still alive (one may have been killed from outside meanwhile)."""
        while self._idle:
            child = self._idle.pop()
            if child.alive:
                return child
            await child.stop()
        return None

    async def close(self) -> None:
        self._closed = True
        children, self._idle = self._idle, []
        await asyncio.gather(*(child.stop(gently=True) for child in children))


class _Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pid = process.pid

    @classmethod
    async def start(cls, memory_bytes: int) -> _Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            str(memory_bytes),
            str(os.getpid()),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        child = cls(process)
        try:
            async with asyncio.timeout(_START_TIMEOUT):
                ready = await child._stdout.readexactly(len(_READY))
        except BaseException:
            await child.stop()
            raise
        if ready != _READY:
            await child.stop()
            raise RuntimeError(f"parse process said {ready!r} instead of ready")
        return child

    @property
    def alive(self) -> bool:
        return self._process.returncode is None

    @property
    def _stdout(self) -> asyncio.StreamReader:
        assert self._process.stdout is not None  # created with a pipe
        return self._process.stdout

    async def exchange(self, job: dict[str, Any], content: bytes, deadline: float) -> bytes:
        stdin = self._process.stdin
        assert stdin is not None  # created with a pipe
        header = json.dumps(job).encode()
        async with asyncio.timeout(deadline):
            stdin.write(_LENGTH.pack(len(header)) + header + _LENGTH.pack(len(content)))
            stdin.write(content)
            await stdin.drain()
            (length,) = _LENGTH.unpack(await self._stdout.readexactly(_LENGTH.size))
            if length > _MAX_ANSWER_BYTES:
                raise _AnswerTooLarge(length)
            return await self._stdout.readexactly(length)

    def resident_bytes(self) -> int:
        """The child's resident memory now (Linux /proc; 0 where it cannot be read)."""
        try:
            with open(f"/proc/{self.pid}/statm", encoding="ascii") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    async def stop(self, *, gently: bool = False) -> int | None:
        """End the child: closing its input asks it to exit; otherwise it is killed."""
        process = self._process
        if process.stdin is not None:
            process.stdin.close()  # its pipe too, so nothing is left to the garbage collector
        if process.returncode is None and gently:
            try:
                async with asyncio.timeout(2):
                    return await process.wait()
            except TimeoutError:
                pass
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                process.kill()
        return await process.wait()


class _AnswerTooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Failed:
    reason: str  # what became of the document: "too complex: ..."


def parsed_to_json(parsed: ParsedFeed) -> bytes:
    entries = [
        [e.key, e.url, e.title, e.summary, e.content, e.published and e.published.isoformat()]
        for e in parsed.entries
    ]
    document = {
        "title": parsed.title,
        "entries": entries,
        "error": parsed.error,
        "error_kind": parsed.error_kind,
        "warning": parsed.warning,
        "ttl": parsed.ttl,
    }
    # ensure_ascii: a lone surrogate from a character reference travels as \ud800, not as
    # bytes UTF-8 refuses.
    return json.dumps(document, ensure_ascii=True).encode("ascii")


def parsed_from_json(data: bytes) -> ParsedFeed:
    """A child's answer back into a ParsedFeed; ValueError when it is not one."""
    try:
        document: dict[str, Any] = json.loads(data)
        entries = tuple(
            FeedEntry(
                key=str(key),
                url=None if url is None else str(url),
                title=str(title),
                summary=str(summary),
                content=str(content),
                published=None if published is None else datetime.fromisoformat(published),
            )
            for key, url, title, summary, content, published in document["entries"]
        )
        ttl = document["ttl"]
        return ParsedFeed(
            title=document["title"],
            entries=entries,
            error=document["error"],
            error_kind=document["error_kind"],
            warning=document["warning"],
            ttl=None if ttl is None else float(ttl),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a parsed feed: {exc!r}") from None


def _serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """The child's loop: one document in, its answer out, until its input closes."""
    answers.write(_READY)
    answers.flush()
    while True:
        head = requests.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return  # the daemon closed our input: done
        job = json.loads(requests.read(_LENGTH.unpack(head)[0]))
        (length,) = _LENGTH.unpack(requests.read(_LENGTH.size))
        answer = _answer(job, requests.read(length))
        answers.write(_LENGTH.pack(len(answer)) + answer)
        answers.flush()


def _answer(job: dict[str, Any], content: bytes) -> bytes:
    if job["job"] == "page":
        try:
            text = extract_main_text(content, job["url"])
        except Exception as exc:  # an extractor crash on a hostile page: no text, not a crash
            print(f"monitor parse process: extraction failed: {exc!r}", file=sys.stderr)
            text = None
        return json.dumps({"text": text}, ensure_ascii=True).encode("ascii")
    try:
        parsed = parse_feed(content, base_url=job["base_url"], content_type=job["content_type"])
        return parsed_to_json(parsed)
    except MemoryError:  # the entries fitted, their JSON did not
        return parsed_to_json(parse_failure(PARSE, "document too large to parse: out of memory"))


def _main() -> None:
    import resource
    import signal

    # Ctrl-C and systemd's SIGTERM reach the whole process group: the daemon finishes its
    # in-flight polls, and closes our input when it no longer needs us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _end_with_the_daemon(int(sys.argv[2]))
    memory_bytes = int(sys.argv[1])
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        memory_bytes = min(memory_bytes, hard)  # a limit set from outside stays in force
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (OSError, ValueError) as exc:  # a seccomp filter, say: the deadline still holds
        print(f"monitor parse process: no memory cap ({exc})", file=sys.stderr, flush=True)
    # The answers go to the real standard output; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _serve(sys.stdin.buffer, answers)


def _end_with_the_daemon(daemon_pid: int) -> None:
    """Be killed when the daemon dies, however it dies: a child busy with a hostile document
    would otherwise parse on for minutes with nobody to answer (Linux prctl PDEATHSIG)."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != daemon_pid:  # it died before the line above took effect
        sys.exit(0)


_PR_SET_PDEATHSIG = 1

if __name__ == "__main__":
    _main()
