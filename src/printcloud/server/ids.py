"""Opaque public ids: a prefix that says what the object is, then random characters."""

from __future__ import annotations

import secrets
import string

from printcloud.server.errors import BadRequest

_ALPHABET = string.digits + string.ascii_lowercase


def new_id(prefix: str, length: int = 16) -> str:
    # One draw from the system's random source for the whole id, not one per character:
    # ids are made several times per print job.
    number = secrets.randbelow(len(_ALPHABET) ** length)
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return prefix + "".join(chars)


def account_id() -> str:
    return new_id("acc_")


def user_id() -> str:
    return new_id("usr_")


def key_id() -> str:
    return new_id("key_")


def computer_id() -> str:
    return new_id("cmp_")


def printer_id() -> str:
    return new_id("prn_")


def job_id() -> str:
    return new_id("pj_")


def webhook_id() -> str:
    return new_id("wh_")


def event_id() -> str:
    return new_id("evt_")


def message_id() -> str:
    return new_id("msg_", 24)


def split_ids(raw: str, *, limit: int = 100) -> list[str]:
    """``"a,b, c"`` → ``["a", "b", "c"]``: the comma-separated ids of a path, de-duplicated."""
    ids = list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not ids:
        raise BadRequest("ids: give one id or several separated by commas")
    if len(ids) > limit:
        raise BadRequest(f"ids: at most {limit} ids at once")
    return ids
