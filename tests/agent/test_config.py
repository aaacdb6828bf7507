"""The agent's configuration file: its machine id, made once and kept."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from structlog.testing import capture_logs

from printcloud.agent.config import AgentConfig, with_machine_id

WRITTEN_BEFORE_MACHINE_IDS: dict[str, object] = {
    "server": "https://print.example.com",
    "api_key": "pk_live_old",
}


def write(path: Path, values: dict[str, object]) -> AgentConfig:
    path.write_text(json.dumps(values))
    return AgentConfig.load(path)


def test_a_configuration_without_a_machine_id_gets_one_saved_and_nothing_else_changes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "agent.json"
    config = write(path, WRITTEN_BEFORE_MACHINE_IDS)

    with capture_logs() as logs:
        updated = with_machine_id(config, path)

    assert updated.machine_id is not None
    assert len(updated.machine_id) == 32
    int(updated.machine_id, 16)  # uuid4 hex
    saved = json.loads(path.read_text())
    # Only the id is added: defaults (the name from the hostname...) stay unwritten.
    assert saved == {**WRITTEN_BEFORE_MACHINE_IDS, "machine_id": updated.machine_id}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert AgentConfig.load(path).machine_id == updated.machine_id
    assert [e["event"] for e in logs] == ["machine_id_created"]


def test_a_machine_id_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "agent.json"
    config = write(path, {**WRITTEN_BEFORE_MACHINE_IDS, "machine_id": "kept"})
    before = path.read_text()
    assert with_machine_id(config, path).machine_id == "kept"
    assert path.read_text() == before


def test_a_configuration_that_cannot_be_written_runs_with_an_id_in_memory(
    tmp_path: Path,
) -> None:
    path = tmp_path / "agent.json"
    config = write(path, WRITTEN_BEFORE_MACHINE_IDS)
    path.with_suffix(".tmp").mkdir()  # where the new file would be written first

    with capture_logs() as logs:
        updated = with_machine_id(config, path)

    assert updated.machine_id is not None
    assert json.loads(path.read_text()) == WRITTEN_BEFORE_MACHINE_IDS
    [entry] = logs
    assert entry["event"] == "machine_id_not_saved"
    assert entry["log_level"] == "warning"
    assert entry["config"] == str(path)
