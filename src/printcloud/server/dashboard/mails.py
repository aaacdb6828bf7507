"""The e-mails the dashboard sends, in the language of the page that sent them, and the
address their links point at."""

from __future__ import annotations

from starlette.requests import Request

from printcloud.server.accounts.links import LIFETIME, Purpose
from printcloud.server.dashboard.i18n import Translator
from printcloud.server.install import server_url
from printcloud.server.mail import Mail
from printcloud.server.settings import Settings


def link(request: Request, settings: Settings, path: str) -> str:
    """An absolute link to ``path``: on PRINTCLOUD_PUBLIC_URL when set, else on the
    address the request came to."""
    return (settings.public_url or server_url(request)) + path


def invite(t: Translator, to: str, url: str, inviter: str) -> Mail:
    days = LIFETIME[Purpose.INVITE].days
    return Mail(
        to, t("mail.invite.subject"), t("mail.invite.body", inviter=inviter, url=url, days=days)
    )


def reset(t: Translator, to: str, url: str) -> Mail:
    minutes = int(LIFETIME[Purpose.RESET].total_seconds() // 60)
    return Mail(to, t("mail.reset.subject"), t("mail.reset.body", url=url, minutes=minutes))
