"""Where the Windows backend meets Windows: the one import seam for pywin32, the Windows
SDK numbers it passes to it, and the mapping of pywin32's errors to PrintFailed.

Every Windows module the backend uses is loaded by :func:`load_win32`, through
``importlib``: on Windows that is pywin32 (and Pillow's ImageWin, which draws a bitmap
with StretchDIBits); the tests put a faithful fake of the same calls in ``sys.modules``
(``tests/helpers/win32_fake.py``), as no Windows spooler runs on the CI machines.

The numbers are the Windows SDK's (``wingdi.h``, ``winspool.h``), as Microsoft's
documentation of DEVMODE, DeviceCapabilities, GetDeviceCaps, DocumentProperties and
PRINTER_INFO_2 gives them. They are fixed by the ABI; pywin32's ``win32con`` has the
same names, which a test compares when it runs on Windows.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from printcloud.agent.printers.base import PrintFailed

# The modules of the seam, as imported; a fake of each must answer the same calls.
MODULES = ("win32print", "win32gui", "pywintypes", "PIL.ImageWin")
# The package that brings a module, for the message when it is missing.
PACKAGES = {
    "win32print": "pywin32",
    "win32gui": "pywin32",
    "pywintypes": "pywin32",
    "PIL": "pillow",
    "PIL.ImageWin": "pillow",
    "pypdfium2": "pypdfium2",
}


@dataclass(frozen=True)
class Win32:
    """The loaded modules. Any-typed: pywin32 ships no type information."""

    spooler: Any  # win32print: EnumPrinters, OpenPrinter, DocumentProperties, StartDoc...
    gui: Any  # win32gui: CreateDC with a DEVMODE, DeleteDC
    types: Any  # pywintypes: the ``error`` every pywin32 call raises
    image_win: Any  # PIL.ImageWin: Dib(image).draw(hdc, rectangle), StretchDIBits

    @property
    def error(self) -> type[BaseException]:
        error: type[BaseException] = self.types.error
        return error


def load_win32(import_module: Callable[[str], ModuleType] = importlib.import_module) -> Win32:
    """Import the modules; ImportError (with ``name`` set) when one is missing."""
    spooler, gui, types, image_win = (import_module(name) for name in MODULES)
    return Win32(spooler=spooler, gui=gui, types=types, image_win=image_win)


def missing_message(error: ImportError) -> str:
    """What to tell the person starting the agent when a module is missing."""
    module = error.name or ""
    package = PACKAGES.get(module, PACKAGES.get(module.partition(".")[0], "pywin32"))
    return (
        f"The Windows printers need {package}, which this agent cannot load "
        f"({error}). Install it into the agent's Python (python -m pip install {package}) "
        'or reinstall the PrintCloud agent; or set "windows": false in the agent '
        "configuration to run without the Windows printers."
    )


@contextmanager
def windows_errors(win32: Win32, doing: str) -> Iterator[None]:
    """pywin32's ``pywintypes.error`` (winerror, funcname, strerror) as PrintFailed."""
    try:
        yield
    except win32.error as exc:
        raise PrintFailed(f"{doing}: {describe(exc)}") from None


def describe(error: BaseException) -> str:
    strerror = getattr(error, "strerror", None) or str(error)
    funcname = getattr(error, "funcname", None)
    winerror = getattr(error, "winerror", None)
    where = f"{funcname}, " if funcname else ""
    return f"{str(strerror).strip().rstrip('.')} ({where}Windows error {winerror})"


# winspool.h: EnumPrinters flags, PRINTER_INFO_2 Status and Attributes


PRINTER_ENUM_LOCAL = 0x00000002
PRINTER_ENUM_CONNECTIONS = 0x00000004

