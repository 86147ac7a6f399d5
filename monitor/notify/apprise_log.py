"""What Apprise logged while sending one notification, to explain a failure in one line.

Apprise reports a failed send only as `False` and logs the reason on the "apprise" logger: the
summary at WARNING ('Sending email to "x" failed.') and the cause at DEBUG ("Socket Exception:
(554, b'Transaction failed')"). To read the cause without flooding the application's own log
handlers with Apprise's debug output, the logger is lowered to DEBUG only while a capture is
open, and a filter on it (which sees every record before any handler does) both collects the
records and drops those below the level the logger had before.

Records are collected per capture through a context variable: Apprise 2 runs each service in a
worker thread but copies the caller's context into it, so concurrent sends stay apart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

_APPRISE_LOGGER = logging.getLogger("apprise")

_records_of_this_send: ContextVar[list[logging.LogRecord] | None] = ContextVar(
    "monitor_apprise_records", default=None
)


class _Tap(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.floor = logging.WARNING  # the level the logger had before captures lowered it

    def filter(self, record: logging.LogRecord) -> bool:
        records = _records_of_this_send.get()
        if records is not None:
            records.append(record)
        return record.levelno >= self.floor


_tap = _Tap()
_lock = threading.Lock()
_open_captures = 0
_level_before = logging.NOTSET


@contextmanager
def capture_apprise_log() -> Iterator[list[logging.LogRecord]]:
    """Collect the Apprise log records (DEBUG and up) emitted on behalf of the enclosed code."""
    global _open_captures, _level_before
    records: list[logging.LogRecord] = []
    token = _records_of_this_send.set(records)
    with _lock:
        if _open_captures == 0:
            _level_before = _APPRISE_LOGGER.level
            _tap.floor = _APPRISE_LOGGER.getEffectiveLevel()
            _APPRISE_LOGGER.addFilter(_tap)
            _APPRISE_LOGGER.setLevel(min(logging.DEBUG, _tap.floor))
        _open_captures += 1
    try:
        yield records
    finally:
        _records_of_this_send.reset(token)
        with _lock:
            _open_captures -= 1
            if _open_captures == 0:
                _APPRISE_LOGGER.setLevel(_level_before)
                _APPRISE_LOGGER.removeFilter(_tap)


def failure_reason(records: Sequence[logging.LogRecord]) -> str:
    """One line: Apprise's last warning or error, completed by the last exception detail it
    logged at debug level (an SMTP reply, a socket error) when there is one."""
    summary = ""
    detail = ""
    for record in records:
        text = record_text(record)
        if record.levelno >= logging.WARNING:
            summary = text
        elif "Exception:" in text:
            detail = text.split("Exception:", 1)[1].strip()
    if not summary:
        summary = "Apprise reported a failure without saying why"
    line = f"{summary.rstrip('.')}: {detail}" if detail else summary
    return " ".join(line.split())


def record_text(record: logging.LogRecord) -> str:
    """The record's message, even when a plugin's format string does not fit its arguments."""
    try:
        return record.getMessage()
    except (TypeError, ValueError):  # a malformed format string in a plugin's log call
        return str(record.msg)
