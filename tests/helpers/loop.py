"""Driving the test's event loop from another thread (Hypothesis runs its examples in a
worker thread while the server runs in the test's loop)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any


def in_loop(loop: asyncio.AbstractEventLoop) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a coroutine on the test's event loop from Hypothesis's thread; its result."""
    return lambda coroutine: asyncio.run_coroutine_threadsafe(coroutine, loop).result(60)
