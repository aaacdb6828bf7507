"""Two ``printcloud serve`` processes of one host sharing ``PRINTCLOUD_METRICS_DIR``, on
PostgreSQL and Redis as a cluster runs: a scrape of either adds up both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from printcloud.server.accounts.permissions import Permission
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import make_account
from tests.helpers.jobs import submit
from tests.helpers.metrics import scrape
from tests.helpers.server_process import ServerProcess
from tests.helpers.ws_agent import WsAgent

TOKEN = "cluster-scrape-token"
CREATED = "printcloud_jobs_created_total"


@pytest.fixture
def metrics_dir(tmp_path: Path) -> Path:
    return tmp_path / "metrics"  # `printcloud serve` makes it


@pytest.fixture
def instances(
    cluster_runtime: Runtime, tmp_path: Path, metrics_dir: Path
) -> Iterator[list[ServerProcess]]:
    env = {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path),
        "PRINTCLOUD_DATABASE_URL": cluster_runtime.settings.database_url,
        "PRINTCLOUD_REDIS_URL": cluster_runtime.settings.redis_url or "",
        "PRINTCLOUD_RATE_LIMIT": "1000/s",
        "PRINTCLOUD_LOG_LEVEL": "warning",
        "PRINTCLOUD_METRICS_DIR": str(metrics_dir),
        "PRINTCLOUD_METRICS_TOKEN": TOKEN,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    servers = [ServerProcess(env, tmp_path / f"instance-{name}.log") for name in "ab"]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


async def test_a_scrape_of_either_instance_adds_up_both_and_forgets_a_killed_ones_sockets(
    cluster_runtime: Runtime, instances: list[ServerProcess], metrics_dir: Path
) -> None:
    a, b = instances
    owner = await make_account(cluster_runtime)
    # Offline: the jobs wait, and nothing but their creation is counted.
    await owner.add_computer(cluster_runtime, "Office-PC", ("HP",), state="offline")
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=10) as on_b,
    ):
        printer = (await on_a.get("/api/printers", auth=owner.auth())).json()[0]["id"]
        before = await scrape(on_a, TOKEN)
        await submit(on_a, owner, printer, contentType="pdf_base64")
        await submit(on_b, owner, printer, contentType="pdf_base64")
        # An agent on B: its socket is counted in B's files, alive.
        agent = WsAgent(b.ws_url, owner.keys[Permission.FULL], "Front-desk-PC")
        await agent.connect(printers=["Receipts"])

        from_a, from_b = await scrape(on_a, TOKEN), await scrape(on_b, TOKEN)
        for seen in (from_a, from_b):
            assert seen.delta(before, CREATED, content_type="pdf_base64") == 2
            assert seen.delta(before, "printcloud_job_states_total", state="pending") == 2
            assert seen.delta(before, "printcloud_agent_connections") == 1
            assert seen.value("printcloud_computers", state="online") == 1  # the database's
            assert seen.value("printcloud_computers", state="offline") == 1
        # Each process writes files of its own there.
        assert _counting_processes(metrics_dir) == {a.process.pid, b.process.pid}

        b.kill()  # no goodbye: A forgets B's live gauges when it is next scraped
        after = await scrape(on_a, TOKEN)
        assert after.delta(before, CREATED, content_type="pdf_base64") == 2  # counts stay
        assert after.delta(before, "printcloud_agent_connections") == 0

        # The processes' token guards them.
        assert (await on_a.get("/metrics")).status_code == 401
        wrong = await on_a.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.json()["code"] == "Unauthorized"
    await agent.close()


def _counting_processes(metrics_dir: Path) -> set[int]:
    """The processes that wrote counters to the directory (``counter_<pid>.db``)."""
    return {int(p.stem.rsplit("_", 1)[1]) for p in metrics_dir.glob("counter_*.db")}
