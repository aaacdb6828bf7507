"""CUPS queues, spoken to in IPP over CUPS's local socket or its port.

We do not use pycups (GPL) or the ``lp`` command (no job following, fragile
parsing): CUPS is an IPP server, and :mod:`.ipp` encodes and decodes IPP.
A job is submitted with Print-Job and then followed with Get-Job-Attributes to
its end, so the server hears "completed" only when CUPS says the job completed.
A deleted job is cancelled in CUPS with Cancel-Job.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import httpx
import structlog

from printcloud.agent.printers.base import Document, JobProgress, PrintFailed
from printcloud.protocol import ipp, presence
from printcloud.protocol.ipp import (
    Attribute,
    GroupTag,
    JobState,
    Operation,
    PrinterState,
    ValueTag,
    attr,
)
from printcloud.protocol.media import PAPER, media_keyword, media_size
from printcloud.protocol.messages import PrinterInfo
from printcloud.protocol.options import Duplex, PrintOptions

log = structlog.get_logger(__name__)

DEFAULT_PORT = 631
DEFAULT_SOCKETS = ("/run/cups/cups.sock", "/var/run/cups/cups.sock")
NOT_FOUND = 0x0406  # client-error-not-found: also CUPS's answer for "no printers" / "no default"
PDF = "application/pdf"
RAW = "application/vnd.cups-raw"  # CUPS sends it to the device untouched, no filters
MAX_NAME_BYTES = 255  # name(MAX) in IPP
LOOPBACK = {"localhost", "127.0.0.1", "::1"}
# CUPS answers a Print-Job once it has the whole document: minutes for a big one on a
# slow link, not the 5 s httpx allows by default.
TIMEOUT = httpx.Timeout(300.0, connect=10.0)


class CupsUnavailable(PrintFailed):
    """CUPS cannot be reached, or did not answer in IPP.

    A PrintFailed, so that a job sent while CUPS is down fails with this reason
    rather than as a crash of the agent; ``printers()`` callers can tell it apart.
    ``delivered`` is False when the request surely never reached CUPS (no connection):
    only then may a Print-Job be sent again.
    """

    def __init__(self, message: str, *, delivered: bool = True) -> None:
        super().__init__(message)
        self.delivered = delivered


# Where CUPS is


@dataclass(frozen=True)
class CupsServer:
    """A local socket (``socket``) or a host and port."""

    socket: str | None = None
    host: str = "localhost"
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        if self.socket:
            return self.socket
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_server(spec: str) -> CupsServer:
    """CUPS_SERVER's forms: ``/path/to/cups.sock``, ``host``, ``host:port``, ``[v6]:port``.
    A trailing ``/version=1.1`` (for old servers) is accepted and ignored."""
    spec = spec.strip()
    if spec.startswith("/"):
        return CupsServer(socket=spec)
    spec = spec.split("/version=", 1)[0]
    match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?|([^:\[\]/\s]+)(?::(\d+))?", spec)
    if not match:
        raise ValueError(f"CUPS server {spec!r} is neither a socket path nor host[:port]")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4) or DEFAULT_PORT)
    if not 0 < port < 65536:
        raise ValueError(f"CUPS server {spec!r}: port {port} out of range")
    return CupsServer(host=host, port=port)


def locate_server(
    explicit: str | None = None,
    environ: Mapping[str, str] = os.environ,
    sockets: Sequence[str] = DEFAULT_SOCKETS,
) -> CupsServer:
    """As CUPS's own tools look: the explicit setting, CUPS_SERVER, the local socket, port 631."""
    spec = explicit or environ.get("CUPS_SERVER", "").strip()
    if spec:
        return parse_server(spec)
    for path in sockets:
        if Path(path).exists():
            return CupsServer(socket=path)
    return CupsServer()


# The API's options as IPP job attributes

SIDES: dict[Duplex, str] = {
    "one-sided": "one-sided",
    "long-edge": "two-sided-long-edge",
    "short-edge": "two-sided-short-edge",
}


