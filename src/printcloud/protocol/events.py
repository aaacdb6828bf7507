"""The events a webhook can subscribe to: the ``type`` of every webhook body."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    JOB_CREATED = "job.created"
    JOB_STATE = "job.state"
    COMPUTER_CONNECTED = "computer.connected"
    COMPUTER_DISCONNECTED = "computer.disconnected"
    PRINTER_STATE = "printer.state"


# A subscription to every event, present and future.
ALL_EVENTS = "all"
SUBSCRIBABLE = (ALL_EVENTS, *EventType)
# [ext] Sent to one webhook when its owner asks for a test ("Send a test event" in the
# dashboard): not an event anyone subscribes to, so not among the types above.
TEST_EVENT = "webhook.test"


def wants(subscribed: list[str] | tuple[str, ...], event: EventType) -> bool:
    """Whether a webhook subscribed to ``subscribed`` receives ``event``."""
    return event in subscribed or ALL_EVENTS in subscribed
