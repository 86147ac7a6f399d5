"""Untrusted input processed in child processes: a pool that runs registered jobs, each under a
deadline, each child under an address-space cap, its answers capped in size, and every child
ending with its parent. The sandbox knows its jobs by name only; each stage owns its job's
function (run in the child) and the codec of its answer."""

from monitor.sandbox.frames import Params
from monitor.sandbox.jobs import JobFunction
from monitor.sandbox.pool import (
    DEFAULT_MAX_ANSWER_BYTES,
    DEFAULT_MEMORY_BYTES,
    DEFAULT_PROCESSES,
    DEFAULT_RECYCLE_BYTES,
    AnswerTooLarge,
    ChildDied,
    DeadlinePassed,
    JobFailure,
    Sandbox,
    SandboxError,
)

__all__ = [
    "DEFAULT_MAX_ANSWER_BYTES",
    "DEFAULT_MEMORY_BYTES",
    "DEFAULT_PROCESSES",
    "DEFAULT_RECYCLE_BYTES",
    "AnswerTooLarge",
    "ChildDied",
    "DeadlinePassed",
    "JobFailure",
    "JobFunction",
    "Params",
    "Sandbox",
    "SandboxError",
]
