"""``Client`` and ``AsyncClient``: the API over httpx, with retries and typed answers."""

from __future__ import annotations

import asyncio
import base64
import email.utils
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from printcloud._version import __version__
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
from printcloud.client._models import Job
from printcloud.client._resources import (
    ApiKeys,
    AsyncApiKeys,
    AsyncComputers,
    AsyncJobs,
    AsyncPrinters,
    AsyncWebhooks,
    Computers,
    Jobs,
    Printers,
    Webhooks,
)

__all__ = ["AsyncClient", "Client"]

Source = str | os.PathLike[str] | bytes
FINAL_STATES = frozenset({"completed", "error", "expired"})
MAX_BACKOFF = 8.0
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
_ERRORS: dict[int, type[PrintCloudError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: ValidationError,
    429: RateLimitError,
}


class _BaseClient:
    """What both clients share: settings, and the decisions about errors and retries."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        *,
        timeout: float,
        max_retries: int,
        retry_backoff: float,
    ) -> None:
        api_key = api_key or os.environ.get("PRINTCLOUD_API_KEY")
        base_url = base_url or os.environ.get("PRINTCLOUD_URL")
        if not api_key:
            raise PrintCloudError(
                "no API key: pass api_key= or set the PRINTCLOUD_API_KEY environment variable"
            )
        if not base_url:
            raise PrintCloudError(
                "no server URL: pass base_url= or set the PRINTCLOUD_URL environment variable"
            )
        if max_retries < 0:
            raise ValueError("max_retries cannot be negative")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self._httpx_options: dict[str, Any] = {
            "base_url": self.base_url,
            "auth": httpx.BasicAuth(api_key, ""),
            "timeout": httpx.Timeout(timeout),
            "headers": {"User-Agent": f"printcloud-python/{__version__}"},
        }

    def _backoff(self, attempt: int) -> float:
        return float(min(self.retry_backoff * 2**attempt, MAX_BACKOFF))

    def _may_retry(self, request: httpx.Request) -> bool:
        return request.method in _IDEMPOTENT_METHODS or "Idempotency-Key" in request.headers

    def _retry_after_error(
        self, request: httpx.Request, error: httpx.TransportError, attempt: int
    ) -> float | None:
        """The wait before retrying after a transport error, or None to give up."""
        if attempt >= self.max_retries:
            return None
        # A request that never connected was never seen by the server: always safe.
        if isinstance(error, httpx.ConnectError | httpx.ConnectTimeout) or self._may_retry(request):
            return self._backoff(attempt)
        return None

    def _retry_after_response(
        self, request: httpx.Request, response: httpx.Response, attempt: int
    ) -> float | None:
        """The wait before retrying after this answer, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if response.status_code == 429:
            retry_after = _retry_after(response)
            return self._backoff(attempt) if retry_after is None else retry_after
        if response.status_code >= 500 and self._may_retry(request):
            return self._backoff(attempt)
        return None

    @staticmethod
    def _answer(response: httpx.Response) -> Any:
        if response.is_success:
            return response.json() if response.content else None
        raise _error(response)

    @staticmethod
    def _connection_error(request: httpx.Request, error: httpx.TransportError) -> APIError:
        return APIConnectionError(
            f"{request.method} {request.url.path} failed: {error or type(error).__name__}"
        )


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds: a number, or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _error(response: httpx.Response) -> PrintCloudError:
    """The exception for an error answer, with the server's code and message."""
    code: str | None = None
    message = response.text or response.reason_phrase
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body["code"]) if body.get("code") is not None else None
        message = str(body.get("message") or message)
    status = response.status_code
    if status == 429:
        return RateLimitError(message, code, status, retry_after=_retry_after(response))
    return _ERRORS.get(status, APIError)(message, code, status)


def _document(kind: str, source: Source) -> tuple[str, str]:
    """``(content_type, content)`` for a URL, a file path or the document's bytes."""
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        return f"{kind}_uri", source
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a file (nor an http(s) URL)")
        data = path.read_bytes()
    return f"{kind}_base64", base64.b64encode(data).decode("ascii")


def _job_fields(options: dict[str, Any]) -> tuple[str | None, int | None, dict[str, Any]]:
    """``title`` and ``qty`` out of the keyword arguments; the rest are print options."""
    title = options.pop("title", None)
    qty = options.pop("qty", None)
    return title, qty, options


