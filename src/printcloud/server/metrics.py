"""What the server counts for the operator's Prometheus (``/metrics``, docs/metrics.md).

Each figure is counted once, in the service where the thing happens (the jobs service,
the agents' socket, webhook delivery, the rate limits, the dependencies' availability),
so every way in (the REST API, the fast intake path, the dashboard) is counted alike.
Labels are a few fixed words (a content type, a state, a reason): never an account, a
job, a computer or a URL, whose values grow without bound.

The label values known in advance are made here, at import, as children: a series
exists at zero from the start (a ``rate()`` over it is defined), and counting is one
``inc()`` on the child, with no label look-up on the hot path.

In the cluster shape several ``printcloud serve`` processes of one host share a
directory (``PRINTCLOUD_METRICS_DIR``): prometheus-client's multiprocess mode, chosen
when it is first imported (the command line sets ``PROMETHEUS_MULTIPROC_DIR`` before
anything of the server is imported). Each process writes its figures to files of its
own there, and a scrape of any one of them adds up those of all.
"""

from __future__ import annotations

import os
import re
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    values,
)

# Its multiprocess module has no annotations: its calls below say so.
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from printcloud.outbound import Failure
from printcloud.protocol.content import ContentType
from printcloud.protocol.job_states import FINAL_STATES, JobState
from printcloud.protocol.messages import AuthRefusal

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# A ``*_created`` timestamp beside every counter and histogram doubles the series for
# nothing Prometheus uses (the multiprocess mode has none anyway).
disable_created_metrics()  # type: ignore[no-untyped-call]

# A job waits for its computer: seconds when it is online, hours when it is not.
_JOB_BUCKETS = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    300.0, 1800.0, 3600.0, 6 * 3600.0, 24 * 3600.0,
)  # fmt: skip
# A receiver answers within PRINTCLOUD_WEBHOOK_TIMEOUT (10 s by default).
_WEBHOOK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# --- print jobs (jobs/service.py), counted once their transaction committed

JOBS_CREATED = Counter(
    "printcloud_jobs_created",
    "Print jobs accepted, by content type.",
    ["content_type"],
)
JOBS_CREATED_BY_TYPE = {t: JOBS_CREATED.labels(t.value) for t in ContentType}

JOB_STATES = Counter(
    "printcloud_job_states",
    "Jobs that reached each state (pending when accepted).",
    ["state"],
)
JOB_STATES_BY_STATE = {s: JOB_STATES.labels(s.value) for s in JobState}

JOB_DISPATCH_SECONDS = Histogram(
    "printcloud_job_dispatch_seconds",
    "From a job's creation (its POST) to its sent state, committed just before it is"
    " written to its agent's socket.",
    buckets=_JOB_BUCKETS,
)
JOB_COMPLETION_SECONDS = Histogram(
    "printcloud_job_completion_seconds",
    "From a job's creation (its POST) to its final state, by that state.",
    ["state"],
    buckets=_JOB_BUCKETS,
)
JOB_COMPLETION_BY_STATE = {s: JOB_COMPLETION_SECONDS.labels(s.value) for s in FINAL_STATES}

# What to record once a transaction commits (``effects.measure``): a counter's ``inc`` or
# a histogram's ``observe``, with its value.
Measure = tuple[Callable[[float], None], float]


def jobs_created(content_types: Iterable[str]) -> list[Measure]:
    """New jobs of these content types: counted by type, and as reaching ``pending``."""
    by_type = Tally(content_types)
    measures: list[Measure] = [
        (JOBS_CREATED_BY_TYPE[ContentType(t)].inc, float(n)) for t, n in by_type.items()
    ]
    measures.append((JOB_STATES_BY_STATE[JobState.PENDING].inc, float(by_type.total())))
    return measures


