"""``printcloud agent ...``: log in, run, and look at the agent on this computer."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from printcloud.agent import exit_codes
from printcloud.agent.config import (
    CONFIG_ENV,
    AgentConfig,
    ConfigError,
    default_config_path,
    new_machine_id,
)
from printcloud.cli.output import err, fail, out
from printcloud.client import APIConnectionError, Client, PrintCloudError

if TYPE_CHECKING:
    from printcloud.agent.service import Scope

agent_app = typer.Typer(
    help="The agent: connects this computer's printers to PrintCloud.", no_args_is_help=True
)

FULL = "full"  # the permission a key needs to connect a computer (API.md, "API keys")

# Rich reads "[...]" in a help text as markup and drops it: a default written into the
# help vanishes, so the defaults that are not values are given as show_default's text.
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="The agent's configuration file",
        show_default="agent.json in the per-user config dir, or $" + CONFIG_ENV,
    ),
]
SumatraOption = Annotated[
    Path | None,
    typer.Option(
        "--sumatra",
        help="Windows: print PDFs with this SumatraPDF.exe instead of the agent's own drawing",
        show_default="the configuration's sumatra_path, else none",
    ),
]


def _load(path: Path | None, code: int = exit_codes.FAILED) -> tuple[AgentConfig, Path]:
    path = path or default_config_path()
    try:
        return AgentConfig.load(path), path
    except ConfigError as exc:
        raise fail(str(exc), code) from None


def _invalid(exc: ValidationError) -> str:
    """Pydantic's errors as one line, without its link to its documentation."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'value'}: "
        + error["msg"].removeprefix("Value error, ")
        for error in exc.errors()
    )


