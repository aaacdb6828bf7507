"""Which URLs the server will let a customer point it (or an agent) at.

This is the check made when a URL is accepted (a webhook, a document URI):
http or https only, a host, and no loopback, private, link-local, CGNAT,
multicast, unspecified or otherwise non-global address literal, nor
``localhost``, unless ``PRINTCLOUD_ALLOW_PRIVATE_URLS`` is set. Names are
checked again against their resolved addresses when a request is made.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public_address(address.ipv4_mapped)
    # ``is_global`` is False for loopback, private, link-local, CGNAT (100.64/10),
    # unspecified and reserved ranges; multicast can be "global", so it is checked too.
    return address.is_global and not address.is_multicast


def url_problem(url: str, *, allow_private: bool) -> str | None:  # noqa: PLR0911 - one check per reason
    """Why ``url`` is refused, or None when it is acceptable."""
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    if any(ch.isspace() for ch in url):
        return "the URL must not contain spaces"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError as exc:
        return f"the URL is malformed ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        return "the URL must start with http:// or https://"
    if not host:
        return "the URL has no host"
    if allow_private:
        return None
    address = _address(host)
    if address is not None and not is_public_address(address):
        return f"the address {host} is not a public address"
    if host == "localhost" or host.endswith(".localhost"):
        return "the host localhost is not a public address"
    return None
