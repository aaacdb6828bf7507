"""The one small interface every printing backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from printcloud.protocol.messages import PrinterInfo
from printcloud.protocol.options import PrintOptions


@dataclass(frozen=True)
class Document:
    """A job's document, fetched or decoded and checked, ready for a printer."""

    job_id: str
    title: str
    data: bytes
    is_pdf: bool  # False: raw data (ZPL, EPL, ESC/POS...) that goes to the printer as it is
    options: PrintOptions = field(default_factory=PrintOptions)
    copies_of_job: int = 1  # the job's qty: print the whole job this many times

    @property
    def copies(self) -> int:
        """How many times the document comes out in all: its copies, qty times."""
        return self.options.total_copies(self.copies_of_job)


class PrintFailed(Exception):
    """Printing did not succeed; the message is the reason reported to the server."""


class Backend(Protocol):
    """A kind of printer: CUPS queues, raw sockets, folders, the Windows spooler."""

    name: str

    async def printers(self) -> list[PrinterInfo]:
        """The printers this backend offers now, with their capabilities."""

    async def print(self, printer: str, document: Document) -> str:
        """Print ``document`` on ``printer`` and follow it to its end.

        Returns a message for the ``completed`` report; raises PrintFailed with the
        reason otherwise. Called only with a printer name this backend listed.
        """

    async def cancel(self, printer: str, job_id: str) -> bool:
        """Stop printing the document of job ``job_id`` (``Document.job_id``) that
        ``print`` is printing on ``printer``, as far as it can: the job was deleted.

        Best effort: True when the backend stopped it (``print`` then raises
        PrintFailed, or returns if it had finished anyway), False when it cannot
        (the data is written already) or is not printing that job.
        """

    async def close(self) -> None: ...
