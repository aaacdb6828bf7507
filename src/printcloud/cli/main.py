"""``printcloud``: one command for every role. Thin: the work is in server/, agent/, client/."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from printcloud.cli.agent import agent_app
from printcloud.cli.integrator import register as register_integrator_commands
from printcloud.cli.output import fail

if TYPE_CHECKING:
    from printcloud.server.settings import Settings

# The server is an extra (`printcloud[server]`): an agent's install has the SDK, the CLI
# and the agent only, so the server's modules are imported by its commands, when run.
SERVER_NOT_INSTALLED = "the server is not installed here: pip install 'printcloud[server]'"

app = typer.Typer(
    help="PrintCloud: cloud printing, self-hosted.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(agent_app, name="agent")
register_integrator_commands(app)


def _show_version(value: bool) -> None:
    if value:
        from printcloud._version import __version__

        typer.echo(f"printcloud {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit"
        ),
    ] = False,
) -> None:
    """PrintCloud: cloud printing, self-hosted."""


def _require_server() -> None:
    """A clear exit, not an ImportError's traceback, when the server is not installed."""
    try:
        import printcloud.cli.serve  # noqa: F401  (imports the whole server)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.partition(".")[0] == "printcloud":
            raise  # our own module missing is a broken install, not a missing extra
        raise fail(f"{SERVER_NOT_INSTALLED} (no module named {exc.name!r})") from None


def _metrics_dir_first() -> None:
    """prometheus-client takes its multiprocess directory from ``PROMETHEUS_MULTIPROC_DIR``
    when it is first imported, and the server's modules import it: so this one setting
    is applied here, at the command's edge, before the settings object (whose modules
    import it too) is built. ``metrics.join_directory`` then checks the two agree."""
    directory = os.environ.get("PRINTCLOUD_METRICS_DIR")
    if directory:
        try:
            Path(directory).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise fail(f"PRINTCLOUD_METRICS_DIR: {exc}") from None
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory


def _settings(**overrides: object) -> Settings:
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from printcloud.server.errors import describe_validation_errors
    from printcloud.server.settings import Settings

    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    except ValidationError as exc:
        raise fail("invalid setting: " + describe_validation_errors(exc.errors())) from None
    except SettingsError as exc:
        raise fail(f"invalid setting: {exc}") from None


@app.command()
def serve(
    # The settings decide (PRINTCLOUD_HOST, PRINTCLOUD_PORT): a help text written
    # "[default: ...]" is read by rich as markup and vanishes, so show_default says it.
    host: Annotated[
        str | None,
        typer.Option(help="Address to listen on", show_default="127.0.0.1, or $PRINTCLOUD_HOST"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Port to listen on", show_default="8080, or $PRINTCLOUD_PORT"),
    ] = None,
) -> None:
    """Apply database migrations, then run the server."""
    _metrics_dir_first()
    _require_server()
    from printcloud.cli.serve import run_server

    run_server(_settings(host=host, port=port))


@app.command()
def worker() -> None:
    """Deliver webhooks, without serving HTTP (a cluster may run it apart from `serve`)."""
    _metrics_dir_first()
    _require_server()
    from printcloud.cli.serve import run_worker

    run_worker(_settings())


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="The user's e-mail address")],
    password: Annotated[str, typer.Option(help="At least 8 characters")],
    first_name: Annotated[str, typer.Option(help="First name")] = "",
    last_name: Annotated[str, typer.Option(help="Last name")] = "",
) -> None:
    """Create an account with its first user, its owner (who invites the others from the
    dashboard's Users page)."""
    _require_server()
    from printcloud.cli.serve import create_user
    from printcloud.server.errors import PrintCloudError

    try:
        user = asyncio.run(
            create_user(
                _settings(),
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
            )
        )
    except PrintCloudError as exc:
        raise fail(exc.message) from None
    except OSError as exc:
        raise fail(f"cannot reach the database: {exc}") from None
    Console(soft_wrap=True).print(
        f"Created user {user.email} ({user.id}), the owner of the new account {user.account_id}",
        highlight=False,
    )


def main() -> None:
    app()
