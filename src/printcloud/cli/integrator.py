"""The integrator's commands: the REST API from a terminal, through the SDK."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from printcloud.client import Client, PrintCloudError
from printcloud.protocol.job_states import FINAL_STATES, JobState

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

ApiKeyOption = Annotated[
    str | None,
    typer.Option("--api-key", envvar="PRINTCLOUD_API_KEY", help="API key", show_default=False),
]
UrlOption = Annotated[
    str | None,
    typer.Option("--url", envvar="PRINTCLOUD_URL", help="Server URL, e.g. http://127.0.0.1:8080"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


@contextmanager
def _client(api_key: str | None, url: str | None) -> Iterator[Client]:
    """A client; any error of the API becomes one line and exit code 1, never a traceback."""
    try:
        with Client(api_key=api_key, base_url=url) as client:
            yield client
    except PrintCloudError as exc:
        code = f" ({exc.code})" if exc.code else ""
        err.print(f"[red]error:[/red] {escape(exc.message)}{code}", highlight=False)
        raise typer.Exit(code=1) from None


def _emit(
    items: Sequence[BaseModel] | BaseModel, as_json: bool, table: Callable[[], Table]
) -> None:
    if as_json:
        data: Any = (
            items.model_dump(mode="json", by_alias=True)
            if isinstance(items, BaseModel)
            else [i.model_dump(mode="json", by_alias=True) for i in items]
        )
        out.print_json(json.dumps(data))
    else:
        out.print(table())


def _when(value: object) -> str:
    return "" if value is None else str(value)[:19].replace("T", " ")


def printers(
    api_key: ApiKeyOption = None, url: UrlOption = None, json_: JsonOption = False
) -> None:
    """The printers of all the account's computers."""
    with _client(api_key, url) as client:
        found = client.printers.list()

    def table() -> Table:
        t = Table("id", "name", "computer", "state", "default")
        for p in found:
            t.add_row(p.id, p.name, p.computer_id, p.state, "yes" if p.is_default else "")
        return t

    _emit(found, json_, table)


def computers(
    api_key: ApiKeyOption = None, url: UrlOption = None, json_: JsonOption = False
) -> None:
    """The account's computers."""
    with _client(api_key, url) as client:
        found = client.computers.list()

    def table() -> Table:
        t = Table("id", "name", "os", "state", "printers", "last seen")
        for c in found:
            t.add_row(c.id, c.name, c.os, c.state, str(len(c.printers)), _when(c.last_seen_at))
        return t

    _emit(found, json_, table)


def jobs(
    limit: Annotated[int, typer.Option(help="How many, newest first")] = 20,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
    json_: JsonOption = False,
) -> None:
    """The print job history."""
    with _client(api_key, url) as client:
        found = client.jobs.list(limit=limit)

    def table() -> Table:
        t = Table("id", "title", "state", "printer", "created")
        for j in found:
            t.add_row(j.id, j.title, j.state, j.printer.name, _when(j.created_at))
        return t

    _emit(found, json_, table)


def job(
    job_id: Annotated[str, typer.Argument(help="The job id (pj_...)")],
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
    json_: JsonOption = False,
) -> None:
    """One job, with its state history."""
    with _client(api_key, url) as client:
        found = client.jobs.get(job_id)
        history = client.jobs.states(job_id)
    if json_:
        data = found.model_dump(mode="json", by_alias=True)
        data["states"] = [s.model_dump(mode="json", by_alias=True) for s in history]
        out.print_json(json.dumps(data))
        return
    out.print(
        f"{found.id}  {found.title!r} on {found.printer.name}: {found.state}", highlight=False
    )
    t = Table("when", "state", "message")
    for s in history:
        t.add_row(_when(s.created_at), s.state, s.message)
    out.print(t)


def print_(
    source: Annotated[str, typer.Argument(help="A file, or an http(s) URL of the document")],
    printer: Annotated[str, typer.Option("--printer", help="The printer id")],
    copies: Annotated[int | None, typer.Option(help="1 to 999")] = None,
    duplex: Annotated[str | None, typer.Option(help="one-sided, long-edge, short-edge")] = None,
    paper: Annotated[str | None, typer.Option(help='Paper size, e.g. "A4"')] = None,
    pages: Annotated[str | None, typer.Option(help='Page ranges, e.g. "1-3,5"')] = None,
    title: Annotated[str | None, typer.Option(help="The job's title")] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Send as raw data (ZPL, ESC/POS...)")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the job to its end")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait")] = 300.0,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Print a PDF (or raw data); with --wait, exit 0 only when it printed."""
    options: dict[str, Any] = {
        k: v
        for k, v in {
            "copies": copies,
            "duplex": duplex,
            "paper": paper,
            "pages": pages,
            "title": title,
        }.items()
        if v is not None
    }
    with _client(api_key, url) as client:
        send = client.print_raw if raw else client.print_pdf
        try:
            job_id = send(printer, source, **options)
        except FileNotFoundError:
            err.print(f"[red]error:[/red] no such file: {escape(str(source))}", highlight=False)
            raise typer.Exit(code=1) from None
        if not wait:
            out.print(job_id, highlight=False)
            return
        final = _follow(client, job_id, timeout)
    history = final[1]
    message = history[-1].message if history else ""
    out.print(f"{job_id}: {final[0]}{' - ' + message if message else ''}", highlight=False)
    if final[0] != JobState.COMPLETED:
        raise typer.Exit(code=1)


def _follow(client: Client, job_id: str, timeout: float) -> tuple[str, list[Any]]:
    """Poll the job, showing its state on one live line, until it ends or time runs out."""
    deadline = time.monotonic() + timeout
    state = ""
    with err.status(f"{job_id}: submitted") as status:
        while True:
            state = client.jobs.get(job_id).state
            status.update(f"{job_id}: {state}")
            if state in FINAL_STATES:
                return state, list(client.jobs.states(job_id))
            if time.monotonic() > deadline:
                err.print(f"[red]error:[/red] {job_id} still {state} after {timeout:g} s")
                raise typer.Exit(code=2)
            time.sleep(0.5)


def keys(api_key: ApiKeyOption = None, url: UrlOption = None, json_: JsonOption = False) -> None:
    """The account's API keys (never the keys themselves)."""
    with _client(api_key, url) as client:
        found = client.api_keys.list()

    def table() -> Table:
        t = Table("id", "description", "permission", "prefix", "created", "revoked")
        for k in found:
            t.add_row(
                k.id,
                k.description,
                k.permission,
                k.prefix,
                _when(k.created_at),
                _when(k.revoked_at),
            )
        return t

    _emit(found, json_, table)


def webhooks(
    api_key: ApiKeyOption = None, url: UrlOption = None, json_: JsonOption = False
) -> None:
    """The account's webhooks."""
    with _client(api_key, url) as client:
        found = client.webhooks.list()

    def table() -> Table:
        t = Table("id", "url", "events", "active")
        for w in found:
            t.add_row(w.id, w.url, ",".join(w.events), "yes" if w.active else "no")
        return t

    _emit(found, json_, table)


def register(app: typer.Typer) -> None:
    for command in (printers, computers, jobs, job, keys, webhooks):
        app.command()(command)
    app.command("print")(print_)
