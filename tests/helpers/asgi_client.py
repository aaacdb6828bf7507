"""An httpx client of an ASGI app, in process: no socket, no lifespan."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI


def client_for(app: FastAPI, **kwargs: Any) -> httpx.AsyncClient:
    """A client of ``app`` at http://testserver; ``kwargs`` go to ``httpx.ASGITransport``."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, **kwargs), base_url="http://testserver"
    )
