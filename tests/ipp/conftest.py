"""Fixtures of the IPP printer's tests."""

from __future__ import annotations

import pytest

from tests.helpers.printrig import PrintRig, load


@pytest.fixture(scope="session")
def printrig() -> PrintRig:
    """The running print rig (scripts/printrig.sh), or the test is skipped (failed under
    PRINTCLOUD_TEST_REQUIRE_SERVICES=1)."""
    return load()
