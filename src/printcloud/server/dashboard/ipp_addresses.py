"""[ext] The addresses at which a printer answers IPP, built from the server's public
address as the dashboard builds its other absolute URLs (``install.server_url``).

IPP's own schemes default to port 631, which PrintCloud does not listen on: the port is
always written out, 80 or 443 when the public address leaves it implied.
"""

from __future__ import annotations

import shlex
import string
from dataclasses import dataclass
from urllib.parse import urlsplit

# The paths the IPP endpoint answers (``/ipp/print/<printer id>`` with an API key as
# the user name, ``/ipp/share/<token>`` with nothing else).
PRINT_PATH = "/ipp/print/{}"
SHARE_PATH = "/ipp/share/{}"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_QUEUE_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_-")


@dataclass(frozen=True)
class IppAddress:
    ipp: str  # ipp:// or ipps:// (behind TLS): macOS, Linux, CUPS, iOS profiles
    http: str  # the same resource as http(s)://: Windows's "shared printer by name"
    host: str
    port: int
    host_port: str  # what macOS's IP tab calls the address
    queue: str  # and its queue: the path, without its first slash
    tls: bool

    def lpadmin(self, queue_name: str) -> str:
        """The command that adds it to CUPS (Linux, macOS) without a driver."""
        return f"lpadmin -p {shlex.quote(queue_name)} -E -v {shlex.quote(self.ipp)} -m everywhere"


def address(server: str, path: str) -> IppAddress:
    """``server`` as ``install.server_url`` gives it (scheme, host, port, root path)."""
    parts = urlsplit(server)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    resource = parts.path.rstrip("/") + path
    ipp_scheme = "ipps" if parts.scheme == "https" else "ipp"
    return IppAddress(
        ipp=f"{ipp_scheme}://{host}:{port}{resource}",
        http=f"{parts.scheme}://{parts.netloc}{resource}",
        host=host,
        port=port,
        host_port=f"{host}:{port}",
        queue=resource.lstrip("/"),
        tls=parts.scheme == "https",
    )


def print_address(server: str, printer_id: str) -> IppAddress:
    return address(server, PRINT_PATH.format(printer_id))


def share_address(server: str, token: str) -> IppAddress:
    return address(server, SHARE_PATH.format(token))


def queue_name(printer_name: str) -> str:
    """A CUPS queue name for the printer (letters, digits, ``-`` and ``_``)."""
    name = "".join(c if c in _QUEUE_CHARACTERS else "_" for c in printer_name).strip("_")
    return name[:100] or "PrintCloud"
