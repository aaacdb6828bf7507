"""Checks on a job's document before it is accepted: the protocol's checks, answered
in the API's errors, and the URL policy of the server."""

from __future__ import annotations

from printcloud.outbound import url_problem
from printcloud.protocol.content import (
    ContentType,
    DocumentError,
    DocumentTooLarge,
    decode_document,
)
from printcloud.server.errors import BadRequest, PayloadTooLarge


def check_content(
    content_type: ContentType, content: str, *, allow_private_urls: bool, max_document_size: int
) -> str:
    """The content to store: a URI trimmed, base64 as it came. Raises BadRequest or
    PayloadTooLarge naming what is wrong."""
    if content_type.is_uri:
        url = content.strip()
        problem = url_problem(url, allow_private=allow_private_urls)
        if problem:
            raise BadRequest(f"content: {problem}")
        return url
    try:
        decode_document(content_type, content, max_bytes=max_document_size)
    except DocumentTooLarge as exc:
        raise PayloadTooLarge(f"content: {exc}") from None
    except DocumentError as exc:
        raise BadRequest(f"content: {exc}") from None
    return content
