"""The command line of an agent's install: the server is an extra it may not have."""

from __future__ import annotations

import subprocess
import sys


def test_the_cli_imports_no_server_module_until_a_server_command_runs() -> None:
    code = (
        "import sys, printcloud.cli\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'sqlalchemy', 'uvicorn', 'starlette', 'pydantic_settings', 'alembic') "
        "or m.startswith('printcloud.server'))\n"
        "print(loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "[]\n"
