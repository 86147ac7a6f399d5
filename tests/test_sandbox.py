"""The sandbox: registered jobs run in child processes under a deadline, a memory cap and an
answer cap; a child lost before or between jobs is replaced, one lost at work fails that job
only, and every child ends with its parent.

The jobs that must be slow or stuck are so by construction (tests/sandbox_jobs.py): they wait
for the test's word. No test races a deadline against real work.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import pytest

from monitor.sandbox import (
    AnswerTooLarge,
    ChildDied,
    DeadlinePassed,
    JobFailure,
    Sandbox,
    SandboxError,
)
from tests.sandbox_jobs import (
    START_GATE,
    allocate,
    answer_of_length,
    echo,
    never_answer,
    pid,
    wait_for_word,
)

_T = TypeVar("_T")
# Bounds a test waits for what must happen, so that a defect fails instead of hanging; never
# reached on a working sandbox, however busy the machine.
PATIENCE = 120.0
JOBS = {
    "echo": echo,
    "pid": pid,
    "wait_for_word": wait_for_word,
    "never_answer": never_answer,
    "answer_of_length": answer_of_length,
    "allocate": allocate,
}


class Reports:
    """A loopback server the jobs (and held starts) report to: each arrival's process id and the
    connection by which the test gives its word."""

    def __init__(self) -> None:
        self._arrivals: asyncio.Queue[tuple[int, asyncio.StreamWriter]] = asyncio.Queue()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> Reports:
        self._server = await asyncio.start_server(self._arrived, "127.0.0.1", 0)
        self.port: int = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for writer in self._writers:
            writer.close()
        self._server.close()

    async def _arrived(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        line = await reader.readline()
        await self._arrivals.put((int(line), writer))

    async def next(self) -> tuple[int, asyncio.StreamWriter]:
        return await within_patience(self._arrivals.get())

    @property
    def waiting(self) -> int:
        return self._arrivals.qsize()


async def within_patience(awaitable: Awaitable[_T]) -> _T:
    async with asyncio.timeout(PATIENCE):
        return await awaitable


def run(
    sandbox: Sandbox, job: str, content: bytes = b"", **params: int
) -> asyncio.Task[bytes | JobFailure]:
    return asyncio.ensure_future(sandbox.run(job, params, content, deadline=PATIENCE))


def test_a_job_answers_from_a_child_and_the_child_is_reused() -> None:
    async def scenario() -> tuple[bytes | JobFailure, bytes | JobFailure, bytes | JobFailure]:
        async with Sandbox(JOBS, processes=1) as sandbox:
            return (
                await run(sandbox, "echo", b"\x00 bytes \xff"),
                await run(sandbox, "pid"),
                await run(sandbox, "pid"),
            )

    echoed, first, second = asyncio.run(scenario())
    assert echoed == b"\x00 bytes \xff"
    assert isinstance(first, bytes) and first == second and int(first) != os.getpid()


def test_only_registered_module_level_functions_are_jobs() -> None:
    with pytest.raises(ValueError, match="module-level function"):
        Sandbox({"lambda": lambda params, content: content})

    async def scenario() -> None:
        async with Sandbox(JOBS) as sandbox:
            await sandbox.run("rm -rf", {}, b"", deadline=1)

    with pytest.raises(ValueError, match="no job 'rm -rf' is registered"):
        asyncio.run(scenario())


def test_a_job_past_its_deadline_has_its_child_stopped_and_the_next_job_runs() -> None:
    async def scenario() -> tuple[bytes | JobFailure, bytes | JobFailure, set[int]]:
        before = children()
        async with Sandbox(JOBS, processes=1) as sandbox:
            stuck = await sandbox.run("never_answer", {}, b"", deadline=0.5)
            left = children() - before
            return stuck, await run(sandbox, "echo", b"next"), left

    stuck, after, left = asyncio.run(scenario())
    assert stuck == DeadlinePassed(0.5)
    assert left == set()  # the stuck child was killed, not left working
    assert after == b"next"


def test_an_answer_over_the_cap_is_refused_unread() -> None:
    async def scenario() -> tuple[bytes | JobFailure, bytes | JobFailure]:
        async with Sandbox(JOBS, processes=1, max_answer_bytes=1000) as sandbox:
            return await run(sandbox, "answer_of_length", length=1001), await run(
                sandbox, "answer_of_length", length=1000
            )

    refused, accepted = asyncio.run(scenario())
    assert refused == AnswerTooLarge(1001)
    assert accepted == b"x" * 1000


def test_a_child_cannot_grow_past_its_address_space_cap() -> None:
    async def scenario() -> tuple[bytes | JobFailure, bytes | JobFailure]:
        async with Sandbox(JOBS, processes=1, memory_bytes=256 * 1024 * 1024) as sandbox:
            return await run(sandbox, "allocate", bytes=512 * 1024 * 1024), await run(
                sandbox, "allocate", bytes=1024
            )

    refused, small = asyncio.run(scenario())
    assert refused == b"out of memory"
    assert small == b"1024"


def test_a_child_that_grew_large_is_replaced_after_its_answer() -> None:
    async def scenario() -> tuple[bytes | JobFailure, set[int], bytes | JobFailure]:
        before = children()
        async with Sandbox(JOBS, processes=1, recycle_bytes=1) as sandbox:
            first = await run(sandbox, "pid")
            left = children() - before
            return first, left, await run(sandbox, "pid")

    first, left, second = asyncio.run(scenario())
    assert left == set()  # stopped once it had answered
    assert isinstance(first, bytes) and isinstance(second, bytes) and first != second


def test_a_child_that_dies_at_work_fails_that_job_only() -> None:
    async def scenario() -> tuple[bytes | JobFailure, bytes | JobFailure]:
        async with Reports() as reports, Sandbox(JOBS, processes=1) as sandbox:
            working = run(sandbox, "wait_for_word", port=reports.port)
            child, _ = await reports.next()  # it has the request
            os.kill(child, signal.SIGKILL)
            return await working, await run(sandbox, "echo", b"next")

    failed, after = asyncio.run(scenario())
    assert failed == ChildDied(-signal.SIGKILL)
    assert after == b"next"


def test_other_jobs_run_while_one_child_is_stuck() -> None:
    async def scenario() -> tuple[list[bytes | JobFailure], bool, bytes | JobFailure]:
        async with Reports() as reports, Sandbox(JOBS, processes=2) as sandbox:
            working = run(sandbox, "wait_for_word", port=reports.port)
            _, word = await reports.next()
            others = [await run(sandbox, "echo", b"%d" % n) for n in range(20)]
            still_working = not working.done()
            word.write(b"go")
            return others, still_working, await working

    others, still_working, released = asyncio.run(scenario())
    assert others == [b"%d" % n for n in range(20)]
    assert still_working
    assert released == b"released: go"


def test_a_cancelled_job_costs_its_child_not_the_pool() -> None:
    async def scenario() -> tuple[set[int], bytes | JobFailure]:
        before = children()
        async with Reports() as reports, Sandbox(JOBS, processes=1) as sandbox:
            working = run(sandbox, "wait_for_word", port=reports.port)
            await reports.next()
            working.cancel()
            with pytest.raises(asyncio.CancelledError):
                await working
            left = children() - before
            return left, await run(sandbox, "echo", b"next")

    left, after = asyncio.run(scenario())
    assert left == set()
    assert after == b"next"


def test_an_idle_child_that_died_is_replaced_before_use() -> None:
    async def scenario() -> tuple[bytes | JobFailure, bytes | JobFailure]:
        async with Sandbox(JOBS, processes=1) as sandbox:
            first = await run(sandbox, "pid")
            assert isinstance(first, bytes)
            os.kill(int(first), signal.SIGKILL)
            # Dead, its pipes closed, whether or not the pool has heard of it yet.
            await within_patience(until(lambda: not alive(int(first))))
            return first, await run(sandbox, "pid")

    first, second = asyncio.run(scenario())
    assert isinstance(second, bytes) and second != first


def test_a_child_killed_while_it_starts_is_replaced_and_the_job_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> tuple[bytes | JobFailure, int]:
        async with Reports() as reports:
            monkeypatch.setenv(START_GATE, str(reports.port))
            async with Sandbox(JOBS, processes=1) as sandbox:
                job = run(sandbox, "echo", b"done")
                starting, _ = await reports.next()  # importing its jobs, not yet ready
                os.kill(starting, signal.SIGKILL)
                _, gate = await reports.next()  # its replacement
                gate.write(b"go")
                return await job, reports.waiting

    answer, more_starts = asyncio.run(scenario())
    assert answer == b"done"
    assert more_starts == 0


def test_a_child_that_never_starts_is_the_sandboxs_error_after_three_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def scenario() -> int:
        async with Reports() as reports:
            monkeypatch.setenv(START_GATE, str(reports.port))
            async with Sandbox(JOBS, processes=1) as sandbox:
                job = run(sandbox, "echo", b"never")
                for _ in range(3):
                    starting, _ = await reports.next()
                    os.kill(starting, signal.SIGKILL)
                with pytest.raises(SandboxError, match="no process started in 3 attempts"):
                    await within_patience(job)
                return reports.waiting

    assert asyncio.run(scenario()) == 0


def test_children_end_with_the_sandbox() -> None:
    before = children()

    async def scenario() -> set[int]:
        async with Reports() as reports, Sandbox(JOBS, processes=2) as sandbox:
            working = run(sandbox, "wait_for_word", port=reports.port)
            await reports.next()
            await run(sandbox, "echo")
            assert len(children() - before) == 2
            working.cancel()  # a cancelled job's child is stopped before its cancellation ends
            with pytest.raises(asyncio.CancelledError):
                await working
        return children() - before

    assert asyncio.run(scenario()) == set()


def test_a_busy_child_dies_with_its_parent() -> None:
    # However the parent dies (SIGKILL here), its child does not work on alone for minutes.
    script = (
        "import asyncio, sys\n"
        "from monitor.sandbox import Sandbox\n"
        "from tests.sandbox_jobs import wait_for_word\n"
        "async def main():\n"
        "    async with Sandbox({'wait': wait_for_word}, processes=1) as sandbox:\n"
        "        await sandbox.run('wait', {'port': int(sys.argv[1])}, b'', deadline=600)\n"
        "asyncio.run(main())\n"
    )
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(PATIENCE)
        port = server.getsockname()[1]
        parent = subprocess.Popen([sys.executable, "-c", script, str(port)])
        try:
            connection, _ = server.accept()
            with connection, connection.makefile("rb") as lines:
                child = int(lines.readline())  # at work for its parent
                assert child in children_of(parent.pid)
                parent.kill()
                parent.wait(timeout=PATIENCE)
                deadline = time.monotonic() + PATIENCE
                while alive(child) and time.monotonic() < deadline:
                    time.sleep(0.05)
                assert not alive(child)
        finally:
            parent.kill()
            parent.wait()


async def until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


def children() -> set[int]:
    """Process ids of this process's living children."""
    return children_of(os.getpid())


def _stat(pid: int | str) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ...), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children_of(parent: int) -> set[int]:
    """Process ids of the living children of `parent` (Linux)."""
    found = set()
    for entry in os.listdir("/proc"):
        fields = _stat(entry) if entry.isdigit() else None
        if fields is not None and fields[1] == str(parent) and fields[0] != "Z":
            found.add(int(entry))
    return found
