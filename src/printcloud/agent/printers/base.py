"""The one small interface every printing backend implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from printcloud.protocol.messages import PrinterInfo
from printcloud.protocol.options import PrintOptions


class JobProgress(Protocol):
    """What a backend tells the agent about a document while it prints it."""

    async def news(self, message: str) -> None:
        """Still printing, with something new to say: the printer is paused, out of
        paper, CUPS is not answering... (a ``printing`` report with this message)."""

    def accepted(self, printer: str, printer_job: int, of: int) -> None:
        """The printing system took the document (or one of the ``of`` runs it takes) as
        its job ``printer_job``: from now on it may print even if the agent dies, so the
        agent records where to find it."""


class _Silent:
    async def news(self, message: str) -> None:
        return None

    def accepted(self, printer: str, printer_job: int, of: int) -> None:
        return None


SILENT: JobProgress = _Silent()  # a document nobody listens to (tests, other backends)


@dataclass(frozen=True)
class Document:
    """A job's document, fetched or decoded and checked, ready for a printer."""

    job_id: str
    title: str
    data: bytes
    is_pdf: bool  # False: raw data (ZPL, EPL, ESC/POS...) that goes to the printer as it is
    options: PrintOptions = field(default_factory=PrintOptions)
    copies_of_job: int = 1  # the job's qty: print the whole job this many times
    # Backends that can say more than "done" or "failed" (CUPS) tell it here.
    progress: JobProgress = field(default=SILENT, compare=False, repr=False)

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


@runtime_checkable
class Follows(Protocol):
    """A backend whose printing system keeps jobs beyond the agent's life (CUPS): after
    a crash, the agent follows the jobs it had handed over instead of guessing."""

    async def follow(
        self, printer: str, job_id: str, printer_jobs: list[int], of: int, progress: JobProgress
    ) -> str:
        """Follow ``printer_jobs`` (of job ``job_id``, which was to take ``of`` of them) to
        their end, as ``print`` does: the ``completed`` message, or PrintFailed with what
        the printing system says, or that the agent stopped before submitting them all."""