def _pairs(values: list[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, target = value.partition("=")
        if not sep or not name or not target:
            raise fail(
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
        str | None,
        typer.Option(help="This computer's name", show_default="this computer's hostname"),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where the agent keeps its journal of jobs (an installer's own folder)",
            show_default="the per-user data dir",
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Get an API key for this computer and store it in the agent's configuration."""
    path = config or default_config_path()
    if "://" not in server:
        # Not guessed: http:// to a server that wants https:// would send the key in clear.
        raise fail(
            f"--server needs its scheme: http://{server} or https://{server}, as the "
            "dashboard's address starts"
        )
    try:
        settings = AgentConfig(server=server, api_key="unset")
    except ValidationError as exc:
        raise fail(f"--server {server!r}: {_invalid(exc).removeprefix('server: ')}") from None
    try:
        updated = AgentConfig.load(path).model_copy(update={"server": settings.server})
    except ConfigError:
        updated = settings
    if updated.machine_id is None:  # a re-login keeps the id the server knows this machine by
        updated = updated.model_copy(update={"machine_id": new_machine_id()})
    if name:
        updated = updated.model_copy(update={"name": name})
    if not api_key:
        if email is None:
            raise fail("give --email (and the password when asked), or --api-key")
        if password is None:
            password = typer.prompt("Password", hide_input=True)
        api_key = _client_login(settings.server, email, password, updated.name)
    else:
        _check_key(settings.server, api_key)
    updated = updated.model_copy(update={"api_key": api_key})
    if data_dir:
        updated = updated.model_copy(update={"data_dir": data_dir.absolute()})
    updated.save(path)
    out.print(
        f"Logged in to {settings.server} as computer {updated.name!r}. "
        f"Configuration saved in {path} (readable by you only).",
        highlight=False,
    )
    out.print("Next: printcloud agent run", highlight=False)


# One attempt each: a person is waiting, and a locked-out login's Retry-After is long.
def _client_login(server: str, email: str, password: str, computer_name: str) -> str:
    with _server_errors(server):
        return Client.login(
            email, password, server, key_description=_key_description(computer_name), max_retries=0
        ).api_key


def _key_description(computer_name: str) -> str:
    """What the agent's key is called in the account's key list: the computer it is on
    (within the server's 200 characters for a description)."""
    return f"Agent on {computer_name}"[:200]


def _check_key(server: str, api_key: str) -> None:
    """The key works, and may connect a computer: the server takes only a full key at
    /ws, so a print_only or read_only one is refused now rather than at `agent run`."""
    with _server_errors(server), Client(api_key, server, max_retries=0) as client:
        listed = client.api_keys.list()
    # The list shows each key's first characters, enough to tell the account's keys apart.
    permissions = {
        k.permission for k in listed if k.revoked_at is None and api_key.startswith(k.prefix)
    }
    if permissions and FULL not in permissions:
        raise fail(
            f"this API key is {' or '.join(sorted(permissions))}: the agent needs a full key "
            "(log in with --email instead, or create a full key in the dashboard)"
        )


@contextmanager
def _server_errors(server: str) -> Iterator[None]:
    """The SDK's errors as one line and exit code 1."""
    try:
        yield
    except APIConnectionError as exc:
        raise fail(f"cannot reach {server}: {_why(exc)}") from None
    except PrintCloudError as exc:
        raise fail(_server_message(exc)) from None


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


# The printers a run reports; `agent printers` takes the same, to show what a run would.
PrintersOption = Annotated[
    list[str] | None,
    typer.Option("--printers", help="Report only these printers (repeat, or comma-separated)"),
]
FolderOption = Annotated[
    list[str] | None, typer.Option(help="A folder printer: NAME=DIR (repeatable)")
]
RawOption = Annotated[
    list[str] | None, typer.Option(help="A raw socket printer: NAME=HOST:PORT (repeatable)")
]
CupsOption = Annotated[
    bool | None,
    typer.Option(
        "--cups/--no-cups",
        help="Report the CUPS queues",
        show_default="the configuration's cups, else on, on Linux and macOS",
    ),
]


@agent_app.command()
def run(
    name: Annotated[str | None, typer.Option(help="This computer's name")] = None,
    printers: PrintersOption = None,
    folder: FolderOption = None,
    raw: RawOption = None,
    cups: CupsOption = None,
    allow_private_urls: Annotated[
        bool | None,
        typer.Option(
            "--allow-private-urls/--public-urls-only",
            help="Fetch documents from private addresses too (a NAS, an intranet server)",
            show_default="the configuration's allow_private_urls, else public only",
        ),
    ] = None,
    sumatra: SumatraOption = None,
    log_file: Annotated[
        Path | None,
        typer.Option(
            help="Log to this file, rotated (for a service)",
            show_default="the terminal, or the journal under systemd",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="debug, info, warning")] = "info",
    fatal_exit_code: Annotated[
        int,
        typer.Option(
            help="Exit code after an error that retrying cannot mend (a refused key, a bad "
            "configuration); launchd and Task Scheduler's services use 0 so as not to restart",
            min=0,
            max=255,
        ),
    ] = exit_codes.FATAL,
    config: ConfigOption = None,
) -> None:
    """Connect, report the printers and print jobs until stopped (Ctrl-C drains; twice exits)."""
    from printcloud.agent.backends import build_backends
    from printcloud.agent.config import with_machine_id
    from printcloud.agent.journal import Journal
    from printcloud.agent.logs import configure_agent_logging
    from printcloud.agent.reconnect import AgentFatal
    from printcloud.agent.runner import Agent, run_until_signalled

    loaded, path = _load(config, fatal_exit_code)
    settings = _with_overrides(
        loaded, name, printers, folder, raw, cups, allow_private_urls, sumatra, fatal_exit_code
    )
    configure_agent_logging(log_level, log_file, journald=_stderr_is_journal())
    settings = with_machine_id(settings, path)
    journal = Journal(settings.data_dir / "journal.sqlite3")
    journal.prune()
    try:
        asyncio.run(run_until_signalled(Agent(settings, build_backends(settings), journal)))
    except AgentFatal as exc:
        raise fail(str(exc), fatal_exit_code) from None
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise typer.Exit(code=exit_codes.INTERRUPTED) from None
    finally:
        journal.close()


def _stderr_is_journal() -> bool:
    """systemd sets JOURNAL_STREAM to the device and inode of the stream it connected to
    journald; it is ours only if stderr is still that stream (systemd.exec(5))."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    device, sep, inode = stream.partition(":")
    if not sep:
        return False
    try:
        stat = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):  # no stderr, or not a real file
        return False
    return f"{stat.st_dev}:{stat.st_ino}" == f"{device}:{inode}"


def _with_overrides(
    settings: AgentConfig,
    name: str | None,
    printers: list[str] | None,
    folder: list[str] | None,
    raw: list[str] | None,
    cups: bool | None,
    allow_private_urls: bool | None = None,
    sumatra: Path | None = None,
    fail_code: int = exit_codes.FAILED,
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
    if sumatra is not None:
        overrides["sumatra_path"] = sumatra.expanduser().absolute()
    try:
        return AgentConfig.model_validate({**settings.model_dump(), **overrides})
    except ValidationError as exc:
        raise fail(_invalid(exc), fail_code) from None


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
    table.add_row("service", _service_status())
    out.print(table)


def _service_status() -> str:
    from printcloud.agent.service import Scope, local_manager, run_command

    manager = local_manager()
    found = [manager.status(scope, run_command) for scope in Scope]
    installed = [s.describe() for s in found if s.installed]
    return "; ".join(installed) or "not installed (printcloud agent install-service)"


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
    printers: PrintersOption = None,
    folder: FolderOption = None,
    raw: RawOption = None,
    cups: CupsOption = None,
    sumatra: SumatraOption = None,
    config: ConfigOption = None,
) -> None:
    """The printers the agent would report (with the same flags as `agent run`), with
    their capabilities."""
    from printcloud.agent.backends import build_backends
    from printcloud.agent.reconnect import AgentFatal
    from printcloud.agent.runner import collect_printers

    loaded, _ = _load(config)
    settings = _with_overrides(loaded, None, printers, folder, raw, cups, sumatra=sumatra)

    async def collect() -> list[tuple[str, str, bool, dict[str, object]]]:
        try:
            backends = build_backends(settings)
        except AgentFatal as exc:  # a module the Windows printers need is missing
            raise fail(str(exc)) from None
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
            "No printers found. Add one with --folder/--raw (here, and on `agent run`), or in "
            "the configuration file; check that CUPS is running."
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


ScopeOption = Annotated[
    bool | None,
    typer.Option(
        "--user/--system",
        help="This user's service (while they are logged in), or the computer's (from boot)",
        show_default="--system as root or an administrator, else --user",
    ),
]
RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="Write the files under this directory and run no command (packagers, tests)",
        file_okay=False,
    ),
]


def _scope(user: bool | None) -> Scope:
    from printcloud.agent.service import Scope

    if user is None:
        return Scope.SYSTEM if _is_admin() else Scope.USER
    return Scope.USER if user else Scope.SYSTEM


def _is_admin() -> bool:
    if sys.platform == "win32":
        import ctypes

        return bool(ctypes.windll.shell32.IsUserAnAdmin())
    return os.geteuid() == 0


@agent_app.command("install-service")
def install_service(
    user: ScopeOption = None,
    root: RootOption = None,
    config: ConfigOption = None,
    no_start: Annotated[
        bool, typer.Option("--no-start", help="Install it, but do not start it now")
    ] = False,
) -> None:
    """Run the agent as a service of this computer: systemd, launchd or Task Scheduler.

    It runs `printcloud agent run --config CONFIG` with this Python, restarts after a
    failure, and stays stopped after a fatal error (a revoked key: log in again, then
    start it). docs/agent.md says where its logs are.
    """
    from printcloud.agent.service import (
        ServiceError,
        ServiceTarget,
        apply,
        local_manager,
        on_disk,
        run_command,
    )

    path = (config or default_config_path()).expanduser().absolute()
    settings, _ = _load(path)  # a service that cannot start is no use: log in first
    scope = _scope(user)
    manager = local_manager()
    target = ServiceTarget(
        argv=(sys.executable, "-m", "printcloud"),
        config=path,
        scope=scope,
        user=_service_user(scope, path),
        writable=(settings.data_dir.expanduser().absolute(),),
    )
    steps = manager.install(target, start=not no_start)
    try:
        apply(steps, root=root, run=None if root else run_command)
    except (ServiceError, OSError) as exc:
        raise fail(str(exc)) from None
    written = ", ".join(str(on_disk(f.path, root)) for f in steps.write)
    if root:
        out.print(f"Wrote {written} ({manager.name}); nothing was started.", highlight=False)
        return
    started = "installed" if no_start else "installed and started"
    out.print(
        f"The PrintCloud agent is {started} as a {scope} service ({manager.name}): {written}",
        highlight=False,
    )
    for note in steps.notes:
        out.print(f"  {note}", highlight=False)


def _service_user(scope: Scope, config: Path) -> str | None:
    """Who the service runs as. A system service on Linux and macOS: the owner of the
    configuration (whoever ran `agent login`), so it reads that file and writes the data
    dir it names, and runs as root only when root logged in. A user's task on Windows:
    this user. SYSTEM (None) for Windows' system task."""
    from printcloud.agent.service import Scope

    if sys.platform == "win32":
        if scope is Scope.SYSTEM:
            return None
        return f"{os.environ.get('USERDOMAIN', '.')}\\{os.environ.get('USERNAME', '')}"
    if scope is Scope.USER:
        return None
    import pwd

    owner = pwd.getpwuid(config.stat().st_uid).pw_name
    return None if owner == "root" else owner


@agent_app.command("uninstall-service")
def uninstall_service(user: ScopeOption = None, root: RootOption = None) -> None:
    """Stop the agent's service and remove it (the configuration and journal stay)."""
    from printcloud.agent.service import ServiceError, apply, local_manager, on_disk, run_command

    scope = _scope(user)
    manager = local_manager()
    steps = manager.uninstall(scope)
    present = [on_disk(p, root) for p in steps.remove if on_disk(p, root).exists()]
    try:
        apply(steps, root=root, run=None if root else run_command)
    except (ServiceError, OSError) as exc:
        raise fail(str(exc)) from None
    if present:
        removed = ", ".join(str(p) for p in present)
        out.print(f"Removed the agent's {scope} service ({manager.name}): {removed}")
    else:
        out.print(f"No {scope} service of the agent was installed ({manager.name}).")
