"""``Client`` and ``AsyncClient``: the API over httpx, with retries and typed answers.

``BaseClient`` holds all that the two share: the settings, the retry policy of a
request and the helpers (``print_pdf``, ``wait``), each written once as a flow of
steps (see ``_flow.py``). ``Client`` performs the steps with blocking calls and
``AsyncClient`` awaits them; that is all they do.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import email.utils
import functools
import os
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, ParamSpec, Self, TypedDict, TypeVar, Unpack

import httpx

from printcloud._version import __version__
from printcloud.client._exceptions import APIConnectionError, PrintCloudError, error_for_status
from printcloud.client._flow import (
    Async,
    Blocking,
    Call,
    Done,
    Flow,
    M,
    Part,
    Sleep,
    Step,
    Sync,
    advance,
    blocking,
    endpoint,
    flow,
)
from printcloud.client._models import ClientLogin, Job
from printcloud.client._resources import ApiKeys, Computers, Jobs, Printers, Webhooks
from printcloud.protocol.content import ContentType
from printcloud.protocol.job_states import FINAL_STATES

__all__ = ["AsyncClient", "Client"]

P = ParamSpec("P")
T = TypeVar("T")
Tr = TypeVar("Tr", httpx.BaseTransport, httpx.AsyncBaseTransport)

Source = str | os.PathLike[str] | bytes
MAX_BACKOFF = 8.0
# What a key from ``Client.login`` is called in the account's key list, unless told.
SDK_LOGIN_DESCRIPTION = "Login from the SDK"
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})


class ClientOptions(TypedDict, Generic[Tr], total=False):
    """The keyword arguments of ``Client()`` that ``Client.login`` takes too."""

    timeout: float
    max_retries: int
    retry_backoff: float
    transport: Tr | None


class BaseClient(Part[M], Generic[M, Tr]):
    """What both clients share: settings, the decisions about errors and retries, and
    every method of the API."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        transport: Tr | None = None,
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
        self._http = self._open(
            transport,
            base_url=self.base_url,
            auth=httpx.BasicAuth(api_key, ""),
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": f"printcloud-python/{__version__}"},
        )
        self.printers: Printers[M] = Printers(self)
        self.computers: Computers[M] = Computers(self)
        self.jobs: Jobs[M] = Jobs(self)
        self.webhooks: Webhooks[M] = Webhooks(self)
        self.api_keys: ApiKeys[M] = ApiKeys(self)

    @abc.abstractmethod
    def _open(self, transport: Tr | None, **options: Any) -> httpx.Client | httpx.AsyncClient:
        """The httpx client that sends this client's requests."""

    @classmethod
    def _without_key(cls, base_url: str | None, options: ClientOptions[Tr]) -> Self:
        """A client that sends no credentials, for the one endpoint that needs none."""
        # Made as any other, with the same settings and checks, and a key it never sends.
        client = cls("(no key)", base_url, **options)
        client._http.auth = httpx.Auth()
        return client

    # -- the API's methods, written once --------------------------------------------
    # (``self`` is positional-only where ``**options`` could otherwise take its name.)

    @flow
    def print_pdf(self, /, printer_id: str, source: Source, **options: Any) -> Flow[str]:
        """Print a PDF (a path, its bytes, or an http(s) URL); the job id."""
        return self._print(printer_id, source, options, ContentType.PDF_URI, ContentType.PDF_BASE64)

    @flow
    def print_raw(self, /, printer_id: str, source: Source, **options: Any) -> Flow[str]:
        """Send raw printer data (ZPL, ESC/POS...) as it is; the job id."""
        return self._print(printer_id, source, options, ContentType.RAW_URI, ContentType.RAW_BASE64)

    def _print(
        self,
        printer_id: str,
        source: Source,
        options: dict[str, Any],
        uri_type: ContentType,
        data_type: ContentType,
    ) -> Flow[str]:
        content_type, content = yield from blocking(_document, source, uri_type, data_type)
        # ``title`` and ``qty`` are the job's own fields; the other keywords, print options.
        job = {"title": options.pop("title", None), "qty": options.pop("qty", None)}
        created = Jobs.create.flow(
            self.jobs,
            printer_id=printer_id,
            content_type=content_type,
            content=content,
            options=options,
            **job,
        )
        return (yield from created)

    @flow
    def wait(self, job_id: str, timeout: float = 60.0, poll_interval: float = 0.5) -> Flow[Job]:
        """Poll until the job is completed, in error or expired; raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            job = yield from Jobs.get.flow(self.jobs, job_id)
            if job.state in FINAL_STATES:
                return job
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"print job {job_id} is still {job.state} after {timeout:g} seconds"
                )
            yield Sleep(min(poll_interval, remaining))

    @endpoint
    def _login(self, email: str, password: str, key_description: str) -> Call[ClientLogin]:
        body = {"email": email, "password": password, "keyDescription": key_description}
        return Call("POST", "/api/client/login", ClientLogin.model_validate, json=body)

    # -- one request, with its retries ----------------------------------------------

    def _exchange(self, call: Call[T]) -> Flow[T]:
        request = self._http.build_request(
            call.method, call.path, params=call.params, json=call.json, headers=call.headers
        )
        attempt = 0
        while True:
            try:
                response: httpx.Response = yield request
            except httpx.TransportError as error:
                delay = self._retry_after_error(request, error, attempt)
                if delay is None:
                    raise _connection_error(request, error) from error
            else:
                delay = self._retry_after_response(request, response, attempt)
                if delay is None:
                    return call.parse(_answer(response))
            yield Sleep(delay)
            attempt += 1

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


def _answer(response: httpx.Response) -> Any:
    if response.is_success:
        return response.json() if response.content else None
    raise _error(response)


def _connection_error(request: httpx.Request, error: httpx.TransportError) -> APIConnectionError:
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
    return error_for_status(response.status_code, message, code, _retry_after(response))


def _document(source: Source, uri_type: ContentType, data_type: ContentType) -> tuple[str, str]:
    """``(content_type, content)`` for a URL, a file path or the document's bytes."""
    if isinstance(source, str) and source.startswith(("http://", "https://")):
        return uri_type, source
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path} is not a file (nor an http(s) URL)")
        data = path.read_bytes()
    return data_type, base64.b64encode(data).decode("ascii")


