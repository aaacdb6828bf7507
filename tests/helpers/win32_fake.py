"""A fake of the pywin32 calls the Windows backend makes, for the machines without Windows.

``FakeWindows(printers).install(monkeypatch)`` puts modules named ``win32print``,
``win32gui``, ``pywintypes`` and ``PIL.ImageWin`` in ``sys.modules``, where the backend's
one import seam (``printers.win32.load_win32``, through importlib) finds them. They
answer as pywin32 and a printer driver do, by the same signatures:

- ``EnumPrinters``/``GetPrinter`` give PRINTER_INFO_2 dictionaries (``pPrinterName``,
  ``pPortName``, ``pDriverName``, ``pDevMode``, ``Status``, ``Attributes``...);
- ``DeviceCapabilities`` answers DC_PAPERS, DC_PAPERNAMES, DC_BINS, DC_BINNAMES,
  DC_DUPLEX, DC_COLORDEVICE, DC_COPIES and DC_COLLATE from the printer's description;
- ``DocumentProperties`` merges a DEVMODE as a driver does (what the printer cannot do
  is put back to what it can);
- ``CreateDC``/``GetDeviceCaps`` describe the sheet of the DEVMODE's paper at the
  printer's resolution, with its unprintable margins;
- the document calls (``StartDoc``... ``EndDoc``, ``StartDocPrinter``...
  ``EndDocPrinter``) keep the order Windows requires and raise ``pywintypes.error``
  otherwise, as an out-of-order call fails there.

Everything is recorded: ``calls`` (each call, in order, with its arguments) and
``documents`` (what reached the spooler: the DEVMODE a GDI document was made with, the
bitmaps drawn on each page, a RAW document's bytes).

The numbers are written out here from Microsoft's documentation (wingdi.h, winspool.h),
not imported from the code under test, so that a wrong number there fails a test.
"""

from __future__ import annotations

import itertools
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

# winspool.h
PRINTER_ENUM_LOCAL = 0x2
PRINTER_ENUM_CONNECTIONS = 0x4
PRINTER_STATUS_PAUSED = 0x1
PRINTER_STATUS_ERROR = 0x2
PRINTER_STATUS_PAPER_JAM = 0x8
PRINTER_STATUS_PAPER_OUT = 0x10
PRINTER_STATUS_OFFLINE = 0x80
PRINTER_STATUS_TONER_LOW = 0x20000
PRINTER_ATTRIBUTE_LOCAL = 0x40
PRINTER_ATTRIBUTE_NETWORK = 0x10
PRINTER_ATTRIBUTE_WORK_OFFLINE = 0x400
PRINTER_ATTRIBUTE_RAW_ONLY = 0x1000
# wingdi.h: DeviceCapabilities
DC_PAPERS = 2
DC_BINS = 6
DC_DUPLEX = 7
DC_BINNAMES = 12
DC_PAPERNAMES = 16
DC_COPIES = 18
DC_COLLATE = 22
DC_COLORDEVICE = 32
# wingdi.h: GetDeviceCaps
HORZSIZE = 4
VERTSIZE = 6
HORZRES = 8
VERTRES = 10
LOGPIXELSX = 88
LOGPIXELSY = 90
PHYSICALWIDTH = 110
PHYSICALHEIGHT = 111
PHYSICALOFFSETX = 112
PHYSICALOFFSETY = 113
# wingdi.h: DEVMODE
DM_ORIENTATION = 0x1
DM_PAPERSIZE = 0x2
DM_PAPERLENGTH = 0x4
DM_PAPERWIDTH = 0x8
DM_COPIES = 0x100
DM_DEFAULTSOURCE = 0x200
DM_COLOR = 0x800
DM_DUPLEX = 0x1000
DM_COLLATE = 0x8000
DM_FORMNAME = 0x10000
DMORIENT_PORTRAIT = 1
DMORIENT_LANDSCAPE = 2
DMCOLLATE_FALSE = 0
DMCOLLATE_TRUE = 1
DMDUP_SIMPLEX = 1
DMDUP_VERTICAL = 2
DMDUP_HORIZONTAL = 3
DMCOLOR_MONOCHROME = 1
DMCOLOR_COLOR = 2
DMPAPER_LETTER = 1
DMPAPER_LEGAL = 5
DMPAPER_EXECUTIVE = 7
DMPAPER_A3 = 8
DMPAPER_A4 = 9
DMPAPER_A5 = 11
DMBIN_UPPER = 1
DMBIN_LOWER = 2
DMBIN_MANUAL = 4
DMBIN_AUTO = 7
DM_OUT_BUFFER = 2
DM_IN_BUFFER = 8
IDOK = 1
# winerror.h
ERROR_FILE_NOT_FOUND = 2
ERROR_INVALID_HANDLE = 6
ERROR_INVALID_PARAMETER = 87
ERROR_INVALID_LEVEL = 124
ERROR_INVALID_PRINTER_NAME = 1801
RPC_S_SERVER_UNAVAILABLE = 1722


