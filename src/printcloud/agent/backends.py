"""Which printing backends an agent runs, from its configuration."""

from __future__ import annotations

from printcloud.agent.config import AgentConfig
from printcloud.agent.printers.base import Backend
from printcloud.agent.printers.folder import FolderBackend
from printcloud.agent.printers.raw_socket import RawSocketBackend
from printcloud.agent.reconnect import AgentFatal


def build_backends(config: AgentConfig) -> list[Backend]:
    """Configured printers first: their names win over a CUPS queue of the same name.

    AgentFatal, with what to install, when the Windows printers are asked for and a
    module they need (pywin32, pypdfium2, Pillow) is missing.
    """
    backends: list[Backend] = []
    if config.folder_printers:
        backends.append(FolderBackend(config.folder_printers))
    if config.raw_printers:
        backends.append(RawSocketBackend(config.raw_printers))
    if config.cups:
        from printcloud.agent.printers.cups import CupsBackend  # noqa: PLC0415 - not on Windows

        backends.append(
            CupsBackend(
                config.cups_server,
                job_timeout=config.job_timeout,
                wait_limit=config.printer_wait_limit,
            )
        )
    if config.windows:
        backends.append(_windows(config))
    return backends


def _windows(config: AgentConfig) -> Backend:
    from printcloud.agent.printers.win32 import missing_message  # noqa: PLC0415 - Windows only

    try:
        from printcloud.agent.printers.windows import WindowsBackend  # noqa: PLC0415

        return WindowsBackend(sumatra_path=config.sumatra_path)
    except ImportError as exc:  # pywin32 (or pypdfium2, Pillow) is not installed
        raise AgentFatal(missing_message(exc)) from None
