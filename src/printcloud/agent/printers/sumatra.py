"""SumatraPDF's command line printer: the Windows backend's fallback for PDFs, used only
when the agent's configuration names it (``sumatra_path``).

``SumatraPDF.exe -print-to <printer> -print-settings <list> -silent <file>``; the list is
SumatraPDF's own, comma separated: page ranges (``1-3,5``), ``fit`` / ``noscale``,
``color`` / ``monochrome``, ``simplex`` / ``duplexlong`` / ``duplexshort``,
``paper=<A2..A6, letter, legal, tabloid, statement>``, ``bin=<name>``, ``<N>x`` copies.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from printcloud.agent.printers import win32
from printcloud.agent.printers.base import PrintFailed
from printcloud.protocol.options import Duplex, PrintOptions

DUPLEX: dict[Duplex, str] = {
    "one-sided": "simplex",
    "long-edge": "duplexlong",
    "short-edge": "duplexshort",
}
# The papers SumatraPDF can choose, by the DEVMODE paper they are.
PAPERS: dict[int, str] = {
    win32.DMPAPER_A2: "A2",
    win32.DMPAPER_A3: "A3",
    win32.DMPAPER_A4: "A4",
    win32.DMPAPER_A5: "A5",
    win32.DMPAPER_A6: "A6",
    win32.DMPAPER_LETTER: "letter",
    win32.DMPAPER_LEGAL: "legal",
    win32.DMPAPER_TABLOID: "tabloid",
    win32.DMPAPER_STATEMENT: "statement",
}


def print_settings(
    options: PrintOptions, copies: int, *, paper: int | None = None, bin_name: str | None = None
) -> str:
    """The ``-print-settings`` list for the options. ``paper`` is the DEVMODE paper and
    ``bin_name`` the driver's name of the tray, both already matched to the printer."""
    settings = [
        f"{first}-{last}" if last > first else str(first) for first, last in options.page_ranges()
    ]
    if options.fit_to_page is not None:
        settings.append("fit" if options.fit_to_page else "noscale")
    if options.color is not None:
        settings.append("color" if options.color else "monochrome")
    if options.duplex is not None:
        settings.append(DUPLEX[options.duplex])
    if paper is not None:
        if paper not in PAPERS:
            choices = ", ".join(PAPERS.values())
            raise PrintFailed(
                f"SumatraPDF cannot choose the paper {options.paper!r} (only {choices}); "
                "without sumatra_path the agent prints it itself"
            )
        settings.append(f"paper={PAPERS[paper]}")
    if bin_name is not None:
        if "," in bin_name:  # the list is comma separated, with no quoting
            raise PrintFailed(f"SumatraPDF cannot name the tray {bin_name!r}: it has a comma")
        settings.append(f"bin={bin_name}")
    if copies > 1:
        settings.append(f"{copies}x")
    return ",".join(settings)


def command(sumatra: Path, printer: str, document: Path, settings: str) -> list[str]:
    return [
        str(sumatra),
        "-print-to",
        printer,
        *(["-print-settings", settings] if settings else []),
        "-silent",
        str(document),
    ]


async def run(arguments: list[str], printer: str, time_limit: float) -> None:
    """Run SumatraPDF to its end; PrintFailed when it fails or outlasts ``time_limit``. A
    cancelled caller kills it (SumatraPDF then leaves no job in the spooler, or part of one
    the spooler drops)."""
    try:
        process = await asyncio.create_subprocess_exec(
            *arguments, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
    except OSError as exc:
        raise PrintFailed(f"SumatraPDF ({arguments[0]}) could not start: {exc}") from None
    try:
        async with asyncio.timeout(time_limit):
            status = await process.wait()
    except TimeoutError:
        raise PrintFailed(
            f"SumatraPDF did not finish printing to {printer} within {time_limit:g} s"
        ) from None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    if status != 0:
        raise PrintFailed(f"SumatraPDF could not print to {printer} (exit status {status})")
