"""The agent WebSocket under generated hostile messages (Hypothesis), on each backend.

An agent authenticates properly, then sends messages of the protocol's shapes with
hostile values (NUL, huge strings, wrong types, numbers out of range, deep nesting),
unknown types and text that is not the protocol at all. Each gets what docs/protocol.md
promises (``tests/helpers/hostile.py``: an ``error`` reply, or the documented close),
and after each the same socket (or, after a close, a new one) still works: a report on
a job that does not exist is answered, after the answers to what came before. Another
account's objects come out as they went in, and the server's memory stays within a
coarse bound.

Hypothesis runs in a worker thread and hands each exchange to the test's event loop,
where the server runs. ``PRINTCLOUD_FUZZ_EXAMPLES`` sets the examples per test (60 by
default, derandomized for CI); raise it to search longer (docs/security.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed

from printcloud.protocol.session import CLOSE_POLICY
from printcloud.server.accounts.permissions import Permission
from tests.helpers.accounts import TestAccount, make_account
from tests.helpers.hostile import Answer, expected_answer, hostile_messages, hostile_value
from tests.helpers.jobs import printer_id, submit
from tests.helpers.live_server import LiveServer
from tests.helpers.loop import in_loop
from tests.helpers.memory import rss_bytes
from tests.helpers.tenants import furnish, holdings
from tests.helpers.ws_agent import WsAgent

EXAMPLES = int(os.environ.get("PRINTCLOUD_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a timed assertion would fail on a loaded machine, not on a bug
    database=None,  # no .hypothesis directory in the work tree
    derandomize=os.environ.get("PRINTCLOUD_FUZZ_SEED") is None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# See test_fuzz_rest.py: a bound that catches unbounded allocation, not small leaks.
MEMORY_GROWTH_BOUND = 256 * 1024 * 1024
PRINTERS = ["HP LaserJet Pro"]


class Agent:
    """The fuzzed agent's connection, opened again after a documented close."""

    def __init__(self, live: LiveServer, account: TestAccount) -> None:
        self.live = live
        self.account = account
        self.ws = self._new()
        self.probes = 0

    def _new(self) -> WsAgent:
        return WsAgent(self.live.ws_url, self.account.keys[Permission.FULL])

    async def reconnect(self) -> None:
        self.ws = self._new()
        assert (await self.ws.connect(printers=PRINTERS))["type"] == "auth_ok"

    async def exchange(self, text: str) -> None:
        """Send ``text``; check the answer the protocol promises, then that a valid
        ``printers`` is still answered."""
        expected = expected_answer(text, self.live.runtime.settings.ws_max_message_size)
        if isinstance(expected, int):
            # The server may close while a large message is still being written.
            with contextlib.suppress(ConnectionClosed):
                await self.ws.send(text)
            code, _ = await self.ws.closed()
            assert code == expected, (code, text[:200])
            await self.reconnect()
            return
        await self.ws.send(text)
        self.probes += 1
        replies = await self.ws.replies_before_probe(f"pj_probe{self.probes}")
        errors = [reply for reply in replies if reply["type"] == "error"]
        assert all(isinstance(reply.get("message"), str) for reply in errors), replies
        if expected is Answer.ERROR:
            assert errors, (text[:200], replies)


async def settled_tenant(http: httpx.AsyncClient, runtime: Any) -> tuple[TestAccount, dict]:
    """Another account with one object of each kind, and what it holds."""
    other = await make_account(runtime)
    await other.add_computer(runtime, printers=("Zebra",), state="offline")
    await furnish(http, other, await printer_id(http, other, "Zebra"))
    return other, await holdings(http, other)


async def test_hostile_messages_get_their_answer_and_the_socket_stays_usable(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    other, before = await settled_tenant(http, live.runtime)
    agent = Agent(live, owner)
    assert (await agent.ws.connect(printers=PRINTERS))["type"] == "auth_ok"
    job_id = await submit(http, owner, await printer_id(http, owner, PRINTERS[0]))
    assert (await agent.ws.recv())["job"]["id"] == job_id
    memory_before = rss_bytes(os.getpid())
    run = in_loop(asyncio.get_running_loop())
    messages = hostile_messages(job_id, live.runtime.settings.ws_max_message_size)

    @FUZZ
    @given(text=messages)
    def exchange(text: str) -> None:
        run(agent.exchange(text))

    await asyncio.to_thread(exchange)

    await agent.ws.close()
    assert rss_bytes(os.getpid()) - memory_before < MEMORY_GROWTH_BOUND
    assert await holdings(http, other) == before


async def test_hostile_auth_is_refused_with_auth_error_and_a_close(
    live: LiveServer, http: httpx.AsyncClient, owner: TestAccount
) -> None:
    other, before = await settled_tenant(http, live.runtime)
    run = in_loop(asyncio.get_running_loop())
    size = live.runtime.settings.ws_max_message_size
    value = hostile_value(size)
    key = owner.keys[Permission.FULL]
    auth = st.fixed_dictionaries(
        {"type": st.just("auth"), "apiKey": st.one_of(st.just(key), value)},
        optional={
            "computerName": st.one_of(st.text(min_size=1, max_size=20), value),
            "os": value,
            "clientVersion": value,
            "features": value,
            "machineId": value,
        },
    )

    async def connect(text: str) -> None:
        agent = WsAgent(live.ws_url, key)
        await agent.open()
        expected = expected_answer(text, size)
        if isinstance(expected, int):
            with contextlib.suppress(ConnectionClosed):
                await agent.send(text)
            assert (await agent.closed())[0] == expected
            return
        await agent.send(text)
        answer = await agent.recv()
        if answer["type"] == "auth_ok":  # hostile, but within the rules
            assert expected is Answer.ANY, text[:200]
            await agent.close()
            return
        assert answer["type"] == "auth_error", answer
        assert isinstance(answer["message"], str)
        assert answer["reason"] in ("bad_auth", "invalid_key"), answer
        assert (await agent.closed())[0] == CLOSE_POLICY

    @FUZZ
    @given(text=auth.map(json.dumps))
    def refused(text: str) -> None:
        run(connect(text))

    await asyncio.to_thread(refused)

    assert await holdings(http, other) == before
