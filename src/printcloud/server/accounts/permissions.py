"""What each API key permission may do, as one table."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    FULL = "full"
    PRINT_ONLY = "print_only"
    READ_ONLY = "read_only"


class Action(StrEnum):
    READ = "read"  # every GET
    PRINT = "print"  # POST /api/printjobs
    MANAGE = "manage"  # everything else: deleting, keys, webhooks


ALLOWED: dict[Permission, frozenset[Action]] = {
    Permission.FULL: frozenset(Action),
    Permission.PRINT_ONLY: frozenset({Action.READ, Action.PRINT}),
    Permission.READ_ONLY: frozenset({Action.READ}),
}


def allows(permission: Permission, action: Action) -> bool:
    return action in ALLOWED[permission]
