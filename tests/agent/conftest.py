"""Fixtures of the agent's tests."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.printrig import PrintRig, PrivateRig, closed_port, load, run_cups_tool


@pytest.fixture(scope="session")
def printrig() -> PrintRig:
    """The running print rig (scripts/printrig.sh), or the test is skipped (failed under
    PRINTCLOUD_TEST_REQUIRE_SERVICES=1)."""
    return load()


@pytest.fixture
def dead_queue(printrig: PrintRig) -> Iterator[str]:
    """A raw queue of our own whose device refuses connections; deleted afterwards."""
    name = f"PCTEST_{secrets.token_hex(4)}"
    run_cups_tool(
        printrig,
        "lpadmin",
        "-p",
        name,
        "-E",
        "-v",
        f"socket://127.0.0.1:{closed_port()}",
        "-m",
        "raw",
    )
    try:
        yield name
    finally:
        run_cups_tool(printrig, "lpadmin", "-x", name)


@pytest.fixture
def paused_queue(printrig: PrintRig) -> Iterator[str]:
    """A raw queue of our own to the rig's sink, paused: it accepts jobs and keeps them
    until resumed (``cupsenable``). Deleted afterwards, with any job it still holds."""
    name = f"PCTEST_{secrets.token_hex(4)}"
    device = f"socket://127.0.0.1:{printrig.sink_port}"
    run_cups_tool(printrig, "lpadmin", "-p", name, "-E", "-v", device, "-m", "raw")
    try:
        run_cups_tool(printrig, "cupsdisable", name)
        yield name
    finally:
        run_cups_tool(printrig, "lpadmin", "-x", name)


@pytest.fixture
def private_rig(printrig: PrintRig) -> Iterator[tuple[PrivateRig, PrintRig]]:
    """A print rig of the test's own (the shared one must be there too: it tells that
    the rig's programs are installed). Stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="pc-rig-"))  # short: CUPS's socket lives there
    root.chmod(0o755)  # cupsd's filters run as lp
    rig = PrivateRig(root)
    try:
        yield rig, rig.start()
    finally:
        rig.stop()
