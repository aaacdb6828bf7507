"""Sending e-mail: invitations and password resets, over SMTP.

The standard library's ``smtplib``, run in a worker thread: a handful of messages an
hour needs no asyncio SMTP client in the server's install, and smtplib speaks
STARTTLS, implicit TLS (smtps) and AUTH as every mail provider expects. Each send
opens its own connection, bounded by a timeout, so a slow relay holds one thread, never
the event loop. The password is kept out of every repr and log line.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

import anyio.to_thread
import structlog

log = structlog.get_logger(__name__)

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class MailFailed(Exception):
    """The message was not accepted by the SMTP server; ``reason`` says why in a line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SmtpConfig:
    """Where mail goes: ``smtp://user:pass@host:587?starttls=true`` or ``smtps://...``."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 20.0

    @classmethod
    def parse(cls, url: str) -> SmtpConfig:
        """The configuration in ``url``; ValueError (never naming the password) if bad."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS:
            raise ValueError("the SMTP URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("the SMTP URL names no host")
        try:
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
        except ValueError as exc:
            raise ValueError("the SMTP URL's port is not a number") from exc
        query = {k: v[-1].strip().lower() for k, v in parse_qs(parts.query).items()}
        starttls = query.get("starttls", "false")
        if starttls not in _TRUE | _FALSE:
            raise ValueError("starttls= in the SMTP URL must be true or false")
        timeout = query.get("timeout", "20")
        try:
            seconds = float(timeout)
        except ValueError as exc:
            raise ValueError("timeout= in the SMTP URL must be a number of seconds") from exc
        implicit = parts.scheme == "smtps"
        if implicit and starttls in _TRUE:
            raise ValueError("smtps:// is TLS from the start: starttls=true does not apply")
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=implicit,
            starttls=starttls in _TRUE,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=seconds if seconds > 0 else 20.0,
        )


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


class Mailer:
    """Sends :class:`Mail` through the configured SMTP server, or says it has none."""

    def __init__(self, config: SmtpConfig | None, sender: str) -> None:
        self.config = config
        self.sender = sender

    @property
    def configured(self) -> bool:
        return self.config is not None

    async def send(self, mail: Mail) -> None:
        """Hand ``mail`` to the SMTP server; MailFailed (logged) when it is not taken."""
        config = self.config
        if config is None:
            raise MailFailed("no SMTP server is configured (PRINTCLOUD_SMTP_URL)")
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> "))
        message.set_content(mail.body)
        where = {"smtp_host": config.host, "smtp_port": config.port}
        try:
            await anyio.to_thread.run_sync(_deliver, config, message)
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            failure = MailFailed(_reason(exc))
        else:
            log.info("mail_sent", subject=mail.subject, **where)
            return
        # One line, no traceback: the reason says it, and nothing here names the password.
        log.error("mail_failed", reason=failure.reason, subject=mail.subject, **where)
        raise failure


def _deliver(config: SmtpConfig, message: EmailMessage) -> None:
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if config.implicit_tls:
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    with smtp:
        if config.starttls:
            smtp.starttls(context=context)
        if config.username:
            smtp.login(config.username, config.password or "")
        smtp.send_message(message)


def _reason(exc: BaseException) -> str:
    """One line about the failure; the server's own words when it answered."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"the SMTP server refused the user name or password ({exc.smtp_code})"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "the SMTP server refused the recipient"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return f"the SMTP server answered {exc.smtp_code} {text}".strip()
    if isinstance(exc, ConnectionRefusedError):
        return "connection to the SMTP server refused"
    if isinstance(exc, TimeoutError):
        return "the SMTP server did not answer in time"
    return f"{type(exc).__name__}: {exc}"
