from __future__ import annotations

import pytest

from printcloud.outbound import url_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/invoice.pdf",
        "http://example.com:8080/a?b=c",
        "https://93.184.216.34/doc.pdf",
        "https://[2606:4700::1111]/x",
        "HTTPS://EXAMPLE.COM/",
        # Digits and dots that no resolver reads as an address are names, checked when resolved.
        "http://1.2.3.4.5/",
        "http://0x/",
        "http://cafe.de/",
        # A legacy form of a public address is as acceptable as the usual one.
        "http://0x5db8d822/",
    ],
)
def test_public_http_urls_are_accepted(url: str) -> None:
    assert url_problem(url, allow_private=False) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/a", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https://", "no host"),
        ("https://exa mple.com/", "spaces"),
        ("http://example.com:70000/", "malformed"),
        ("http://127.0.0.1/", "not a public address"),
        ("http://10.1.2.3/", "not a public address"),
        ("http://172.16.0.1/", "not a public address"),
        ("http://192.168.1.10/", "not a public address"),
        ("http://169.254.169.254/latest/meta-data", "not a public address"),
        ("http://100.64.0.1/", "not a public address"),
        ("http://0.0.0.0/", "not a public address"),
        ("http://224.0.0.1/", "not a public address"),
        ("http://[::1]/", "not a public address"),
        ("http://[::]/", "not a public address"),
        ("http://[fe80::1]/", "not a public address"),
        ("http://[fc00::1]/", "not a public address"),
        ("http://[ff02::1]/", "not a public address"),
        ("http://[::ffff:127.0.0.1]/", "not a public address"),
        # What C resolvers read as IPv4 addresses, though ``ipaddress`` does not.
        ("http://0x7f000001/", "(127.0.0.1) is not a public address"),
        ("http://2130706433/", "(127.0.0.1) is not a public address"),
        ("http://0177.0.0.1/", "(127.0.0.1) is not a public address"),
        ("http://127.1/", "(127.0.0.1) is not a public address"),
        ("http://0x7f.1/", "(127.0.0.1) is not a public address"),
        ("http://0XA000001/", "(10.0.0.1) is not a public address"),
        ("http://0/", "(0.0.0.0) is not a public address"),
        ("http://127.0.0.1./", "not a public address"),
        ("http://localhost./", "localhost"),
        ("http://localhost/", "localhost"),
        ("http://api.localhost/", "localhost"),
        ("https://example.com/" + "a" * 2100, "longer than"),
        # Python's urlsplit reads the host as example.com; WHATWG parsers (browsers,
        # many HTTP clients) turn the backslash into a slash and read 127.0.0.1.
        ("http://127.0.0.1:8080\\@example.com/x", "backslash"),
        ("https://example.com\\.evil/x", "backslash"),
        ("https://example.com/a\x00b", "control characters"),
    ],
)
def test_refused_urls_say_why(url: str, reason: str) -> None:
    problem = url_problem(url, allow_private=False)
    assert problem is not None
    assert reason in problem


def test_private_addresses_are_allowed_when_configured() -> None:
    assert url_problem("http://127.0.0.1:9000/hook", allow_private=True) is None
    assert url_problem("http://localhost/hook", allow_private=True) is None
    # The scheme and the URL's form are checked all the same.
    assert url_problem("file:///etc/passwd", allow_private=True) is not None
    assert url_problem("http://127.0.0.1:1\\@example.com/", allow_private=True) is not None
