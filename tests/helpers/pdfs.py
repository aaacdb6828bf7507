"""PDFs whose pages can be told apart once rendered: each page is filled with a grey of
its own, so the centre of a page's bitmap says which page it was."""

from __future__ import annotations

from collections.abc import Sequence

from tests.helpers.documents import pdf_of

A4 = (595.0, 842.0)  # points
A5 = (420.0, 595.0)
A3 = (842.0, 1191.0)


def shade_of_page(number: int) -> int:
    """The grey (0-255) of page ``number`` (from 1) in a shaded_pdf."""
    return 20 * number


def shaded_pdf(
    pages: int = 1,
    size: tuple[float, float] = A4,
    sizes: Sequence[tuple[float, float]] = (),
    rotate: int = 0,
) -> bytes:
    """A valid PDF of ``pages`` pages of ``size`` points (or one page per ``sizes``), page n
    filled with the grey shade_of_page(n), each turned by ``rotate`` degrees (/Rotate)."""
    sizes = list(sizes) or [size] * pages
    count = len(sizes)
    # Objects: 1 catalog, 2 page tree, then a page and its content for each page.
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(count)), count),
    ]
    for number, (width, height) in enumerate(sizes, 1):
        grey = shade_of_page(number) / 255
        stream = b"%.4f g 0 0 %.2f %.2f re f" % (grey, width, height)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Rotate %d"
            b" /Contents %d 0 R >>" % (width, height, rotate, 4 + 2 * (number - 1))
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return pdf_of(objects)