def job_attributes(options: PrintOptions, *, raw: bool, copies: int = 1) -> list[Attribute]:
    """IPP job attributes for the API's options; ``copies`` multiplies the option's copies.

    Raw data goes to the device as it is, so layout options mean nothing to it:
    only copies are sent.
    """
    total = options.total_copies(copies)
    attributes = [attr("copies", ValueTag.INTEGER, total)] if total != 1 else []
    if raw:
        return attributes
    if options.duplex is not None:
        attributes.append(attr("sides", ValueTag.KEYWORD, SIDES[options.duplex]))
    if options.color is not None:
        mode = "color" if options.color else "monochrome"
        attributes.append(attr("print-color-mode", ValueTag.KEYWORD, mode))
    attributes += _media(options.paper, options.media)
    ranges = [ipp.Range(lower, upper) for lower, upper in options.page_ranges()]
    if ranges:
        attributes.append(attr("page-ranges", ValueTag.RANGE_OF_INTEGER, *ranges))
    if options.fit_to_page:
        attributes.append(attr("print-scaling", ValueTag.KEYWORD, "fit"))
    return attributes


def _media(paper: str | None, source: str | None) -> list[Attribute]:
    """``media`` for a paper size alone; a ``media-col`` when a tray is asked for too,
    since ``media`` and ``media-col`` must not both be sent."""
    paper = paper.strip() if paper else None
    keyword = media_keyword(paper) if paper else None
    if not source:
        return [attr("media", ValueTag.KEYWORD, keyword)] if keyword else []
    members = [attr("media-source", ValueTag.KEYWORD, source)]
    size = media_size(keyword) if keyword else None
    if size:
        dimensions = [
            attr("x-dimension", ValueTag.INTEGER, size[0]),
            attr("y-dimension", ValueTag.INTEGER, size[1]),
        ]
        members.insert(0, attr("media-size", ValueTag.BEG_COLLECTION, dimensions))
    elif keyword:
        # A media-col cannot name a size CUPS knows only by name: the size wins over the
        # tray, as paper of the wrong size is the worse mistake.
        log.warning("cups_media_source_dropped", paper=keyword, media_source=source)
        return [attr("media", ValueTag.KEYWORD, keyword)]
    return [attr("media-col", ValueTag.BEG_COLLECTION, members)]


