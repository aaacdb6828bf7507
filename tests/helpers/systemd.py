"""What systemd itself says of a unit file, without a running systemd."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def systemd_verify(unit: Path, *, user: bool = False, runtime: Path | None = None) -> str:
    """``systemd-analyze verify``'s complaints, "" when it has none (it exits 0 even after
    "Unknown key", so the output is what tells)."""
    env = dict(os.environ)
    if runtime is not None:
        env["XDG_RUNTIME_DIR"] = str(runtime)
    result = subprocess.run(
        ["systemd-analyze", *(["--user"] if user else []), "verify", str(unit)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return (result.stdout + result.stderr).strip()
