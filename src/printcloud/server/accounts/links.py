"""The single-use links of invitations and password resets: a random token in the link,
only its SHA-256 in the database (the token is 256 random bits, so a fast hash is
enough, as for API keys)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum


class Purpose(StrEnum):
    INVITE = "invite"
    RESET = "reset"


LIFETIME: dict[Purpose, timedelta] = {
    # Long enough for a colleague back from a week away.
    Purpose.INVITE: timedelta(days=7),
    # Short: a reset link in a mailbox is a key to the account.
    Purpose.RESET: timedelta(hours=1),
}
# Longer tokens than this are not ours: refused before any hashing or look-up.
MAX_TOKEN_LENGTH = 100


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return 20 <= len(token) <= MAX_TOKEN_LENGTH
