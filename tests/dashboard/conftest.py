"""Dashboard fixtures: a live server with a quick live view and local webhook receivers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from printcloud.server.runtime import Runtime
from tests.helpers.live_server import LiveServer, serve


@pytest.fixture
async def dash(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    """A live server with quick sweeps, a quick live view and local webhook receivers."""
    runtime = runtime_factory(
        sweep_interval=0.2,
        dashboard_live_interval=0.1,
        allow_private_urls=True,
        webhook_poll_interval=0.1,
    )
    async with serve(runtime) as server:
        yield server
