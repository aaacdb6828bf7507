"""The Windows spooler, through pywin32's win32print. It cannot run on the CI machines
(Linux), so it is kept small: RAW jobs go straight to the spooler; PDF jobs are handed
to SumatraPDF's command line printer (``-print-to``), the usual silent way on Windows."""

from __future__ import annotations

import asyncio
import importlib
import tempfile
from pathlib import Path
from typing import Any

import anyio.to_thread

from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.protocol.messages import PrinterInfo

_ENUM_LOCAL_AND_CONNECTIONS = 2 | 4  # PRINTER_ENUM_LOCAL | PRINTER_ENUM_CONNECTIONS


class WindowsBackend:
    name = "windows"

    def __init__(self, sumatra_path: Path | None = None) -> None:
        try:
            self._spooler: Any = importlib.import_module("win32print")
        except ImportError as exc:
            raise PrintFailed("the Windows backend needs pywin32 (pip install pywin32)") from exc
        self._sumatra = sumatra_path

    async def printers(self) -> list[PrinterInfo]:
        def enumerate_printers() -> list[PrinterInfo]:
            default = self._spooler.GetDefaultPrinter()
            found = self._spooler.EnumPrinters(_ENUM_LOCAL_AND_CONNECTIONS, None, 2)
            return [
                PrinterInfo(
                    name=p["pPrinterName"],
                    is_default=p["pPrinterName"] == default,
                    capabilities={"driver": p.get("pDriverName", "")},
                )
                for p in found
            ]

        return await anyio.to_thread.run_sync(enumerate_printers)

    async def print(self, printer: str, document: Document) -> str:
        if document.is_pdf:
            return await self._print_pdf(printer, document)
        await anyio.to_thread.run_sync(self._print_raw, printer, document)
        return f"Sent to the Windows spooler queue {printer}"

    def _print_raw(self, printer: str, document: Document) -> None:
        handle = self._spooler.OpenPrinter(printer)
        try:
            for _ in range(document.copies):
                self._spooler.StartDocPrinter(handle, 1, (document.title, None, "RAW"))
                try:
                    self._spooler.StartPagePrinter(handle)
                    self._spooler.WritePrinter(handle, document.data)
                    self._spooler.EndPagePrinter(handle)
                finally:
                    self._spooler.EndDocPrinter(handle)
        finally:
            self._spooler.ClosePrinter(handle)

    async def _print_pdf(self, printer: str, document: Document) -> str:
        if self._sumatra is None or not self._sumatra.exists():
            raise PrintFailed(
                "PDF printing on Windows needs SumatraPDF: set sumatra_path in "
                "the agent configuration"
            )
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{document.job_id}.pdf"
            path.write_bytes(document.data)
            process = await asyncio.create_subprocess_exec(
                str(self._sumatra),
                "-print-to",
                printer,
                "-print-settings",
                f"{document.copies}x",
                "-silent",
                str(path),
            )
            if await process.wait() != 0:
                raise PrintFailed(f"SumatraPDF could not print to {printer}")
        return f"Printed on {printer}"

    async def cancel(self, printer: str, job_id: str) -> bool:
        # Once handed over, the job belongs to the spooler; finding and deleting it there
        # (SetJob with JOB_CONTROL_DELETE) comes with following spooler jobs (issue 14).
        return False

    async def close(self) -> None:
        return None
