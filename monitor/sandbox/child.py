"""The child's side of the sandbox: set its limits, import its jobs, say it is ready, then answer
one request at a time until its input closes.

Run as `python -m monitor.sandbox.child MEMORY_BYTES PARENT_PID NAME=MODULE:FUNCTION...`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import sys

from monitor.sandbox.frames import READY, accept, read_request, write_answer
from monitor.sandbox.jobs import JobFunction, import_job

_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    # Ctrl-C and systemd's SIGTERM reach the whole process group: the parent finishes the work
    # in flight, and closes our input when it no longer needs us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    memory_bytes, parent_pid, *registrations = argv
    # First, before the jobs' imports: a parent that dies while we start must not leave us.
    _end_with_the_parent(int(parent_pid))
    jobs = _import_jobs(registrations)
    _cap_address_space(int(memory_bytes))
    # The answers go to the real standard output; anything a library prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    answers.write(READY)
    answers.flush()
    requests = sys.stdin.buffer
    while (request := read_request(requests)) is not None:
        job, params, content = request
        accept(answers)
        write_answer(answers, jobs[job](params, content))


def _import_jobs(registrations: list[str]) -> dict[str, JobFunction]:
    jobs = {}
    for registration in registrations:
        name, _, address = registration.partition("=")
        jobs[name] = import_job(address)
    return jobs


def _cap_address_space(memory_bytes: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        memory_bytes = min(memory_bytes, hard)  # a limit set from outside stays in force
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    except (OSError, ValueError) as exc:  # a seccomp filter, say: the deadline still holds
        print(f"monitor sandbox process: no memory cap ({exc})", file=sys.stderr, flush=True)


def _end_with_the_parent(parent_pid: int) -> None:
    """Be killed when the parent dies, however it dies: a child busy with hostile input would
    otherwise work on for minutes with nobody to answer (Linux prctl PDEATHSIG).

    The signal follows the *thread* that forked us, not the process: the pool starts its
    children from its event loop's thread, which outlives the pool, never from a worker thread
    that could end (and kill us) while the parent lives on."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the line above took effect
        sys.exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
