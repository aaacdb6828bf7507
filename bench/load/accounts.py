"""The bench's accounts: a user each, an API key from client login, a webhook each."""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass

import httpx

from printcloud.server.accounts import service as accounts
from printcloud.server.db.engine import create_engine, create_sessionmaker

PASSWORD = "bench-password-1"  # noqa: S105 - throwaway accounts of a throwaway database


@dataclass
class BenchAccount:
    index: int
    email: str
    api_key: str
    webhook_secret: str  # whsec_<base64>: the Standard Webhooks form

    @property
    def authorization(self) -> str:
        return "Basic " + base64.b64encode(f"{self.api_key}:".encode()).decode()


async def create_users(database_url: str, count: int) -> list[str]:
    """Create ``count`` users through the service ``printcloud users create`` runs.

    In one process and one transaction: a process per user would take a second each.
    """
    engine = create_engine(database_url)
    emails = [f"bench{index}@bench.example" for index in range(count)]
    try:
        async with create_sessionmaker(engine)() as session:
            for email in emails:
                await accounts.create_user(session, email=email, password=PASSWORD)
            await session.commit()
    finally:
        await engine.dispose()
    return emails


async def open_accounts(
    client: httpx.AsyncClient, base_url: str, emails: list[str], hook_url: str | None
) -> list[BenchAccount]:
    """Log each user in (a new API key) and give its account a webhook for job states
    (none without ``hook_url``)."""

    async def one(index: int, email: str) -> BenchAccount:
        response = await client.post(
            f"{base_url}/api/client/login", json={"email": email, "password": PASSWORD}
        )
        response.raise_for_status()
        account = BenchAccount(
            index,
            email,
            response.json()["apiKey"],
            "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        )
        if hook_url is None:
            return account
        response = await client.post(
            f"{base_url}/api/webhooks",
            json={
                "url": f"{hook_url}/{index}",
                "secret": account.webhook_secret,
                "events": ["job.state"],
            },
            headers={"Authorization": account.authorization},
        )
        response.raise_for_status()
        return account

    # A few at a time: each login verifies an argon2 hash on the server.
    limit = asyncio.Semaphore(4)

    async def bounded(index: int, email: str) -> BenchAccount:
        async with limit:
            return await one(index, email)

    return list(await asyncio.gather(*(bounded(i, e) for i, e in enumerate(emails))))


async def printer_ids(
    client: httpx.AsyncClient, base_url: str, account: BenchAccount
) -> dict[str, str]:
    """The account's printers: computer name -> printer id."""
    response = await client.get(
        f"{base_url}/api/printers", headers={"Authorization": account.authorization}
    )
    response.raise_for_status()
    computers = await client.get(
        f"{base_url}/api/computers", headers={"Authorization": account.authorization}
    )
    computers.raise_for_status()
    names = {computer["id"]: computer["name"] for computer in computers.json()}
    return {names[printer["computerId"]]: printer["id"] for printer in response.json()}