class Client(BaseClient[Sync, httpx.BaseTransport]):
    """The PrintCloud API, synchronous.

    >>> with Client("pk_live_...", "https://print.example.com") as client:
    ...     job_id = client.print_pdf(printer_id, "invoice.pdf", copies=2)
    ...     client.wait(job_id)
    """

    _http: httpx.Client

    @classmethod
    def login(
        cls,
        email: str,
        password: str,
        base_url: str | None = None,
        *,
        key_description: str = SDK_LOGIN_DESCRIPTION,
        **options: Unpack[ClientOptions[httpx.BaseTransport]],
    ) -> ClientLogin:
        """A new ``full`` API key for a user's e-mail address and password, as the agent
        gets one: ``POST /api/client/login``, the one endpoint that needs no API key.
        ``key_description`` is what the key is called in the account's key list.
        ``base_url`` and the options are those of ``Client()``; a wrong e-mail or
        password is an ``AuthenticationError``.

        >>> key = Client.login("user@example.com", password, "https://print.example.com").api_key
        """
        with cls._without_key(base_url, options) as client:
            return client._login(email, password, key_description)

    def _open(self, transport: httpx.BaseTransport | None, **options: Any) -> httpx.Client:
        return httpx.Client(transport=transport, **options)

    def _bind(self, flow: Callable[P, Flow[T]]) -> Callable[P, T]:
        @functools.wraps(flow)
        def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return self._run(flow(*args, **kwargs))

        return method

    def _run(self, flow: Flow[T]) -> T:
        step = advance(flow, None)
        while not isinstance(step, Done):
            step = advance(flow, self._perform(step))
        return step.value

    def _perform(self, step: Step) -> object:
        """What one step produced; a transport error is one answer among others."""
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return None
        if isinstance(step, Blocking):
            return step.work()
        try:
            return self._http.send(step)
        except httpx.TransportError as error:
            return error

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


class AsyncClient(BaseClient[Async, httpx.AsyncBaseTransport]):
    """The PrintCloud API, for asyncio.

    >>> async with AsyncClient("pk_live_...", "https://print.example.com") as client:
    ...     job_id = await client.print_pdf(printer_id, "invoice.pdf", copies=2)
    ...     await client.wait(job_id)
    """

    _http: httpx.AsyncClient

    @classmethod
    async def login(
        cls,
        email: str,
        password: str,
        base_url: str | None = None,
        *,
        key_description: str = SDK_LOGIN_DESCRIPTION,
        **options: Unpack[ClientOptions[httpx.AsyncBaseTransport]],
    ) -> ClientLogin:
        """``Client.login``, awaited."""
        async with cls._without_key(base_url, options) as client:
            return await client._login(email, password, key_description)

    def _open(
        self, transport: httpx.AsyncBaseTransport | None, **options: Any
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, **options)

    def _bind(self, flow: Callable[P, Flow[T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(flow)
        async def method(*args: P.args, **kwargs: P.kwargs) -> T:
            return await self._run(flow(*args, **kwargs))

        return method

    async def _run(self, flow: Flow[T]) -> T:
        step = advance(flow, None)
        while not isinstance(step, Done):
            step = advance(flow, await self._perform(step))
        return step.value

    async def _perform(self, step: Step) -> object:
        """What one step produced, the blocking work done in a thread."""
        if isinstance(step, Sleep):
            await asyncio.sleep(step.seconds)
            return None
        if isinstance(step, Blocking):
            return await asyncio.to_thread(step.work)
        try:
            return await self._http.send(step)
        except httpx.TransportError as error:
            return error

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
