"""``/metrics``: the server's figures (:mod:`printcloud.server.metrics`) in Prometheus's
text format, for the operator's Prometheus (docs/metrics.md).

Operations, not the API: left out of the OpenAPI document (API.md's contract), and
read only by whom the operator chose. With ``PRINTCLOUD_METRICS_TOKEN`` set, the
scraper sends it as ``Authorization: Bearer``; without one, only an address of
``PRINTCLOUD_METRICS_ALLOW_FROM`` (loopback by default) is answered, and never a
request that came through a proxy: a reverse proxy on the same host would otherwise
make the whole internet look like loopback. Nor is one a browser sent (``Origin``,
``Sec-Fetch-Site``): a web page open on the server's host would read it as loopback.

Computers and printers by state are read from the database at each scrape, so every
instance of a cluster answers the same figures for the whole server (a count kept in
each process would only know its own sockets). The rest is counted in the processes;
with ``PRINTCLOUD_METRICS_DIR`` a scrape adds up every process of the host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from collections.abc import Iterable

import structlog
from fastapi import APIRouter, Request, Response
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from printcloud.server import metrics
from printcloud.server.availability import DependencyUnavailable
from printcloud.server.computers import service as computers
from printcloud.server.db.database import Database
from printcloud.server.deps import PortsDep
from printcloud.server.errors import Forbidden, PrintCloudError
from printcloud.server.settings import Settings

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

# A scrape answers within Prometheus's default timeout (10 s) whatever the database does.
READ_TIMEOUT = 2.0
# Set by a proxy that forwarded the request: its own address is not the client's.
_PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")
# Sent by browsers, never by Prometheus: a web page open on the server's host (another
# origin, or a DNS-rebound name of loopback) must not read what loopback may.
_BROWSER_HEADERS = ("origin", "sec-fetch-site")

Counts = tuple[dict[str, int], dict[str, int]]


class TokenRequired(PrintCloudError):
    status_code = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="PrintCloud metrics"'})


def check_access(request: Request, settings: Settings) -> None:
    """Let the scrape through, or raise what to answer (401, 403)."""
    token = settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise TokenRequired("Metrics require Authorization: Bearer <PRINTCLOUD_METRICS_TOKEN>")
        expected = token.get_secret_value().encode()
        if not secrets.compare_digest(given.strip().encode(), expected):
            raise TokenRequired("Invalid metrics token")
        return
    if any(name in request.headers for name in _PROXY_HEADERS):
        raise Forbidden(
            "Metrics are not served through a proxy without a token: set PRINTCLOUD_METRICS_TOKEN"
        )
    if any(name in request.headers for name in _BROWSER_HEADERS):
        raise Forbidden("Metrics are not served to browsers without a token")
    if not _allowed(request.client.host if request.client else None, settings):
        raise Forbidden(
            "Metrics are served to PRINTCLOUD_METRICS_ALLOW_FROM only, or with"
            " PRINTCLOUD_METRICS_TOKEN"
        )


def _allowed(host: str | None, settings: Settings) -> bool:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:  # a Unix socket, a test client's made-up name
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in settings.metrics_networks)


@router.get("/metrics")
async def scrape(request: Request, ports: PortsDep) -> Response:
    check_access(request, ports.settings)
    body = generate_latest(_Scrape(metrics.collector(), await _presence(ports.database)))
    # The classic text format, which every Prometheus reads (our names need no UTF-8).
    return Response(body, media_type=CONTENT_TYPE_PLAIN_0_0_4)


async def _presence(database: Database) -> Counts | None:
    """Computers and printers by state, or None (and no such series this scrape) while
    the database does not answer: the process's own figures are still worth having."""
    try:
        async with asyncio.timeout(READ_TIMEOUT), database.sessionmaker() as session:
            return await computers.count_by_state(session)
    except (TimeoutError, DependencyUnavailable, SQLAlchemyError, OSError) as exc:
        log.info("metrics_presence_not_read", error=type(exc).__name__)
        return None


class _Scrape(Collector):
    """The processes' figures, then the database's."""

    def __init__(self, processes: Collector, presence: Counts | None) -> None:
        self._processes = processes
        self._presence = presence

    def collect(self) -> Iterable[Metric]:
        yield from self._processes.collect()
        if self._presence is None:
            return
        computer_states, printer_states = self._presence
        yield _by_state(
            "printcloud_computers",
            "Computers by state (online: an agent is connected), read from the database:"
            " the whole server's, alike on every instance.",
            computer_states,
        )
        yield _by_state(
            "printcloud_printers",
            "Printers by state, read from the database: the whole server's, alike on every"
            " instance.",
            printer_states,
        )


def _by_state(name: str, documentation: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["state"])
    for state, count in counts.items():
        family.add_metric([state], count)
    return family
