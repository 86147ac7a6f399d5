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
mistyped Slack URL with its token, "Unsupported URL: slack:/T0/B0/XXXX" one with no `://` at
all, and plugins log the endpoints they post to (a Slack webhook path is its secret). Every
record of its logger is rewritten, before a capture or a handler sees it: each URL Apprise was
handed (`hide_in_log`) is replaced wherever it shows, each `scheme://…` is cut to its scheme,
and whatever follows the word URL (`Unsupported URL: …`) is cut, whatever it looks like.

Apprise's HTTP plugins go through requests and urllib3, whose lines name the request's path
("POST /hook/T0k3n HTTP/1.1", "Retrying ... : /hook/T0k3n"): the CLI keeps them at WARNING,
and the warnings that remain are rewritten the same way, with paths cut as well (`/…`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

_APPRISE_LOGGER = logging.getLogger("apprise")
# A filter sees only the records of its own logger, not of its children: each module of
# urllib3 that logs has its logger named.
_HTTP_LOGGERS = (
    "requests",
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
)

# A URL ends at white space or at what usually quotes it.
_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*)://[^\s'\"<>]+")
# "Unsupported URL: slack:/T0/B0/XXXX", "Max retries exceeded with url: /hook/XXXX (Caused by":
# the rest of the line may be the URL in any shape, so all of it goes (a scheme stays).
_AFTER_THE_WORD_URL = re.compile(
    r"\b(URLs?:?\s+)(?=\S)(?:([A-Za-z][A-Za-z0-9+.-]*://)…)?.*", re.IGNORECASE | re.DOTALL
)
# A path after a space or a quote (a request line, a urllib3 retry warning).
_PATH = re.compile(r"(^|[\s'\"(=])/[^\s'\"<>)]+")

# Shorter strings are no secret, and hiding them would garble unrelated words.
_MIN_HIDDEN_CHARS = 4
_hidden_lock = threading.Lock()
_hidden: tuple[str, ...] = ()  # every URL Apprise was handed, longest first


def hide_in_log(url: str) -> None:
    """Hide `url` wherever a line of Apprise (or of the HTTP stack under it) repeats it: its
    lines may show it in a shape none of the patterns above recognise."""
    global _hidden
    url = url.strip()
    if len(url) < _MIN_HIDDEN_CHARS or url in _hidden:
        return
    with _hidden_lock:
        _hidden = tuple(sorted({*_hidden, url}, key=len, reverse=True))


def _redact(text: str, *, paths: bool = False) -> str:
    """`text` without the URLs Apprise was handed, nor any other URL past its scheme;
    `paths`: nor any absolute path past its first slash."""
    for url in _hidden:
        if url in text:
            text = text.replace(url, _scheme_of(url))
    text = _URL.sub(r"\1://…", text)
    text = _AFTER_THE_WORD_URL.sub(r"\1\2…", text)  # an unmatched group: empty
    return _PATH.sub(r"\1/…", text) if paths else text


def _scheme_of(url: str) -> str:
    found = re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", url)
    return f"{found.group(0)}…" if found else "…"


class _Redact(logging.Filter):
    def __init__(self, *, paths: bool) -> None:
        super().__init__()
        self.paths = paths

    def filter(self, record: logging.LogRecord) -> bool:
        text = record_text(record)
        redacted = _redact(text, paths=self.paths)
        if redacted != text:
            record.msg, record.args = redacted, None
        return True


# Installed for good, first: the tap (below) and every handler see redacted records only.
_APPRISE_LOGGER.addFilter(_Redact(paths=False))
for _name in _HTTP_LOGGERS:
    logging.getLogger(_name).addFilter(_Redact(paths=True))

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
