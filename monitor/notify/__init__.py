"""Alerts out: render one message per channel kind, send it through Apprise, report the outcome.

Importing this package registers the `console://` Apprise URL (see `console`)."""

from monitor.notify import console
from monitor.notify.channels import channel_kind
from monitor.notify.render import Rendered, one_line, render
from monitor.notify.send import AppriseSender, privacy_url, valid_apprise_url

__all__ = [
    "AppriseSender",
    "Rendered",
    "channel_kind",
    "console",
    "one_line",
    "privacy_url",
    "render",
    "valid_apprise_url",
]
