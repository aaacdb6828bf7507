"""PrintCloud: print from a web application to the printers in your customers' offices."""

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

__version__ = "0.1.0"

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
