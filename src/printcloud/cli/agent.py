"""``printcloud agent ...``: log in, run, and look at the agent on this computer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from printcloud.agent.config import AgentConfig, ConfigError, default_config_path, new_machine_id
from printcloud.client import APIConnectionError, Client, PrintCloudError

agent_app = typer.Typer(
    help="The agent: connects this computer's printers to PrintCloud.", no_args_is_help=True
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="The agent's configuration file [default: the per-user config dir]"
    ),
]


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=1)


def _load(path: Path | None) -> tuple[AgentConfig, Path]:
    path = path or default_config_path()
    try:
        return AgentConfig.load(path), path
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep or not name or not target:
            raise _fail(
                f"{what} must be NAME={'DIR' if what == '--folder' else 'HOST:PORT'}, not {value!r}"
            )
        pairs[name] = target
    return pairs


@agent_app.command()
def login(
    server: Annotated[
        str, typer.Option(help="The PrintCloud server, e.g. https://print.example.com")
    ],
    email: Annotated[str | None, typer.Option(help="Your PrintCloud e-mail address")] = None,
    password: Annotated[
        str | None,
        typer.Option(help="Asked for when not given (keeps it out of the shell history)"),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help="A full API key instead of e-mail and password (unattended installs)",
            envvar="PRINTCLOUD_API_KEY",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="This computer's name [default: hostname]")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Get an API key for this computer and store it in the agent's configuration."""
    path = config or default_config_path()
    try:
        settings = AgentConfig(server=server, api_key="unset")
    except ValueError as exc:
        raise _fail(str(exc).splitlines()[-1]) from None
    if not api_key:
        if email is None:
            raise _fail("give --email (and the password when asked), or --api-key")
        if password is None:
            password = typer.prompt("Password", hide_input=True)
        api_key = _client_login(settings.server, email, password)
    else:
        _check_key(settings.server, api_key)
    try:
        previous = AgentConfig.load(path)
        updated = previous.model_copy(update={"server": settings.server, "api_key": api_key})
    except ConfigError:
        updated = AgentConfig(server=settings.server, api_key=api_key)
    if updated.machine_id is None:  # a re-login keeps the id the server knows this machine by
        updated = updated.model_copy(update={"machine_id": new_machine_id()})
    if name:
        updated = updated.model_copy(update={"name": name})
    updated.save(path)
    out.print(
        f"Logged in to {settings.server} as computer {updated.name!r}. "
        f"Configuration saved in {path} (readable by you only).",
        highlight=False,
    )
    out.print("Next: printcloud agent run", highlight=False)


# One attempt each: a person is waiting, and a locked-out login's Retry-After is long.
def _client_login(server: str, email: str, password: str) -> str:
    with _server_errors(server):
        return Client.login(email, password, server, max_retries=0).api_key


def _check_key(server: str, api_key: str) -> None:
    with _server_errors(server), Client(api_key, server, max_retries=0) as client:
        client.computers.list()


@contextmanager
def _server_errors(server: str) -> Iterator[None]:
    """The SDK's errors as one line and exit code 1."""
    try:
        yield
    except APIConnectionError as exc:
        raise _fail(f"cannot reach {server}: {_why(exc)}") from None
    except PrintCloudError as exc:
        raise _fail(_server_message(exc)) from None


def _why(exc: APIConnectionError) -> str:
    # The SDK chains httpx's error, which says why without the request line around it.
    return str(exc.__cause__ or exc.message)


def _server_message(exc: PrintCloudError) -> str:
    if exc.status_code is None:
        return exc.message
    if exc.code is None:
        # Not an answer of PrintCloud's (a proxy's error page, say): its status says enough.
        return f"the server answered HTTP {exc.status_code}"
    return f"{exc.message} (HTTP {exc.status_code})"


