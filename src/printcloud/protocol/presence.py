"""Whether a computer, or a printer, can be reached now: the words of ``state`` in the
API, the webhooks and the agent's printer reports."""

from __future__ import annotations

from enum import StrEnum


class ComputerState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class PrinterState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
