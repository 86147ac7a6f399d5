"""The `console://` channel: alerts printed on standard output, for trying a configuration
without a mail server and for `monitor poll --once` by hand.

Registered with Apprise's custom-notification decorator when `monitor.notify.send` (the one
way to Apprise) is imported.
Apprise keeps one global plugin table; registering a known scheme again does not raise, it logs
a warning and keeps the first function (CustomNotifyPlugin.instantiate_plugin in Apprise 2.3).
That can still happen (a module reload), so registration is skipped when the scheme is known.
"""

from __future__ import annotations

import sys
from typing import Any

import apprise
from apprise.manager_plugins import NotificationManager

SCHEME = "console"
SEPARATOR = "-" * 72


def print_alert(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    # sys.stdout is looked up at call time, so a redirected or captured stdout gets the alert.
    out = sys.stdout
    if title:
        out.write(f"{title}\n")
    out.write(f"{body}\n{SEPARATOR}\n")
    out.flush()
    return True


def register() -> None:
    """Make `console://` an Apprise URL; safe to call any number of times."""
    # Apprise's plugin table and decorator carry no type hints.
    if SCHEME not in NotificationManager():  # type: ignore[no-untyped-call]
        apprise.decorators.notify(on=SCHEME, name="monitor console")(  # type: ignore[no-untyped-call]
            print_alert
        )


register()
