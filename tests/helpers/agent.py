"""The agent in this process: a configuration for a test, and running it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from printcloud.agent.config import AgentConfig
from printcloud.agent.printers.base import Document
from printcloud.agent.printers.folder import FolderBackend
from printcloud.agent.runner import Agent
from printcloud.server.accounts.permissions import Permission
from tests.helpers.accounts import TestAccount


def agent_config(server: str, account: TestAccount, data_dir: Path, **fields: Any) -> AgentConfig:
    """An agent of ``account`` on ``server``, with no system printers (no CUPS, no
    Windows): only the backends a test gives it."""
    values: dict[str, Any] = {
        "server": server,
        "api_key": account.keys[Permission.FULL],
        "name": "Test-PC",
        "cups": False,
        "windows": False,
        "data_dir": data_dir,
        "printer_poll_interval": 0.2,
    }
    return AgentConfig(**(values | fields))


class CountingFolder(FolderBackend):
    """A real folder printer, "Folder", that counts, and can misbehave on cue: hold every
    print until ``release`` is set, or run ``during_print`` in the middle of one."""

    def __init__(self, folder: Path) -> None:
        super().__init__({"Folder": folder})
        self.prints = 0
        self.printed: list[str] = []  # the job ids whose printing began, in order
        self.during_print: Callable[[], Any] | None = None
        self.release = asyncio.Event()
        self.release.set()

    async def print(self, printer: str, document: Document) -> str:
        self.prints += 1
        self.printed.append(document.job_id)
        if self.during_print is not None:
            await self.during_print()
        await self.release.wait()
        return await super().print(printer, document)


@contextlib.asynccontextmanager
async def running(agent: Agent) -> AsyncIterator[asyncio.Task[None]]:
    """``agent.run()`` in a task, once connected; stopped (and drained) afterwards."""
    task = asyncio.create_task(agent.run())
    try:
        async with asyncio.timeout(10):
            await agent.connected.wait()
        yield task
    finally:
        agent.request_stop()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10):
                await task
        task.cancel()
