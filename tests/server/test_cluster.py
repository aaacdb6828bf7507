"""Two ``printcloud serve`` processes on PostgreSQL and Redis, as a cluster runs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from printcloud.server.accounts.permissions import Permission
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.jobs import submit
from tests.helpers.server_process import ServerProcess
from tests.helpers.waiting import eventually
from tests.helpers.ws_agent import WsAgent


@pytest.fixture
def instances(cluster_runtime: Runtime, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    env = {
        **os.environ,
        "PRINTCLOUD_DATA_DIR": str(tmp_path),
        "PRINTCLOUD_DATABASE_URL": cluster_runtime.settings.database_url,
        "PRINTCLOUD_REDIS_URL": cluster_runtime.settings.redis_url or "",
        "PRINTCLOUD_RATE_LIMIT": "1000/s",
        "PRINTCLOUD_SWEEP_INTERVAL": "0.5",
        "PRINTCLOUD_INSTANCE_TIMEOUT": "3",
        "PRINTCLOUD_LOG_LEVEL": "warning",
    }
    servers = [ServerProcess(env, tmp_path / f"instance-{name}.log") for name in "ab"]
    try:
        for server in servers:
            server.wait_ready()
        yield servers
    finally:
        for server in servers:
            server.stop()


async def _jobs(client: httpx.AsyncClient, account: TestAccount) -> dict[str, str]:
    jobs = (await client.get("/api/printjobs?limit=1000", auth=account.auth())).json()
    return {j["id"]: j["state"] for j in jobs}


async def test_job_posted_on_one_instance_reaches_an_agent_on_the_other_and_survives_kill_9(
    cluster_runtime: Runtime, instances: list[ServerProcess]
) -> None:
    a, b = instances
    owner = await make_account(cluster_runtime)
    key = owner.keys[Permission.FULL]
    # A client with a journal: the job left unreported by the kill is sent again.
    office = WsAgent(a.ws_url, key, "Office-PC", features=["resume"])
    bystander = WsAgent(a.ws_url, key, "Bystander-PC")
    await office.connect(printers=["HP"])
    await bystander.connect(printers=["Bystander printer"])

    async with httpx.AsyncClient(base_url=b.url, timeout=10) as on_b:
        printers = (await on_b.get("/api/printers", auth=owner.auth())).json()
        printer = next(p for p in printers if p["name"] == "HP")
        # Two server processes: what they do is seen through their API, waited for.
        first = await submit(on_b, owner, printer["id"])
        assert (await office.recv())["job"]["id"] == first  # POST on B, agent on A
        await office.report(first, "completed")
        second = await submit(on_b, owner, printer["id"])
        assert (await office.recv())["job"]["id"] == second  # sent, never reported
        await eventually(lambda: _state(on_b, owner, first, "completed"), timeout=15)

        a.kill()
        with pytest.raises(ConnectionClosed):
            await office.recv()
        third = await submit(on_b, owner, printer["id"])  # while the agent is away

        office = WsAgent(b.ws_url, key, "Office-PC", features=["resume"])
        await office.connect(printers=["HP"])
        received = [(await office.recv())["job"]["id"] for _ in range(2)]
        assert received == [second, third]  # the unreported one again, then the new one
        for job_id in received:
            await office.report(job_id, "completed")

        await eventually(lambda: _all_completed(on_b, owner, [first, second, third]), timeout=15)
        computers = {
            c["name"]: c["state"]
            for c in (await on_b.get("/api/computers", auth=owner.auth())).json()
        }
        assert computers["Office-PC"] == "online"

        # The computer that did not come back is taken offline once A is known dead, and
        # its printers with it.
        async def bystander_offline() -> bool:
            found = {
                c["name"]: c["state"]
                for c in (await on_b.get("/api/computers", auth=owner.auth())).json()
            }
            return found["Bystander-PC"] == "offline"

        await eventually(bystander_offline, timeout=15)
        printers = {
            p["name"]: p["state"]
            for p in (await on_b.get("/api/printers", auth=owner.auth())).json()
        }
        assert printers == {"HP": "online", "Bystander printer": "offline"}
    await office.close()


async def _state(client: httpx.AsyncClient, account: TestAccount, job_id: str, state: str) -> bool:
    return (await _jobs(client, account)).get(job_id) == state


async def _all_completed(
    client: httpx.AsyncClient, account: TestAccount, job_ids: list[str]
) -> bool:
    jobs = await _jobs(client, account)
    return all(jobs.get(j) == "completed" for j in job_ids)


async def test_revoking_a_key_on_one_instance_closes_its_socket_on_the_other_at_once(
    cluster_runtime: Runtime, instances: list[ServerProcess]
) -> None:
    a, b = instances
    owner = await make_account(cluster_runtime)
    async with httpx.AsyncClient(base_url=b.url, timeout=10) as on_b:
        created = (
            await on_b.post(
                "/api/account/apikeys",
                auth=owner.auth(),
                json={"description": "office", "permission": "full"},
            )
        ).json()
        office = WsAgent(a.ws_url, created["key"], "Office-PC")
        await office.connect(printers=["HP"])
        key = (created["key"], "")
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as on_a:
            # Instance a now knows the key (it remembers who a key is for a while).
            assert (await on_a.get("/api/printers", auth=key)).status_code == 200
            await on_b.delete(f"/api/account/apikeys/{created['id']}", auth=owner.auth())
            async with asyncio.timeout(1):
                assert await office.closed() == (4002, "the API key was revoked")
            # The revocation reached a over the bus: it forgot the key with the socket.
            refused = await on_a.post(
                "/api/printjobs",
                auth=key,
                json={"printerId": "prn_any", "contentType": "raw_base64", "content": "Xl4="},
            )
            assert (refused.status_code, refused.json()["message"]) == (
                401,
                "This API key has been revoked",
            )

        # Its computer and printers read offline, seen from the other instance.
        async def all_offline() -> bool:
            [computer] = (await on_b.get("/api/computers", auth=owner.auth())).json()
            return computer["state"] == "offline" and all(
                p["state"] == "offline" for p in computer["printers"]
            )

        await eventually(all_offline, timeout=10)
