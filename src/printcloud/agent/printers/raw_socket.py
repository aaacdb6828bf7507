"""Network label and receipt printers that take raw data on a TCP port (AppSocket, 9100)."""

from __future__ import annotations

import asyncio
import contextlib

from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.protocol.messages import PrinterInfo


class RawSocketBackend:
    name = "raw"

    def __init__(self, printers: dict[str, str], timeout: float = 30.0) -> None:
        self._addresses = printers  # name -> host:port
        self._timeout = timeout

    async def printers(self) -> list[PrinterInfo]:
        return [
            PrinterInfo(
                name=name,
                capabilities={
                    "color": False,
                    "duplex": False,
                    "media": [],
                    "bins": [],
                    "raw": True,
                    "address": address,
                },
            )
            for name, address in self._addresses.items()
        ]

    async def print(self, printer: str, document: Document) -> str:
        address = self._addresses[printer]
        if document.is_pdf:
            raise PrintFailed(f"{printer} is a raw printer ({address}); send raw data, not a PDF")
        host, _, port = address.rpartition(":")
        copies = document.copies
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
                try:
                    for _ in range(copies):
                        writer.write(document.data)
                        await writer.drain()
                    writer.write_eof()
                    await writer.drain()
                finally:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
        except TimeoutError:
            raise PrintFailed(
                f"{printer} ({address}) did not take the job within {self._timeout:g} s"
            ) from None
        except OSError as exc:
            raise PrintFailed(
                f"{printer} ({address}) is unreachable: {exc.strerror or exc}"
            ) from None
        del reader
        return f"Sent {len(document.data) * copies} bytes to {printer} ({address})"

    async def cancel(self, printer: str, job_id: str) -> bool:
        # The bytes go straight to the device, which prints as they arrive and keeps
        # no queue that could be asked to drop them: what was sent is on paper.
        return False

    async def close(self) -> None:
        return None
