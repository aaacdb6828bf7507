"""A job's document as the protocol describes it: its content type, and the checks that
both ends apply to the bytes (the server when it accepts a job, the agent before it
prints one).

Pure functions: no I/O, no HTTP. Downloading a ``*_uri`` document is the agent's (or
the server's) business; what the bytes must look like once had is decided here.
"""

from __future__ import annotations

import base64
import binascii
import re
from enum import StrEnum

# The PDF header may follow a little junk; readers look for it in the first 1024 bytes.
PDF_HEADER_WINDOW = 1024
DEFAULT_TITLE = "Untitled"
_WHITESPACE = re.compile(rb"\s+")


class ContentType(StrEnum):
    PDF_URI = "pdf_uri"
    PDF_BASE64 = "pdf_base64"
    RAW_URI = "raw_uri"
    RAW_BASE64 = "raw_base64"

    @property
    def is_uri(self) -> bool:
        return self.value.endswith("_uri")

    @property
    def is_pdf(self) -> bool:
        return self.value.startswith("pdf_")

    @property
    def as_base64(self) -> ContentType:
        """The type of the same document sent as its bytes."""
        return ContentType.PDF_BASE64 if self.is_pdf else ContentType.RAW_BASE64


class DocumentError(ValueError):
    """The document is not what its job says it is; the message says why."""


class DocumentTooLarge(DocumentError):
    """The document is larger than the limit of the side that checked it."""


def decode_base64(content: str) -> bytes:
    """The bytes of ``*_base64`` content; white space (line breaks of MIME) is allowed."""
    try:
        return base64.b64decode(_WHITESPACE.sub(b"", content.encode("ascii")), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise DocumentError("not valid base64 data") from None


def looks_like_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:PDF_HEADER_WINDOW]


def check_document(content_type: ContentType, data: bytes, *, max_bytes: int) -> bytes:
    """``data`` itself when it may be printed as ``content_type``; DocumentError if not."""
    if not data:
        raise DocumentError("the document is empty")
    if len(data) > max_bytes:
        raise DocumentTooLarge(f"the document is {len(data)} bytes; the limit is {max_bytes}")
    if content_type.is_pdf and not looks_like_pdf(data):
        what, instead = (
            ("downloaded document", ContentType.RAW_URI)
            if content_type.is_uri
            else ("decoded data", ContentType.RAW_BASE64)
        )
        raise DocumentError(
            f"the {what} is not a PDF document (no %PDF- header); send other data as {instead}"
        )
    return data


def decode_document(content_type: ContentType, content: str, *, max_bytes: int) -> bytes:
    """The checked bytes of ``*_base64`` content."""
    assert not content_type.is_uri, "a URI's document is downloaded, not decoded"
    return check_document(content_type, decode_base64(content), max_bytes=max_bytes)


def job_title(title: str) -> str:
    """The title a job is stored and printed with: trimmed, never blank."""
    return title.strip() or DEFAULT_TITLE
