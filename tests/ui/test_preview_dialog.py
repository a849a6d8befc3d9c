"""The preview dialog on real PDFs: pages, zoom, printing into a PDF-file QPrinter, save, a missing printer.

Papers are rendered by printing.documents, printed through QtPdf into QPrinter's own
PDF output, and that output is read back (pypdf) and scanned (zbarimg): what reaches
the printer is the paper, at its own page size.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot

from hallclient.config import Config, PrintingConfig
from hallclient.domain import HallInfo, MaterialCheck
from hallclient.papers import CaseHeader, CorrectionNotice, MaterialProblem, PaperKind, QueueTicketSlip
from printing.documents import render_paper
from ui.clerk.preview_dialog import PreviewDialog, PrintError, find_printer
from ui.receipts import PrintedPaper, ReceiptPrinter
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui

MM = 72 / 25.4
CASE_NO = "330106-20261124-03-0012"
VERIFY_URL = "https://zwfw.example.gov.cn/api/v1/verify/BZ-20261124-03-0012-01?s=abc123"


def correction(problems: int = 3, applicant: str = "张三丰") -> CorrectionNotice:
    header = CaseHeader(
        doc_id="BZ-20261124-03-0012-01",
        case_no=CASE_NO,
        hall=HallInfo(code="330106", name="杭州市西湖区政务服务中心", window_no=3),
        clerk_name="李晓梅",
        clerk_staff_no="XH0317",
        item_code="330106-000-XK-0021",
        item_version=3,
        item_name="食品经营许可（新办）",
        department="杭州市西湖区市场监督管理局",
        applicant_name=applicant,
        applicant_id_number="11010519491231002X",
        applicant_phone="13812345678",
        decided_at=dt.datetime(2026, 11, 24, 10, 32),
        verify_url=VERIFY_URL,
    )
    return CorrectionNotice(
        header=header,
        problems=[MaterialProblem(f"补充材料第{i}项", MaterialCheck.MISSING) for i in range(problems)],
        received=[],
        bring_to="第3号窗口",
        deadline=dt.date(2026, 12, 1),
    )


def ticket() -> QueueTicketSlip:
    return QueueTicketSlip(
        ticket_no="A012",
        hall_name="杭州市西湖区政务服务中心",
        item_name="食品经营许可（新办）",
        issued_at=dt.datetime(2026, 11, 24, 9, 41),
        waiting_ahead=2,
    )


def scan(pdf: Path, tmp_path: Path, symbology: str) -> list[str]:
    if shutil.which("pdftoppm") is None or shutil.which("zbarimg") is None:
        pytest.skip("poppler-utils / zbar-tools not installed")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(tmp_path / "scan"),
        ],
        check=True,
    )
    res = subprocess.run(
        ["zbarimg", "-q", "--raw", "-Sdisable", f"-S{symbology}.enable", str(tmp_path / "scan.png")],
        check=False,
        capture_output=True,
        text=True,
    )
    return [line for line in res.stdout.split("\n") if line]


def pdf_printer(path: Path) -> QPrinter:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def open_dialog(qtbot: QtBot, pdf: bytes, **kw: object) -> PreviewDialog:
    dialog = PreviewDialog(pdf, title=f"一次性补正告知书 {CASE_NO}", **kw)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_preview_navigates_pages_and_zooms(qtbot: QtBot) -> None:
    pdf = render_paper(correction(problems=60))
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    dialog = open_dialog(qtbot, pdf)
    count = dialog.page_count()
    assert count == len(PdfReader(io.BytesIO(pdf)).pages)
    assert dialog.current_page() == 0
    assert dialog.page_label.text() == f"第 1 / {count} 页"
    assert not dialog.prev_button.isEnabled() and dialog.next_button.isEnabled()

    dialog.next_button.click()
    assert dialog.current_page() == 1
    assert dialog.page_label.text() == f"第 2 / {count} 页"
    assert dialog.prev_button.isEnabled()
    dialog.go_to(count + 5)  # clamped to the last page
    assert dialog.current_page() == count - 1
    assert not dialog.next_button.isEnabled()
    dialog.previous_page()
    assert dialog.current_page() == count - 2

    before = dialog.view.zoomFactor()
    dialog.zoom_in()
    assert dialog.view.zoomFactor() == pytest.approx(before * 1.25)
    dialog.zoom_out()
    dialog.zoom_out()
    assert dialog.view.zoomFactor() < before


@pytest.mark.parametrize("layout", ["a4", "slip"])
def test_print_to_a_pdf_file_printer(qtbot: QtBot, tmp_path: Path, layout: str) -> None:
    pdf = render_paper(correction(), layout=layout)
    dialog = open_dialog(qtbot, pdf, layout=layout)
    out = tmp_path / "printed.pdf"
    with qtbot.waitSignal(dialog.printed, timeout=20_000) as done:
        dialog.print_to(pdf_printer(out))
    assert done.args == [str(out)]
    assert not dialog.printing

    reader = PdfReader(out)
    source = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(source.pages) == 1
    got, want = reader.pages[0].mediabox, source.pages[0].mediabox
    # The printer's page is the paper's: A4, or the 80 mm slip at its measured height.
    assert float(got.width) == pytest.approx(float(want.width), abs=1.5)
    assert float(got.height) == pytest.approx(float(want.height), abs=1.5)
    if layout == "a4":
        assert float(got.width) == pytest.approx(210 * MM, abs=1.5)
    else:
        assert float(got.width) == pytest.approx(80 * MM, abs=1.5)
    # What was painted is the paper: its codes still scan from the printer's output.
    assert scan(out, tmp_path, "code128") == [CASE_NO]
    assert scan(out, tmp_path, "qrcode") == [VERIFY_URL]


def test_multi_page_print(qtbot: QtBot, tmp_path: Path) -> None:
    pdf = render_paper(correction(problems=60))
    dialog = open_dialog(qtbot, pdf)
    out = tmp_path / "printed.pdf"
    with qtbot.waitSignal(dialog.printed, timeout=30_000):
        dialog.print_to(pdf_printer(out))
        assert dialog.printing  # painted a strip at a time, the window answering meanwhile
    assert len(PdfReader(out).pages) == dialog.page_count() >= 2


def test_missing_printer_says_so_and_keeps_the_pdf(qtbot: QtBot, tmp_path: Path) -> None:
    kept = tmp_path / "BZ-20261124-03-0012-01-0.pdf"
    pdf = render_paper(correction())
    kept.write_bytes(pdf)
    dialog = open_dialog(qtbot, pdf, printer_name="柜台打印机-不存在", kept_path=kept)
    with qtbot.waitSignal(dialog.print_failed, timeout=2000) as blocker:
        assert dialog.print_configured() is False
    message = blocker.args[0]
    assert "找不到打印机「柜台打印机-不存在」" in message
    assert str(kept) in message
    assert dialog.status_label.text() == message
    assert kept.read_bytes() == pdf
    with pytest.raises(PrintError):
        find_printer("柜台打印机-不存在")


def test_save_as_pdf(qtbot: QtBot, tmp_path: Path) -> None:
    pdf = render_paper(ticket(), layout="slip")
    dialog = open_dialog(qtbot, pdf, layout="slip")
    target = tmp_path / "copy.pdf"
    with qtbot.waitSignal(dialog.saved, timeout=2000):
        dialog.save_to(target)
    assert target.read_bytes() == pdf
    assert str(target) in dialog.status_label.text()


def test_warnings_are_shown(qtbot: QtBot) -> None:
    dialog = open_dialog(
        qtbot, render_paper(ticket(), layout="slip"), warnings=["「申请人」中的“𠀀”不在打印字库中"]
    )
    assert dialog.warning_label.isVisible()
    assert "𠀀" in dialog.warning_label.text()


def test_print_paper_renders_off_the_gui_thread_archives_and_previews(qtbot: QtBot, tmp_path: Path) -> None:
    runner = TaskRunner()
    # ReceiptPrinter reads only the counter's config for papers; a real Config stands in for the counter.
    config = Config(printing=PrintingConfig(a4_printer="柜台打印机-不存在", seal_image="no-such-seal.png"))
    printer = ReceiptPrinter(SimpleNamespace(config=config), runner)  # type: ignore[arg-type]
    archived: list[Path] = []

    def archive(pdf: bytes) -> Path:
        path = tmp_path / "archive.pdf"
        path.write_bytes(pdf)
        archived.append(path)
        return path

    results: list[PrintedPaper] = []
    errors: list[Exception] = []
    printer.print_paper(
        correction(applicant="𠀀三丰"), results.append, errors.append, reprint_no=2, archive=archive
    )
    qtbot.waitUntil(lambda: bool(results or errors), timeout=10_000)
    assert errors == []
    (printed,) = results
    assert printed.kind == PaperKind.CORRECTION and printed.ref == CASE_NO and printed.reprint_no == 2
    assert printed.path == archived[0] and archived[0].read_bytes() == printed.pdf
    assert any("U+20000" in w for w in printed.warnings)
    assert any("no-such-seal.png" in w for w in printed.warnings)

    dialog = printer.preview(printed)
    qtbot.addWidget(dialog)
    assert dialog.printer_name == "柜台打印机-不存在"
    assert dialog.print_configured() is False
    assert str(printed.path) in dialog.status_label.text()

    # A queue ticket is a slip whatever the configured layout; no archive step: no path.
    results.clear()
    printer.print_paper(ticket(), results.append, errors.append)
    qtbot.waitUntil(lambda: bool(results or errors), timeout=10_000)
    assert errors == [] and results[0].layout == "slip" and results[0].path is None
    runner.shutdown()
