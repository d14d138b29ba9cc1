"""E-mail over SMTP: multipart text + HTML, RFC 2047 headers, Message-ID from the outbox key."""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any, Literal

from pydantic import SecretStr

from planflow.config.settings import Settings
from planflow.models.time import utcnow
from planflow.notifications.channels.base import Outgoing
from planflow.notifications.errors import (
    ChannelConfigError,
    PermanentSendError,
    TransientSendError,
    register_secret,
)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to reach the SMTP relay; the password never shows in a repr."""

    host: str
    port: int
    sender: str
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings:
        """The SMTP part of the settings; a missing required setting is a one-line error."""
        for name in ("smtp_host", "smtp_sender"):
            if not getattr(settings, name):
                raise ChannelConfigError(f"channel 'email' needs PLANFLOW_{name.upper()}")
        if settings.smtp_username and settings.smtp_password is None:
            raise ChannelConfigError("channel 'email' needs PLANFLOW_SMTP_PASSWORD (login is set)")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_sender,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
        )


def message_id(message: Outgoing, sender: str) -> str:
    """``<digest-of-key@sender-domain>``: the same outbox row always gets the same Message-ID."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "planflow.invalid"
    return f"<{message.digest}@{domain}>"


def _utf8() -> Any:
    """UTF-8 in quoted-printable (typeshed wants a charset name; the classes take a Charset)."""
    charset = Charset("utf-8")
    charset.body_encoding = QP  # quoted-printable: safe through relays without 8BITMIME
    return charset


def _address(value: str) -> str:
    name, addr = parseaddr(value)
    return formataddr((name, addr), charset="utf-8") if name else addr


def build_email(message: Outgoing, *, sender: str, to: str | None = None) -> Message:
    """The MIME message for an outbox row: text/plain, plus text/html when the row has one.

    Built with the compat32 classes on purpose: Python 3.11's default policy drops the space
    at a fold between RFC 2047 encoded words, which corrupts long Vietnamese subjects.
    """
    text = MIMEText(message.body_text, "plain", _utf8())
    if message.body_html:
        mail: Message = MIMEMultipart("alternative")
        mail.attach(text)
        mail.attach(MIMEText(message.body_html, "html", _utf8()))
    else:
        mail = text
    # compat32 Message takes a Header for a value (typeshed says str)
    mail["Subject"] = Header(  # type: ignore[assignment]
        message.subject, "utf-8", header_name="Subject"
    )
    mail["From"] = _address(sender)
    mail["To"] = _address(to or message.address)
    mail["Date"] = format_datetime(utcnow())
    mail["Message-ID"] = message_id(message, sender)
    mail["X-Planflow-Key"] = message.key
    return mail


def _by_code(code: int, what: str) -> Exception:
    return (PermanentSendError if code >= 500 else TransientSendError)(f"{what} (SMTP {code})")


class SmtpChannel:
    """Sends each message over its own SMTP connection (none, STARTTLS or implicit TLS)."""

    name = "email"

    def __init__(self, config: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None):
        self.config = config
        self._ssl_context = ssl_context
        # EHLO name, looked up once: socket.getfqdn() on every connection costs ~0.3 s here
        self._local_hostname = socket.getfqdn()
        if config.password is not None:
            register_secret(config.password.get_secret_value())

    def __repr__(self) -> str:
        return f"SmtpChannel({self.config.host}:{self.config.port}, {self.config.security})"

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                c.host, c.port, timeout=c.timeout, context=self._context(),
                local_hostname=self._local_hostname,
            )
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout,
                                local_hostname=self._local_hostname)
        try:
            if c.security == "starttls":
                smtp.starttls(context=self._context())
            if c.username:
                assert c.password is not None  # checked in from_settings
                smtp.login(c.username, c.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: Outgoing) -> str:
        """Deliver one e-mail; the provider id is its Message-ID."""
        mail = build_email(message, sender=self.config.sender)
        try:
            with self._connect() as smtp:
                smtp.send_message(
                    mail, from_addr=parseaddr(self.config.sender)[1], to_addrs=[message.address]
                )
        except smtplib.SMTPRecipientsRefused as exc:
            code = min((c for c, _ in exc.recipients.values()), default=550)
            raise _by_code(code, "recipient refused") from None
        except smtplib.SMTPAuthenticationError as exc:
            # our credentials, not this message: retry, so that fixing them recovers the queue
            raise TransientSendError(f"SMTP login refused (SMTP {exc.smtp_code})") from None
        except smtplib.SMTPSenderRefused as exc:
            raise TransientSendError(f"sender refused (SMTP {exc.smtp_code})") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, "message refused") from None
        except smtplib.SMTPNotSupportedError:
            raise TransientSendError("SMTP server lacks a required extension (STARTTLS?)") from None
        except (smtplib.SMTPException, OSError) as exc:  # timeouts, refused connections, TLS
            raise TransientSendError(f"SMTP unreachable: {type(exc).__name__}") from None
        return mail["Message-ID"]
