"""The SDK's errors: one base, one class per kind of failure.

    PrintCloudError
    ├── AuthenticationError      401: no key, a wrong key or a revoked key
    ├── PermissionDeniedError    403: the key's permission does not allow it
    ├── NotFoundError            404: none of the ids exists in your account
    ├── RateLimitError           429: too many requests; see ``retry_after``
    ├── ValidationError          400, 413, 422: the request was refused as it is
    └── APIError                 500 and anything else
        └── APIConnectionError   the server could not be reached, after the retries

Each carries the server's ``code`` (e.g. ``"NotFound"``), its ``message`` and the
HTTP ``status_code``, when there was an answer.
"""

from __future__ import annotations

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "NotFoundError",
    "PermissionDeniedError",
    "PrintCloudError",
    "RateLimitError",
    "ValidationError",
]


class PrintCloudError(Exception):
    """Every error the SDK raises about the API."""

    def __init__(self, message: str, code: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code

    def __str__(self) -> str:
        if self.status_code is None:
            return self.message
        return f"{self.status_code} {self.code or 'Error'}: {self.message}"


class AuthenticationError(PrintCloudError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(PrintCloudError):
    """403: the API key's permission does not allow this request."""


class NotFoundError(PrintCloudError):
    """404: nothing with this id exists in your account."""


class RateLimitError(PrintCloudError):
    """429: too many requests; ``retry_after`` is in seconds, when the server said."""

    def __init__(
        self,
        message: str,
        code: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, code, status_code)
        self.retry_after = retry_after


class ValidationError(PrintCloudError):
    """400, 413 or 422 (an Idempotency-Key used for another job): the request was
    refused as it is; the message names the field."""


class APIError(PrintCloudError):
    """A server error (500), or any answer the SDK does not otherwise expect."""


class APIConnectionError(APIError):
    """The server could not be reached (or timed out), after the retries."""


_BY_STATUS: dict[int, type[PrintCloudError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: ValidationError,
    422: ValidationError,
}


def error_for_status(
    status: int, message: str, code: str | None, retry_after: float | None = None
) -> PrintCloudError:
    """The exception for an error answer, as the tree above maps the statuses."""
    if status == 429:
        return RateLimitError(message, code, status, retry_after=retry_after)
    return _BY_STATUS.get(status, APIError)(message, code, status)