class Win32Error(Exception):
    """pywintypes.error: args (winerror, funcname, strerror), and the same as attributes."""

    def __init__(self, winerror: int, funcname: str, strerror: str) -> None:
        super().__init__(winerror, funcname, strerror)
        self.winerror = winerror
        self.funcname = funcname
        self.strerror = strerror


# PyDEVMODE's attributes: setting any other name fails, as it does on the real object.
DEVMODE_ATTRIBUTES = (
    *("SpecVersion", "DriverVersion", "Size", "DriverExtra", "Fields", "Orientation"),
    *("PaperSize", "PaperLength", "PaperWidth", "Position_x", "Position_y", "Scale"),
    *("DisplayOrientation", "DisplayFixedOutput", "Copies", "DefaultSource", "PrintQuality"),
    *("Color", "Duplex", "YResolution", "TTOption", "Collate", "LogPixels", "BitsPerPel"),
    *("PelsWidth", "PelsHeight", "DisplayFlags", "DisplayFrequency", "ICMMethod", "ICMIntent"),
    *("MediaType", "DitherType", "Reserved1", "Reserved2", "Nup", "PanningWidth"),
    *("PanningHeight", "DeviceName", "FormName", "DriverData"),
)


class FakeDevMode:
    __slots__ = (*DEVMODE_ATTRIBUTES, "assigned")
    assigned: list[tuple[str, Any]]

    def __init__(self, **values: Any) -> None:
        for name in DEVMODE_ATTRIBUTES:
            object.__setattr__(self, name, values.get(name, 0))
        object.__setattr__(self, "assigned", [])  # (attribute, value) the code set, in order

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in DEVMODE_ATTRIBUTES:
            raise AttributeError(f"'PyDEVMODE' object has no attribute '{name}'")
        if not isinstance(value, int) and name not in {"DeviceName", "FormName", "DriverData"}:
            raise TypeError(f"DEVMODE.{name} takes an integer, not {value!r}")
        object.__setattr__(self, name, value)
        self.assigned.append((name, value))

    def __getattr__(self, name: str) -> Any:  # only for the type checker: all are set
        raise AttributeError(f"'PyDEVMODE' object has no attribute '{name}'")

    def copy(self) -> FakeDevMode:
        return FakeDevMode(**{name: getattr(self, name) for name in DEVMODE_ATTRIBUTES})

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DEVMODE_ATTRIBUTES}


@dataclass(frozen=True)
class Paper:
    number: int  # DMPAPER_*
    name: str  # as the driver names it (DC_PAPERNAMES)
    width: int  # tenths of a millimetre, portrait
    height: int


