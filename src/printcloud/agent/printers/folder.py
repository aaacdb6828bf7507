"""A virtual printer that writes each job to a directory: for demos, trials and tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio.to_thread

from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.protocol.messages import PrinterInfo


class FolderBackend:
    name = "folder"

    def __init__(self, folders: dict[str, Path]) -> None:
        self._folders = folders

    async def printers(self) -> list[PrinterInfo]:
        return [
            PrinterInfo(
                name=name,
                capabilities={
                    "color": True,
                    "duplex": True,
                    "media": ["A4", "Letter"],
                    "bins": [],
                    "folder": str(path),
                },
            )
            for name, path in self._folders.items()
        ]

    async def print(self, printer: str, document: Document) -> str:
        folder = self._folders[printer]
        try:
            written = await anyio.to_thread.run_sync(_write, folder, document)
        except OSError as exc:
            raise PrintFailed(f"cannot write to {folder}: {exc.strerror or exc}") from None
        return f"Written to {written}"

    async def cancel(self, printer: str, job_id: str) -> bool:
        # A document is written in one go, and a file on disk is the folder's paper:
        # there is nothing left to stop once the write has begun.
        return False

    async def close(self) -> None:
        return None


def _write(folder: Path, document: Document) -> Path:
    """``<job id>.pdf`` (or ``.bin``) and ``<job id>.json`` with the title and options;
    the document appears under its final name only once it is complete."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{document.job_id}.{'pdf' if document.is_pdf else 'bin'}"
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(document.data)
    meta = {
        "jobId": document.job_id,
        "title": document.title,
        "options": document.options.as_sent(),
        "qty": document.copies_of_job,
        "bytes": len(document.data),
    }
    target.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    os.replace(partial, target)
    return target
