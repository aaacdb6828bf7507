"""The layout docs/architecture.md describes, held: what `lint-imports` cannot say."""

from __future__ import annotations

import subprocess
import sys

import grimp


def test_nothing_inside_the_package_imports_its_root() -> None:
    # The root exports the SDK; a module that imported it would load the SDK (and
    # httpx) into the server and the agent with it.
    graph = grimp.build_graph("printcloud", exclude_type_checking_imports=True)
    assert graph.find_modules_that_directly_import("printcloud") == set()
    assert graph.find_modules_directly_imported_by("printcloud") == {"printcloud._version"}


def test_the_agent_imports_without_the_servers_http_client() -> None:
    # outbound.py holds the server's SafeClient on aiohttp (the `server` extra) beside
    # the agent's downloads: an office PC's agent venv has no aiohttp.
    code = (
        "import sys\n"
        "sys.modules['aiohttp'] = sys.modules['yarl'] = None  # not installed\n"
        "import printcloud.outbound, printcloud.agent.content, printcloud.cli\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