LETTER = Paper(DMPAPER_LETTER, "Letter", 2159, 2794)
LEGAL = Paper(DMPAPER_LEGAL, "Legal", 2159, 3556)
A4 = Paper(DMPAPER_A4, "A4", 2100, 2970)
A3 = Paper(DMPAPER_A3, "A3", 2970, 4200)
A5 = Paper(DMPAPER_A5, "A5", 1480, 2100)
EXECUTIVE = Paper(DMPAPER_EXECUTIVE, "Executive", 1842, 2667)
BINS = ((DMBIN_AUTO, "Automatically Select"), (DMBIN_UPPER, "Tray 1"), (DMBIN_LOWER, "Tray 2"))


@dataclass
class FakePrinter:
    """A printer and what its driver answers."""

    name: str
    port: str = "USB001"
    driver: str = "Generic PCL 6 Driver"
    papers: tuple[Paper, ...] = (LETTER, A4, LEGAL)
    bins: tuple[tuple[int, str], ...] = BINS
    duplex: bool = True
    color: bool = True
    max_copies: int = 999
    collate: bool = True
    dpi: int = 600
    margin: float = 1 / 6  # inches the printer cannot print at each edge
    status: int = 0
    attributes: int = PRINTER_ATTRIBUTE_LOCAL
    connection: bool = False  # a printer of a print server (PRINTER_ENUM_CONNECTIONS)
    default_paper: int = DMPAPER_A4
    unreachable: bool = False  # DeviceCapabilities fails: the print server is away
    quirk_drops_paper: bool = False  # DocumentProperties puts the default paper back
    devmode_fields: int = DM_ORIENTATION | DM_PAPERSIZE | DM_COPIES | DM_COLOR | DM_DUPLEX

    def default_devmode(self) -> FakeDevMode:
        return FakeDevMode(
            DeviceName=self.name[:31],
            SpecVersion=0x401,
            Size=220,
            DriverExtra=1024,
            Fields=self.devmode_fields,
            Orientation=DMORIENT_PORTRAIT,
            PaperSize=self.default_paper,
            Copies=1,
            DefaultSource=DMBIN_AUTO,
            Color=DMCOLOR_COLOR if self.color else DMCOLOR_MONOCHROME,
            Duplex=DMDUP_SIMPLEX,
            Collate=DMCOLLATE_FALSE,
            PrintQuality=self.dpi,
        )

    def paper(self, number: int) -> Paper:
        for paper in self.papers:
            if paper.number == number:
                return paper
        return self.paper(self.default_paper)


@dataclass
class Drawing:
    """A bitmap drawn on a page (ImageWin.Dib(image).draw(hdc, dst))."""

    mode: str  # "RGB" or "L", as Pillow's Dib keeps it
    size: tuple[int, int]
    rectangle: tuple[int, int, int, int]
    shade: int  # the grey at the bitmap's centre: which page of a shaded PDF it is


@dataclass
class SpooledDocument:
    printer: str
    name: str
    job_id: int
    datatype: str | None  # "RAW" for StartDocPrinter's; None for a GDI document
    devmode: dict[str, Any] | None = None  # the DEVMODE of the device context (GDI)
    pages: list[list[Drawing]] = field(default_factory=list)
    data: bytearray = field(default_factory=bytearray)
    state: str = "open"  # "ended" (EndDoc, EndDocPrinter) or "aborted"
    in_page: bool = False

    @property
    def shades(self) -> list[int]:
        """The shade of the one bitmap of each page."""
        return [drawings[0].shade for drawings in self.pages]


@dataclass
class _Handle:
    """A PyPRINTER_HANDLE."""

    number: int
    printer: FakePrinter
    closed: bool = False
    document: SpooledDocument | None = None

    def __int__(self) -> int:
        return self.number


@dataclass
class _DeviceContext:
    printer: FakePrinter
    devmode: FakeDevMode
    deleted: bool = False
    document: SpooledDocument | None = None


