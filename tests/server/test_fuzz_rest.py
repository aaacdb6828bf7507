"""The REST API fuzzed from its own OpenAPI document by Schemathesis, on each backend.

Schemathesis (its command line, the tool's stable interface) runs every phase against
a real uvicorn serving PrintCloud, authenticated with a real account's key: examples,
the coverage of each parameter's edges and of undocumented methods, random valid and
invalid requests, and sequences of calls. Every response must be a documented status
with a body that fits the document, never a 5xx, and every 4xx ``{"code", "message"}``
JSON (``tests/helpers/fuzz_checks.py``). Another account's objects must come out as
they went in.

Bounded for CI by ``PRINTCLOUD_FUZZ_EXAMPLES`` (cases per operation and phase, 10 by
default) and a fixed ``PRINTCLOUD_FUZZ_SEED``; raise the one and vary the other to
search longer (docs/security.md).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.jobs import printer_id
from tests.helpers.memory import rss_bytes
from tests.helpers.server_process import ServerProcess
from tests.helpers.tenants import furnish, holdings

EXAMPLES = int(os.environ.get("PRINTCLOUD_FUZZ_EXAMPLES", "10"))
SEED = os.environ.get("PRINTCLOUD_FUZZ_SEED", "17")
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
ROOT = Path(__file__).resolve().parents[2]
# The server's memory may grow by what its caches, pools and allocator keep: this bound
# catches a request that makes it allocate without limit, not a leak of a few objects.
MEMORY_GROWTH_BOUND = 256 * 1024 * 1024

# What the run leaves out, and why:
# - positive_data_acceptance: a request that fits the document may still be refused with
#   400 for what a JSON schema cannot say: an `after` that names no job of the account, a
#   webhook URL that is not http(s), page ranges, a list of ids with an empty one.
EXCLUDED_CHECKS = "positive_data_acceptance"


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """``printcloud serve`` in a process of its own, as deployed: its memory is its own
    to measure, and it serves with uvloop, several times quicker than a server in the
    test's event loop. No webhook worker: the fuzzed webhooks point at generated hosts
    that no test may call (nor resolve). No agent connects, so no document is
    downloaded either."""
    env = {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path / "server"),
        "PRINTCLOUD_DATABASE_URL": database_url,
        "PRINTCLOUD_LOG_LEVEL": "warning",
        "PRINTCLOUD_RATE_LIMIT": "100000/s",
        "PRINTCLOUD_RUN_WEBHOOK_WORKER": "false",
    }
    process = ServerProcess(env, tmp_path / "serve.log")
    try:
        await asyncio.to_thread(process.wait_ready)
        yield process
    finally:
        process.stop()


async def test_the_api_answers_fuzzed_requests_within_its_document(
    server: ServerProcess, runtime: Runtime, tmp_path: Path
) -> None:
    owner = await make_account(runtime)
    other = await make_account(runtime)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        for account in (owner, other):
            # offline: no agent holds them, and the sweep would say so midway
            await account.add_computer(
                runtime, printers=("HP LaserJet Pro", "Zebra"), state="offline"
            )
            await furnish(http, account, await printer_id(http, account, "Zebra"))
        before = await holdings(http, other)
        memory_before = rss_bytes(server.process.pid)

        print(
            await schemathesis_run(server.url, owner, tmp_path)
        )  # shown by pytest -s, or on a failure

        assert rss_bytes(server.process.pid) - memory_before < MEMORY_GROWTH_BOUND
        assert await holdings(http, other) == before


async def schemathesis_run(url: str, account: TestAccount, workdir: Path) -> str:
    """``schemathesis run`` against the server at ``url`` as ``account``; its report, or a
    failure with it. It keeps its cache of failures under ``workdir``."""
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        f"{url}/api/openapi.json",
        "--auth",
        f"{account.auth()[0]}:",
        "--checks",
        "all",
        "--exclude-checks",
        EXCLUDED_CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--no-color",
        cwd=workdir,
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.helpers.fuzz_checks",
            "PYTHONPATH": str(ROOT),
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    stdout, _ = await process.communicate()
    report = stdout.decode(errors="replace")
    assert process.returncode == 0, report
    return report
