"""Log lines (docs/design.md §9): one readable line per event (`log_format: text`, the default),
or one JSON object per event (`log_format: json`) for journald exports and log collectors.

A JSON line has `time` (ISO 8601, UTC), `level`, `logger`, `event` (the message as the text line
shows it) and the fields of `FIELDS` the call site gave through `extra=`, so a collector can
filter on a feed or an alert without parsing messages. Other attributes of a record are not
written: a field appears only once it is named here, and what it holds is already redacted at
the call site (feed URLs through `redact_url`, channels by name, never their URLs).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"

# The structured fields a call site may give (`log.info(..., extra={"feed": shown})`), in the
# order a JSON line lists them. None may be a LogRecord attribute (`message`, `name`, ...).
FIELDS = (
    "feed",  # a feed's URL, credentials masked
    "status",  # a poll's status word (docs/design.md §7)
    "error_kind",  # of a failed poll: timeout, unreachable, http_status, parse, ...
    "new_items",
    "alerts",  # how many alerts a poll created
    "alert",  # an alert's id
    "alert_ids",  # the alerts a message carried
    "watchlist",
    "channel",  # a channel's name
    "message_id",  # a sent message's id (`monitor alerts --message`)
    "outcome",  # of a delivery: sent, held, retry, failed
    "retry_at",
    "feeds",  # counts at start and reload
    "watchlists",
    "channels",
    "signal",
)

# Marks the handler `configure_logging` installed, so a later call (the configuration read, a
# reload) changes its format and leaves any other handler (pytest's, an embedding program's) alone.
_OURS = "_monitor_handler"


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages and tracebacks escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "event": _message(record),
        }
        for name in FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _message(record: logging.LogRecord) -> str:
    # A library's malformed format string must not lose the event (nor print a logging error).
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        return str(record.msg)


def formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(level: int, log_format: LogFormat = "text") -> None:
    """Log to stderr at `level` in `log_format`, as `logging.basicConfig` would: nothing is added
    when the root logger already has handlers of another owner (a test's, an embedding
    program's)."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        setattr(handler, _OURS, True)
        root.addHandler(handler)
    if _our_handlers():
        root.setLevel(level)
    use_log_format(log_format)


def use_log_format(log_format: LogFormat) -> None:
    """Switch the installed handler to `log_format` (at start once the configuration is read,
    and on reload)."""
    for handler in _our_handlers():
        handler.setFormatter(formatter(log_format))


def _our_handlers() -> list[logging.Handler]:
    return [handler for handler in logging.getLogger().handlers if getattr(handler, _OURS, False)]
