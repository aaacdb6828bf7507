"""What each user of an account may do, as one table: the dashboard's pages and the
key a client login issues follow from it."""

from __future__ import annotations

from enum import StrEnum

from printcloud.server.accounts.permissions import Permission


class Role(StrEnum):
    OWNER = "owner"  # prints and sees; manages API keys, webhooks and users
    MEMBER = "member"  # prints and sees: computers, printers, jobs, test pages


# The permission of the key ``POST /api/client/login`` issues to each role. A member's
# key prints and reads, as the member does in the dashboard, and manages no key or
# webhook. The agent needs a full key to connect a computer, so an owner connects them.
LOGIN_KEY_PERMISSION: dict[Role, Permission] = {
    Role.OWNER: Permission.FULL,
    Role.MEMBER: Permission.PRINT_ONLY,
}


def manages(role: str) -> bool:
    """Whether ``role`` may manage the account: its keys, webhooks and users."""
    return role == Role.OWNER