def job_moved(state: JobState, age: float) -> list[Measure]:
    """A job reached ``state``, ``age`` seconds after its POST: counted, and timed when
    it was sent or is over."""
    measures: list[Measure] = [(JOB_STATES_BY_STATE[state].inc, 1.0)]
    if state == JobState.SENT:
        measures.append((JOB_DISPATCH_SECONDS.observe, max(0.0, age)))
    elif state in FINAL_STATES:
        measures.append((JOB_COMPLETION_BY_STATE[state].observe, max(0.0, age)))
    return measures


# --- agents' sockets (agents/socket.py)

AGENT_HANDSHAKES_ACCEPTED = Counter(
    "printcloud_agent_handshakes_accepted",
    "Agent WebSocket connections authenticated (auth_ok sent).",
)
# Why a handshake was refused: the ``auth_error`` reasons, and the refusals before or
# instead of one (a 1013 or 1012 close, a first message too big or not JSON, the peer
# gone before it authenticated).
BUSY = "busy"
RESTARTING = "restarting"
DEPENDENCY_UNAVAILABLE = "dependency_unavailable"
TOO_BIG = "too_big"
MALFORMED = "malformed"
GONE = "gone"
HANDSHAKE_REFUSALS = (
    *(r.value for r in AuthRefusal),
    BUSY,
    RESTARTING,
    DEPENDENCY_UNAVAILABLE,
    TOO_BIG,
    MALFORMED,
    GONE,
)
AGENT_HANDSHAKES_REFUSED = Counter(
    "printcloud_agent_handshakes_refused",
    "Agent WebSocket connections refused or abandoned before authentication, by reason.",
    ["reason"],
)
HANDSHAKES_REFUSED_BY_REASON = {r: AGENT_HANDSHAKES_REFUSED.labels(r) for r in HANDSHAKE_REFUSALS}
AGENT_CONNECTIONS = Gauge(
    "printcloud_agent_connections",
    "Authenticated agent sockets open on this instance (summed over a host's processes).",
    multiprocess_mode="livesum",
)

# --- webhook delivery (webhooks/delivery.py), counted once the attempt is recorded

SUCCESS = "success"
CLIENT_ERROR = "client_error"  # a 4xx answer
SERVER_ERROR = "server_error"  # a 5xx answer
OTHER_STATUS = "other_status"  # 1xx or 3xx: not a success either
ERROR = "error"  # something else went wrong in the attempt
WEBHOOK_OUTCOMES = (
    SUCCESS,
    CLIENT_ERROR,
    SERVER_ERROR,
    OTHER_STATUS,
    *(f.value for f in Failure),
    ERROR,
)
WEBHOOK_DELIVERIES = Counter(
    "printcloud_webhook_deliveries",
    "Webhook delivery attempts, by outcome: success, client_error, server_error,"
    " other_status, or why no answer came.",
    ["outcome"],
)
WEBHOOK_DELIVERIES_BY_OUTCOME = {o: WEBHOOK_DELIVERIES.labels(o) for o in WEBHOOK_OUTCOMES}
WEBHOOK_DELIVERY_SECONDS = Histogram(
    "printcloud_webhook_delivery_seconds",
    "How long each webhook delivery attempt took, answered or not.",
    buckets=_WEBHOOK_BUCKETS,
)

# --- rate limits (accounts, dashboard sign-up)

API = "api"  # PRINTCLOUD_RATE_LIMIT, per account
LOGIN_EMAIL = "login_email"  # PRINTCLOUD_LOGIN_FAILURES_PER_EMAIL
LOGIN_ADDRESS = "login_address"  # PRINTCLOUD_LOGIN_FAILURES_PER_ADDRESS
SIGNUP = "signup"  # PRINTCLOUD_SIGNUPS_PER_ADDRESS
RESET_REQUESTS = "password_reset"  # PRINTCLOUD_RESET_REQUESTS_PER_ADDRESS and _PER_EMAIL
ACCOUNT_LINKS = "account_links"  # PRINTCLOUD_LINKS_PER_ACCOUNT: invitations and reset links
RATE_LIMITED = Counter(
    "printcloud_rate_limited",
    "Requests refused with 429 by a rate limit or throttle, by limit.",
    ["limit"],
)
RATE_LIMITED_BY_LIMIT = {
    name: RATE_LIMITED.labels(name)
    for name in (API, LOGIN_EMAIL, LOGIN_ADDRESS, SIGNUP, RESET_REQUESTS, ACCOUNT_LINKS)
}

