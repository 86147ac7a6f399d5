"""A pool of child processes that run registered jobs on input we do not trust, each job under
a deadline, each child under an address-space cap.

Input from a server we do not control can cost a minute of CPU or hundreds of megabytes to
process. In the parent's own process that would stall every other task of its event loop and
the memory of the whole service. In a child, it costs the child: killed at the deadline,
stopped by its address-space limit, and replaced by a fresh one for the next job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

from monitor.sandbox.frames import ACCEPTED, LENGTH, READY, Params, request_head
from monitor.sandbox.jobs import JobFunction, address_of

log = logging.getLogger("monitor.sandbox")

DEFAULT_PROCESSES = 2
# Address space a child may use: the jobs' work on the largest input the daemon accepts (10 MiB)
# needs well under half of it; the trees of millions of elements that hostile input of that size
# can build do not fit, which is the point.
DEFAULT_MEMORY_BYTES = 768 * 1024 * 1024
# A child that grew past this keeps the memory while idle: it is replaced after its answer.
DEFAULT_RECYCLE_BYTES = 200 * 1024 * 1024
# An answer longer than this is refused unread: the jobs' answers stay within a small multiple
# of their input (at most 10 MiB by default).
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024
_START_TIMEOUT = 30.0  # seconds for a child to import its jobs and say it is ready
# A child may fail to start for reasons that are not the job's (killed from outside while it
# imports, a fork refused for a moment): it is retried this many times before the pool gives up.
_START_ATTEMPTS = 3


@dataclass(frozen=True)
class DeadlinePassed:
    deadline: float  # seconds; the child was killed


@dataclass(frozen=True)
class AnswerTooLarge:
    length: int  # bytes the child announced; none of them were read


@dataclass(frozen=True)
class ChildDied:
    exit_status: int | None  # negative: killed by that signal (its memory cap, or from outside)


# What became of a job that gave no answer; its stage words it for its users.
JobFailure = DeadlinePassed | AnswerTooLarge | ChildDied


class SandboxError(RuntimeError):
    """No child could be started: the installation is broken, not the job's input."""


