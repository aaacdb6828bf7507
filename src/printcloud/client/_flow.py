"""Methods written once, for both clients: each is a flow of steps, without I/O.

An endpoint describes its request and how to read the answer (a ``Call``); a helper
such as ``wait`` is a generator that yields the steps it needs: an ``httpx.Request``
to send (it is sent the response, or thrown the transport error), a ``Sleep``, or
``Blocking`` work. ``Client`` performs the steps over ``httpx.Client`` and
``AsyncClient`` over ``httpx.AsyncClient``; nothing else differs between them.

The resources, and the client itself, are generic over their mode (``Sync`` or
``Async``), so that a type checker sees ``client.jobs.get(job_id)`` return a ``Job``
and ``async_client.jobs.get(job_id)`` a coroutine of one.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import Callable, Coroutine, Generator, Mapping
from dataclasses import dataclass
from types import MethodType
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

import httpx

P = ParamSpec("P")
T = TypeVar("T")


class Sync:
    """The mode of ``Client``: a method returns its answer."""


class Async:
    """The mode of ``AsyncClient``: a method returns a coroutine of its answer."""


M = TypeVar("M", Sync, Async)


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request of the API, and how its JSON answer becomes what the method returns."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Blocking:
    """Work that would block an event loop (reading a file): the async client runs it
    in a thread."""

    work: Callable[[], Any]


Step = httpx.Request | Sleep | Blocking
# What a step is sent back is whatever it produced: typed again where it is yielded.
Flow = Generator[Step, Any, T]


@dataclass(frozen=True)
class Done(Generic[T]):
    value: T


def advance(flow: Flow[T], reply: object) -> Step | Done[T]:
    """The flow's next step, given what the last one produced (a transport error is
    raised inside the flow, where the retry policy decides about it)."""
    try:
        if isinstance(reply, httpx.TransportError):
            return flow.throw(reply)
        return flow.send(reply)
    except StopIteration as stop:
        return Done(stop.value)


def blocking(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Flow[T]:
    result: T = yield Blocking(functools.partial(work, *args, **kwargs))
    return result


class Part(abc.ABC, Generic[M]):
    """The client, or one of its resources: what the methods below are methods of."""

    @abc.abstractmethod
    def _exchange(self, call: Call[T]) -> Flow[T]:
        """The call sent, retried as the client's settings say, and its answer parsed."""

    @abc.abstractmethod
    def _bind(self, flow: Callable[P, Flow[T]]) -> Callable[P, Any]:
        """``flow`` as a method of this mode: run at once, or as a coroutine."""


class Method(Generic[P, T]):
    """A method written once as a flow; bound to a sync part it returns ``T``, to an
    async part a coroutine of ``T``. ``Method.flow`` is the flow itself, for another
    flow to run (``yield from Jobs.get.flow(self.jobs, job_id)``)."""

    def __init__(self, flow: Callable[Concatenate[Any, P], Flow[T]]) -> None:
        self.flow = flow
        self.__doc__ = flow.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, instance: Part[Sync], owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, instance: Part[Async], owner: type[Any]
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, instance: Part[Any] | None, owner: type[Any]) -> Any:
        if instance is None:
            return self
        return instance._bind(MethodType(self.flow, instance))


def flow(function: Callable[Concatenate[Any, P], Flow[T]]) -> Method[P, T]:
    """A method whose body is a flow: it yields the steps it needs."""
    return Method(function)


def endpoint(describe: Callable[Concatenate[Any, P], Call[T]]) -> Method[P, T]:
    """A method that is one request: ``describe`` returns its ``Call``."""

    @functools.wraps(describe)
    def run(part: Part[Any], /, *args: P.args, **kwargs: P.kwargs) -> Flow[T]:
        return part._exchange(describe(part, *args, **kwargs))

    return Method(run)


class Resource(Part[M]):
    """A group of endpoints (``client.jobs``...): they run on the client's connection."""

    def __init__(self, client: Part[M]) -> None:
        self._client: Part[M] = client

    def _exchange(self, call: Call[T]) -> Flow[T]:
        return self._client._exchange(call)

    def _bind(self, flow: Callable[P, Flow[T]]) -> Callable[P, Any]:
        return self._client._bind(flow)
