"""The event outbox fans out to the account's webhooks as it reads them in each
transaction: once per account and transaction, never an answer from an earlier one."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import event, func, select

from printcloud.protocol.events import ALL_EVENTS, EventType
from printcloud.server.db.models import Webhook, WebhookDelivery
from printcloud.server.db.types import utcnow
from printcloud.server.events import repository as events
from printcloud.server.runtime import Runtime
from tests.helpers.accounts import TestAccount


def _webhook(account: TestAccount) -> Webhook:
    return Webhook(
        id="wh_" + secrets.token_hex(8),
        account_id=account.account_id,
        url="https://hooks.example/printcloud",
        secret="whsec_" + secrets.token_hex(16),
        events=[ALL_EVENTS],
        active=True,
        created_at=utcnow(),
    )


async def test_webhooks_are_read_once_per_transaction_and_again_in_the_next(
    runtime: Runtime, account: TestAccount
) -> None:
    webhook_reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM webhooks" in statement:
            webhook_reads.append(statement)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with runtime.sessionmaker() as session:
            session.add(_webhook(account))
            await session.commit()
            for n in range(3):  # three state changes of one batch
                await events.record(session, account.account_id, EventType.JOB_STATE, n=n)
            assert len(webhook_reads) == 1
            await session.commit()

            session.add(second := _webhook(account))
            await session.commit()
            await events.record(session, account.account_id, EventType.JOB_STATE, n=3)
            await session.commit()
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)

    assert len(webhook_reads) == 2
    async with runtime.sessionmaker() as session:
        to_second = await session.scalar(
            select(func.count()).where(WebhookDelivery.webhook_id == second.id)
        )
        total = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    assert to_second == 1  # the new transaction saw the webhook added before it
    assert total == 5