class FakeWindows:
    def __init__(self, printers: list[FakePrinter], default: str | None = None) -> None:
        self.printers = {printer.name: printer for printer in printers}
        self.default = default
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.documents: list[SpooledDocument] = []
        self.handles: list[_Handle] = []
        self.contexts: dict[int, _DeviceContext] = {}
        self.fail: dict[str, Win32Error] = {}  # a call's name -> the error it raises
        self.write_limit: int | None = None  # WritePrinter takes at most this many bytes
        self.on_page_drawn: Callable[[SpooledDocument], None] | None = None
        self._numbers = itertools.count(0x1000)
        self._job_ids = itertools.count(1)

    # setting up

    def modules(self) -> dict[str, types.ModuleType]:
        win32print = types.ModuleType("win32print")
        for name in (
            *("EnumPrinters", "GetDefaultPrinter", "OpenPrinter", "ClosePrinter", "GetPrinter"),
            *("DocumentProperties", "DeviceCapabilities", "GetDeviceCaps"),
            *("StartDoc", "StartPage", "EndPage", "EndDoc", "AbortDoc"),
            *("StartDocPrinter", "StartPagePrinter", "WritePrinter", "EndPagePrinter"),
            *("EndDocPrinter", "AbortPrinter"),
        ):
            setattr(win32print, name, self._recorded(name, getattr(self, name)))
        win32print.error = Win32Error  # type: ignore[attr-defined]
        win32gui = types.ModuleType("win32gui")
        win32gui.CreateDC = self._recorded("CreateDC", self.CreateDC)  # type: ignore[attr-defined]
        win32gui.DeleteDC = self._recorded("DeleteDC", self.DeleteDC)  # type: ignore[attr-defined]
        win32gui.error = Win32Error  # type: ignore[attr-defined]
        pywintypes = types.ModuleType("pywintypes")
        pywintypes.error = Win32Error  # type: ignore[attr-defined]
        pywintypes.DEVMODEType = FakeDevMode  # type: ignore[attr-defined]
        image_win = types.ModuleType("PIL.ImageWin")
        image_win.Dib = self._dib_class()  # type: ignore[attr-defined]
        return {
            "win32print": win32print,
            "win32gui": win32gui,
            "pywintypes": pywintypes,
            "PIL.ImageWin": image_win,
        }

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FakeWindows:
        for name, module in self.modules().items():
            monkeypatch.setitem(sys.modules, name, module)
        return self

    # reading what happened

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def args(self, name: str) -> list[tuple[Any, ...]]:
        return [args for called, args in self.calls if called == name]

    def assert_released(self) -> None:
        """Every printer handle closed, device context deleted, document ended or aborted."""
        assert all(handle.closed for handle in self.handles)
        assert all(context.deleted for context in self.contexts.values())
        assert all(document.state != "open" for document in self.documents)

    # the calls

    def _recorded(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            self.calls.append((name, args))
            if name in self.fail:
                raise self.fail.pop(name)
            return function(*args)

        call.__name__ = name
        return call

    def _printer(self, name: str, funcname: str) -> FakePrinter:
        if name not in self.printers:
            raise Win32Error(ERROR_INVALID_PRINTER_NAME, funcname, "The printer name is invalid.")
        return self.printers[name]

    def _open(self, handle: Any, funcname: str) -> _Handle:
        if not isinstance(handle, _Handle) or handle.closed:
            raise Win32Error(ERROR_INVALID_HANDLE, funcname, "The handle is invalid.")
        return handle

    def _context(self, hdc: Any, funcname: str) -> _DeviceContext:
        context = self.contexts.get(int(hdc))
        if context is None or context.deleted:
            raise Win32Error(ERROR_INVALID_HANDLE, funcname, "The handle is invalid.")
        return context

    def _info(self, printer: FakePrinter) -> dict[str, Any]:
        """PRINTER_INFO_2, as pywin32 gives it."""
        return {
            "pServerName": r"\\PRINTSERVER" if printer.connection else None,
            "pPrinterName": printer.name,
            "pShareName": "",
            "pPortName": printer.port,
            "pDriverName": printer.driver,
            "pComment": "",
            "pLocation": "",
            "pDevMode": printer.default_devmode(),
            "pSepFile": "",
            "pPrintProcessor": "winprint",
            "pDatatype": "RAW",
            "pParameters": "",
            "pSecurityDescriptor": None,
            "Attributes": printer.attributes,
            "Priority": 1,
            "DefaultPriority": 0,
            "StartTime": 0,
            "UntilTime": 0,
            "Status": printer.status,
            "cJobs": 0,
            "AveragePPM": 0,
        }

    def EnumPrinters(self, flags: int, name: str | None = None, level: int = 1) -> Any:  # noqa: N802
        wanted = [
            p
            for p in self.printers.values()
            if (p.connection and flags & PRINTER_ENUM_CONNECTIONS)
            or (not p.connection and flags & PRINTER_ENUM_LOCAL)
        ]
        if level == 1:
            return tuple((0x800000, f"{p.name},{p.driver},", p.name, "") for p in wanted)
        if level == 2:
            return tuple(self._info(p) for p in wanted)
        raise Win32Error(
            ERROR_INVALID_LEVEL, "EnumPrinters", "The system call level is not correct."
        )

    def GetDefaultPrinter(self) -> str:  # noqa: N802
        if self.default is None:
            raise Win32Error(
                ERROR_FILE_NOT_FOUND,
                "GetDefaultPrinter",
                "The system cannot find the file specified.",
            )
        return self.default

    def OpenPrinter(self, name: str, defaults: Any = None) -> _Handle:  # noqa: N802
        handle = _Handle(next(self._numbers), self._printer(name, "OpenPrinter"))
        self.handles.append(handle)
        return handle

    def ClosePrinter(self, handle: Any) -> None:  # noqa: N802
        self._open(handle, "ClosePrinter").closed = True

    def GetPrinter(self, handle: Any, level: int = 1) -> Any:  # noqa: N802
        printer = self._open(handle, "GetPrinter").printer
        if level != 2:
            raise Win32Error(
                ERROR_INVALID_LEVEL, "GetPrinter", "The system call level is not correct."
            )
        return self._info(printer)

    def DocumentProperties(  # noqa: N802
        self, hwnd: int, handle: Any, name: str, output: Any, given: Any, mode: int
    ) -> int:
        printer = self._open(handle, "DocumentProperties").printer
        if mode == 0:
            return 220 + 1024  # the size of the driver's DEVMODE
        merged = printer.default_devmode()
        if mode & DM_IN_BUFFER and given is not None:
            for bit, attribute in (
                (DM_ORIENTATION, "Orientation"),
                (DM_PAPERSIZE, "PaperSize"),
                (DM_COPIES, "Copies"),
                (DM_DEFAULTSOURCE, "DefaultSource"),
                (DM_COLOR, "Color"),
                (DM_DUPLEX, "Duplex"),
                (DM_COLLATE, "Collate"),
            ):
                if given.Fields & bit:
                    object.__setattr__(merged, attribute, getattr(given, attribute))
            object.__setattr__(merged, "Fields", given.Fields)
        # What the printer cannot do goes back to what it can, as drivers do.
        papers = {paper.number for paper in printer.papers}
        if merged.PaperSize not in papers or printer.quirk_drops_paper:
            object.__setattr__(merged, "PaperSize", printer.default_paper)
        if merged.DefaultSource not in {number for number, _ in printer.bins}:
            object.__setattr__(merged, "DefaultSource", DMBIN_AUTO)
        object.__setattr__(merged, "Copies", max(1, min(merged.Copies, printer.max_copies)))
        if not printer.duplex:
            object.__setattr__(merged, "Duplex", DMDUP_SIMPLEX)
        if not printer.color:
            object.__setattr__(merged, "Color", DMCOLOR_MONOCHROME)
        if not printer.collate:
            object.__setattr__(merged, "Collate", DMCOLLATE_FALSE)
        if mode & DM_OUT_BUFFER:
            if output is None:
                raise Win32Error(
                    ERROR_INVALID_PARAMETER, "DocumentProperties", "The parameter is incorrect."
                )
            for attribute, value in merged.fields().items():
                object.__setattr__(output, attribute, value)
        return IDOK

    def DeviceCapabilities(  # noqa: N802
        self, device: str, port: str, capability: int, devmode: Any = None
    ) -> Any:
        printer = self._printer(device, "DeviceCapabilities")
        if printer.unreachable:
            raise Win32Error(
                RPC_S_SERVER_UNAVAILABLE, "DeviceCapabilities", "The RPC server is unavailable."
            )
        answers: dict[int, Any] = {
            DC_PAPERS: [paper.number for paper in printer.papers],
            DC_PAPERNAMES: [paper.name for paper in printer.papers],
            DC_BINS: [number for number, _ in printer.bins],
            DC_BINNAMES: [name for _, name in printer.bins],
            DC_DUPLEX: int(printer.duplex),
            DC_COLORDEVICE: int(printer.color),
            DC_COPIES: printer.max_copies,
            DC_COLLATE: int(printer.collate),
        }
        if capability not in answers:
            raise AssertionError(f"the fake does not answer DeviceCapabilities {capability}")
        return answers[capability]

    def GetDeviceCaps(self, hdc: Any, index: int) -> int:  # noqa: N802
        context = self._context(hdc, "GetDeviceCaps")
        printer = context.printer
        paper = printer.paper(context.devmode.PaperSize)
        width, height = paper.width, paper.height
        if context.devmode.Orientation == DMORIENT_LANDSCAPE:
            width, height = height, width
        margin = round(printer.margin * printer.dpi)
        paper_width = round(width / 254 * printer.dpi)
        paper_height = round(height / 254 * printer.dpi)
        answers = {
            LOGPIXELSX: printer.dpi,
            LOGPIXELSY: printer.dpi,
            PHYSICALWIDTH: paper_width,
            PHYSICALHEIGHT: paper_height,
            PHYSICALOFFSETX: margin,
            PHYSICALOFFSETY: margin,
            HORZRES: paper_width - 2 * margin,
            VERTRES: paper_height - 2 * margin,
            HORZSIZE: round((paper_width - 2 * margin) * 25.4 / printer.dpi),
            VERTSIZE: round((paper_height - 2 * margin) * 25.4 / printer.dpi),
        }
        return answers.get(index, 0)

    def CreateDC(self, driver: str, device: str, devmode: Any) -> int:  # noqa: N802
        if driver != "WINSPOOL":
            raise Win32Error(ERROR_INVALID_PARAMETER, "CreateDC", "The parameter is incorrect.")
        printer = self._printer(device, "CreateDC")
        hdc = next(self._numbers)
        chosen = devmode.copy() if devmode is not None else printer.default_devmode()
        self.contexts[hdc] = _DeviceContext(printer, chosen)
        return hdc

    def DeleteDC(self, hdc: Any) -> None:  # noqa: N802
        context = self._context(hdc, "DeleteDC")
        if context.document is not None and context.document.state == "open":
            context.document.state = "aborted"  # the spooler drops a document left open
        context.deleted = True

    def StartDoc(self, hdc: Any, docinfo: Any) -> int:  # noqa: N802
        context = self._context(hdc, "StartDoc")
        name, _output, datatype, _kind = docinfo  # DOCINFO: (DocName, Output, DataType, Type)
        if context.document is not None and context.document.state == "open":
            raise Win32Error(ERROR_INVALID_PARAMETER, "StartDoc", "The parameter is incorrect.")
        document = SpooledDocument(
            printer=context.printer.name,
            name=name,
            job_id=next(self._job_ids),
            datatype=datatype,
            devmode=context.devmode.fields(),
        )
        context.document = document
        self.documents.append(document)
        return document.job_id

    def _document(self, hdc: Any, funcname: str, *, in_page: bool | None = None) -> SpooledDocument:
        document = self._context(hdc, funcname).document
        if (
            document is None
            or document.state != "open"
            or (in_page is not None and document.in_page != in_page)
        ):
            raise Win32Error(ERROR_INVALID_PARAMETER, funcname, "The parameter is incorrect.")
        return document

    def StartPage(self, hdc: Any) -> int:  # noqa: N802
        document = self._document(hdc, "StartPage", in_page=False)
        document.in_page = True
        document.pages.append([])
        return 1

    def EndPage(self, hdc: Any) -> int:  # noqa: N802
        document = self._document(hdc, "EndPage", in_page=True)
        document.in_page = False
        if self.on_page_drawn is not None:
            self.on_page_drawn(document)
        return 1

    def EndDoc(self, hdc: Any) -> int:  # noqa: N802
        self._document(hdc, "EndDoc", in_page=False).state = "ended"
        return 1

    def AbortDoc(self, hdc: Any) -> int:  # noqa: N802
        document = self._document(hdc, "AbortDoc")
        document.state, document.in_page = "aborted", False
        return 1

    def StartDocPrinter(self, handle: Any, level: int, info: Any) -> int:  # noqa: N802
        opened = self._open(handle, "StartDocPrinter")
        if level != 1:
            raise Win32Error(
                ERROR_INVALID_LEVEL, "StartDocPrinter", "The system call level is not correct."
            )
        name, _output, datatype = info  # DOC_INFO_1: (pDocName, pOutputFile, pDatatype)
        if opened.document is not None and opened.document.state == "open":
            raise Win32Error(
                ERROR_INVALID_PARAMETER, "StartDocPrinter", "The parameter is incorrect."
            )
        document = SpooledDocument(
            printer=opened.printer.name, name=name, job_id=next(self._job_ids), datatype=datatype
        )
        opened.document = document
        self.documents.append(document)
        return document.job_id

    def _raw_document(self, handle: Any, funcname: str) -> SpooledDocument:
        document = self._open(handle, funcname).document
        if document is None or document.state != "open":
            raise Win32Error(ERROR_INVALID_PARAMETER, funcname, "The parameter is incorrect.")
        return document

    def StartPagePrinter(self, handle: Any) -> None:  # noqa: N802
        self._raw_document(handle, "StartPagePrinter").in_page = True

    def WritePrinter(self, handle: Any, data: bytes) -> int:  # noqa: N802
        document = self._raw_document(handle, "WritePrinter")
        taken = bytes(data)[: self.write_limit] if self.write_limit is not None else bytes(data)
        document.data += taken
        return len(taken)

    def EndPagePrinter(self, handle: Any) -> None:  # noqa: N802
        self._raw_document(handle, "EndPagePrinter").in_page = False

    def EndDocPrinter(self, handle: Any) -> None:  # noqa: N802
        self._raw_document(handle, "EndDocPrinter").state = "ended"

    def AbortPrinter(self, handle: Any) -> None:  # noqa: N802
        self._raw_document(handle, "AbortPrinter").state = "aborted"

    # PIL.ImageWin.Dib

    def _dib_class(self) -> type:
        fake = self

        class Dib:
            """Pillow's ImageWin.Dib: a copy of the image in a Windows bitmap."""

            def __init__(self, image: Any, size: tuple[int, int] | None = None) -> None:
                fake.calls.append(("Dib", (image.mode, image.size)))
                mode = image.mode if image.mode in {"1", "L", "P", "RGB"} else "RGB"
                self.mode, self.size = mode, image.size
                centre = image.getpixel((image.size[0] // 2, image.size[1] // 2))
                self.shade = centre[0] if isinstance(centre, tuple) else int(centre)

            def draw(self, handle: Any, dst: tuple[int, int, int, int], src: Any = None) -> None:
                fake.calls.append(("Dib.draw", (handle, dst)))
                document = fake._document(int(handle), "StretchDIBits", in_page=True)
                left, top, right, bottom = (int(v) for v in dst)
                rectangle = (left, top, right, bottom)
                document.pages[-1].append(Drawing(self.mode, self.size, rectangle, self.shade))

        return Dib
