"""A contributor whose PostgreSQL has no role or database for the tests gets its tests
skipped with what to set, not hundreds of errors (issue 18)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pytest(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "PRINTCLOUD_TEST_REQUIRE_SERVICES"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "tests/server/test_idempotency.py",
            "-k",
            "postgres",
        ],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_missing_role_skips_the_postgresql_tests_saying_what_to_set() -> None:
    result = _pytest(PRINTCLOUD_TEST_PG_USER="no_such_role_for_printcloud")
    assert result.returncode == 0, result.stdout
    assert " skipped" in result.stdout
    assert " error" not in result.stdout
    assert "PostgreSQL refused the tests (InvalidAuthorizationSpecificationError" in result.stdout
    assert "PRINTCLOUD_TEST_PG_HOST, _PORT, _USER" in result.stdout


def test_under_ci_a_missing_role_fails_the_run() -> None:
    result = _pytest(
        PRINTCLOUD_TEST_PG_USER="no_such_role_for_printcloud", PRINTCLOUD_TEST_REQUIRE_SERVICES="1"
    )
    assert result.returncode == 1, result.stdout
    assert "PRINTCLOUD_TEST_REQUIRE_SERVICES=1 requires it" in result.stdout
