"""The email of one message: our own text/plain part beside the HTML one, `Auto-Submitted:
auto-generated` and a `From:` display name, with Apprise still the transport.

Apprise 2.3's email plugin (`apprise/plugins/email/base.py`) builds its MIME message in
`NotifyEmail.prepare_emails`, called by class name from `send`, and writes the text/plain part
by converting the HTML (`convert_between`); it offers no hook for another text part, and
`Apprise.notify` passes no extra argument down to a plugin. Its hooks cover headers only
(`+Header=value` in the URL, `_protocol_headers`). So `MonitorEmail`, a subclass, overrides
`send` alone: the same SMTP controller (connection, TLS, login), the same settings read from
the URL (from, to, cc, bcc, reply-to, names, port, security), the same log lines (which
`notify.send` reads to classify a failure), and a MIME message built here with the standard
library's `email` package, whose header encoding folds long subjects correctly and refuses a
line break inside a header value.

The text part travels beside the call in a context variable (`email_parts`): Apprise runs a
service in a worker thread with a copy of the caller's context, so concurrent sends stay apart
(as `apprise_log` relies on too). Without one (a plain Apprise call), with attachments or PGP
(which this module does not sign or encrypt), Apprise's own `send` runs unchanged.
"""

from __future__ import annotations

import email.policy
import smtplib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, make_msgid
from typing import Any

from apprise import NotifyBase, NotifyType
from apprise.exception import AppriseImproperlyConfigured
from apprise.plugins.email import AppriseEmailException, NotifyEmail
from apprise.plugins.email.base import PGP_MODE_DEFAULT
from apprise.plugins.email.smtp import AppriseSMTPController

from monitor.notify.render import Rendered, one_line

DISPLAY_NAME = "monitor"
# RFC 3834 §5: no vacation responder or out-of-office robot should answer an alert.
AUTO_SUBMITTED = "auto-generated"

