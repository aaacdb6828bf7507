"""The PrintCloud Python SDK: ``Client`` and ``AsyncClient`` over the REST API."""

from __future__ import annotations

from printcloud.client._client import AsyncClient, Client
from printcloud.client._exceptions import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    PrintCloudError,
    RateLimitError,
    ValidationError,
)
from printcloud.client._models import (
    ApiKey,
    ApiKeyCreated,
    ClientLogin,
    Computer,
    Delivery,
    DeliveryAttempt,
    Job,
    JobPrinter,
    JobState,
    Printer,
    User,
    Webhook,
    WebhookCreated,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "ApiKey",
    "ApiKeyCreated",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ClientLogin",
    "Computer",
    "Delivery",
    "DeliveryAttempt",
    "Job",
    "JobPrinter",
    "JobState",
    "NotFoundError",
    "PermissionDeniedError",
    "PrintCloudError",
    "Printer",
    "RateLimitError",
    "User",
    "ValidationError",
    "Webhook",
    "WebhookCreated",
]