# --- the services the server leans on (availability.py, db/outage.py)

DEPENDENCY_ERRORS = Counter(
    "printcloud_dependency_errors",
    "Calls that failed because a dependency did not answer, by dependency and by the"
    " part of the server that called it.",
    ["dependency", "client"],
)
DEPENDENCY_OUTAGES = Counter(
    "printcloud_dependency_outages",
    "Times a dependency stopped answering (after answering), by dependency and client.",
    ["dependency", "client"],
)
DEPENDENCY_AVAILABLE = Gauge(
    "printcloud_dependency_available",
    "1 while the dependency answers, 0 while it is away (the lowest of a host's processes).",
    ["dependency", "client"],
    multiprocess_mode="livemin",
)
DATABASE_ERRORS = Counter(
    "printcloud_database_errors",
    "Errors the database driver raised, by kind: unavailable, integrity (a constraint,"
    " often a race the code resolves), other.",
    ["kind"],
)
DATABASE_ERRORS_BY_KIND = {
    k: DATABASE_ERRORS.labels(k) for k in ("unavailable", "integrity", "other")
}


# --- the multiprocess directory


def multiprocess_directory() -> Path | None:
    """The directory this process writes its figures to, if it was set before
    prometheus-client was imported (else figures are this process's own)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory and getattr(values.ValueClass, "_multiprocess", False):
        return Path(directory)
    return None


def join_directory(directory: Path | None) -> None:
    """Check that ``directory`` (the setting) is the one this process writes to, and
    drop the live gauges of the processes that died there without saying so."""
    if directory is None:
        return
    if multiprocess_directory() != directory:
        raise RuntimeError(
            f"PRINTCLOUD_METRICS_DIR={directory} must be set before the server's modules are"
            " imported (`printcloud serve` and `printcloud worker` do it): prometheus-client"
            f" chooses its multiprocess mode when it is imported ({MULTIPROC_ENV}"
            f"={os.environ.get(MULTIPROC_ENV)!r})"
        )
    forget_dead_processes(directory)


def leave_directory() -> None:
    """This process stops: its live gauges (connections, availability) go; its counters
    and histograms stay in the directory, so the host's totals never go back."""
    directory = multiprocess_directory()
    if directory is not None:
        mark_process_dead(os.getpid(), str(directory))  # type: ignore[no-untyped-call]


_PID = re.compile(r"_(\d+)\.db$")


def forget_dead_processes(directory: Path) -> None:
    """``mark_process_dead`` for every process that left files in ``directory`` and runs
    no more (killed, crashed): its live gauges would otherwise be added up for ever."""
    if os.name != "posix":  # os.kill(pid, 0) asks on POSIX only; Windows would kill
        return
    for pid in _pids(directory.glob("*.db")):
        if not _running(pid):
            mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]


def _pids(files: Iterable[Path]) -> set[int]:
    return {int(m.group(1)) for f in files if (m := _PID.search(f.name))}


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: running
        return True
    return True


def collector() -> Collector:
    """What a scrape of this process exposes: every process of the host's directory
    added up, or this process's own registry (with Python's process figures)."""
    directory = multiprocess_directory()
    if directory is None:
        return REGISTRY
    forget_dead_processes(directory)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(directory))  # type: ignore[no-untyped-call]
    return registry


def set_available(dependency: str, client: str, available: bool) -> None:
    DEPENDENCY_AVAILABLE.labels(dependency, client).set(1 if available else 0)
