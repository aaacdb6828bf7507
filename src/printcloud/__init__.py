"""PrintCloud: print from a web application to the printers in your customers' offices.

The SDK's names are exported here but loaded on first use (PEP 562): the server and
the agent import ``printcloud.*`` modules, and must not pay for the SDK and httpx
every time they do.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from printcloud._version import __version__

if TYPE_CHECKING:
    from printcloud.client import (
        APIConnectionError,
        APIError,
        AsyncClient,
        AuthenticationError,
        Client,
        NotFoundError,
        PermissionDeniedError,
        PrintCloudError,
        RateLimitError,
        ValidationError,
    )

__all__ = [
    "APIConnectionError",
    "APIError",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "NotFoundError",
    "PermissionDeniedError",
    "PrintCloudError",
    "RateLimitError",
    "ValidationError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("printcloud.client"), name)
    raise AttributeError(f"module 'printcloud' has no attribute {name!r}")
