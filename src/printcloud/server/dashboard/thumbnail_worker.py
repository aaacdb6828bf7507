"""The render worker: ``python -m printcloud.server.dashboard.thumbnail_worker LIMIT``
reads a PDF on stdin and writes its first page's thumbnail, a PNG, on stdout.

The server starts one per thumbnail (:mod:`.thumbnails`), so that whatever pdfium
allocates for a hostile document is this process's, bounded by LIMIT bytes of address
space, and gone when it exits. How the render ended is the exit status (``Ending``);
stderr says why in a line that never quotes the document.
"""

from __future__ import annotations

import io
import sys

import pypdfium2
import pypdfium2.raw as pdfium_c
from PIL import Image

from printcloud.server.dashboard.thumbnail_contract import Ending, thumbnail_size

if sys.platform != "win32":
    import resource


class Refused(Exception):
    def __init__(self, ending: Ending, why: str) -> None:
        super().__init__(why)
        self.ending = ending


def first_page_png(pdf: bytes) -> bytes:
    """The first page, fitted into the thumbnail box, as PNG; ``Refused`` otherwise."""
    try:
        document = pypdfium2.PdfDocument(pdf)
    except pypdfium2.PdfiumError as exc:
        raise Refused(Ending.UNREADABLE, f"pdfium cannot open it ({exc})") from None
    try:
        if len(document) == 0:
            raise Refused(Ending.UNREADABLE, "the document has no pages")
        page = document[0]
        left, bottom, right, top = page.get_mediabox()
        width, height = abs(right - left), abs(top - bottom)
        # pdfium draws an empty MediaBox as a Letter page: refused instead.
        if thumbnail_size(width, height) is None:
            raise Refused(Ending.PAGE_REFUSED, f"MediaBox {width:g} x {height:g} pt refused")
        # The page as displayed, its /Rotate applied, is what is drawn.
        width, height = page.get_size()
        size = thumbnail_size(width, height)
        if size is None:
            raise Refused(Ending.PAGE_REFUSED, f"page size {width:g} x {height:g} pt refused")
        bitmap = pypdfium2.PdfBitmap.new_native(*size, pdfium_c.FPDFBitmap_BGR)
        bitmap.fill_rect((255, 255, 255, 255), 0, 0, *size)
        # Drawn at exactly the box's pixels (``page.render`` rounds a scale up).
        pdfium_c.FPDF_RenderPageBitmap(bitmap, page, 0, 0, *size, 0, pdfium_c.FPDF_ANNOT)
        image: Image.Image = bitmap.to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    except pypdfium2.PdfiumError as exc:  # a page it cannot load, a bitmap it cannot make
        raise Refused(Ending.UNREADABLE, f"pdfium cannot render it ({exc})") from None
    finally:
        document.close()


def limit_memory(limit: int) -> None:
    """At most ``limit`` bytes of address space from now on. Linux enforces it; macOS
    refuses RLIMIT_AS or ignores it, and Windows has no such limit: there the pixel box
    and the time limit are what bound a render."""
    if sys.platform != "win32" and sys.platform != "darwin":
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> int:
    limit = int(sys.argv[1])
    pdf = sys.stdin.buffer.read()  # its size is bounded by the server's document limit
    # Set once pdfium and Pillow are loaded and the input read: what counts against it is
    # what the document makes them do.
    limit_memory(limit)
    try:
        png = first_page_png(pdf)
    except Refused as exc:
        print(exc, file=sys.stderr)
        return exc.ending
    except MemoryError:
        print(f"the render needed more than the memory limit ({limit} bytes)", file=sys.stderr)
        return Ending.OUT_OF_MEMORY
    sys.stdout.buffer.write(png)
    return Ending.RENDERED


if __name__ == "__main__":
    sys.exit(main())
