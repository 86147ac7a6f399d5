"""Send one rendered alert to one Apprise URL and report how it went (docs/design.md §6).

The dispatcher owns retries, so this sender tries exactly once and never raises: every problem
comes back as a `SendOutcome` whose error is one line with no secret from the URL in it.

What Apprise (2.x) does that matters here:

- Retries: `NotifyBase.retry` comes from `?retry=N` in the URL, else
  `AppriseAsset.default_service_retry` (0). A URL may turn it on, so it is forced back to 0 on
  every service, and `optional` (which turns a failure into success) to False.
- Timeouts: HTTP plugins (Slack, Telegram, ...) use `?cto=` (connect, default 4 s) and `?rto=`
  (read, default 4 s); email has a single SMTP socket timeout of 15 s and no `rto`. A read that
  times out after the service accepted the message becomes a duplicate on our retry, so the
  read timeout is raised to 15 s unless the URL sets another `rto`. Apprise 2 also stops waiting
  for a service after `AppriseAsset.service_timeout` (60 s); left as is, far above these.
- Formats: a declared `body_format` is the *source* markup, which Apprise 2 converts to the
  service's dialect (CommonMark to Slack mrkdwn, HTML to Telegram's subset). Our Slack body is
  already mrkdwn, so it goes undeclared (passed through), and in Slack's block mode, because
  the legacy payload escapes `& < >` a second time. Email and Telegram HTML are declared.
- Pacing: Apprise sleeps between two sends of one service object (`request_rate_per_sec`,
  which is really seconds between requests: 5.5 s for email, 1.2 s for Slack, none for
  Telegram). Slack and Telegram are paced by the dispatcher instead, by their rate limits
  (monitor/notify/policy.py: 1/s, 20/min for a Telegram group), counted over every send to the
  channel, so Apprise's sleep is off for them; one second for every other service keeps a
  burst of emails from hammering a mail server without holding it for minutes.
- Status codes and Retry-After: Apprise reports a failed send only as `False` and a log line.
  The HTTP exchanges its plugins make through `requests` are observed for the duration of the
  send (`responses.observe_http`): the status, the Retry-After header, the service's error
  code or description. SMTP failures are read from Apprise's log (smtplib's exception text).
  `classify` turns either into a permanent or transient failure with one readable line.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import unquote

import apprise
from apprise.plugins.slack import NotifySlack
from apprise.plugins.telegram import NotifyTelegram

from monitor.model import SendOutcome

# Sending through Apprise goes through this module: `console://` is an Apprise URL from here on.
from monitor.notify import console  # noqa: F401
from monitor.notify.apprise_log import capture_apprise_log, failure_reason, hide_in_log
from monitor.notify.channels import channel_kind
from monitor.notify.classify import Failure, failure_of_exchanges, failure_of_log
from monitor.notify.email import adopt, email_parts
from monitor.notify.render import Rendered
from monitor.notify.responses import observe_http

_READ_TIMEOUT_SECONDS = 15.0
_SECONDS_BETWEEN_SENDS = 1.0
_MAX_ERROR_CHARS = 300

# What separates the parts of a URL that may hold a secret (user, password, token, path item).
_URL_SEPARATORS = re.compile(r"[/:@?&=#,;+\s]+")
# Shorter parts are not scrubbed: replacing every "ab" in a message would make it unreadable.
_MIN_SECRET_CHARS = 3


class AppriseSender:
    """One Apprise object per channel URL, built on first use and kept (thread-safe)."""

    def __init__(self) -> None:
        self._asset = apprise.AppriseAsset(app_id="monitor", app_desc="monitor alerts")
        self._by_url: dict[str, apprise.Apprise] = {}
        self._lock = threading.Lock()

    def send(self, url: str, rendered: Rendered) -> SendOutcome:
        try:
            return self._send(url, rendered)
        except Exception as error:  # the contract is "never raises"; keep the loop alive
            reason = f"unexpected {type(error).__name__}: {error}"
            # Measured against the bare scheme, every part of the URL counts as secret.
            return SendOutcome(ok=False, error=_scrubbed(reason, url, _scheme_only(url)))

    def privacy_url(self, url: str) -> str:
        """See `privacy_url`."""
        return privacy_url(url)

    def _send(self, url: str, rendered: Rendered) -> SendOutcome:
        client = self._client(url)
        if client is None:  # the configuration must change before any send can work
            return SendOutcome(
                ok=False, error=f"invalid Apprise URL {self.privacy_url(url)}", permanent=True
            )
        declared = None if channel_kind(url) == "slack" else rendered.body_format
        with (
            capture_apprise_log() as records,
            observe_http() as exchanges,
            email_parts(rendered),
        ):
            delivered = client.notify(
                body=rendered.body, title=rendered.title, body_format=declared
            )
        if delivered:
            return SendOutcome(ok=True)
        failure = (
            failure_of_exchanges(exchanges)
            or failure_of_log(records, _server_host(client[0]))
            or Failure(failure_reason(records), permanent=False)
        )
        return SendOutcome(
            ok=False,
            error=_scrubbed(failure.reason, url, _masked(url)),
            retry_after=failure.retry_after,
            permanent=failure.permanent,
            refused_message=failure.refused_message,
        )

    def _client(self, url: str) -> apprise.Apprise | None:
        with self._lock:
            client = self._by_url.get(url)
            if client is None:
                service = _instantiate(url, self._asset)
                if service is None:
                    return None
                _prepare(service)
                client = apprise.Apprise(asset=self._asset)
                client.add(service)
                self._by_url[url] = client
            return client


def privacy_url(url: str) -> str:
    """`url` as people may see it: Apprise's privacy form (secrets masked) without its query,
    where Apprise writes its own settings back (retry, rto, overflow ...); `scheme://…` when
    Apprise cannot read it."""
    return _masked(url).split("?", 1)[0]


def _masked(url: str) -> str:
    """Apprise's privacy form of `url`, query included: what tells a URL's public parts from
    its secrets."""
    return _privacy_form(_instantiate(url, apprise.AppriseAsset()), url)


def _privacy_form(service: apprise.NotifyBase | None, url: str) -> str:
    if service is not None:
        try:
            return str(service.url(privacy=True))  # type: ignore[no-untyped-call]
        except Exception:  # noqa: S110 - a plugin failing to print itself: fall back
            pass
    return _scheme_only(url)


def valid_apprise_url(url: str) -> bool:
    """Whether Apprise can build a notification service from `url` (for configuration checks)."""
    return _instantiate(url, apprise.AppriseAsset()) is not None


def _instantiate(url: str, asset: apprise.AppriseAsset) -> apprise.NotifyBase | None:
    if not url.strip():
        return None
    hide_in_log(url)  # every URL reaches Apprise through here: its log lines may repeat it
    try:
        return apprise.Apprise.instantiate(url, asset=asset)
    except Exception:  # instantiate suppresses plugin errors; this guards anything else
        return None


def _prepare(service: apprise.NotifyBase) -> None:
    """Make one try mean one try, with a read timeout that rarely cuts off an accepted send."""
    adopt(service)  # email: our text/plain part, Auto-Submitted, a From name (notify.email)
    service.retry = 0
    service.optional = False
    paced_by_dispatcher = isinstance(service, NotifySlack | NotifyTelegram)
    service.request_rate_per_sec = 0.0 if paced_by_dispatcher else _SECONDS_BETWEEN_SENDS
    if service.socket_read_timeout == type(service).socket_read_timeout:  # no ?rto= in the URL
        service.socket_read_timeout = max(service.socket_read_timeout, _READ_TIMEOUT_SECONDS)
    if isinstance(service, NotifySlack):
        service.use_blocks = True


def _server_host(service: apprise.NotifyBase) -> str:
    """The server a service talks to, to name it in a reason: the SMTP server for email."""
    for attribute in ("smtp_host", "host"):
        value = getattr(service, attribute, None)
        if isinstance(value, str) and value:
            return value
    return str(service.service_name or "the service")


def _scheme_only(url: str) -> str:
    scheme, separator, _ = url.strip().partition("://")
    if separator and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return f"{scheme}://…"
    return "…"


def _scrubbed(text: str, url: str, privacy: str) -> str:
    """`text` as one line with every part of `url` that the privacy form hides replaced by
    ****: passwords, tokens and keys, whatever the plugin (and their %-decoded forms)."""
    public = _url_parts(privacy)
    secrets = {part for part in _url_parts(url) if part not in public}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "****")
    line = " ".join(text.split())
    return line if len(line) <= _MAX_ERROR_CHARS else line[: _MAX_ERROR_CHARS - 1] + "…"


def _url_parts(url: str) -> set[str]:
    body = url.partition("://")[2] or url
    parts = set(_URL_SEPARATORS.split(body)) | set(_URL_SEPARATORS.split(unquote(body)))
    return {part for part in parts if len(part) >= _MIN_SECRET_CHARS}
