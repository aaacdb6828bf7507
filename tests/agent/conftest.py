"""Fixtures of the agent's tests."""

from __future__ import annotations

import pytest

from tests.agent.printrig import PrintRig, load


@pytest.fixture(scope="session")
def printrig() -> PrintRig:
    """The running print rig (shared/printrig), or the test is skipped (failed under
    PRINTCLOUD_TEST_REQUIRE_SERVICES=1)."""
    return load()
