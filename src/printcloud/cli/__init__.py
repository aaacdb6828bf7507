"""The ``printcloud`` command."""

from printcloud.cli.main import app, main

__all__ = ["app", "main"]
