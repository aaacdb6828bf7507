from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from printcloud.protocol.presence import ComputerState, PrinterState
from printcloud.server.db.models import Computer, Printer
from printcloud.server.schemas import ApiModel


class PrinterOut(ApiModel):
    id: str
    name: str
    computer_id: str
    state: str = Field(description=" | ".join(PrinterState))
    is_default: bool
    capabilities: dict[str, Any] = Field(
        description='What the agent reported, e.g. {"color": true, "duplex": true, '
        '"media": ["A4", "Letter"], "bins": ["Tray 1", "Manual"]}'
    )

    @field_validator("capabilities", mode="before")
    @classmethod
    def _none_reported(cls, value: object) -> object:
        return {} if value is None else value


class ComputerOut(ApiModel):
    id: str
    name: str
    os: str
    state: str = Field(description=" | ".join(ComputerState))
    client_version: str
    printers: list[PrinterOut]
    last_seen_at: datetime | None = Field(
        description="While the computer is online, the time of this answer (its socket is "
        "open and answers the server's pings); once offline, when it went offline"
    )
    created_at: datetime

    @classmethod
    def of(cls, computer: Computer, printers: list[Printer]) -> ComputerOut:
        return cls(
            id=computer.id,
            name=computer.name,
            os=computer.os,
            state=computer.state,
            client_version=computer.client_version,
            printers=[PrinterOut.model_validate(p) for p in printers],
            last_seen_at=computer.seen_at,
            created_at=computer.created_at,
        )