def _job_name(title: str) -> str:
    """IPP names are at most 255 bytes; cut on a character boundary."""
    return title.encode()[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "printcloud"


# The backend

PRINTER_ATTRIBUTES = (
    "printer-name",
    "printer-type",
    "printer-make-and-model",
    "color-supported",
    "sides-supported",
    "media-supported",
    "media-source-supported",
    "printer-state",
    "printer-is-accepting-jobs",
)
JOB_ATTRIBUTES = (
    "job-state",
    "job-state-reasons",
    "job-state-message",
    "job-printer-state-message",
    "job-impressions-completed",
    "job-media-sheets-completed",
)
PRINTER_STATES: dict[int, str] = {
    PrinterState.IDLE: "idle",
    PrinterState.PROCESSING: "processing",
    PrinterState.STOPPED: "stopped",
}
FAILED: dict[int, str] = {
    JobState.PROCESSING_STOPPED: "stopped",
    JobState.CANCELED: "was cancelled",
    JobState.ABORTED: "was aborted",
}
# Job reasons that say nothing about why a job ended (CUPS leaves them on every job).
QUIET_REASONS = frozenset({"none", "processing-to-stop-point", "job-printing"})
CUPS_CLASS = 0x0001  # printer-type bit: a class of printers, at /classes/<name>
RAW_MODEL = "Local Raw Printer"  # what CUPS reports for a queue made with -m raw


# A printer reporting one of these (with or without its -error/-warning/-report suffix)
# waits for a person (paper, a door, a switch): its job waits too, up to the wait limit,
# rather than failing as stuck.
WAIT_REASONS = frozenset(
    {
        "paused",
        "moving-to-paused",
        "media-empty",
        "media-needed",
        "media-jam",
        "door-open",
        "cover-open",
        "interlock-open",
        "input-tray-missing",
        "output-area-full",
        "toner-empty",
        "marker-supply-empty",
        "offline",
        "shutdown",
        "spool-area-full",
    }
)
# Job reasons with which a "completed" job did not print what it was given.
REFUSED_REASONS = frozenset(
    {
        "job-completed-with-errors",
        "document-format-error",
        "unsupported-document-format",
        "document-unprintable-error",
        "aborted-by-system",
    }
)
_REASON_SUFFIX = re.compile(r"-(error|warning|report)$")


@dataclass
class _Printing:
    """A document being printed: the CUPS job of its current run, and whether it was
    cancelled (then no further run of its qty is submitted)."""

    cups_job: int | None = None
    cancelled: bool = False


@dataclass
class Progress:
    """Whether a CUPS job moves: no I/O, fed what each poll saw.

    CUPS counts pages as its filters produce them, and counts them again on every
    retry of the job (the retry-job error policy sends it back to pending and runs it
    again), so a wedged job's counter rises for ever. Progress is therefore the job
    starting to process, or a run of it printing more pages than any run before: the
    pages of a run are counted from where the counter stood when that run began.
    """

    started: bool = False
    run_from: int | None = None  # the counter when the current processing run began
    best: int = 0  # the most pages one run printed

    def moved(self, state: int, pages: int) -> bool:
        if state != JobState.PROCESSING:
            self.run_from = None  # the run ended: held, stopped, or back to pending
            return False
        moved = not self.started
        self.started = True
        if self.run_from is None:
            self.run_from = pages
        if pages - self.run_from > self.best:
            self.best = pages - self.run_from
            moved = True
        return moved


@dataclass(frozen=True)
class _Queue:
    """What print() needs to know of a queue before it submits."""

    raw: bool
    media: list[str]


class CupsBackend:
    name = "cups"

    def __init__(
        self,
        server: str | None = None,
        *,
        job_timeout: float = 120.0,
        wait_limit: float = 24 * 3600.0,
        poll_interval: float = 1.0,
    ) -> None:
        self.server = locate_server(server)
        self._job_timeout = job_timeout
        self._wait_limit = wait_limit
        self._poll_interval = poll_interval
        self._user = _os_user()
        self._request_ids = itertools.count(1)
        self._classes: set[str] = set()
        self._printing: dict[str, _Printing] = {}  # by Document.job_id
        self._client = self._make_client()

    def _make_client(self) -> httpx.AsyncClient:
        server = self.server
        # trust_env=False: an HTTP(S)_PROXY meant for the internet must not catch
        # requests to the local CUPS.
        if server.socket:
            transport = httpx.AsyncHTTPTransport(uds=server.socket)
            return httpx.AsyncClient(
                transport=transport, base_url="http://localhost", trust_env=False, timeout=TIMEOUT
            )
        return httpx.AsyncClient(base_url=f"http://{server}", trust_env=False, timeout=TIMEOUT)

    def _host_header(self) -> str:
        # CUPS accepts only "localhost" (or the loopback address) as Host on a local
        # connection; a remote CUPS checks the name against its ServerAlias.
        server = self.server
        if server.socket or server.host in LOOPBACK:
            return "localhost"
        return str(server)

    async def close(self) -> None:
        await self._client.aclose()

    # printers

    async def printers(self) -> list[PrinterInfo]:
        response = await self._call(
            Operation.CUPS_GET_PRINTERS,
            "/",
            [attr("requested-attributes", ValueTag.KEYWORD, *PRINTER_ATTRIBUTES)],
        )
        if response.status == NOT_FOUND:  # CUPS's way of saying "no printers"
            return []
        _check(response, "CUPS-Get-Printers")
        default = await self._default_printer()
        found: list[PrinterInfo] = []
        classes: set[str] = set()
        for group in response.all(GroupTag.PRINTER):
            name = _first(group, "printer-name")
            if not isinstance(name, str) or not name:
                continue
            printer_type = _first(group, "printer-type")
            if isinstance(printer_type, int) and printer_type & CUPS_CLASS:
                classes.add(name)
            found.append(
                PrinterInfo(
                    name=name,
                    capabilities=(capabilities := _capabilities(group)),
                    is_default=name == default,
                    # A stopped or rejecting queue cannot print now: say so to the server.
                    state=presence.PrinterState.ONLINE
                    if capabilities["state"] != "stopped" and capabilities["accepting"]
                    else presence.PrinterState.OFFLINE,
                )
            )
        self._classes = classes
        return found

    async def _default_printer(self) -> str | None:
        response = await self._call(
            Operation.CUPS_GET_DEFAULT,
            "/",
            [attr("requested-attributes", ValueTag.KEYWORD, "printer-name")],
        )
        name = response.value("printer-name", GroupTag.PRINTER) if response.ok else None
        return name if isinstance(name, str) else None

    # print

    async def print(self, printer: str, document: Document) -> str:
        # Raw data is sent as it is, so N times the job is N times the copies, byte for
        # byte: one CUPS job. A PDF's copies may come out uncollated (1,1,2,2) where the
        # job printed N times must be (1,2,1,2), so a PDF is one CUPS job per copy of
        # the job, each followed to its end before the next: a failure stops the rest.
        raw = not document.is_pdf
        qty = max(document.copies_of_job, 1)
        runs = 1 if raw else qty
        attributes = job_attributes(document.options, raw=raw, copies=qty if raw else 1)
        progress = document.progress
        job_ids: list[int] = []
        # Registered before the first await: a cancel() from now on finds the document.
        printing = self._printing[document.job_id] = _Printing()
        try:
            queue = await self._queue(printer, progress)
            if document.is_pdf and queue.raw:
                # CUPS would send the PDF's bytes to the device untouched: a label
                # printer prints garbage, or nothing, and CUPS calls it completed.
                raise PrintFailed(
                    f"{printer} is a raw CUPS queue (its data goes to the printer as it "
                    "is); send raw data, not a PDF"
                )
            if not raw:
                _check_paper(printer, document.options.paper, queue.media)
            for done in range(runs):
                if printing.cancelled:  # between two runs: the next is not submitted
                    raise PrintFailed(f"cancelled ({done} of {runs} copies of the job printed)")
                try:
                    job_id = await self._submit(printer, document, attributes, progress)
                    job_ids.append(job_id)
                    progress.accepted(printer, job_id, runs)
                    printing.cups_job = job_id
                    if printing.cancelled:  # cancelled while CUPS was taking the job
                        await self._cancel(printer, job_id)
                    await self._follow(printer, job_id, progress, raw_queue=queue.raw)
                    printing.cups_job = None
                except PrintFailed as exc:
                    if done == 0:
                        raise
                    # The server should know that some of the copies did print.
                    raise PrintFailed(
                        f"{exc} ({done} of {runs} copies of the job printed)"
                    ) from None
        finally:
            if self._printing.get(document.job_id) is printing:
                del self._printing[document.job_id]
        return _printed(printer, job_ids)

    async def follow(
        self, printer: str, job_id: str, printer_jobs: list[int], of: int, progress: JobProgress
    ) -> str:
        """After the agent's restart: the CUPS jobs it had submitted for ``job_id``,
        followed to their end (cancel() works on them as on a document printing)."""
        printing = self._printing[job_id] = _Printing()
        try:
            queue = await self._queue(printer, progress)
            for cups_job in printer_jobs:
                printing.cups_job = cups_job
                if printing.cancelled:
                    await self._cancel(printer, cups_job)
                await self._follow(printer, cups_job, progress, raw_queue=queue.raw)
        finally:
            if self._printing.get(job_id) is printing:
                del self._printing[job_id]
        if len(printer_jobs) < of:  # the agent died between two copies of the job
            jobs = ", ".join(str(cups_job) for cups_job in printer_jobs)
            raise PrintFailed(
                f"the agent stopped before submitting every copy of the job: {len(printer_jobs)}"
                f" of {of} printed on {printer} (CUPS jobs {jobs})"
            )
        return _printed(printer, printer_jobs)

    async def cancel(self, printer: str, job_id: str) -> bool:
        """Cancel-Job for the CUPS job printing the document now; the runs of its qty
        not submitted yet are not submitted. False when the document is not printing
        here, or CUPS would not cancel (the job had ended already)."""
        printing = self._printing.get(job_id)
        if printing is None:
            return False
        printing.cancelled = True
        if printing.cups_job is None:  # CUPS is taking a run: print() cancels it at once
            return True
        return await self._cancel(printer, printing.cups_job)

    def _printer_path(self, printer: str) -> str:
        kind = "classes" if printer in self._classes else "printers"
        return f"/{kind}/{quote(printer, safe='')}"

    def _printer_uri(self, printer: str) -> Attribute:
        # CUPS finds the queue by the URI's path; the host part is not checked.
        return attr("printer-uri", ValueTag.URI, f"ipp://localhost{self._printer_path(printer)}")

    async def _queue(self, printer: str, progress: JobProgress) -> _Queue:
        """The queue's kind and papers, once CUPS answers (see _answer)."""
        response = await self._answer(
            printer,
            progress,
            lambda: self._call(
                Operation.GET_PRINTER_ATTRIBUTES,
                self._printer_path(printer),
                [
                    self._printer_uri(printer),
                    attr(
                        "requested-attributes",
                        ValueTag.KEYWORD,
                        "printer-make-and-model",
                        "media-supported",
                    ),
                ],
            ),
        )
        _check(response, f"CUPS cannot tell about {printer}")
        group = response.first(GroupTag.PRINTER)
        return _Queue(
            raw=_first(group, "printer-make-and-model") == RAW_MODEL,
            media=_strings(group, "media-supported"),
        )

    async def _answer(
        self,
        printer: str,
        progress: JobProgress,
        request: Callable[[], Awaitable[ipp.Message]],
        *,
        resend: bool = True,
    ) -> ipp.Message:
        """``request``'s answer, waiting while CUPS is down (a restart, an update): up to
        the wait limit while it does not answer, and up to the no-progress limit while
        it answers that it does not know ``printer`` (CUPS loads its queues after it
        starts listening). ``resend=False``: a request CUPS may have received is not
        sent again (a Print-Job: the job would print twice)."""
        loop = asyncio.get_running_loop()
        since = loop.time()
        told = False
        while True:
            try:
                response = await request()
            except CupsUnavailable as exc:
                if exc.delivered and not resend:
                    raise
                if loop.time() - since >= self._wait_limit:
                    raise PrintFailed(
                        f"CUPS did not answer for {self._wait_limit:g} s: {exc}"
                    ) from None
                log.warning("cups_not_answering", printer=printer, error=str(exc))
                message = f"Waiting: CUPS is not answering ({exc})"
            else:
                if response.status != NOT_FOUND or loop.time() - since >= self._job_timeout:
                    if told:
                        await progress.news(f"Printing on {printer}")
                    return response
                message = f"Waiting: CUPS does not know printer {printer} (yet)"
            if not told:
                await progress.news(message)
                told = True
            await asyncio.sleep(self._poll_interval)

    async def _submit(
        self,
        printer: str,
        document: Document,
        attributes: list[Attribute],
        progress: JobProgress,
    ) -> int:
        operation = [
            self._printer_uri(printer),
            attr("requesting-user-name", ValueTag.NAME, self._user),
            attr("document-format", ValueTag.MIME_MEDIA_TYPE, PDF if document.is_pdf else RAW),
        ]
        if document.title:
            operation.insert(2, attr("job-name", ValueTag.NAME, _job_name(document.title)))
        response = await self._answer(
            printer,
            progress,
            lambda: self._call(
                Operation.PRINT_JOB,
                self._printer_path(printer),
                operation,
                attributes,
                data=document.data,
            ),
            resend=False,
        )
        _check(response, f"{printer} refused the job")
        job_id = response.value("job-id", GroupTag.JOB)
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            raise PrintFailed(f"{printer} accepted the job but CUPS gave no job-id")
        log.info(
            "cups_job_submitted",
            printer=printer,
            cups_job=job_id,
            bytes=len(document.data),
            raw=not document.is_pdf,
            ignored=_names(response.all(GroupTag.UNSUPPORTED)),
        )
        return job_id

    async def _follow(
        self, printer: str, job_id: int, progress: JobProgress, *, raw_queue: bool
    ) -> None:
        """Until the job completes. A failure raises; so does no progress (see Progress)
        for job_timeout, or waiting longer than the wait limit for a printer that
        waits for someone (paused, out of paper...) or for CUPS to answer again. Each
        new reason to wait is told as news, and so is the end of a wait."""
        clock = asyncio.get_running_loop().time
        moves = Progress()
        moved_at = clock()
        waiting_since: float | None = None
        told: str | None = None
        while True:
            try:
                job = await self._job(printer, job_id)
                waiting = await self._waiting(printer, job)
            except CupsUnavailable as exc:
                log.warning("cups_poll_failed", cups_job=job_id, error=str(exc))
                job, waiting = None, f"Waiting: CUPS is not answering ({exc})"
            if job is not None:
                state = _first(job, "job-state")
                if await self._ended(printer, job_id, job, raw_queue=raw_queue):
                    return
                if waiting is None and isinstance(state, int) and moves.moved(state, _pages(job)):
                    moved_at = clock()
            now = clock()
            if waiting is not None:
                if waiting_since is None:
                    waiting_since = now
                if waiting != told:
                    await progress.news(waiting)
                    told = waiting
                if now - waiting_since >= self._wait_limit:
                    await self._cancel(printer, job_id)
                    log.warning("cups_job_waited_too_long", printer=printer, cups_job=job_id)
                    raise PrintFailed(
                        f"waited {self._wait_limit:g} s; cancelled CUPS job {job_id} on "
                        f"{printer}: {waiting.removeprefix('Waiting: ')}"
                    )
            else:
                if waiting_since is not None:  # a wait is not a stall: the clock restarts
                    waiting_since, moved_at = None, now
                    told = f"Printing on {printer}"
                    await progress.news(told)
                if now - moved_at >= self._job_timeout:
                    await self._give_up(printer, job_id, job)
            await asyncio.sleep(self._poll_interval)

    async def _job(self, printer: str, job_id: int) -> ipp.Group:
        response = await self._call(
            Operation.GET_JOB_ATTRIBUTES,
            "/jobs/",
            [
                self._printer_uri(printer),
                attr("job-id", ValueTag.INTEGER, job_id),
                attr("requesting-user-name", ValueTag.NAME, self._user),
                attr("requested-attributes", ValueTag.KEYWORD, *JOB_ATTRIBUTES),
            ],
        )
        # Not found: the job was purged (PreserveJobHistory No) or CUPS lost its spool;
        # either way nobody can say it printed.
        _check(response, f"CUPS job {job_id} on {printer} can no longer be followed")
        return response.first(GroupTag.JOB)

    async def _waiting(self, printer: str, job: ipp.Group) -> str | None:
        """Why the job waits for someone, as news; None when it does not."""
        if _first(job, "job-state") == JobState.PENDING_HELD:
            reasons = [r for r in _strings(job, "job-state-reasons") if r != "none"]
            return f"Waiting: CUPS holds the job ({', '.join(reasons) or 'no reason given'})"
        group = await self._printer_state(printer, "printer-state")
        message = _first(group, "printer-state-message")
        detail = f" ({message})" if isinstance(message, str) and message.strip() else ""
        reasons = [r for r in _strings(group, "printer-state-reasons") if r != "none"]
        if "paused" in reasons:
            return f"Waiting: printer {printer} is paused{detail}"
        waiting = [r for r in reasons if _REASON_SUFFIX.sub("", r) in WAIT_REASONS]
        if waiting:
            return f"Waiting: printer {printer} reports {', '.join(waiting)}{detail}"
        if _first(group, "printer-state") == PrinterState.STOPPED:
            return f"Waiting: printer {printer} is stopped{detail}"
        return None

    async def _ended(self, printer: str, job_id: int, job: ipp.Group, *, raw_queue: bool) -> bool:
        """True when the job completed and printed; PrintFailed when it ended otherwise."""
        state = _first(job, "job-state")
        if state == JobState.COMPLETED:
            await self._check_printed(printer, job_id, job, raw_queue=raw_queue)
            log.info("cups_job_completed", printer=printer, cups_job=job_id)
            return True
        if isinstance(state, int) and state in FAILED:
            await self._failed(printer, job_id, job, state)
        return False

    async def _check_printed(
        self, printer: str, job_id: int, job: ipp.Group, *, raw_queue: bool
    ) -> None:
        """A completed job that printed nothing failed. CUPS's IPP backend ends a job
        "completed" when the printer refused its document (a format it does not take):
        no page was counted, by the filters or by the printer. A raw queue counts no
        pages of its own, so there only the job's reasons tell."""
        reasons = set(_strings(job, "job-state-reasons"))
        if reasons & REFUSED_REASONS or (not raw_queue and _pages(job) == 0):
            reason = await self._reason(printer, job)
            log.warning("cups_job_printed_nothing", printer=printer, cups_job=job_id)
            raise PrintFailed(
                f"CUPS job {job_id} on {printer} ended without printing anything: {reason}"
            )

    async def _failed(self, printer: str, job_id: int, job: ipp.Group, state: int) -> NoReturn:
        reason = await self._reason(printer, job)
        if state == JobState.PROCESSING_STOPPED:
            # Stopped is not an end in CUPS: the job would print once someone
            # restarts it, after the server was told it failed.
            await self._cancel(printer, job_id)
        log.warning("cups_job_failed", printer=printer, cups_job=job_id, reason=reason)
        raise PrintFailed(f"CUPS job {job_id} on {printer} {FAILED[state]}: {reason}")

    async def _give_up(self, printer: str, job_id: int, job: ipp.Group | None) -> NoReturn:
        where = ""
        if job is not None:
            words = _state_word(_first(job, "job-state"))
            where = f" (CUPS job {job_id} {words}: {await self._reason(printer, job)})"
        await self._cancel(printer, job_id)
        log.warning("cups_job_stalled", printer=printer, cups_job=job_id, detail=where)
        raise PrintFailed(f"no progress within {self._job_timeout:g} s; cancelled{where}")

    async def _reason(self, printer: str, job: ipp.Group) -> str:
        """The job's reasons and messages; the printer's message when the job has none."""
        reasons = [r for r in _strings(job, "job-state-reasons") if r not in QUIET_REASONS]
        messages = [
            m
            for m in (_first(job, "job-printer-state-message"), _first(job, "job-state-message"))
            if isinstance(m, str) and m.strip()
        ]
        if not messages:
            messages = await self._printer_message(printer)
        return (
            "; ".join([*(str(r) for r in reasons), *dict.fromkeys(messages)]) or "no reason given"
        )

    async def _printer_message(self, printer: str) -> list[str]:
        try:
            group = await self._printer_state(printer)
        except CupsUnavailable:
            return []
        message = _first(group, "printer-state-message")
        reasons = [f"printer {r}" for r in _strings(group, "printer-state-reasons") if r != "none"]
        return [*reasons, *([message] if isinstance(message, str) and message.strip() else [])]

    async def _printer_state(self, printer: str, *more: str) -> ipp.Group:
        """The printer's state reasons and message, and ``more`` of its attributes."""
        response = await self._call(
            Operation.GET_PRINTER_ATTRIBUTES,
            self._printer_path(printer),
            [
                self._printer_uri(printer),
                attr(
                    "requested-attributes",
                    ValueTag.KEYWORD,
                    "printer-state-reasons",
                    "printer-state-message",
                    *more,
                ),
            ],
        )
        return response.first(GroupTag.PRINTER)

    async def _cancel(self, printer: str, job_id: int) -> bool:
        """Best effort: the reason the job failed matters more than a failed cancel.
        Whether CUPS cancelled the job."""
        try:
            response = await self._call(
                Operation.CANCEL_JOB,
                "/jobs/",
                [
                    self._printer_uri(printer),
                    attr("job-id", ValueTag.INTEGER, job_id),
                    attr("requesting-user-name", ValueTag.NAME, self._user),
                ],
            )
        except CupsUnavailable as exc:
            log.warning("cups_cancel_failed", cups_job=job_id, error=str(exc))
            return False
        if not response.ok:
            log.warning(
                "cups_cancel_refused",
                cups_job=job_id,
                status=response.status_name,
                message=response.status_message,
            )
            return False
        log.info("cups_job_cancelled", printer=printer, cups_job=job_id)
        return True

    # IPP over HTTP

    async def _call(
        self,
        operation: Operation,
        path: str,
        operation_attributes: Iterable[Attribute],
        job_attributes: Iterable[Attribute] = (),
        data: bytes = b"",
    ) -> ipp.Message:
        request_id = next(self._request_ids)
        body = ipp.request(operation, request_id, operation_attributes, job_attributes, data)
        where = f"CUPS at {self.server}"
        try:
            response = await self._client.post(
                path,
                content=body,
                headers={"Content-Type": "application/ipp", "Host": self._host_header()},
            )
        except httpx.TransportError as exc:
            raise CupsUnavailable(
                f"{where} is not reachable: {exc or type(exc).__name__}",
                delivered=not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout),
            ) from None
        if response.status_code != 200 or not response.headers.get("content-type", "").startswith(
            "application/ipp"
        ):
            raise CupsUnavailable(
                f"{where} answered {operation.name} with HTTP {response.status_code}"
                f" {response.reason_phrase}, not IPP"
            )
        try:
            return ipp.parse(response.content)
        except ipp.IppError as exc:
            raise CupsUnavailable(f"{where} sent a malformed IPP answer: {exc}") from None


