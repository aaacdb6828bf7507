"""The integrator's commands: the REST API from a terminal, through the SDK."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

import typer
from pydantic import BaseModel
from rich.table import Table

from printcloud.cli.output import err, fail, out
from printcloud.client import Client, PrintCloudError
from printcloud.protocol.job_states import FINAL_STATES, JobState

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
    # Said here in the CLI's words: the SDK's own message speaks of api_key= and base_url=.
    if not api_key:
        raise fail("no API key: pass --api-key or set PRINTCLOUD_API_KEY")
    if not url:
        raise fail("no server URL: pass --url or set PRINTCLOUD_URL (e.g. http://127.0.0.1:8080)")
    try:
        with Client(api_key=api_key, base_url=url) as client:
            yield client
    except PrintCloudError as exc:
        code = f" ({exc.code})" if exc.code else ""
        raise fail(f"{exc.message}{code}") from None


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


_ID = re.compile(r"^[a-z]+_[0-9a-z]+$")


def _table(*headers: str, rows: Iterable[Sequence[str]]) -> Table:
    """A table whose id columns are never cut, so that an id can be copied into the next
    command; the other columns wrap when the terminal is narrow."""
    table = Table(*headers)
    rows = list(rows)
    for row in rows:
        table.add_row(*row)
    for index, column in enumerate(table.columns):
        cells = [row[index] for row in rows if row[index]]
        if cells and all(_ID.match(cell) for cell in cells):
            column.no_wrap = True
            column.min_width = max(len(cell) for cell in cells)
    return table


def printers(
    api_key: ApiKeyOption = None, url: UrlOption = None, json_: JsonOption = False
) -> None:
    """The printers of all the account's computers."""
    with _client(api_key, url) as client:
        found = client.printers.list()

    def table() -> Table:
        return _table(
            "id",
            "name",
            "computer",
            "state",
            "default",
            rows=[
                (p.id, p.name, p.computer_id, p.state, "yes" if p.is_default else "") for p in found
            ],
        )

    _emit(found, json_, table)


def computers(
    api_key: ApiKeyOption = None, url: UrlOption = None, json_: JsonOption = False
) -> None:
    """The account's computers."""
    with _client(api_key, url) as client:
        found = client.computers.list()

    def table() -> Table:
        return _table(
            "id",
            "name",
            "os",
            "state",
            "printers",
            "last seen",
            rows=[
                (c.id, c.name, c.os, c.state, str(len(c.printers)), _when(c.last_seen_at))
                for c in found
            ],
        )

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
        return _table(
            "id",
            "title",
            "state",
            "printer",
            "created",
            rows=[(j.id, j.title, j.state, j.printer.name, _when(j.created_at)) for j in found],
        )

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
    out.print(
        _table(
            "when",
            "state",
            "message",
            rows=[(_when(s.created_at), s.state, s.message) for s in history],
        )
    )


def print_(
    source: Annotated[str, typer.Argument(help="A file, or an http(s) URL of the document")],
    printer: Annotated[str, typer.Option("--printer", help="The printer's id or name")],
    copies: Annotated[int | None, typer.Option(help="1 to 999")] = None,
    duplex: Annotated[str | None, typer.Option(help="one-sided, long-edge, short-edge")] = None,
    paper: Annotated[str | None, typer.Option(help='Paper size, e.g. "A4"')] = None,
    pages: Annotated[str | None, typer.Option(help='Page ranges, e.g. "1-3,5"')] = None,
    title: Annotated[
        str | None, typer.Option(help="The job's title", show_default="the file's name")
    ] = None,
    raw: Annotated[bool, typer.Option("--raw", help="Send as raw data (ZPL, ESC/POS...)")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the job to its end")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait")] = 300.0,
    api_key: ApiKeyOption = None,
    url: UrlOption = None,
) -> None:
    """Print a PDF (or raw data); with --wait, exit 0 only when it printed."""
    if not raw:
        _check_pdf(source)
    options: dict[str, Any] = {
        k: v
        for k, v in {
            "copies": copies,
            "duplex": duplex,
            "paper": paper,
            "pages": pages,
            "title": title or _name_of(source),
        }.items()
        if v is not None
    }
    with _client(api_key, url) as client:
        send = client.print_raw if raw else client.print_pdf
        try:
            job_id = send(_printer_id(client, printer), source, **options)
        except FileNotFoundError:
            raise fail(f"no such file: {source}") from None
        if not wait:
            out.print(job_id, highlight=False)
            return
        final = _follow(client, job_id, timeout)
    history = final[1]
    message = history[-1].message if history else ""
    out.print(f"{job_id}: {final[0]}{' - ' + message if message else ''}", highlight=False)
    if final[0] != JobState.COMPLETED:
        raise typer.Exit(code=1)


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _name_of(source: str) -> str | None:
    """A job's title when none is given: the file's name, or the URL's last part."""
    name = PurePosixPath(urlsplit(source).path).name if _is_url(source) else Path(source).name
    return name[:255] or None


def _check_pdf(source: str) -> None:
    """A file that is not a PDF, sent as one, is a mistake the server would refuse with a
    less helpful message: say what to do."""
    if _is_url(source):
        return
    try:
        with Path(source).open("rb") as file:
            head = file.read(1024)
    except OSError:
        return  # the SDK says the file is missing
    if b"%PDF-" not in head:
        raise fail(f"{source} is not a PDF: add --raw to send it to the printer as it is")


def _printer_id(client: Client, printer: str) -> str:
    """The id of the printer given by id or by name (a name is matched case-insensitively;
    one shared by several printers must be given by id)."""
    if printer.startswith("prn_"):
        return printer
    found = client.printers.list()
    named = [p for p in found if p.name.casefold() == printer.casefold()]
    if len(named) == 1:
        return named[0].id
    if named:
        choices = ", ".join(f"{p.id} on {p.computer_id}" for p in named)
        raise fail(f"{len(named)} printers are named {printer!r}: give one id ({choices})")
    names = ", ".join(sorted({repr(p.name) for p in found})) or "none"
    raise fail(f"no printer named {printer!r}; the account's printers: {names}")


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
                raise fail(f"{job_id} still {state} after {timeout:g} s", code=2)
            time.sleep(0.5)


def keys(api_key: ApiKeyOption = None, url: UrlOption = None, json_: JsonOption = False) -> None:
    """The account's API keys (never the keys themselves)."""
    with _client(api_key, url) as client:
        found = client.api_keys.list()

    def table() -> Table:
        return _table(
            "id",
            "description",
            "permission",
            "prefix",
            "created",
            "last used",
            "revoked",
            rows=[
                (
                    k.id,
                    k.description,
                    k.permission,
                    k.prefix,
                    _when(k.created_at),
                    _when(k.last_used_at) if k.last_used_at else "never",
                    _when(k.revoked_at),
                )
                for k in found
            ],
        )

    _emit(found, json_, table)


def webhooks(
    api_key: ApiKeyOption = None, url: UrlOption = None, json_: JsonOption = False
) -> None:
    """The account's webhooks."""
    with _client(api_key, url) as client:
        found = client.webhooks.list()

    def table() -> Table:
        return _table(
            "id",
            "url",
            "events",
            "active",
            rows=[(w.id, w.url, ",".join(w.events), "yes" if w.active else "no") for w in found],
        )

    _emit(found, json_, table)


def register(app: typer.Typer) -> None:
    for command in (printers, computers, jobs, job, keys, webhooks):
        app.command()(command)
    app.command("print")(print_)
