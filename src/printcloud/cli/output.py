"""Where the CLI writes: results on stdout, errors on stderr as one line each."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message`` and give the exit to raise. Escaped: a message may hold
    brackets (a path, an option, 'printcloud[server]') that rich would read as markup."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code=code)
