"""Jobs for the sandbox's tests: slow, failing or large by construction, never by timing.

A job that must be caught at work tells the test so over a loopback connection (its process id)
and then waits for the test's word: the test knows the child has the request, and decides when
it ends. With MONITOR_TEST_START_GATE set, a child does the same while it imports this module,
before it says it is ready: the test holds it in its start.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Mapping
from typing import Any

START_GATE = "MONITOR_TEST_START_GATE"


def echo(params: Mapping[str, Any], content: bytes) -> bytes:
    return content


def pid(params: Mapping[str, Any], content: bytes) -> bytes:
    return str(os.getpid()).encode()


def wait_for_word(params: Mapping[str, Any], content: bytes) -> bytes:
    """Tell the test (on params["port"]) this child has the request; answer once it says so."""
    with _report_to(int(params["port"])) as connection:
        return b"released: " + connection.recv(100)


def never_answer(params: Mapping[str, Any], content: bytes) -> bytes:
    threading.Event().wait()
    raise AssertionError("unreachable")


def answer_of_length(params: Mapping[str, Any], content: bytes) -> bytes:
    return b"x" * int(params["length"])


def allocate(params: Mapping[str, Any], content: bytes) -> bytes:
    try:
        block = bytearray(int(params["bytes"]))
    except MemoryError:
        return b"out of memory"
    return str(len(block)).encode()


def _report_to(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(f"{os.getpid()}\n".encode())
    return connection


if _gate := os.environ.get(START_GATE):  # imported by a child the test holds in its start
    with _report_to(int(_gate)) as _connection:
        _connection.recv(1)


def exit_at_once(params: Mapping[str, Any], content: bytes) -> bytes:
    os._exit(3)