@agent_app.command()
def run(
    name: Annotated[str | None, typer.Option(help="This computer's name")] = None,
    printers: Annotated[
        list[str] | None,
        typer.Option("--printers", help="Report only these printers (repeat, or comma-separated)"),
    ] = None,
    folder: Annotated[
        list[str] | None, typer.Option(help="A folder printer: NAME=DIR (repeatable)")
    ] = None,
    raw: Annotated[
        list[str] | None, typer.Option(help="A raw socket printer: NAME=HOST:PORT (repeatable)")
    ] = None,
    cups: Annotated[
        bool | None,
        typer.Option(
            "--cups/--no-cups", help="Report the CUPS queues [default: on, on Linux and macOS]"
        ),
    ] = None,
    allow_private_urls: Annotated[
        bool | None,
        typer.Option(
            "--allow-private-urls/--public-urls-only",
            help="Fetch documents from private addresses too (a NAS, an intranet server) "
            "[default: the configuration's allow_private_urls, else public only]",
        ),
    ] = None,
    log_file: Annotated[
        Path | None, typer.Option(help="Log to this file, rotated (for a service)")
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning")] = "info",
    config: ConfigOption = None,
) -> None:
    """Connect, report the printers and print jobs until stopped (Ctrl-C drains; twice exits)."""
    from printcloud.agent.backends import build_backends
    from printcloud.agent.config import with_machine_id
    from printcloud.agent.journal import Journal
    from printcloud.agent.logs import configure_agent_logging
    from printcloud.agent.reconnect import AgentFatal
    from printcloud.agent.runner import Agent, run_until_signalled

    loaded, path = _load(config)
    settings = _with_overrides(loaded, name, printers, folder, raw, cups, allow_private_urls)
    configure_agent_logging(log_level, log_file)
    settings = with_machine_id(settings, path)
    journal = Journal(settings.data_dir / "journal.sqlite3")
    journal.prune()
    try:
        asyncio.run(run_until_signalled(Agent(settings, build_backends(settings), journal)))
    except AgentFatal as exc:
        raise _fail(str(exc)) from None
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise typer.Exit(code=130) from None
    finally:
        journal.close()


def _with_overrides(
    settings: AgentConfig,
    name: str | None,
    printers: list[str] | None,
    folder: list[str] | None,
    raw: list[str] | None,
    cups: bool | None,
    allow_private_urls: bool | None = None,
) -> AgentConfig:
    """The configuration file's settings, with this run's flags on top (not saved)."""
    overrides: dict[str, object] = {}
    if name:
        overrides["name"] = name
    if printers:
        overrides["only_printers"] = [p.strip() for v in printers for p in v.split(",") if p]
    if folder:
        folders = {k: Path(v).expanduser() for k, v in _pairs(folder, "--folder").items()}
        overrides["folder_printers"] = {**settings.folder_printers, **folders}
    if raw:
        overrides["raw_printers"] = {**settings.raw_printers, **_pairs(raw, "--raw")}
    if cups is not None:
        overrides["cups"] = cups
    if allow_private_urls is not None:
        overrides["allow_private_urls"] = allow_private_urls
    try:
        return AgentConfig.model_validate({**settings.model_dump(), **overrides})
    except ValueError as exc:
        raise _fail(str(exc)) from None


@agent_app.command()
def status(config: ConfigOption = None) -> None:
    """Where the agent connects, as whom, and what its journal holds."""
    from printcloud.agent.journal import Journal

    settings, path = _load(config)
    table = Table(show_header=False, box=None)
    table.add_row("configuration", str(path))
    table.add_row("server", settings.server)
    table.add_row("computer name", settings.name)
    table.add_row("machine id", settings.machine_id or "not yet (made on the next run)")
    table.add_row("API key", settings.api_key[:14] + "…")
    table.add_row("journal", str(settings.data_dir / "journal.sqlite3"))
    journal = Journal(settings.data_dir / "journal.sqlite3")
    counts = journal.counts()
    journal.close()
    table.add_row(
        "jobs in journal", ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "none"
    )
    table.add_row("on the server", _on_the_server(settings))
    out.print(table)


def _on_the_server(settings: AgentConfig) -> str:
    try:
        with Client(settings.api_key, settings.server, timeout=15, max_retries=0) as client:
            computers = client.computers.list()
    except APIConnectionError as exc:
        return f"unreachable: {_why(exc)}"
    except PrintCloudError as exc:
        return _server_message(exc)
    mine = [c for c in computers if c.name == settings.name]
    state = mine[0].state if mine else "never connected"
    return f"reachable; this computer is {state}"


@agent_app.command("printers")
def list_printers(
    json_output: Annotated[
        bool, typer.Option("--json", help="JSON, as sent to the server")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """The printers the agent would report, with their capabilities."""
    from printcloud.agent.backends import build_backends
    from printcloud.agent.runner import collect_printers

    settings, _ = _load(config)

    async def collect() -> list[tuple[str, str, bool, dict[str, object]]]:
        backends = build_backends(settings)
        try:
            found, owners = await collect_printers(backends, settings.only_printers)
        finally:
            for backend in backends:
                await backend.close()
        return [(p.name, owners[p.name].name, p.is_default, p.capabilities) for p in found]

    rows = asyncio.run(collect())
    if json_output:
        out.print_json(
            json.dumps(
                [
                    {"name": n, "backend": b, "isDefault": d, "capabilities": c}
                    for n, b, d, c in rows
                ]
            )
        )
        return
    if not rows:
        err.print(
            "No printers found. Add one with --folder/--raw on `agent run`, or in the "
            "configuration file; check that CUPS is running."
        )
        raise typer.Exit(code=1 if not rows else 0)
    table = Table("printer", "backend", "default", "capabilities")
    for printer, backend, default, capabilities in rows:
        table.add_row(
            printer,
            backend,
            "yes" if default else "",
            ", ".join(f"{k}={v}" for k, v in capabilities.items()),
        )
    out.print(table)
