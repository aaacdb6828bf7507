"""The Windows spooler, through pywin32.

- **PDF**: each page is rendered by pypdfium2 and drawn through GDI on a device context
  made for the printer with a DEVMODE that carries the options (copies and collation,
  duplex, colour, paper, tray): ``CreateDC``, ``StartDoc``, per page ``StartPage``, the
  bitmap scaled to the sheet (Pillow's ``ImageWin.Dib.draw``: StretchDIBits),
  ``EndPage``, then ``EndDoc``. Nothing to install but the agent. When the
  configuration names SumatraPDF (``sumatra_path``), PDFs go to its command line instead.
- **Raw** data (ZPL, ESC/POS...) goes to the spooler as it is: one document of datatype
  RAW, the data written ``copies`` times (``StartDocPrinter``/``WritePrinter``).
- **Printers** are the local ones and the connections, with what their driver says
  (``DeviceCapabilities``) and their status (PRINTER_INFO_2's ``Status``, ``Attributes``).

The Windows calls are pywin32's, loaded in one place (:mod:`.win32`); the tests replace
them with a fake of the same calls, as no Windows runs on the CI machines: see
docs/windows.md for what was and was not run on Windows.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import structlog

from printcloud.agent.printers import sumatra, win32
from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.agent.printers.pdf_pages import PdfPages, Sheet, page_indexes, place
from printcloud.agent.printers.win32 import Win32, load_win32, windows_errors
from printcloud.protocol.messages import PrinterInfo
from printcloud.protocol.options import Duplex, PrintOptions
from printcloud.protocol.presence import PrinterState

log = structlog.get_logger(__name__)

MAX_TITLE = 255
WRITE_CHUNK = 1024 * 1024  # bytes per WritePrinter call

# A printer with one of these can take no job now: it is reported offline.
OFFLINE_STATUS = (
    win32.PRINTER_STATUS_PAUSED
    | win32.PRINTER_STATUS_ERROR
    | win32.PRINTER_STATUS_OFFLINE
    | win32.PRINTER_STATUS_NOT_AVAILABLE
    | win32.PRINTER_STATUS_PENDING_DELETION
    | win32.PRINTER_STATUS_SERVER_UNKNOWN
)
# PRINTER_INFO_2's Status bits, as words in the printer's capabilities.
STATUS_WORDS: dict[int, str] = {
    win32.PRINTER_STATUS_PAUSED: "paused",
    win32.PRINTER_STATUS_ERROR: "error",
    win32.PRINTER_STATUS_PENDING_DELETION: "pending-deletion",
    win32.PRINTER_STATUS_PAPER_JAM: "paper-jam",
    win32.PRINTER_STATUS_PAPER_OUT: "paper-out",
    win32.PRINTER_STATUS_MANUAL_FEED: "manual-feed",
    win32.PRINTER_STATUS_PAPER_PROBLEM: "paper-problem",
    win32.PRINTER_STATUS_OFFLINE: "offline",
    win32.PRINTER_STATUS_IO_ACTIVE: "io-active",
    win32.PRINTER_STATUS_BUSY: "busy",
    win32.PRINTER_STATUS_PRINTING: "printing",
    win32.PRINTER_STATUS_OUTPUT_BIN_FULL: "output-bin-full",
    win32.PRINTER_STATUS_NOT_AVAILABLE: "not-available",
    win32.PRINTER_STATUS_WAITING: "waiting",
    win32.PRINTER_STATUS_PROCESSING: "processing",
    win32.PRINTER_STATUS_INITIALIZING: "initializing",
    win32.PRINTER_STATUS_WARMING_UP: "warming-up",
    win32.PRINTER_STATUS_TONER_LOW: "toner-low",
    win32.PRINTER_STATUS_NO_TONER: "no-toner",
    win32.PRINTER_STATUS_PAGE_PUNT: "page-punt",
    win32.PRINTER_STATUS_USER_INTERVENTION: "user-intervention",
    win32.PRINTER_STATUS_OUT_OF_MEMORY: "out-of-memory",
    win32.PRINTER_STATUS_DOOR_OPEN: "door-open",
    win32.PRINTER_STATUS_SERVER_UNKNOWN: "server-unknown",
    win32.PRINTER_STATUS_POWER_SAVE: "power-save",
}

DUPLEX: dict[Duplex, int] = {
    "one-sided": win32.DMDUP_SIMPLEX,
    "long-edge": win32.DMDUP_VERTICAL,
    "short-edge": win32.DMDUP_HORIZONTAL,
}

# A paper asked for by a common name or PWG keyword (the CUPS backend's words) is found
# by its DEVMODE number when the driver's name for it is another ("A4 210 x 297 mm").
STANDARD_PAPERS: dict[str, int] = {
    "letter": win32.DMPAPER_LETTER,
    "na letter 8.5x11in": win32.DMPAPER_LETTER,
    "legal": win32.DMPAPER_LEGAL,
    "na legal 8.5x14in": win32.DMPAPER_LEGAL,
    "tabloid": win32.DMPAPER_TABLOID,
    "ledger": win32.DMPAPER_LEDGER,
    "na ledger 11x17in": win32.DMPAPER_TABLOID,
    "statement": win32.DMPAPER_STATEMENT,
    "na invoice 5.5x8.5in": win32.DMPAPER_STATEMENT,
    "executive": win32.DMPAPER_EXECUTIVE,
    "na executive 7.25x10.5in": win32.DMPAPER_EXECUTIVE,
    "a2": win32.DMPAPER_A2,
    "iso a2 420x594mm": win32.DMPAPER_A2,
    "a3": win32.DMPAPER_A3,
    "iso a3 297x420mm": win32.DMPAPER_A3,
    "a4": win32.DMPAPER_A4,
    "iso a4 210x297mm": win32.DMPAPER_A4,
    "a5": win32.DMPAPER_A5,
    "iso a5 148x210mm": win32.DMPAPER_A5,
    "a6": win32.DMPAPER_A6,
    "iso a6 105x148mm": win32.DMPAPER_A6,
    "dl": win32.DMPAPER_ENV_DL,
    "iso dl 110x220mm": win32.DMPAPER_ENV_DL,
    "c4": win32.DMPAPER_ENV_C4,
    "iso c4 229x324mm": win32.DMPAPER_ENV_C4,
    "c5": win32.DMPAPER_ENV_C5,
    "iso c5 162x229mm": win32.DMPAPER_ENV_C5,
    "c6": win32.DMPAPER_ENV_C6,
    "iso c6 114x162mm": win32.DMPAPER_ENV_C6,
    "com10": win32.DMPAPER_ENV_10,
    "na number 10 4.125x9.5in": win32.DMPAPER_ENV_10,
}
# A tray asked for by its IPP media-source keyword (the CUPS backend's words).
STANDARD_BINS: dict[str, int] = {
    "auto": win32.DMBIN_AUTO,
    "top": win32.DMBIN_UPPER,
    "middle": win32.DMBIN_MIDDLE,
    "bottom": win32.DMBIN_LOWER,
    "manual": win32.DMBIN_MANUAL,
    "envelope": win32.DMBIN_ENVELOPE,
    "large capacity": win32.DMBIN_LARGECAPACITY,
    "tractor": win32.DMBIN_TRACTOR,
}


def normalized(name: str) -> str:
    """``"Tray 2"``, ``"tray-2"`` and ``"TRAY_2"`` are one name."""
    return re.sub(r"[\s_\-]+", " ", name).strip().casefold()


def choose(
    printer: str,
    what: str,
    wanted: str,
    offered: Sequence[tuple[int, str]],
    standard: Mapping[str, int],
) -> tuple[int, str]:
    """The driver's number and name for the paper or tray ``wanted``: the one of that
    name, else the standard one of that name (by its number). PrintFailed naming those
    the printer has otherwise: never silently another paper."""
    key = normalized(wanted)
    for number, name in offered:
        if normalized(name) == key:
            return number, name
    if key in standard:
        for number, name in offered:
            if number == standard[key]:
                return number, name
    names = ", ".join(name for _, name in offered) or "none"
    raise PrintFailed(f"{printer} has no {what} {wanted!r}; it has: {names}")


@dataclass(frozen=True)
class Driver:
    """What a printer's driver says it can do (DeviceCapabilities)."""

    papers: list[tuple[int, str]]  # DC_PAPERS with DC_PAPERNAMES
    bins: list[tuple[int, str]]  # DC_BINS with DC_BINNAMES
    duplex: bool  # DC_DUPLEX
    color: bool  # DC_COLORDEVICE
    max_copies: int  # DC_COPIES
    collate: bool  # DC_COLLATE

    def capabilities(self) -> dict[str, Any]:
        return {
            "color": self.color,
            "duplex": self.duplex,
            "media": [name for _, name in self.papers],
            "bins": [name for _, name in self.bins],
        }


