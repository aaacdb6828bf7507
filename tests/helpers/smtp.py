"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for the
invitation and password-reset e-mails."""

from __future__ import annotations

import contextlib
import queue
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import anyio.to_thread
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "mailer"
PASSWORD = "smtp-secret-4f9a"
_LINK = re.compile(r"https?://\S+/(?:invite|password/reset)/[A-Za-z0-9_-]+")


@dataclass
class Inbox:
    """What the server received, in order; ``next()`` waits for the next message."""

    host: str
    port: int
    received: queue.Queue[EmailMessage] = field(default_factory=queue.Queue)

    def url(self, password: str = PASSWORD) -> str:
        return f"smtp://{USER}:{password}@{self.host}:{self.port}"

    async def next(self, timeout: float = 30) -> EmailMessage:
        # A blocking wait in a thread: the message arrives on the server's own thread.
        return await anyio.to_thread.run_sync(lambda: self.received.get(timeout=timeout))

    def empty(self) -> bool:
        return self.received.empty()


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.inbox.received.put(message)
        return "250 Message accepted for delivery"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd answers the failure (535) itself.
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def smtp_server() -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1 that checks ``USER``/``PASSWORD`` when a client logs
    in and keeps every message."""
    inbox = Inbox("127.0.0.1", _free_port())
    controller = Controller(
        _Handler(inbox),
        hostname=inbox.host,
        port=inbox.port,
        authenticator=_authenticate,
        # AUTH offered without TLS, as on loopback; not required (aiosmtpd warns about
        # requiring it without TLS), yet a wrong password is refused all the same.
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def link_in(message: EmailMessage) -> str:
    """The single-use link in an invitation or reset e-mail."""
    body = message.get_body(("plain",))
    assert body is not None
    match = _LINK.search(body.get_content())
    assert match, body.get_content()
    return match.group(0)
