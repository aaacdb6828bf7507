"""The "print a test page" document: a one-page PDF written by hand (no PDF library)."""

from __future__ import annotations

from datetime import datetime


def _escape(text: str) -> str:
    # Helvetica in a PDF string: ASCII only, with its three special characters escaped.
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_test_page(printer_name: str, computer_name: str, at: datetime) -> bytes:
    """An A4 page with a frame and who it was meant for, so a misrouted page is obvious."""
    lines = [
        (28, 760, "PrintCloud test page"),
        (14, 720, f"Printer: {printer_name}"),
        (14, 700, f"Computer: {computer_name}"),
        (14, 680, f"Sent: {at:%Y-%m-%d %H:%M:%S} UTC"),
        (11, 640, "If you can read this, the printer is connected to PrintCloud."),
    ]
    text = "".join(
        f"BT /F1 {size} Tf 72 {y} Td ({_escape(line)}) Tj ET\n" for size, y, line in lines
    )
    stream = "2 w 36 36 523 770 re S\n0.2 g 72 600 451 4 re f\n0 g\n" + text
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream.encode())} >>\nstream\n{stream}endstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
