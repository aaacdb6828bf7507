"""Checks on a job's document before it is accepted."""

from __future__ import annotations

import base64
import binascii
import re

from printcloud.server.errors import BadRequest, PayloadTooLarge
from printcloud.server.jobs.schemas import ContentType
from printcloud.server.outbound import url_problem

_WHITESPACE = re.compile(rb"\s+")
# The PDF header may follow a little junk; readers look for it in the first 1024 bytes.
_PDF_HEADER_WINDOW = 1024


def check_content(
    content_type: ContentType, content: str, *, allow_private_urls: bool, max_document_size: int
) -> None:
    if content_type.is_uri:
        problem = url_problem(content.strip(), allow_private=allow_private_urls)
        if problem:
            raise BadRequest(f"content: {problem}")
        return
    try:
        data = base64.b64decode(_WHITESPACE.sub(b"", content.encode("ascii")), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise BadRequest("content: not valid base64 data") from exc
    if not data:
        raise BadRequest("content: the document is empty")
    if len(data) > max_document_size:
        raise PayloadTooLarge(
            f"content: the document is {len(data)} bytes; the limit is {max_document_size}"
        )
    if content_type.is_pdf and b"%PDF-" not in data[:_PDF_HEADER_WINDOW]:
        raise BadRequest(
            "content: the decoded data is not a PDF document (no %PDF- header); "
            "send other data as raw_base64"
        )
