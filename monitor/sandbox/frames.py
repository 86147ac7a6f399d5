"""The bytes between the pool and a child: length-prefixed frames, one request and one answer
at a time.

A request is a JSON header (the job's name and its parameters) and the raw content; an answer
is whatever bytes the job returned. Only the job's own codec gives the answer a meaning, so
nothing a child sends can be more than data to the parent.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from typing import Any, BinaryIO

LENGTH = struct.Struct("!I")
# What a child says once its jobs are imported and its limits set: the pool counts the child
# as started only then.
READY = b"ready\n"
# What a child says once it has read a whole request, before it works on it: a child that ends
# before saying so never had the job, and another child can take it.
ACCEPTED = b"+"

Params = Mapping[str, str | int | float | bool | None]


def request_head(job: str, params: Params, content_length: int) -> bytes:
    """What precedes the content of a request (the content itself is written as it is)."""
    header = json.dumps({"job": job, "params": dict(params)}, ensure_ascii=True).encode("ascii")
    return LENGTH.pack(len(header)) + header + LENGTH.pack(content_length)


def read_request(requests: BinaryIO) -> tuple[str, dict[str, Any], bytes] | None:
    """The next request (job name, parameters, content); None once the parent closed its end."""
    head = requests.read(LENGTH.size)
    if len(head) < LENGTH.size:
        return None
    header = json.loads(requests.read(LENGTH.unpack(head)[0]))
    (length,) = LENGTH.unpack(requests.read(LENGTH.size))
    return str(header["job"]), dict(header["params"]), requests.read(length)


def accept(answers: BinaryIO) -> None:
    answers.write(ACCEPTED)
    answers.flush()


def write_answer(answers: BinaryIO, answer: bytes) -> None:
    answers.write(LENGTH.pack(len(answer)) + answer)
    answers.flush()
