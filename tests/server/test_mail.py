"""The SMTP setting: what a URL means, and a bad one refused without showing its password."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from printcloud.server.mail import Mail, Mailer, MailFailed, SmtpConfig
from printcloud.server.settings import Settings
from tests.helpers.smtp import smtp_server


def test_smtp_urls_name_tls_auth_and_ports() -> None:
    starttls = SmtpConfig.parse("smtp://me%40example.com:p%3Ass@mail.example.com:587?starttls=true")
    assert (starttls.host, starttls.port, starttls.starttls, starttls.implicit_tls) == (
        "mail.example.com",
        587,
        True,
        False,
    )
    assert (starttls.username, starttls.password) == ("me@example.com", "p:ss")
    assert "p:ss" not in repr(starttls)
    implicit = SmtpConfig.parse("smtps://u:p@mail.example.com?timeout=5")
    assert (implicit.port, implicit.implicit_tls, implicit.timeout) == (465, True, 5.0)
    plain = SmtpConfig.parse("smtp://relay.internal")
    assert (plain.port, plain.username, plain.starttls) == (25, None, False)


@pytest.mark.parametrize(
    "url",
    [
        "http://u:topsecret@mail.example.com",
        "smtp://u:topsecret@:25",
        "smtp://u:topsecret@mail.example.com?starttls=maybe",
        "smtps://u:topsecret@mail.example.com?starttls=true",
        "smtp://u:topsecret@mail.example.com:port",
    ],
)
def test_a_bad_smtp_url_stops_the_settings_without_showing_the_password(url: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(smtp_url=url)
    assert "smtp_url" in str(refused.value)
    assert "topsecret" not in str(refused.value)


def test_the_settings_never_show_the_smtp_password() -> None:
    settings = Settings(smtp_url="smtp://u:topsecret@mail.example.com:587?starttls=true")
    assert "topsecret" not in repr(settings)
    assert settings.smtp is not None
    assert settings.smtp.password == "topsecret"


async def test_an_unreachable_smtp_server_is_a_mail_failure() -> None:
    with smtp_server() as inbox:
        port = inbox.port
    # The server is stopped: nothing listens on its port any more.
    mailer = Mailer(SmtpConfig.parse(f"smtp://127.0.0.1:{port}"), "a@example.com")
    with pytest.raises(MailFailed) as failed:
        await mailer.send(Mail("b@example.com", "Hello", "Body"))
    assert failed.value.reason == "connection to the SMTP server refused"


async def test_a_message_arrives_with_its_headers() -> None:
    with smtp_server() as inbox:
        mailer = Mailer(SmtpConfig.parse(inbox.url()), "PrintCloud <print@example.com>")
        await mailer.send(Mail("b@example.com", "Hello ✓", "Body with שלום\n"))
        message = await inbox.next()
    assert message["Subject"] == "Hello ✓"
    assert message["To"] == "b@example.com"
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().rstrip() == "Body with שלום"  # SMTP ends lines with CRLF