class Sandbox:
    """Runs registered jobs in up to `processes` child processes, started on first use and
    reused; an async context manager that stops them on exit.

    Two children by default: a job that takes a child to its deadline does not hold up the
    others, and on a small machine the work runs beside the parent's own.
    """

    def __init__(
        self,
        jobs: Mapping[str, JobFunction],
        *,
        processes: int = DEFAULT_PROCESSES,
        memory_bytes: int = DEFAULT_MEMORY_BYTES,
        recycle_bytes: int = DEFAULT_RECYCLE_BYTES,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        self._command = (
            sys.executable,
            "-m",
            "monitor.sandbox.child",
            str(memory_bytes),
            str(os.getpid()),
            *(f"{name}={address_of(function)}" for name, function in jobs.items()),
        )
        self._jobs = frozenset(jobs)
        self._recycle_bytes = recycle_bytes
        self._max_answer_bytes = max_answer_bytes
        self._slots = asyncio.Semaphore(processes)
        self._idle: list[_Child] = []
        self._closed = False

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def run(
        self, job: str, params: Params, content: bytes, *, deadline: float
    ) -> bytes | JobFailure:
        """The answer of `job` to (`params`, `content`), computed in a child within `deadline`
        seconds; a JobFailure when there is none. SandboxError when no child would start."""
        if self._closed:
            raise RuntimeError("the sandbox is closed")
        if job not in self._jobs:
            raise ValueError(f"no job {job!r} is registered with this sandbox")
        head = request_head(job, params, len(content))
        async with self._slots:
            starts = 0
            while True:
                child = await self._idle_child()
                if child is None:
                    if starts == _START_ATTEMPTS:
                        raise SandboxError(f"no process started in {starts} attempts")
                    starts += 1
                    child = await self._start_child(starts)
                    if child is None:
                        continue
                try:
                    answer = await self._exchange(child, head, content, deadline)
                except _NotDelivered:
                    # It died before it had the request (killed while idle, or just after its
                    # start): not the job's doing, another child takes it.
                    code = await child.stop()
                    log.info("sandbox process %d had ended (exit %s): replaced", child.pid, code)
                    continue
                if isinstance(answer, bytes):
                    await self._release(child)
                return answer

    async def _exchange(
        self, child: _Child, head: bytes, content: bytes, deadline: float
    ) -> bytes | JobFailure:
        try:
            return await child.exchange(head, content, deadline, self._max_answer_bytes)
        except _NotDelivered:
            raise
        except TimeoutError:
            await child.stop()
            return DeadlinePassed(deadline)
        except _AnnouncedTooLarge as exc:
            await child.stop()
            return AnswerTooLarge(exc.length)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            code = await child.stop()
            log.warning("sandbox process %d failed (exit status %s): %r", child.pid, code, exc)
            return ChildDied(code)
        except BaseException:  # cancelled mid-exchange: its stream is out of step now
            await child.stop()
            raise

    async def _start_child(self, attempt: int) -> _Child | None:
        try:
            return await _Child.start(self._command)
        except _StartFailed as exc:
            log.warning(
                "sandbox process did not start (attempt %d of %d): %s",
                attempt,
                _START_ATTEMPTS,
                exc,
            )
            return None

    async def _idle_child(self) -> _Child | None:
        """An idle child not known to have ended (one may have been killed from outside)."""
        while self._idle:
            child = self._idle.pop()
            if child.alive:
                return child
            await child.stop()
        return None

    async def _release(self, child: _Child) -> None:
        if self._closed or child.resident_bytes() > self._recycle_bytes:
            await child.stop(gently=True)
        else:
            self._idle.append(child)

    async def close(self) -> None:
        self._closed = True
        children, self._idle = self._idle, []
        await asyncio.gather(*(child.stop(gently=True) for child in children))


class _Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.pid = process.pid
        # Killed through a pidfd, not Process.kill(): that polls the child first (waitpid
        # WNOHANG, bpo-38630) and, when the child has just ended, reaps it before asyncio's
        # watcher thread does, which then reports exit status 255 instead of the real one.
        self._pidfd: int | None = None
        with contextlib.suppress(OSError, AttributeError):  # ended already; not Linux >= 5.3
            self._pidfd = os.pidfd_open(process.pid)

    @classmethod
    async def start(cls, command: tuple[str, ...]) -> _Child:
        """A child that said it is ready; _StartFailed when it could not be had."""
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
            )
        except OSError as exc:  # a fork refused for lack of memory or processes
            raise _StartFailed(repr(exc)) from exc
        child = cls(process)
        try:
            async with asyncio.timeout(_START_TIMEOUT):
                ready = await child._stdout.readexactly(len(READY))
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
            code = await child.stop()
            raise _StartFailed(f"process {child.pid} exited {code} before ready: {exc!r}") from exc
        except BaseException:
            await child.stop()
            raise
        if ready != READY:
            await child.stop()
            raise _StartFailed(f"process {child.pid} said {ready!r} instead of ready")
        return child

    @property
    def alive(self) -> bool:
        return self._process.returncode is None

    @property
    def _stdout(self) -> asyncio.StreamReader:
        assert self._process.stdout is not None  # created with a pipe
        return self._process.stdout

    async def exchange(
        self, head: bytes, content: bytes, deadline: float, max_answer_bytes: int
    ) -> bytes:
        stdin = self._process.stdin
        assert stdin is not None  # created with a pipe
        async with asyncio.timeout(deadline):
            try:
                stdin.write(head)
                stdin.write(content)
                await stdin.drain()
                accepted = await self._stdout.readexactly(len(ACCEPTED))
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                # Gone before it had read the whole request: the job never began. (A write to
                # a child already dead may also pass unnoticed: asyncio drops it silently once
                # it has seen the pipe close, hence the child's word rather than the write's.)
                raise _NotDelivered from exc
            if accepted != ACCEPTED:
                raise ConnectionError(f"sandbox process said {accepted!r}: out of step")
            (length,) = LENGTH.unpack(await self._stdout.readexactly(LENGTH.size))
            if length > max_answer_bytes:
                raise _AnnouncedTooLarge(length)
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
            self._kill()
        code = await process.wait()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        return code

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                self._process.kill()


class _StartFailed(Exception):
    pass


class _NotDelivered(Exception):
    pass


class _AnnouncedTooLarge(Exception):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length
