"""Alerts out: render one message per channel kind, send it through Apprise, report the outcome.

Importing this package registers the `console://` Apprise URL (see `console`)."""

from monitor.notify import console
from monitor.notify.render import Rendered, channel_kind, render
from monitor.notify.send import AppriseSender, privacy_url, valid_apprise_url

__all__ = [
    "AppriseSender",
    "Rendered",
    "channel_kind",
    "console",
    "privacy_url",
    "render",
    "valid_apprise_url",
]
