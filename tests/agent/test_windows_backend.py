"""The Windows backend against a fake of the pywin32 calls it makes (tests/helpers/
win32_fake.py): no Windows spooler runs here. The PDFs are real and rendered for real
by pypdfium2; what the fake records is what would have reached Windows: the calls in
order, the DEVMODE a document was made with, and the bitmaps drawn on each page."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import anyio
import anyio.from_thread
import pytest

from printcloud.agent import exit_codes
from printcloud.agent.backends import build_backends
from printcloud.agent.config import AgentConfig
from printcloud.agent.printers import win32
from printcloud.agent.printers.base import Document, PrintFailed
from printcloud.agent.printers.pdf_pages import Sheet, page_indexes, place
from printcloud.agent.printers.sumatra import command, print_settings
from printcloud.agent.printers.windows import WindowsBackend
from printcloud.agent.reconnect import AgentFatal
from printcloud.protocol.options import PrintOptions
from printcloud.protocol.presence import PrinterState
from tests.helpers import win32_fake as w
from tests.helpers.documents import ZPL, minimal_pdf
from tests.helpers.pdfs import A3, A4, A5, shade_of_page, shaded_pdf
from tests.helpers.server_process import run_printcloud
from tests.helpers.win32_fake import FakePrinter, FakeWindows, Paper


def office(**fields: object) -> FakePrinter:
    """A colour duplex laser printer at 600 dpi: Letter, A4, Legal; three trays."""
    return FakePrinter(name="Office", **fields)  # type: ignore[arg-type]


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> FakeWindows:
    return FakeWindows([office()], default="Office").install(monkeypatch)


def pdf_job(data: bytes | None = None, qty: int = 1, **options: object) -> Document:
    return Document(
        job_id="job_1",
        title="Invoice 42",
        data=shaded_pdf(1) if data is None else data,
        is_pdf=True,
        options=PrintOptions.model_validate(options),
        copies_of_job=qty,
    )


async def print_pdf(windows: FakeWindows, document: Document) -> w.SpooledDocument:
    """Print, and the one spooler document it made."""
    await WindowsBackend().print("Office", document)
    windows.assert_released()
    [spooled] = windows.documents
    assert spooled.state == "ended"
    return spooled


def pages_drawn(document: w.SpooledDocument) -> list[int]:
    return [round(shade / shade_of_page(1)) for shade in document.shades]


# printers()


async def test_printers_report_what_the_driver_says(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWindows(
        [
            office(status=w.PRINTER_STATUS_TONER_LOW),
            FakePrinter(
                name="Labels",
                port="USB002",
                driver="ZDesigner ZD420-203dpi ZPL",
                papers=(Paper(256, "4x6 label", 1016, 1524),),
                bins=((w.DMBIN_AUTO, "Auto"),),
                duplex=False,
                color=False,
                attributes=w.PRINTER_ATTRIBUTE_LOCAL | w.PRINTER_ATTRIBUTE_RAW_ONLY,
            ),
            FakePrinter(
                name=r"\\PRINTSERVER\Floor 2",
                port="IP_10.0.0.9",
                connection=True,
                attributes=w.PRINTER_ATTRIBUTE_NETWORK,
            ),
        ],
        default=r"\\PRINTSERVER\Floor 2",
    ).install(monkeypatch)

    found = {info.name: info for info in await WindowsBackend().printers()}

    assert fake.args("EnumPrinters") == [
        (w.PRINTER_ENUM_LOCAL | w.PRINTER_ENUM_CONNECTIONS, None, 2)
    ]
    assert found["Office"].capabilities == {
        "color": True,
        "duplex": True,
        "media": ["Letter", "A4", "Legal"],
        "bins": ["Automatically Select", "Tray 1", "Tray 2"],
        "driver": "Generic PCL 6 Driver",
        "status": ["toner-low"],
        "raw": False,
    }
    assert found["Office"].state == PrinterState.ONLINE  # low toner still prints
    assert found["Office"].is_default is False
    labels = found["Labels"].capabilities
    assert (labels["color"], labels["duplex"], labels["raw"]) == (False, False, True)
    assert labels["media"] == ["4x6 label"]
    assert found[r"\\PRINTSERVER\Floor 2"].is_default is True
    # Each capability asked of the printer's own port, the DEVMODE left to the driver.
    asked = {(args[0], args[1], args[2]) for args in fake.args("DeviceCapabilities")}
    for capability in (
        w.DC_PAPERS, w.DC_PAPERNAMES, w.DC_BINS, w.DC_BINNAMES, w.DC_DUPLEX, w.DC_COLORDEVICE
    ):  # fmt: skip
        assert ("Labels", "USB002", capability) in asked


@pytest.mark.parametrize(
    ("status", "attributes", "state", "words"),
    [
        (0, w.PRINTER_ATTRIBUTE_LOCAL, PrinterState.ONLINE, []),
        (w.PRINTER_STATUS_PAUSED, w.PRINTER_ATTRIBUTE_LOCAL, PrinterState.OFFLINE, ["paused"]),
        (w.PRINTER_STATUS_ERROR, w.PRINTER_ATTRIBUTE_LOCAL, PrinterState.OFFLINE, ["error"]),
        (w.PRINTER_STATUS_OFFLINE, w.PRINTER_ATTRIBUTE_LOCAL, PrinterState.OFFLINE, ["offline"]),
        (
            0,
            w.PRINTER_ATTRIBUTE_LOCAL | w.PRINTER_ATTRIBUTE_WORK_OFFLINE,
            PrinterState.OFFLINE,
            ["work-offline"],
        ),
        (
            w.PRINTER_STATUS_PAPER_JAM | w.PRINTER_STATUS_PAPER_OUT,
            w.PRINTER_ATTRIBUTE_LOCAL,
            PrinterState.ONLINE,  # the spooler holds the job until someone clears it
            ["paper-jam", "paper-out"],
        ),
    ],
)
async def test_a_paused_offline_or_failed_printer_is_reported_offline(
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    attributes: int,
    state: PrinterState,
    words: list[str],
) -> None:
    FakeWindows([office(status=status, attributes=attributes)]).install(monkeypatch)

    [info] = await WindowsBackend().printers()

    assert info.state == state
    assert info.capabilities["status"] == words


async def test_a_printer_whose_driver_does_not_answer_is_listed_offline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FakeWindows([office(unreachable=True)]).install(monkeypatch)  # no default printer either

    [info] = await WindowsBackend().printers()

    assert info.state == PrinterState.OFFLINE
    assert info.is_default is False
    assert (info.capabilities["media"], info.capabilities["bins"]) == ([], [])


# raw


async def test_raw_copies_are_one_spooler_document_with_the_data_written_that_many_times(
    windows: FakeWindows,
) -> None:
    document = Document(
        job_id="job_1",
        title="Label",
        data=ZPL,
        is_pdf=False,
        options=PrintOptions(copies=2),
        copies_of_job=2,
    )

    message = await WindowsBackend().print("Office", document)

    assert windows.names() == [
        "OpenPrinter",
        "StartDocPrinter",
        "StartPagePrinter",
        *["WritePrinter"] * 4,
        "EndPagePrinter",
        "EndDocPrinter",
        "ClosePrinter",
    ]
    [(_handle, level, info)] = windows.args("StartDocPrinter")
    assert (level, info) == (1, ("Label", None, "RAW"))
    [spooled] = windows.documents
    assert (spooled.datatype, spooled.state, bytes(spooled.data)) == ("RAW", "ended", ZPL * 4)
    assert message == f"Sent {len(ZPL) * 4} bytes to the Windows spooler queue Office (job 1)"
    windows.assert_released()


async def test_raw_data_the_spooler_takes_in_parts_is_written_to_its_end(
    windows: FakeWindows,
) -> None:
    windows.write_limit = 10
    document = Document(job_id="job_1", title="", data=ZPL, is_pdf=False)

    await WindowsBackend().print("Office", document)

    [spooled] = windows.documents
    assert bytes(spooled.data) == ZPL
    assert windows.names().count("WritePrinter") == -(-len(ZPL) // 10)
    assert spooled.name == "PrintCloud job job_1"  # a title for the queue when none is given


async def test_raw_data_the_spooler_refuses_aborts_the_document(windows: FakeWindows) -> None:
    windows.fail["WritePrinter"] = w.Win32Error(
        1804, "WritePrinter", "The specified datatype is invalid."
    )
    document = Document(job_id="job_1", title="Label", data=ZPL, is_pdf=False)

    with pytest.raises(PrintFailed) as failed:
        await WindowsBackend().print("Office", document)

    assert str(failed.value) == (
        "printing on Office: The specified datatype is invalid (WritePrinter, Windows error 1804)"
    )
    assert windows.names()[-3:] == ["WritePrinter", "AbortPrinter", "ClosePrinter"]
    assert windows.documents[0].state == "aborted"
    windows.assert_released()


async def test_a_printer_that_is_gone_is_a_print_failure(windows: FakeWindows) -> None:
    document = Document(job_id="job_1", title="Label", data=ZPL, is_pdf=False)

    with pytest.raises(PrintFailed, match=r"The printer name is invalid \(OpenPrinter"):
        await WindowsBackend().print("Removed", document)


# PDF through GDI: the calls


async def test_a_pdf_is_drawn_page_by_page_on_a_device_context_of_the_printer(
    windows: FakeWindows,
) -> None:
    message = await WindowsBackend().print("Office", pdf_job(shaded_pdf(2)))

    assert windows.names() == [
        "OpenPrinter",
        "GetPrinter",
        *["DeviceCapabilities"] * 8,
        "DocumentProperties",
        "CreateDC",
        *["GetDeviceCaps"] * 8,
        "StartDoc",
        *["Dib", "StartPage", "Dib.draw", "EndPage"] * 2,
        "EndDoc",
        "DeleteDC",
        "ClosePrinter",
    ]
    [(_handle, level)] = windows.args("GetPrinter")
    assert level == 2
    [(hwnd, _, name, output, given, mode)] = windows.args("DocumentProperties")
    assert (hwnd, name, mode) == (0, "Office", w.DM_IN_BUFFER | w.DM_OUT_BUFFER)
    assert output is given  # merged by the driver into the same DEVMODE
    [(driver, device, devmode)] = windows.args("CreateDC")
    assert (driver, device, devmode) == ("WINSPOOL", "Office", given)
    [(hdc, docinfo)] = windows.args("StartDoc")
    assert docinfo == ("Invoice 42", None, None, 0)
    assert {args[0] for args in windows.args("StartPage")} == {hdc}
    windows.assert_released()
    [spooled] = windows.documents
    assert spooled.state == "ended"
    assert pages_drawn(spooled) == [1, 2]
    assert message == "Spooled 2 pages to Office (Windows job 1)"


async def test_without_options_the_printers_defaults_stay(windows: FakeWindows) -> None:
    spooled = await print_pdf(windows, pdf_job())

    [devmode] = [args[3] for args in windows.args("DocumentProperties")]
    # Only copies (one, collated) are set: everything else is the printer's default.
    assert [name for name, _ in devmode.assigned] == ["Copies", "Collate", "Fields"]
    assert spooled.devmode is not None
    assert spooled.devmode["Copies"] == 1
    assert spooled.devmode["PaperSize"] == w.DMPAPER_A4
    assert spooled.devmode["Duplex"] == w.DMDUP_SIMPLEX
    assert spooled.devmode["Color"] == w.DMCOLOR_COLOR


# PDF through GDI: each option in the DEVMODE


async def test_copies_are_the_drivers_collated_copies(windows: FakeWindows) -> None:
    spooled = await print_pdf(windows, pdf_job(shaded_pdf(2), qty=2, copies=3))

    assert spooled.devmode is not None
    assert (spooled.devmode["Copies"], spooled.devmode["Collate"]) == (6, w.DMCOLLATE_TRUE)
    assert spooled.devmode["Fields"] & (w.DM_COPIES | w.DM_COLLATE) == w.DM_COPIES | w.DM_COLLATE
    assert pages_drawn(spooled) == [1, 2]  # drawn once: the spooler makes the copies


async def test_copies_a_driver_cannot_collate_are_drawn_as_documents_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeWindows([office(max_copies=1, collate=False)]).install(monkeypatch)

    message = await WindowsBackend().print("Office", pdf_job(shaded_pdf(2), copies=3))

    assert [d.name for d in fake.documents] == [
        "Invoice 42 (1 of 3)",
        "Invoice 42 (2 of 3)",
        "Invoice 42 (3 of 3)",
    ]
    assert all(d.devmode is not None and d.devmode["Copies"] == 1 for d in fake.documents)
    assert [pages_drawn(d) for d in fake.documents] == [[1, 2]] * 3
    assert fake.names().count("CreateDC") == 1
    assert message == "Spooled 2 pages to Office (Windows jobs 1, 2, 3)"
    fake.assert_released()


@pytest.mark.parametrize(
    ("duplex", "value"),
    [
        ("one-sided", w.DMDUP_SIMPLEX),
        ("long-edge", w.DMDUP_VERTICAL),
        ("short-edge", w.DMDUP_HORIZONTAL),
    ],
)
async def test_duplex(windows: FakeWindows, duplex: str, value: int) -> None:
    spooled = await print_pdf(windows, pdf_job(duplex=duplex))

    assert spooled.devmode is not None
    assert spooled.devmode["Duplex"] == value
    assert spooled.devmode["Fields"] & w.DM_DUPLEX


@pytest.mark.parametrize(
    ("color", "value", "mode"),
    [(True, w.DMCOLOR_COLOR, "RGB"), (False, w.DMCOLOR_MONOCHROME, "L")],
)
async def test_color_or_monochrome(
    windows: FakeWindows, color: bool, value: int, mode: str
) -> None:
    spooled = await print_pdf(windows, pdf_job(color=color))

    assert spooled.devmode is not None
    assert spooled.devmode["Color"] == value
    assert spooled.devmode["Fields"] & w.DM_COLOR
    assert spooled.pages[0][0].mode == mode  # monochrome is rendered in grey, a third the size


@pytest.mark.parametrize(
    ("paper", "value"),
    [
        ("A4", w.DMPAPER_A4),
        ("letter", w.DMPAPER_LETTER),
        ("Legal", w.DMPAPER_LEGAL),
        ("iso_a4_210x297mm", w.DMPAPER_A4),  # the PWG keyword the CUPS backend takes
        ("na_letter_8.5x11in", w.DMPAPER_LETTER),
    ],
)
async def test_paper_by_name_is_the_drivers_paper(
    monkeypatch: pytest.MonkeyPatch, paper: str, value: int
) -> None:
    # Defaults that name a form and a custom size, which would win over dmPaperSize.
    fields = w.DM_PAPERSIZE | w.DM_PAPERLENGTH | w.DM_PAPERWIDTH | w.DM_FORMNAME
    fake = FakeWindows([office(devmode_fields=fields)]).install(monkeypatch)

    spooled = await print_pdf(fake, pdf_job(paper=paper))

    assert spooled.devmode is not None
    assert spooled.devmode["PaperSize"] == value
    chosen = spooled.devmode["Fields"]
    assert chosen & w.DM_PAPERSIZE
    assert not chosen & (w.DM_PAPERLENGTH | w.DM_PAPERWIDTH | w.DM_FORMNAME)


async def test_a_standard_paper_is_found_under_the_drivers_own_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    papers = (Paper(w.DMPAPER_A4, "A4 (210 x 297 mm)", 2100, 2970), w.LETTER)
    fake = FakeWindows([office(papers=papers)]).install(monkeypatch)

    spooled = await print_pdf(fake, pdf_job(paper="a4"))

    assert spooled.devmode is not None
    assert spooled.devmode["PaperSize"] == w.DMPAPER_A4


async def test_an_unknown_paper_is_refused_naming_the_printers_papers(
    windows: FakeWindows,
) -> None:
    with pytest.raises(PrintFailed) as failed:
        await WindowsBackend().print("Office", pdf_job(paper="A3"))

    assert str(failed.value) == "Office has no paper 'A3'; it has: Letter, A4, Legal"
    assert "CreateDC" not in windows.names()
    assert windows.documents == []
    windows.assert_released()


async def test_a_paper_the_driver_puts_back_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeWindows([office(quirk_drops_paper=True)]).install(monkeypatch)

    with pytest.raises(PrintFailed, match=r"the driver of Office would not print on Letter"):
        await WindowsBackend().print("Office", pdf_job(paper="Letter"))

    assert fake.documents == []
    fake.assert_released()


@pytest.mark.parametrize(
    ("tray", "value"),
    [
        ("Tray 2", w.DMBIN_LOWER),
        ("tray-2", w.DMBIN_LOWER),  # the IPP spelling of the same tray
        ("auto", w.DMBIN_AUTO),  # the IPP keyword, by its DMBIN number
        ("automatically select", w.DMBIN_AUTO),
    ],
)
async def test_tray_by_name_is_the_drivers_bin(windows: FakeWindows, tray: str, value: int) -> None:
    spooled = await print_pdf(windows, pdf_job(media=tray))

    assert spooled.devmode is not None
    assert spooled.devmode["DefaultSource"] == value
    assert spooled.devmode["Fields"] & w.DM_DEFAULTSOURCE


async def test_an_unknown_tray_is_refused_naming_the_printers_trays(windows: FakeWindows) -> None:
    with pytest.raises(PrintFailed) as failed:
        await WindowsBackend().print("Office", pdf_job(media="Tray 5"))

    assert str(failed.value) == (
        "Office has no tray 'Tray 5'; it has: Automatically Select, Tray 1, Tray 2"
    )
    assert windows.documents == []


async def test_all_options_at_once(windows: FakeWindows) -> None:
    spooled = await print_pdf(
        windows,
        pdf_job(
            shaded_pdf(3),
            copies=2,
            duplex="long-edge",
            color=False,
            paper="Letter",
            media="Tray 1",
            pages="2-3",
        ),
    )

    assert spooled.devmode is not None
    chosen = {
        name: spooled.devmode[name]
        for name in ("Copies", "Collate", "Duplex", "Color", "PaperSize", "DefaultSource")
    }
    assert chosen == {
        "Copies": 2,
        "Collate": w.DMCOLLATE_TRUE,
        "Duplex": w.DMDUP_VERTICAL,
        "Color": w.DMCOLOR_MONOCHROME,
        "PaperSize": w.DMPAPER_LETTER,
        "DefaultSource": w.DMBIN_UPPER,
    }
    assert pages_drawn(spooled) == [2, 3]


# PDF through GDI: pages and where they go


@pytest.mark.parametrize(
    ("pages", "drawn"),
    [
        ("2,4-5", [2, 4, 5]),
        ("5,1", [1, 5]),  # in the document's order, as IPP's page-ranges
        ("4-9", [4, 5]),  # the pages the document has
    ],
)
async def test_only_the_pages_asked_for_are_rendered_and_drawn(
    windows: FakeWindows, pages: str, drawn: list[int]
) -> None:
    spooled = await print_pdf(windows, pdf_job(shaded_pdf(5), pages=pages))

    assert pages_drawn(spooled) == drawn
    assert windows.names().count("Dib") == len(drawn)  # one bitmap per page, no more


async def test_pages_the_document_does_not_have_are_refused_before_the_spooler(
    windows: FakeWindows,
) -> None:
    with pytest.raises(PrintFailed, match="pages 7-9 select none of the document's 5"):
        await WindowsBackend().print("Office", pdf_job(shaded_pdf(5), pages="7-9"))

    assert windows.calls == []


async def test_a_document_that_is_not_a_pdf_is_refused_before_the_spooler(
    windows: FakeWindows,
) -> None:
    with pytest.raises(PrintFailed, match="not a PDF that can be printed"):
        await WindowsBackend().print("Office", pdf_job(b"%PDF-1.4 but nothing else"))

    assert windows.calls == []


# The Office printer: A4 at 600 dpi is 4961 x 7016 pixels, less 100 (1/6 in) at each
# edge: a printable area of 4761 x 6816 whose corner is at (100, 100) on the sheet.


async def test_fit_to_page_scales_the_page_to_the_printable_area(windows: FakeWindows) -> None:
    spooled = await print_pdf(windows, pdf_job(shaded_pdf(size=A5), fit_to_page=True))

    # A5 at 600 dpi is 3500 x 4958.3; x1.3603 fills the printable width (4761), the
    # height (6744.8) centred: 35.6 above and below.
    [drawing] = spooled.pages[0]
    assert drawing.rectangle == (0, 36, 4761, 6780)
    # Rendered at 300 dpi of the scaled page: 420 pt * 300/72 * 1.3603 = 2381 pixels.
    assert drawing.size == (2381, 3373)


async def test_without_fit_to_page_the_page_prints_at_its_size(windows: FakeWindows) -> None:
    spooled = await print_pdf(windows, pdf_job(shaded_pdf(size=A5), fit_to_page=False))

    # 3500 x 4958.3 pixels (148 x 210 mm), centred on the sheet: the printable area
    # starts 100 pixels into it.
    [drawing] = spooled.pages[0]
    assert drawing.rectangle == (630, 929, 4130, 5887)
    assert drawing.size == (1751, 2480)  # 300 dpi (pypdfium2 rounds 1750.00...01 up)


async def test_a_page_of_the_sheets_size_prints_at_its_size(windows: FakeWindows) -> None:
    spooled = await print_pdf(windows, pdf_job(shaded_pdf(size=A4)))

    # From the sheet's corner (-100, -100): the margins the printer cannot reach are lost,
    # as from any application that prints at 100%.
    [drawing] = spooled.pages[0]
    assert drawing.rectangle == (-99, -100, 4860, 6916)
    assert drawing.size == (2480, 3509)


async def test_a_page_larger_than_the_sheet_is_shrunk_when_fit_is_not_given(
    windows: FakeWindows,
) -> None:
    spooled = await print_pdf(windows, pdf_job(shaded_pdf(size=A3)))

    # A3 at 600 dpi (7016.7 x 9925) x0.6785 fills the printable width.
    [drawing] = spooled.pages[0]
    assert drawing.rectangle == (0, 41, 4761, 6775)


async def test_a_landscape_page_is_turned_to_the_portrait_sheet(windows: FakeWindows) -> None:
    landscape = (A4[1], A4[0])

    spooled = await print_pdf(windows, pdf_job(shaded_pdf(size=landscape)))

    [drawing] = spooled.pages[0]
    assert drawing.size == (2480, 3509)  # rendered turned a quarter
    assert drawing.rectangle == (-99, -100, 4860, 6916)


@pytest.mark.parametrize(("dpi", "size"), [(600, (2480, 3509)), (200, (1653, 2339))])
async def test_pages_are_rendered_at_the_printers_resolution_up_to_300_dpi(
    monkeypatch: pytest.MonkeyPatch, dpi: int, size: tuple[int, int]
) -> None:
    fake = FakeWindows([office(dpi=dpi)]).install(monkeypatch)

    spooled = await print_pdf(fake, pdf_job(shaded_pdf(size=A4)))

    assert spooled.pages[0][0].size == size


def test_placement_on_a_letter_sheet() -> None:
    # Letter at 600 dpi: 5100 x 6600, 100 unprintable at each edge.
    letter = Sheet(4900, 6400, 5100, 6600, 100, 100, 600, 600)

    a4_auto = place(*A4, letter, None)  # 297 mm does not fit 279 mm: shrunk
    assert a4_auto.rectangle == (189, 0, 4711, 6400)
    a4_actual = place(*A4, letter, False)  # cut at the top and bottom, centred
    assert a4_actual.rectangle == (-29, -308, 4929, 6708)
    assert a4_actual.rotation == 0
    assert place(A4[1], A4[0], letter, True).rotation == 270


def test_page_indexes() -> None:
    assert page_indexes([], 3) == [0, 1, 2]
    assert page_indexes([(1, 1), (3, 10)], 4) == [0, 2, 3]
    assert page_indexes([(5, 6)], 4) == []


# PDF through GDI: failures and cancel


async def test_a_failure_on_a_page_aborts_the_document_and_releases_everything(
    windows: FakeWindows,
) -> None:
    windows.fail["EndPage"] = w.Win32Error(1, "EndPage", "Incorrect function.")

    with pytest.raises(PrintFailed) as failed:
        await WindowsBackend().print("Office", pdf_job(shaded_pdf(3)))

    assert str(failed.value) == "printing on Office: Incorrect function (EndPage, Windows error 1)"
    assert windows.names()[-4:] == ["EndPage", "AbortDoc", "DeleteDC", "ClosePrinter"]
    assert windows.documents[0].state == "aborted"
    windows.assert_released()


async def test_cancel_stops_before_the_next_page_and_drops_the_document(
    windows: FakeWindows,
) -> None:
    backend = WindowsBackend()
    answers: list[bool] = []

    def cancel_after_the_first_page(document: w.SpooledDocument) -> None:
        if len(document.pages) == 1:
            answers.append(anyio.from_thread.run(backend.cancel, "Office", "job_1"))

    windows.on_page_drawn = cancel_after_the_first_page

    with pytest.raises(PrintFailed, match="cancelled while printing"):
        await backend.print("Office", pdf_job(shaded_pdf(3)))

    assert answers == [True]
    [spooled] = windows.documents
    assert (spooled.state, pages_drawn(spooled)) == ("aborted", [1])
    windows.assert_released()
    assert await backend.cancel("Office", "job_1") is False  # no longer printing


async def test_raw_data_cannot_be_cancelled_once_handed_over(windows: FakeWindows) -> None:
    assert await WindowsBackend().cancel("Office", "job_1") is False


# SumatraPDF, when configured


def test_sumatra_print_settings_carry_every_option() -> None:
    options = PrintOptions(
        copies=2,
        duplex="short-edge",
        color=False,
        pages="5,1-3",
        fit_to_page=True,
        paper="A4",
        media="Tray 2",
    )

    settings = print_settings(options, 4, paper=w.DMPAPER_A4, bin_name="Tray 2")

    assert settings == "1-3,5,fit,monochrome,duplexshort,paper=A4,bin=Tray 2,4x"
    assert print_settings(PrintOptions(fit_to_page=False, color=True, duplex="long-edge"), 1) == (
        "noscale,color,duplexlong"
    )
    assert print_settings(PrintOptions(duplex="one-sided"), 1) == "simplex"
    assert command(Path("S.exe"), "Office", Path("d.pdf"), "") == [
        "S.exe",
        "-print-to",
        "Office",
        "-silent",
        "d.pdf",
    ]


def test_sumatra_cannot_choose_a_paper_outside_its_list() -> None:
    with pytest.raises(PrintFailed, match=r"SumatraPDF cannot choose the paper 'Executive'"):
        print_settings(PrintOptions(paper="Executive"), 1, paper=w.DMPAPER_EXECUTIVE)


@pytest.fixture
def sumatra(tmp_path: Path) -> Path:
    """A stand-in for SumatraPDF.exe: it writes its arguments and the PDF it was given
    beside itself, and exits with the status in ./status (0 when absent)."""
    script = tmp_path / "SumatraPDF"
    script.write_text(
        "#!/bin/sh\n"
        'here=$(dirname "$0")\n'
        'printf "%s\\n" "$@" > "$here/arguments"\n'
        'for last; do :; done\ncp "$last" "$here/printed.pdf"\n'
        'exit $(cat "$here/status" 2>/dev/null || echo 0)\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def windows_config(tmp_path: Path, **fields: object) -> AgentConfig:
    return AgentConfig(
        server="https://print.example.com",
        api_key="pk_live_x",
        cups=False,
        windows=True,
        data_dir=tmp_path / "data",
        **fields,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in is a shell script")
async def test_with_sumatra_path_configured_pdfs_go_to_its_command_line(
    windows: FakeWindows, sumatra: Path, tmp_path: Path
) -> None:
    [backend] = build_backends(windows_config(tmp_path, sumatra_path=sumatra))
    document = pdf_job(minimal_pdf(), qty=3, duplex="long-edge", paper="letter", media="tray-1")

    message = await backend.print("Office", document)

    arguments = (tmp_path / "arguments").read_text().splitlines()
    assert arguments[:5] == [
        "-print-to",
        "Office",
        "-print-settings",
        "duplexlong,paper=letter,bin=Tray 1,3x",
        "-silent",
    ]
    assert arguments[5].endswith("document.pdf")
    assert not await anyio.Path(arguments[5]).exists()  # the temporary copy is gone
    assert (tmp_path / "printed.pdf").read_bytes() == document.data
    assert message == "Printed on Office with SumatraPDF"
    assert windows.documents == []  # nothing drawn by the agent itself


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in is a shell script")
async def test_a_sumatra_that_fails_is_a_print_failure(
    windows: FakeWindows, sumatra: Path, tmp_path: Path
) -> None:
    (tmp_path / "status").write_text("1")
    [backend] = build_backends(windows_config(tmp_path, sumatra_path=sumatra))

    with pytest.raises(
        PrintFailed, match=r"SumatraPDF could not print to Office \(exit status 1\)"
    ):
        await backend.print("Office", pdf_job())


async def test_a_sumatra_path_where_there_is_none_says_so(
    windows: FakeWindows, tmp_path: Path
) -> None:
    [backend] = build_backends(windows_config(tmp_path, sumatra_path=tmp_path / "nowhere.exe"))

    with pytest.raises(PrintFailed, match=r"SumatraPDF is not at .*nowhere\.exe \(sumatra_path"):
        await backend.print("Office", pdf_job())


async def test_an_unknown_paper_is_refused_with_sumatra_too(
    windows: FakeWindows, sumatra: Path, tmp_path: Path
) -> None:
    [backend] = build_backends(windows_config(tmp_path, sumatra_path=sumatra))

    with pytest.raises(PrintFailed, match=r"Office has no paper 'A3'; it has: Letter, A4, Legal"):
        await backend.print("Office", pdf_job(paper="A3"))

    assert not (tmp_path / "arguments").exists()


# Starting without pywin32


@pytest.mark.parametrize(
    ("module", "package"),
    [("win32print", "pywin32"), ("pywintypes", "pywin32"), ("PIL.ImageWin", "pillow")],
)
def test_without_pywin32_the_agent_says_what_to_install(
    windows: FakeWindows,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    module: str,
    package: str,
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # what importing a missing module does

    with pytest.raises(AgentFatal) as fatal:
        build_backends(windows_config(tmp_path))

    message = str(fatal.value)
    assert message.startswith(f"The Windows printers need {package}, which this agent cannot load")
    assert f"python -m pip install {package}" in message
    assert '"windows": false' in message
    assert fatal.value.__cause__ is None
    assert fatal.value.__suppress_context__  # no chained traceback to read through


@pytest.mark.skipif(sys.platform == "win32", reason="pywin32 is there on Windows")
def test_the_agent_started_without_pywin32_prints_one_line_and_exits(tmp_path: Path) -> None:
    config = tmp_path / "agent.json"
    windows_config(tmp_path).save(config)

    ran = run_printcloud(
        {**os.environ, "PRINTCLOUD_AGENT_CONFIG": str(config)}, "agent", "run", timeout=60
    )

    assert ran.returncode == exit_codes.FATAL  # a service does not restart it in a loop
    assert "Traceback" not in ran.stderr
    assert "error: The Windows printers need pywin32" in " ".join(ran.stderr.split())


# The numbers


def test_the_numbers_are_the_windows_sdks() -> None:
    """The backend's numbers against the fake's, each written from Microsoft's
    documentation on its own; against pywin32's win32con too where it is installed."""
    names = [
        name
        for name in dir(w)
        if name.isupper() and name.split("_")[0] in {"PRINTER", "DC", "DM", "DMPAPER", "DMBIN",
                                                     "DMDUP", "DMCOLOR", "DMCOLLATE", "IDOK"}
        and hasattr(win32, name)
    ]  # fmt: skip
    assert len(names) > 30
    for name in [*names, "HORZRES", "VERTRES", "LOGPIXELSX", "LOGPIXELSY", "PHYSICALWIDTH",
                 "PHYSICALHEIGHT", "PHYSICALOFFSETX", "PHYSICALOFFSETY"]:  # fmt: skip
        assert getattr(win32, name) == getattr(w, name), name
