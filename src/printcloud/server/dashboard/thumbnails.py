"""A small PNG of a PDF's first page, for the job page."""

from __future__ import annotations

import base64
import binascii
import io
import re

import pypdfium2

_WHITESPACE = re.compile(rb"\s+")
WIDTH = 240  # pixels: enough to recognise a page, small enough to render on every view


def first_page_png(content_base64: str) -> bytes | None:
    """The first page as PNG, or None when the data is not a PDF that pdfium can read.

    Blocking (pdfium renders on the CPU): call it in a thread.
    """
    try:
        data = base64.b64decode(_WHITESPACE.sub(b"", content_base64.encode("ascii")))
    except (binascii.Error, UnicodeEncodeError):
        return None
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        return None
    try:
        if len(document) == 0:
            return None
        page = document[0]
        width, _ = page.get_size()
        bitmap = page.render(scale=WIDTH / max(width, 1.0))
        image = bitmap.to_pil()
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    finally:
        document.close()
