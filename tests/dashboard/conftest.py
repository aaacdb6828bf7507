"""Dashboard fixtures: a live server with a quick live view, for the browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from printcloud.server.runtime import Runtime
from tests.helpers.live_server import LiveServer, serve


@pytest.fixture
async def dash(runtime_factory: Callable[..., Runtime]) -> AsyncIterator[LiveServer]:
    """A live server with quick sweeps and a quick live view. Webhooks may go to local
    receivers, and no worker delivers them: a test calls ``deliver_due`` and sees what
    it sent."""
    runtime = runtime_factory(
        sweep_interval=0.2,
        dashboard_live_interval=0.1,
        allow_private_urls=True,
        run_webhook_worker=False,
    )
    async with serve(runtime) as server:
        yield server