def _check(response: ipp.Message, what: str) -> None:
    if response.ok:
        return
    detail = f": {response.status_message}" if response.status_message else ""
    raise PrintFailed(f"{what} ({response.status_name}{detail})")


def _first(group: ipp.Group, name: str) -> ipp.Value | None:
    values = group.get(name)
    return values[0] if values else None


def _pages(job: ipp.Group) -> int:
    """The job's page counter: impressions, or sheets when CUPS counts only those."""
    counts = [_first(job, "job-impressions-completed"), _first(job, "job-media-sheets-completed")]
    return max((c for c in counts if isinstance(c, int) and not isinstance(c, bool)), default=0)


def _printed(printer: str, job_ids: list[int]) -> str:
    jobs = ", ".join(str(job_id) for job_id in job_ids)
    return f"Printed on {printer} (CUPS job{'s' if len(job_ids) > 1 else ''} {jobs})"


def _paper_name(keyword: str) -> str:
    """Our name of a PWG media keyword (A4, Letter), or the keyword itself."""
    for name, (pwg, _, _) in PAPER.items():
        if pwg == keyword:
            return name.upper() if len(name) <= 3 else name.capitalize()
    return keyword


def _check_paper(printer: str, paper: str | None, supported: list[str]) -> None:
    """An unknown or unsupported paper fails the job, naming the printer's papers: CUPS
    would ignore it and print on the default paper. A printer that lists no papers,
    or takes custom sizes, is left to decide."""
    paper = paper.strip() if paper else None
    if not paper or not supported:
        return
    keyword = media_keyword(paper)
    if keyword in supported:
        return
    if keyword.lower().startswith("custom") and any(m.startswith("custom_min_") for m in supported):
        return
    names = dict.fromkeys(_paper_name(m) for m in supported if not m.startswith("custom_"))
    raise PrintFailed(f"{printer} has no paper {paper!r}; it takes {', '.join(names)}")


def _all(group: ipp.Group, name: str) -> list[ipp.Value]:
    return list(group.get(name, []))


def _strings(group: ipp.Group, name: str) -> list[str]:
    return [value for value in group.get(name, []) if isinstance(value, str)]


def _state_word(state: ipp.Value | None) -> str:
    try:
        return JobState(state).name.lower().replace("_", "-") if isinstance(state, int) else "?"
    except ValueError:
        return f"in state {state}"


def _names(groups: list[ipp.Group]) -> list[str]:
    return [name for group in groups for name in group]


def _capabilities(group: ipp.Group) -> dict[str, Any]:
    state = _first(group, "printer-state")
    sides = _all(group, "sides-supported")
    return {
        "color": _first(group, "color-supported") is True,
        "duplex": any(isinstance(s, str) and s.startswith("two-sided") for s in sides),
        "media": _strings(group, "media-supported"),
        "bins": _strings(group, "media-source-supported"),
        "state": PRINTER_STATES.get(state, "unknown") if isinstance(state, int) else "unknown",
        "accepting": _first(group, "printer-is-accepting-jobs") is True,
        "raw": _first(group, "printer-make-and-model") == RAW_MODEL,
    }
