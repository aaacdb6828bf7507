"""A PDF's pages as bitmaps for a printer, one page at a time, and where each goes on
the sheet. pypdfium2 renders (it runs anywhere; the Windows backend draws the bitmaps
through GDI); the placement is arithmetic, tested without a printer.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pypdfium2

from printcloud.agent.printers.base import PrintFailed

# PDFium is not thread-safe: one call at a time in the process, whichever printer
# prints. Rendering dominates; drawing and spooling happen outside the lock.
_PDFIUM = threading.Lock()

POINTS_PER_INCH = 72
MAX_RENDER_DPI = 300  # finer than this costs memory and time, not sharpness on paper
MIN_RENDER_DPI = 72
# A page's bitmap is held whole while it is drawn: A3 at 300 dpi is 17 million pixels
# (52 MB in colour). A larger page (a poster, a drawing) is rendered coarser instead.
MAX_PIXELS = 40_000_000
FIT_TOLERANCE = 1.01  # a page 1% larger than the sheet (rounding, bleed) still "fits"


@dataclass(frozen=True)
class Sheet:
    """What GetDeviceCaps says of a printer's device context, in device pixels."""

    printable_width: int  # HORZRES
    printable_height: int  # VERTRES
    paper_width: int  # PHYSICALWIDTH
    paper_height: int  # PHYSICALHEIGHT
    offset_x: int  # PHYSICALOFFSETX: from the sheet's left edge to the printable area
    offset_y: int  # PHYSICALOFFSETY
    dpi_x: int  # LOGPIXELSX
    dpi_y: int  # LOGPIXELSY


@dataclass(frozen=True)
class Placement:
    """How to render a page and where to draw it."""

    rotation: int  # degrees clockwise, for pypdfium2: 0, or 270 for a landscape page
    scale: float  # bitmap pixels per PDF point
    # The destination, in the device context's coordinates: (0, 0) is the printable
    # area's top left corner, so the sheet's edge is at (-offset_x, -offset_y).
    rectangle: tuple[int, int, int, int]  # left, top, right, bottom


def place(
    page_width: float, page_height: float, sheet: Sheet, fit_to_page: bool | None
) -> Placement:
    """Where a page of ``page_width`` x ``page_height`` points goes on ``sheet``.

    - ``fit_to_page`` True: scaled (up or down, keeping its proportions) to the
      printable area, and centred in it.
    - False: at the document's own size, centred on the sheet; what falls outside
      the printable area is not printed.
    - None (the option not given): at its own size when it fits on the sheet, else
      shrunk as for True, so that an A4 document on Letter paper loses nothing.

    A landscape page on a portrait sheet (or the reverse) is turned a quarter
    (counterclockwise, as Windows turns landscape), so that it fills the sheet.
    """
    landscape_page = page_width > page_height
    landscape_sheet = sheet.paper_width * sheet.dpi_y > sheet.paper_height * sheet.dpi_x
    rotation = 270 if page_width != page_height and landscape_page != landscape_sheet else 0
    if rotation:
        page_width, page_height = page_height, page_width
    # The page at its own size, in device pixels.
    width = page_width / POINTS_PER_INCH * sheet.dpi_x
    height = page_height / POINTS_PER_INCH * sheet.dpi_y
    fits = (
        width <= sheet.paper_width * FIT_TOLERANCE and height <= sheet.paper_height * FIT_TOLERANCE
    )
    if fit_to_page or (fit_to_page is None and not fits):
        factor = min(sheet.printable_width / width, sheet.printable_height / height)
        width, height = width * factor, height * factor
        left = (sheet.printable_width - width) / 2
        top = (sheet.printable_height - height) / 2
    else:
        factor = 1.0
        left = (sheet.paper_width - width) / 2 - sheet.offset_x
        top = (sheet.paper_height - height) / 2 - sheet.offset_y
    dpi = max(min(sheet.dpi_x, MAX_RENDER_DPI), MIN_RENDER_DPI)
    scale = dpi / POINTS_PER_INCH * factor
    pixels = page_width * page_height * scale * scale
    if pixels > MAX_PIXELS:
        scale *= math.sqrt(MAX_PIXELS / pixels)
    rectangle = (round(left), round(top), round(left + width), round(top + height))
    return Placement(rotation=rotation, scale=scale, rectangle=rectangle)


def page_indexes(ranges: list[tuple[int, int]], count: int) -> list[int]:
    """The pages to print, from 0: all of them, or those of ``ranges`` (from 1, as
    PrintOptions.page_ranges gives them) that the document has."""
    if not ranges:
        return list(range(count))
    return [page - 1 for first, last in ranges for page in range(first, min(last, count) + 1)]


class PdfPages:
    """An open PDF. Blocking (PDFium renders on the CPU): use it in a thread."""

    def __init__(self, data: bytes) -> None:
        with _PDFIUM:
            try:
                self._document: Any = pypdfium2.PdfDocument(data)
            except pypdfium2.PdfiumError as exc:
                raise PrintFailed(f"the document is not a PDF that can be printed: {exc}") from None
            try:
                # Form fields print with their values filled in; must come before the pages.
                self._document.init_forms()
                self.count: int = len(self._document)
            except BaseException:
                self._document.close()
                raise

    def size(self, index: int) -> tuple[float, float]:
        """Width and height of the page, in points, as it is shown (its /Rotate applied)."""
        with _PDFIUM:
            page = self._document[index]
            try:
                width, height = page.get_size()
            finally:
                page.close()
        return float(width), float(height)

    @contextmanager
    def rendered(self, index: int, placement: Placement, *, grayscale: bool) -> Iterator[Any]:
        """The page as a PIL image ("RGB", or "L" in grayscale), alive for the ``with``.

        The image may share PDFium's buffer, which is freed on leaving: only one page's
        bitmap exists at a time.
        """
        with _PDFIUM:
            page = self._document[index]
            try:
                bitmap = page.render(
                    scale=placement.scale,
                    rotation=placement.rotation,
                    grayscale=grayscale,
                    may_draw_forms=True,
                    draw_annots=True,
                    optimize_mode="print",
                )
            except BaseException:
                page.close()
                raise
        try:
            yield bitmap.to_pil()
        finally:
            with _PDFIUM:
                bitmap.close()
                page.close()

    def close(self) -> None:
        with _PDFIUM:
            self._document.close()

    def __enter__(self) -> PdfPages:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