@dataclass(frozen=True)
class Media:
    """The paper and tray of a job, matched to the driver's (None: the printer's default)."""

    paper: int | None = None
    paper_name: str | None = None
    bin: int | None = None
    bin_name: str | None = None


@dataclass
class _Printing:
    """A PDF being drawn: cancel() sets ``cancelled``, checked before each page."""

    cancelled: threading.Event = field(default_factory=threading.Event)


class WindowsBackend:
    name = "windows"

    def __init__(self, sumatra_path: Path | None = None, *, sumatra_timeout: float = 600.0) -> None:
        """ImportError (``name`` set) when pywin32 is missing: build_backends says so."""
        self._win: Win32 = load_win32()
        self._sumatra = sumatra_path
        self._sumatra_timeout = sumatra_timeout
        self._printing: dict[str, _Printing] = {}  # by Document.job_id

    # printers

    async def printers(self) -> list[PrinterInfo]:
        return await anyio.to_thread.run_sync(self._list_printers)

    def _list_printers(self) -> list[PrinterInfo]:
        spooler = self._win.spooler
        try:
            default: str | None = spooler.GetDefaultPrinter()
        except self._win.error:  # no default printer
            default = None
        flags = win32.PRINTER_ENUM_LOCAL | win32.PRINTER_ENUM_CONNECTIONS
        with windows_errors(self._win, "listing the Windows printers"):
            found = spooler.EnumPrinters(flags, None, 2)
        return [self._describe(info, default) for info in found]

    def _describe(self, info: Mapping[str, Any], default: str | None) -> PrinterInfo:
        """A printer of EnumPrinters (a PRINTER_INFO_2, as GetPrinter level 2 gives it)."""
        name: str = info["pPrinterName"]
        status = int(info.get("Status") or 0)
        attributes = int(info.get("Attributes") or 0)
        words = [word for bit, word in STATUS_WORDS.items() if status & bit]
        if attributes & win32.PRINTER_ATTRIBUTE_WORK_OFFLINE:
            words.append("work-offline")
        offline = bool(status & OFFLINE_STATUS or attributes & win32.PRINTER_ATTRIBUTE_WORK_OFFLINE)
        try:
            capabilities = self._driver(name, info.get("pPortName") or "").capabilities()
        except self._win.error as exc:  # a connection whose server is away, a broken driver
            log.warning("windows_capabilities_failed", printer=name, error=win32.describe(exc))
            capabilities = {"color": False, "duplex": False, "media": [], "bins": []}
            offline = True
        capabilities |= {
            "driver": info.get("pDriverName") or "",
            "status": words,
            "raw": bool(attributes & win32.PRINTER_ATTRIBUTE_RAW_ONLY),
        }
        return PrinterInfo(
            name=name,
            capabilities=capabilities,
            is_default=name == default,
            state=PrinterState.OFFLINE if offline else PrinterState.ONLINE,
        )

    def _driver(self, printer: str, port: str) -> Driver:
        def ask(capability: int) -> Any:
            return self._win.spooler.DeviceCapabilities(printer, port, capability, None)

        def names(values: Any) -> list[str]:
            return [str(value).split("\0", 1)[0].strip() for value in values or ()]

        papers = list(
            zip(ask(win32.DC_PAPERS) or (), names(ask(win32.DC_PAPERNAMES)), strict=False)
        )
        bins = list(zip(ask(win32.DC_BINS) or (), names(ask(win32.DC_BINNAMES)), strict=False))
        return Driver(
            papers=[(int(number), name) for number, name in papers],
            bins=[(int(number), name) for number, name in bins],
            duplex=ask(win32.DC_DUPLEX) == 1,
            color=ask(win32.DC_COLORDEVICE) == 1,
            max_copies=max(int(ask(win32.DC_COPIES) or 1), 1),
            collate=ask(win32.DC_COLLATE) == 1,
        )

    # print

    async def print(self, printer: str, document: Document) -> str:
        if not document.is_pdf:
            return await anyio.to_thread.run_sync(self._print_raw, printer, document)
        if self._sumatra is not None:
            return await self._print_with_sumatra(self._sumatra, printer, document)
        printing = self._printing[document.job_id] = _Printing()
        try:
            return await anyio.to_thread.run_sync(self._print_pdf, printer, document, printing)
        finally:
            del self._printing[document.job_id]

    async def cancel(self, printer: str, job_id: str) -> bool:
        """A PDF being drawn stops before its next page, and its spooler document is
        dropped (AbortDoc). Raw data and SumatraPDF's jobs are handed over in one go."""
        printing = self._printing.get(job_id)
        if printing is None:
            return False
        printing.cancelled.set()
        return True

    async def close(self) -> None:
        return None

    # raw

    def _print_raw(self, printer: str, document: Document) -> str:
        """One RAW document with the data ``copies`` times: one job in the queue (one to
        follow or delete, none of another job between the copies), as the raw socket and
        CUPS backends send it. The DEVMODE's copies mean nothing to RAW data, which the
        spooler passes to the port untouched."""
        spooler, error = self._win.spooler, self._win.error
        with windows_errors(self._win, f"printing on {printer}"):
            handle = spooler.OpenPrinter(printer, None)
            try:
                job = spooler.StartDocPrinter(handle, 1, (_title(document), None, "RAW"))
                try:
                    spooler.StartPagePrinter(handle)
                    for _ in range(document.copies):
                        self._write(handle, document.data)
                    spooler.EndPagePrinter(handle)
                except BaseException:
                    with contextlib.suppress(error):
                        spooler.AbortPrinter(handle)
                    raise
                spooler.EndDocPrinter(handle)
            finally:
                with contextlib.suppress(error):
                    spooler.ClosePrinter(handle)
        size = len(document.data) * document.copies
        return f"Sent {size} bytes to the Windows spooler queue {printer} (job {job})"

    def _write(self, handle: Any, data: bytes) -> None:
        view = memoryview(data)
        while view:
            chunk = view[:WRITE_CHUNK]
            written = int(self._win.spooler.WritePrinter(handle, bytes(chunk)))
            if written <= 0:
                raise PrintFailed(f"the spooler took no more data ({len(view)} bytes left)")
            view = view[written:]

    # PDF, drawn through GDI

    def _print_pdf(self, printer: str, document: Document, printing: _Printing) -> str:
        spooler, gui, error = self._win.spooler, self._win.gui, self._win.error
        options = document.options
        with PdfPages(document.data) as pdf:
            indexes = page_indexes(options.page_ranges(), pdf.count)
            if not indexes:
                raise PrintFailed(
                    f"pages {options.pages} select none of the document's {pdf.count}"
                )
            with windows_errors(self._win, f"printing on {printer}"):
                handle = spooler.OpenPrinter(printer, None)
                try:
                    devmode, runs = self._job_devmode(printer, handle, document)
                    hdc = gui.CreateDC("WINSPOOL", printer, devmode)
                    try:
                        sheet = self._sheet(hdc)
                        jobs = [
                            self._spool(
                                hdc,
                                pdf,
                                pages=indexes,
                                sheet=sheet,
                                document=document,
                                printing=printing,
                                run=run,
                                runs=runs,
                            )
                            for run in range(runs)
                        ]
                    finally:
                        with contextlib.suppress(error):
                            gui.DeleteDC(hdc)
                finally:
                    with contextlib.suppress(error):
                        spooler.ClosePrinter(handle)
        pages = len(indexes)
        numbers = ", ".join(str(job) for job in jobs)
        return (
            f"Spooled {pages} page{'s' if pages > 1 else ''} to {printer}"
            f" (Windows job{'s' if runs > 1 else ''} {numbers})"
        )

    def _job_devmode(self, printer: str, handle: Any, document: Document) -> tuple[Any, int]:
        """The printer's DEVMODE with the job's options set, merged by its driver; and
        how many spooler documents to draw (1, or the copies when the driver cannot
        make collated copies itself)."""
        info = self._win.spooler.GetPrinter(handle, 2)
        devmode = info["pDevMode"]
        if devmode is None:
            raise PrintFailed(f"the driver of {printer} gives no print settings (DEVMODE)")
        driver = self._driver(printer, info.get("pPortName") or "")
        media = self._media(printer, driver, document.options)
        copies = document.copies
        by_driver = copies == 1 or (driver.max_copies >= copies and driver.collate)
        set_options(devmode, document.options, media, copies if by_driver else 1)
        if not driver.duplex and document.options.duplex not in {None, "one-sided"}:
            log.warning("windows_option_unsupported", printer=printer, option="duplex")
        if not driver.color and document.options.color:
            log.warning("windows_option_unsupported", printer=printer, option="color")
        mode = win32.DM_IN_BUFFER | win32.DM_OUT_BUFFER
        result = self._win.spooler.DocumentProperties(0, handle, printer, devmode, devmode, mode)
        if result is not None and result < 0:
            raise PrintFailed(f"the driver of {printer} refused the print settings")
        if media.paper is not None and devmode.PaperSize != media.paper:
            raise PrintFailed(
                f"the driver of {printer} would not print on {media.paper_name}"
                f" (it chose paper {devmode.PaperSize})"
            )
        return devmode, 1 if by_driver else copies

    def _media(self, printer: str, driver: Driver, options: PrintOptions) -> Media:
        media = Media()
        if options.paper:
            paper, paper_name = choose(
                printer, "paper", options.paper, driver.papers, STANDARD_PAPERS
            )
            media = Media(paper=paper, paper_name=paper_name)
        if options.media:
            number, name = choose(printer, "tray", options.media, driver.bins, STANDARD_BINS)
            media = Media(media.paper, media.paper_name, number, name)
        return media

    def _sheet(self, hdc: Any) -> Sheet:
        def caps(index: int) -> int:
            return int(self._win.spooler.GetDeviceCaps(hdc, index))

        return Sheet(
            printable_width=caps(win32.HORZRES),
            printable_height=caps(win32.VERTRES),
            paper_width=caps(win32.PHYSICALWIDTH),
            paper_height=caps(win32.PHYSICALHEIGHT),
            offset_x=caps(win32.PHYSICALOFFSETX),
            offset_y=caps(win32.PHYSICALOFFSETY),
            dpi_x=caps(win32.LOGPIXELSX),
            dpi_y=caps(win32.LOGPIXELSY),
        )

    def _spool(
        self,
        hdc: Any,
        pdf: PdfPages,
        *,
        pages: list[int],
        sheet: Sheet,
        document: Document,
        printing: _Printing,
        run: int,
        runs: int,
    ) -> int:
        """One spooler document of the pages; AbortDoc (the spooler drops it) if anything
        fails or the job is cancelled before its end."""
        spooler = self._win.spooler
        title = _title(document)
        if runs > 1:
            title = f"{title[: MAX_TITLE - 20]} ({run + 1} of {runs})"
        options = document.options
        job = spooler.StartDoc(hdc, (title, None, None, 0))
        if job is not None and job <= 0:
            raise PrintFailed("the spooler would not start the document")
        try:
            for index in pages:
                self._draw_page(hdc, pdf, index, sheet=sheet, printing=printing, options=options)
            spooler.EndDoc(hdc)
        except BaseException:
            with contextlib.suppress(self._win.error):
                spooler.AbortDoc(hdc)
            raise
        return int(job)

    def _draw_page(
        self,
        hdc: Any,
        pdf: PdfPages,
        index: int,
        *,
        sheet: Sheet,
        printing: _Printing,
        options: PrintOptions,
    ) -> None:
        """Render one page and draw it on a page of the device context; its bitmap lives
        only for this page."""
        if printing.cancelled.is_set():
            raise PrintFailed("cancelled while printing")
        spooler = self._win.spooler
        width, height = pdf.size(index)
        if width <= 0 or height <= 0:
            raise PrintFailed(f"page {index + 1} of the document has no size")
        placement = place(width, height, sheet, options.fit_to_page)
        grayscale = options.color is False
        with pdf.rendered(index, placement, grayscale=grayscale) as image:
            bitmap = self._win.image_win.Dib(image)
            spooler.StartPage(hdc)
            bitmap.draw(hdc, placement.rectangle)
            spooler.EndPage(hdc)

    # PDF, through SumatraPDF

    async def _print_with_sumatra(self, program: Path, printer: str, document: Document) -> str:
        if not await anyio.Path(program).is_file():
            raise PrintFailed(
                f"SumatraPDF is not at {program} (sumatra_path in the agent configuration)"
            )
        options = document.options
        media = Media()
        if options.paper or options.media:
            media = await anyio.to_thread.run_sync(self._media_of, printer, options)
        settings = sumatra.print_settings(
            options, document.copies, paper=media.paper, bin_name=media.bin_name
        )
        with tempfile.TemporaryDirectory(
            prefix="printcloud-", ignore_cleanup_errors=True
        ) as folder:
            path = Path(folder) / "document.pdf"
            await anyio.to_thread.run_sync(path.write_bytes, document.data)
            arguments = sumatra.command(program, printer, path, settings)
            log.info("sumatra_print", printer=printer, settings=settings)
            await sumatra.run(arguments, printer, self._sumatra_timeout)
        return f"Printed on {printer} with SumatraPDF"

    def _media_of(self, printer: str, options: PrintOptions) -> Media:
        spooler = self._win.spooler
        with windows_errors(self._win, f"reading the papers and trays of {printer}"):
            handle = spooler.OpenPrinter(printer, None)
            try:
                port = spooler.GetPrinter(handle, 2).get("pPortName") or ""
            finally:
                with contextlib.suppress(self._win.error):
                    spooler.ClosePrinter(handle)
            return self._media(printer, self._driver(printer, port), options)


