"""Alerts out: render one message per channel kind, send it through Apprise, report the outcome.
Other packages use these names; the modules behind them are private.

Rendering is pure and imported with the package (`render`, the function, must replace the
attribute the import of its subpackage sets). Sending is imported on first use: Apprise is slow
to import, and the command line's `one_line` must not wait for it. Sending registers the
`console://` Apprise URL (see `console`)."""

from typing import TYPE_CHECKING

from monitor.exports import lazy_exports
from monitor.notify.channels import channel_kind
from monitor.notify.render import Rendered, one_line, render

if TYPE_CHECKING:
    from monitor.notify.send import AppriseSender, privacy_url, valid_apprise_url

__all__ = [
    "AppriseSender",
    "Rendered",
    "channel_kind",
    "one_line",
    "privacy_url",
    "render",
    "valid_apprise_url",
]

__getattr__ = lazy_exports(
    __name__, {"send": ["AppriseSender", "privacy_url", "valid_apprise_url"]}
)
