"""What a thumbnail may be, shared by the server and the worker that renders it: the
box every first page is fitted into, the pages refused, and the exit codes by which
the worker says how a render ended. Free of pdfium, so the server can import it."""

from __future__ import annotations

import math
from enum import IntEnum

# Pixels. 240 is enough to recognise a page; 480 lets a receipt or a long label show
# its shape. A portrait A4 page fills 240 x 340, a landscape one 240 x 170.
BOX_WIDTH = 240
BOX_HEIGHT = 480
# Points. PDF's own largest page side (ISO 32000, annex C: 200 inches); pdfium reports
# a page's size without its /UserUnit, so a conforming page is never larger.
MAX_PAGE_SIDE = 14_400.0


class Ending(IntEnum):
    """The worker's exit status. Any other (an uncaught error, a signal) is a crash."""

    RENDERED = 0
    UNREADABLE = 2  # not a PDF pdfium can open, or one without pages
    PAGE_REFUSED = 3  # the first page's size is zero, negative, not a number or too large
    OUT_OF_MEMORY = 4  # the render asked for more than the worker's memory limit


def thumbnail_size(width: float, height: float) -> tuple[int, int] | None:
    """The pixels (width, height) a ``width`` x ``height`` point page (as displayed, its
    /Rotate applied) is drawn into: the largest that keeps its shape within the box, at
    least one pixel a side. None for a page no thumbnail is made of."""
    for side in (width, height):
        if not (math.isfinite(side) and 0 < side <= MAX_PAGE_SIDE):
            return None
    # Both sides: scaled by its width alone, a 1 x 14400 pt page asked for 3.3 GB.
    scale = min(BOX_WIDTH / width, BOX_HEIGHT / height)
    return (
        min(BOX_WIDTH, max(1, round(width * scale))),
        min(BOX_HEIGHT, max(1, round(height * scale))),
    )