def set_options(devmode: Any, options: PrintOptions, media: Media, copies: int) -> None:
    """The job's options in the DEVMODE, each with its dmFields bit. What is not asked
    for keeps the printer's default."""
    fields = int(devmode.Fields)
    devmode.Copies = copies
    devmode.Collate = win32.DMCOLLATE_TRUE
    fields |= win32.DM_COPIES | win32.DM_COLLATE
    if options.duplex is not None:
        devmode.Duplex = DUPLEX[options.duplex]
        fields |= win32.DM_DUPLEX
    if options.color is not None:
        devmode.Color = win32.DMCOLOR_COLOR if options.color else win32.DMCOLOR_MONOCHROME
        fields |= win32.DM_COLOR
    if media.paper is not None:
        devmode.PaperSize = media.paper
        # A length, width or form name in the defaults would win over dmPaperSize.
        fields = (fields | win32.DM_PAPERSIZE) & ~(
            win32.DM_PAPERLENGTH | win32.DM_PAPERWIDTH | win32.DM_FORMNAME
        )
    if media.bin is not None:
        devmode.DefaultSource = media.bin
        fields |= win32.DM_DEFAULTSOURCE
    devmode.Fields = fields


def _title(document: Document) -> str:
    return (document.title.strip() or f"PrintCloud job {document.job_id}")[:MAX_TITLE]