PRINTER_STATUS_PAUSED = 0x00000001
PRINTER_STATUS_ERROR = 0x00000002
PRINTER_STATUS_PENDING_DELETION = 0x00000004
PRINTER_STATUS_PAPER_JAM = 0x00000008
PRINTER_STATUS_PAPER_OUT = 0x00000010
PRINTER_STATUS_MANUAL_FEED = 0x00000020
PRINTER_STATUS_PAPER_PROBLEM = 0x00000040
PRINTER_STATUS_OFFLINE = 0x00000080
PRINTER_STATUS_IO_ACTIVE = 0x00000100
PRINTER_STATUS_BUSY = 0x00000200
PRINTER_STATUS_PRINTING = 0x00000400
PRINTER_STATUS_OUTPUT_BIN_FULL = 0x00000800
PRINTER_STATUS_NOT_AVAILABLE = 0x00001000
PRINTER_STATUS_WAITING = 0x00002000
PRINTER_STATUS_PROCESSING = 0x00004000
PRINTER_STATUS_INITIALIZING = 0x00008000
PRINTER_STATUS_WARMING_UP = 0x00010000
PRINTER_STATUS_TONER_LOW = 0x00020000
PRINTER_STATUS_NO_TONER = 0x00040000
PRINTER_STATUS_PAGE_PUNT = 0x00080000
PRINTER_STATUS_USER_INTERVENTION = 0x00100000
PRINTER_STATUS_OUT_OF_MEMORY = 0x00200000
PRINTER_STATUS_DOOR_OPEN = 0x00400000
PRINTER_STATUS_SERVER_UNKNOWN = 0x00800000
PRINTER_STATUS_POWER_SAVE = 0x01000000

PRINTER_ATTRIBUTE_WORK_OFFLINE = 0x00000400
PRINTER_ATTRIBUTE_RAW_ONLY = 0x00001000

# wingdi.h: DeviceCapabilities' capabilities


DC_PAPERS = 2
DC_BINS = 6
DC_DUPLEX = 7
DC_BINNAMES = 12
DC_PAPERNAMES = 16
DC_COPIES = 18
DC_COLLATE = 22
DC_COLORDEVICE = 32

# wingdi.h: GetDeviceCaps' indexes

HORZRES = 8  # printable width, device pixels
VERTRES = 10  # printable height
LOGPIXELSX = 88  # dots per inch
LOGPIXELSY = 90
PHYSICALWIDTH = 110  # the whole sheet, device pixels
PHYSICALHEIGHT = 111
PHYSICALOFFSETX = 112  # from the sheet's edge to the printable area
PHYSICALOFFSETY = 113

# wingdi.h: DEVMODE's dmFields bits and values

DM_ORIENTATION = 0x00000001
DM_PAPERSIZE = 0x00000002
DM_PAPERLENGTH = 0x00000004
DM_PAPERWIDTH = 0x00000008
DM_COPIES = 0x00000100
DM_DEFAULTSOURCE = 0x00000200
DM_COLOR = 0x00000800
DM_DUPLEX = 0x00001000
DM_COLLATE = 0x00008000
DM_FORMNAME = 0x00010000

DMCOLLATE_FALSE = 0
DMCOLLATE_TRUE = 1
DMDUP_SIMPLEX = 1
DMDUP_VERTICAL = 2  # long edge
DMDUP_HORIZONTAL = 3  # short edge
DMCOLOR_MONOCHROME = 1
DMCOLOR_COLOR = 2

DMPAPER_LETTER = 1
DMPAPER_TABLOID = 3
DMPAPER_LEDGER = 4
DMPAPER_LEGAL = 5
DMPAPER_STATEMENT = 6
DMPAPER_EXECUTIVE = 7
DMPAPER_A3 = 8
DMPAPER_A4 = 9
DMPAPER_A5 = 11
DMPAPER_ENV_10 = 20
DMPAPER_ENV_DL = 27
DMPAPER_ENV_C5 = 28
DMPAPER_ENV_C4 = 30
DMPAPER_ENV_C6 = 31
DMPAPER_A2 = 66
DMPAPER_A6 = 70

DMBIN_UPPER = 1
DMBIN_LOWER = 2
DMBIN_MIDDLE = 3
DMBIN_MANUAL = 4
DMBIN_ENVELOPE = 5
DMBIN_AUTO = 7
DMBIN_TRACTOR = 8
DMBIN_LARGECAPACITY = 11

# wingdi.h / winspool.h: DocumentProperties' modes, and its success

DM_OUT_BUFFER = 2  # DM_COPY: write the merged DEVMODE to the output buffer
DM_IN_BUFFER = 8  # DM_MODIFY: merge the input DEVMODE's fields into the driver's
IDOK = 1
