"""What Apprise logged while sending one notification, to explain a failure in one line.

Apprise reports a failed send only as `False` and logs the reason on the "apprise" logger: the
summary at WARNING ('Sending email to "x" failed.') and the cause at DEBUG ("Socket Exception:
(554, b'Transaction failed')"). To read the cause without flooding the application's own log
handlers with Apprise's debug output, the logger is lowered to DEBUG only while a capture is
open, and a filter on it (which sees every record before any handler does) both collects the
records and drops those below the level the logger had before.

Records are collected per capture through a context variable: Apprise 2 runs each service in a
worker thread but copies the caller's context into it, so concurrent sends stay apart.

Apprise writes whole URLs in some of its lines: "Unparseable URL slakc://T0/B0/XXXX" prints a
mistyped Slack URL with its token, and plugins log the endpoints they post to (a Slack webhook
path is its secret). Every record of its logger is rewritten, before a capture or a handler
sees it, with each URL cut to its scheme (`slakc://…`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

_APPRISE_LOGGER = logging.getLogger("apprise")

# A URL ends at white space or at what usually quotes it.
_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://[^\s'\"<>]+")


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record_text(record)
        redacted = _URL.sub(r"\1://…", text)
        if redacted != text:
            record.msg, record.args = redacted, None
        return True


# Installed for good, first: the tap (below) and every handler see redacted records only.
_APPRISE_LOGGER.addFilter(_Redact())

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
