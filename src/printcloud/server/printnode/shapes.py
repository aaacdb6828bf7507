"""Our objects in PrintNode's JSON shapes (its API reference; its Python client reads
them field by field). What we do not have gets PrintNode's neutral value: null, an
empty list, false."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from printcloud.protocol.job_states import JobState
from printcloud.protocol.options import MAX_COPIES
from printcloud.protocol.presence import ComputerState
from printcloud.server.db.models import JobStateEvent, PrintJob, User
from printcloud.server.printnode.repository import NumberedComputer, NumberedPrinter

# Our job states in PrintNode's words. PrintNode's ``queued`` (waiting in the
# computer's spooler) and ``deleted`` have no state of ours: a deleted job is gone.
STATE_NAMES: dict[JobState, str] = {
    JobState.PENDING: "new",
    JobState.SENT: "sent_to_client",
    JobState.PRINTING: "in_progress",
    JobState.COMPLETED: "done",
    JobState.ERROR: "error",
    JobState.EXPIRED: "expired",
}
COMPUTER_STATES = {ComputerState.ONLINE: "connected", ComputerState.OFFLINE: "disconnected"}
# A PWG self-describing media name ends with its size: iso_a4_210x297mm, na_letter_8.5x11in.
_PWG_SIZE = re.compile(r"_(\d+(?:\.\d+)?)x(\d+(?:\.\d+)?)(mm|in)$")


def timestamp(at: datetime | None) -> str | None:
    """PrintNode's ``2015-11-17T13:02:37.224Z``."""
    if at is None:
        return None
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def paper_size(name: str) -> list[int | None]:
    """PrintNode's ``[width, height]`` in tenths of a millimetre, when the name says it."""
    match = _PWG_SIZE.search(name)
    if match is None:
        return [None, None]
    tenths_per_unit = 10 if match.group(3) == "mm" else 254
    return [round(float(match.group(i)) * tenths_per_unit) for i in (1, 2)]


def capabilities(reported: dict[str, Any] | None) -> dict[str, Any]:
    reported = reported or {}
    papers = [p for p in reported.get("media", []) if isinstance(p, str)]
    return {
        "bins": [b for b in reported.get("bins", []) if isinstance(b, str)],
        "collate": False,
        "copies": MAX_COPIES,
        "color": reported.get("color") is True,
        "dpis": [],
        "duplex": reported.get("duplex") is True,
        "extent": [],
        "medias": [],
        "nup": [],
        "papers": {name: paper_size(name) for name in papers},
        "printrate": None,
        "supports_custom_paper_size": False,
    }


def computer(numbered: NumberedComputer) -> dict[str, Any]:
    c = numbered.computer
    return {
        "id": numbered.number,
        "name": c.name,
        "inet": None,
        "inet6": None,
        "hostname": None,
        "version": c.client_version or None,
        "jre": None,
        "createTimestamp": timestamp(c.created_at),
        "state": COMPUTER_STATES.get(ComputerState(c.state), "disconnected"),
    }


def printer(numbered: NumberedPrinter) -> dict[str, Any]:
    p = numbered.printer
    return {
        "id": numbered.number,
        "computer": computer(numbered.computer),
        "name": p.name,
        "description": p.name,
        "capabilities": capabilities(p.capabilities),
        "default": p.is_default,
        "createTimestamp": timestamp(p.created_at),
        "state": p.state,
    }


def removed_printer(name: str) -> dict[str, Any]:
    """The printer of a job whose printer (or computer) was removed since: its name is
    all the job kept."""
    return {
        "id": None,
        "computer": {
            "id": None,
            "name": None,
            "inet": None,
            "inet6": None,
            "hostname": None,
            "version": None,
            "jre": None,
            "createTimestamp": None,
            "state": "disconnected",
        },
        "name": name,
        "description": name,
        "capabilities": None,
        "default": False,
        "createTimestamp": None,
        "state": "deleted",
    }


def printjob(job: PrintJob, its_printer: NumberedPrinter | None, source: str) -> dict[str, Any]:
    return {
        "id": job.seq,
        "printer": printer(its_printer) if its_printer else removed_printer(job.printer_name),
        "title": job.title,
        "contentType": job.content_type,
        "source": source,
        "expireAt": timestamp(job.expires_at),
        "createTimestamp": timestamp(job.created_at),
        "state": STATE_NAMES[JobState(job.state)],
    }


def state(job: PrintJob, event: JobStateEvent, client_version: str | None) -> dict[str, Any]:
    return {
        "printJobId": job.seq,
        "state": STATE_NAMES[JobState(event.state)],
        "message": event.message,
        "data": None,
        # Who reported it: the server made the job new (and expired it); the client the rest.
        "clientVersion": None
        if event.state in (JobState.PENDING, JobState.EXPIRED)
        else client_version,
        "createTimestamp": timestamp(event.created_at),
        # PrintNode: milliseconds since the job was made.
        "age": int((event.created_at - job.created_at).total_seconds() * 1000),
    }


def account(
    number: int,
    user: User | None,
    *,
    computers: int,
    prints: int,
    connected: list[int],
) -> dict[str, Any]:
    return {
        "id": number,
        "firstname": user.first_name if user else "",
        "lastname": user.last_name if user else "",
        "email": user.email if user else "",
        "canCreateSubAccounts": False,
        "creatorEmail": None,
        "creatorRef": None,
        "childAccounts": [],
        "credits": None,
        "numComputers": computers,
        "totalPrints": prints,
        "versions": [],
        "connected": connected,
        "Tags": {},
        "ApiKeys": [],
        "state": "active",
        "permissions": ["Unrestricted"],
    }
