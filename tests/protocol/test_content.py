"""A document's checks, the same on the server and on the agent."""

from __future__ import annotations

import base64

import pytest

from printcloud.protocol.content import (
    ContentType,
    DocumentError,
    DocumentTooLarge,
    check_document,
    decode_base64,
    decode_document,
    job_title,
    looks_like_pdf,
)

PDF = b"%PDF-1.4\n%%EOF\n"


def test_content_types_say_how_the_document_comes_and_what_it_is() -> None:
    assert [(t.is_uri, t.is_pdf) for t in ContentType] == [
        (True, True),
        (False, True),
        (True, False),
        (False, False),
    ]


def test_base64_may_be_wrapped_in_lines() -> None:
    text = base64.encodebytes(b"x" * 200).decode()
    assert "\n" in text
    assert decode_base64(text) == b"x" * 200


@pytest.mark.parametrize("text", ["not base64!", "QUJ", "é"])
def test_what_is_not_base64_is_refused(text: str) -> None:
    with pytest.raises(DocumentError, match="base64"):
        decode_base64(text)


def test_the_pdf_header_may_follow_a_little_junk_but_not_a_kilobyte() -> None:
    assert looks_like_pdf(PDF)
    assert looks_like_pdf(b"\r\n" * 10 + PDF)
    assert not looks_like_pdf(b" " * 1024 + PDF)
    assert not looks_like_pdf(b"%PD")


def test_a_document_is_checked_for_emptiness_size_and_kind() -> None:
    assert check_document(ContentType.RAW_BASE64, b"^XA^XZ", max_bytes=6) == b"^XA^XZ"
    with pytest.raises(DocumentError, match="empty"):
        check_document(ContentType.RAW_BASE64, b"", max_bytes=10)
    with pytest.raises(DocumentTooLarge, match="7 bytes; the limit is 6"):
        check_document(ContentType.RAW_BASE64, b"^XA ^XZ", max_bytes=6)
    with pytest.raises(DocumentError, match="not a PDF"):
        check_document(ContentType.PDF_URI, b"^XA^XZ", max_bytes=10)
    assert check_document(ContentType.PDF_URI, PDF, max_bytes=100) == PDF


def test_decoding_checks_what_it_decoded() -> None:
    content = base64.b64encode(PDF).decode()
    assert decode_document(ContentType.PDF_BASE64, content, max_bytes=100) == PDF
    with pytest.raises(DocumentError, match="not a PDF"):
        decode_document(ContentType.PDF_BASE64, base64.b64encode(b"hello").decode(), max_bytes=9)


@pytest.mark.parametrize(
    ("given", "kept"), [("Invoice", "Invoice"), ("  Invoice #4 ", "Invoice #4"), ("  ", "Untitled")]
)
def test_a_title_is_trimmed_and_never_blank(given: str, kept: str) -> None:
    assert job_title(given) == kept