class Client(_BaseClient):
    """The PrintCloud API, synchronous.

    >>> with Client("pk_live_...", "https://print.example.com") as client:
    ...     job_id = client.print_pdf(printer_id, "invoice.pdf", copies=2)
    ...     client.wait(job_id)
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
        )
        self._http = httpx.Client(transport=transport, **self._httpx_options)
        self.printers = Printers(self)
        self.computers = Computers(self)
        self.jobs = Jobs(self)
        self.webhooks = Webhooks(self)
        self.api_keys = ApiKeys(self)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        request = self._http.build_request(method, path, params=params, json=json, headers=headers)
        attempt = 0
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as error:
                delay = self._retry_after_error(request, error, attempt)
                if delay is None:
                    raise self._connection_error(request, error) from error
            else:
                delay = self._retry_after_response(request, response, attempt)
                if delay is None:
                    return self._answer(response)
            time.sleep(delay)
            attempt += 1

    def print_pdf(self, printer_id: str, source: Source, **options: Any) -> str:
        """Print a PDF (a path, its bytes, or an http(s) URL); the job id."""
        return self._print("pdf", printer_id, source, options)

    def print_raw(self, printer_id: str, source: Source, **options: Any) -> str:
        """Send raw printer data (ZPL, ESC/POS...) as it is; the job id."""
        return self._print("raw", printer_id, source, options)

    def _print(self, kind: str, printer_id: str, source: Source, options: dict[str, Any]) -> str:
        content_type, content = _document(kind, source)
        title, qty, print_options = _job_fields(options)
        return self.jobs.create(
            printer_id=printer_id,
            content_type=content_type,
            content=content,
            title=title,
            qty=qty,
            options=print_options,
        )

    def wait(self, job_id: str, timeout: float = 60.0, poll_interval: float = 0.5) -> Job:
        """Poll until the job is completed, in error or expired; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.jobs.get(job_id)
            if job.state in FINAL_STATES:
                return job
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"print job {job_id} is still {job.state} after {timeout:g} seconds"
                )
            time.sleep(min(poll_interval, remaining))

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClient(_BaseClient):
    """The PrintCloud API, for asyncio.

    >>> async with AsyncClient("pk_live_...", "https://print.example.com") as client:
    ...     job_id = await client.print_pdf(printer_id, "invoice.pdf", copies=2)
    ...     await client.wait(job_id)
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
        )
        self._http = httpx.AsyncClient(transport=transport, **self._httpx_options)
        self.printers = AsyncPrinters(self)
        self.computers = AsyncComputers(self)
        self.jobs = AsyncJobs(self)
        self.webhooks = AsyncWebhooks(self)
        self.api_keys = AsyncApiKeys(self)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        request = self._http.build_request(method, path, params=params, json=json, headers=headers)
        attempt = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as error:
                delay = self._retry_after_error(request, error, attempt)
                if delay is None:
                    raise self._connection_error(request, error) from error
            else:
                delay = self._retry_after_response(request, response, attempt)
                if delay is None:
                    return self._answer(response)
            await asyncio.sleep(delay)
            attempt += 1

    async def print_pdf(self, printer_id: str, source: Source, **options: Any) -> str:
        """Print a PDF (a path, its bytes, or an http(s) URL); the job id."""
        return await self._print("pdf", printer_id, source, options)

    async def print_raw(self, printer_id: str, source: Source, **options: Any) -> str:
        """Send raw printer data (ZPL, ESC/POS...) as it is; the job id."""
        return await self._print("raw", printer_id, source, options)

    async def _print(
        self, kind: str, printer_id: str, source: Source, options: dict[str, Any]
    ) -> str:
        content_type, content = await asyncio.to_thread(_document, kind, source)
        title, qty, print_options = _job_fields(options)
        return await self.jobs.create(
            printer_id=printer_id,
            content_type=content_type,
            content=content,
            title=title,
            qty=qty,
            options=print_options,
        )

    async def wait(
        self,
        job_id: str,
        timeout: float = 60.0,  # noqa: ASYNC109 - the same signature as Client.wait
        poll_interval: float = 0.5,
    ) -> Job:
        """Poll until the job is completed, in error or expired; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            job = await self.jobs.get(job_id)
            if job.state in FINAL_STATES:
                return job
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"print job {job_id} is still {job.state} after {timeout:g} seconds"
                )
            await asyncio.sleep(min(poll_interval, remaining))

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