# Headers this module writes itself: a `+Header=` of the URL cannot add a second one.
_OWN_HEADERS = frozenset(
    {
        "subject",
        "from",
        "to",
        "cc",
        "bcc",
        "reply-to",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)

_text_part_of_this_send: ContextVar[str | None] = ContextVar(
    "monitor_email_text_part", default=None
)


@contextmanager
def email_parts(rendered: Rendered) -> Iterator[None]:
    """While open, a `MonitorEmail` send made from this context writes `rendered.text_body`
    as its text/plain part (nothing changes for a message without one)."""
    token = _text_part_of_this_send.set(rendered.text_body)
    try:
        yield
    finally:
        _text_part_of_this_send.reset(token)


def adopt(service: NotifyBase) -> None:
    """Make an Apprise email service (mailto://, mailtos://) write our MIME message. Its class
    becomes `MonitorEmail`, which adds behaviour and no state, so every setting Apprise read
    from the URL stays as it is; other services are left alone."""
    if type(service) is NotifyEmail:
        service.__class__ = MonitorEmail


def build_email(
    *,
    subject: str,
    html: str,
    text: str,
    sender: tuple[str, str],
    recipient: tuple[str | None, str],
    cc: Iterable[tuple[str | None, str]] = (),
    reply_to: Iterable[tuple[str | None, str]] = (),
    headers: dict[str, str] | None = None,
    date: datetime,
    message_id_domain: str,
) -> EmailMessage:
    """One message, multipart/alternative: `text` (text/plain) then `html` (text/html), both
    UTF-8 in quoted-printable, so the whole message is ASCII. Header values are made one line
    (`one_line`: a feed's line break must not fold a header into a new one, nor a bidi control
    reorder a subject) with their whitespace collapsed. `headers` are extra ones (from the
    URL); `Auto-Submitted` is added unless they set it."""
    message = EmailMessage(policy=email.policy.SMTP)
    message["Subject"] = _header_value(subject)
    message["From"] = _address(sender)
    message["To"] = _address(recipient)
    cc = list(cc)
    if cc:
        message["Cc"] = [_address(entry) for entry in cc]
    reply_to = list(reply_to)
    if reply_to:
        message["Reply-To"] = [_address(entry) for entry in reply_to]
    message["Date"] = format_datetime(date)
    message["Message-ID"] = make_msgid(domain=message_id_domain)
    extra = {name: value for name, value in (headers or {}).items() if name.strip()}
    if not any(name.lower() == "auto-submitted" for name in extra):
        message["Auto-Submitted"] = AUTO_SUBMITTED
    for name, value in extra.items():
        if name.lower() not in _OWN_HEADERS:
            message[_header_value(name)] = _header_value(str(value))
    message["MIME-Version"] = "1.0"
    message.make_alternative()
    for content, subtype in ((text, "plain"), (html, "html")):
        # A MIMEPart, not an EmailMessage: a part carries no MIME-Version header of its own.
        part = MIMEPart(policy=email.policy.SMTP)
        part.set_content(content, subtype=subtype, charset="utf-8", cte="quoted-printable")
        message.attach(part)  # type: ignore[arg-type]  # typeshed wants an EmailMessage
    return message


class MonitorEmail(NotifyEmail):  # type: ignore[no-untyped-call]  # Apprise: few type hints
    """Apprise's email service, writing the MIME message of `build_email` when the send
    carries a text part (see the module's docstring)."""

    def send(
        self,
        body: str,
        title: str = "",
        notify_type: Any = NotifyType.INFO,
        attach: Any = None,
        body_format: Any = None,
        **kwargs: Any,
    ) -> bool:
        text = _text_part_of_this_send.get()
        if text is None or attach or self.pgp_mode != PGP_MODE_DEFAULT:
            return bool(
                super().send(  # type: ignore[no-untyped-call]
                    body,
                    title=title,
                    notify_type=notify_type,
                    attach=attach,
                    body_format=body_format,
                    **kwargs,
                )
            )
        if not self.targets:
            self.logger.warning("There are no Email recipients to notify")
            return False
        self.throttle()  # type: ignore[no-untyped-call]
        from_addr = str(self.from_addr[1])
        has_error = False
        try:
            with self._smtp() as smtp:
                for to_name, to_addr in self.targets:
                    if self.is_delivered(to_addr):
                        continue
                    cc = sorted(self.cc - self.bcc - {to_addr})
                    bcc = sorted(self.bcc - {to_addr})
                    message = build_email(
                        subject=title,
                        html=body,
                        text=text,
                        sender=(self._display_name(), from_addr),
                        recipient=(_name(to_name), to_addr),
                        cc=[(_name(self.names.get(addr)), addr) for addr in cc],
                        reply_to=[
                            (_name(self.names.get(addr)), addr)
                            for addr in sorted(self.reply_to - {to_addr})
                        ],
                        headers={"X-Application": self.app_id, **self.headers},
                        date=datetime.now(tz=self.tzinfo).astimezone(self.tzinfo),
                        message_id_domain=self.smtp_host or from_addr.split("@")[-1],
                    )
                    if smtp.sendmail(from_addr, [to_addr, *cc, *bcc], message.as_string()):
                        self.logger.info("Sent Email to %s", to_addr)
                        self.mark_delivered(to_addr)
                    else:
                        self.logger.warning('Sending email to "%s" failed.', to_addr)
                        has_error = True
        except (OSError, smtplib.SMTPException, RuntimeError, AppriseImproperlyConfigured) as error:
            # The same two lines as Apprise's own send: `notify.send` reads them.
            self.logger.warning('Connection error while submitting email to "%s"', self.smtp_host)
            self.logger.debug(f"Socket Exception: {error}")
            has_error = True
        except (AppriseEmailException, ValueError) as error:  # a message that cannot be built
            self.logger.warning(f"Could not prepare the email: {error}")
            has_error = True
        return not has_error

    def _smtp(self) -> AppriseSMTPController:
        """Apprise's SMTP connection (TLS, login), with the settings it read from the URL."""
        settings: dict[str, Any] = {
            "host": self.smtp_host,
            "port": self.port,
            "secure_mode": self.secure_mode,
            "user": self.user,
            "password": self.password,
            "verify_certificate": self.verify_certificate,
            "socket_connect_timeout": self.socket_connect_timeout,
        }
        return AppriseSMTPController(**settings)

    def _display_name(self) -> str:
        """The URL's own name (`from=Name <addr>`, `name=`), else "monitor"."""
        name = _name(self.from_addr[0])
        return name if name and name != self.app_id else DISPLAY_NAME


def _name(value: object) -> str | None:
    """A display name as Apprise keeps it (False or "" for none), decoded: a `name=` given
    beside `from=` is kept as `formataddr` wrote it, in RFC 2047 encoded words, which
    `_header_value` would otherwise pass unread into an `Address` that encodes it again."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeError):  # an unknown charset, bad bytes
        return value


def _address(entry: tuple[str | None, str]) -> Address:
    name, addr = entry
    return Address(display_name=_header_value(name or ""), addr_spec=addr)


def _header_value(value: str) -> str:
    """One line (no break may fold a header into a new one, no character may reorder what a
    reader sees), its spaces collapsed: a header keeps no run of spaces anyway."""
    return " ".join(one_line(value).split())
