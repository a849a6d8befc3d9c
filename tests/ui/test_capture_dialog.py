"""The capture dialog: pages from files (always) and from a real document camera (where one exists)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
from pathlib import Path

import pytest
from helpers.paper_photos import paper_photo, write_photos
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QPageSize, QPainter, QPdfWriter
from pytestqt.qtbot import QtBot

from hallclient.captures import CaptureStore
from hallclient.crypto import FieldCipher
from hallclient.scanners import find_scanners
from hallclient.store import Store
from ui.capture.capture_dialog import CaptureDialog

SUBJECT = "ticket:2026-11-25/A001"


@pytest.fixture
def capture_store(tmp_path: Path) -> CaptureStore:
    store = Store(tmp_path / "counter.sqlite", FieldCipher(bytes(range(32))))
    yield CaptureStore(store, clock=lambda: dt.datetime(2026, 11, 25, 10))  # type: ignore[misc]
    store.close()


def a_pdf_file(path: Path) -> Path:
    """A two-page PDF as a scanner makes it: each page the sheet alone, edge to edge."""
    from PySide6.QtGui import QImage

    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setResolution(150)
    painter = QPainter(writer)
    for n in range(2):
        if n:
            writer.newPage()
        image = QImage.fromData(paper_photo(seed=10 + n, size=(1700, 2300)))
        sheet = image.copy(160, 90, 1380, 2000)  # the paper, without the desk around it
        painter.drawImage(painter.viewport(), sheet)
    painter.end()
    return path


def test_pages_from_image_and_pdf_files_are_ordered_rotated_and_saved(
    qtbot: QtBot, capture_store: CaptureStore, tmp_path: Path
) -> None:
    dialog = CaptureDialog("M01", "营业执照申请书", capture_store, subject=SUBJECT, use_camera=False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.source.count() == 1 and not dialog.shoot.isEnabled()
    assert not dialog.save_button.isEnabled()  # nothing to save yet
    photos = write_photos(tmp_path / "photos", 2)
    dialog.add_files([*photos, a_pdf_file(tmp_path / "scan.pdf")])
    # The pages are cropped and cleaned on a worker thread: the dialog answers at once, says it
    # is working, and lets nothing be saved or rearranged until the pages are in.
    assert dialog.busy and "正在处理 4 页" in dialog.summary.text() and not dialog.save_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    assert dialog.pages.count() == 4 and dialog.save_button.isEnabled()
    first = dialog.draft.pages[0]
    # Move the first page to the end, rotate it, then delete the (new) first page.
    dialog.pages.setCurrentRow(0)
    for _ in range(3):
        qtbot.mouseClick(dialog.down, Qt.MouseButton.LeftButton)
    assert dialog.draft.pages[3] is first and dialog.pages.currentRow() == 3
    qtbot.mouseClick(dialog.rotate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    turned = dialog.draft.pages[3]
    assert turned.original is first.original and dialog.pages.currentRow() == 3
    assert turned.rotation == 90 and turned.ready().width > turned.ready().height
    dialog.pages.setCurrentRow(0)
    qtbot.mouseClick(dialog.delete, Qt.MouseButton.LeftButton)
    assert dialog.pages.count() == 3
    assert "3" in dialog.summary.text()
    dialog.grab().save(str(tmp_path / "capture-dialog.png"))

    with qtbot.waitSignal(dialog.captured, timeout=10_000) as signal:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    code, sha256, pages = signal.args
    assert (code, pages) == ("M01", 3)
    assert dialog.result() == CaptureDialog.DialogCode.Accepted
    (info,) = capture_store.captured(SUBJECT).values()
    pdf = capture_store.pdf(info.capture_id)
    assert hashlib.sha256(pdf).hexdigest() == sha256 == info.sha256
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 3
    # The rotated page went in last, and landscape; every page within the size budget.
    last = reader.pages[2]
    assert float(last.mediabox.width) > float(last.mediabox.height)
    assert len(pdf) <= 3 * 300 * 1024


def test_a_file_that_is_not_an_image_is_refused_in_words(
    qtbot: QtBot, capture_store: CaptureStore, tmp_path: Path
) -> None:
    dialog = CaptureDialog("M01", "申请书", capture_store, subject=SUBJECT, use_camera=False)
    qtbot.addWidget(dialog)
    (tmp_path / "notes.txt").write_text("x")
    dialog.add_files([tmp_path / "notes.txt"])
    assert dialog.pages.count() == 0 and "notes.txt" in dialog.problem.text()
    # Bytes that claim to be a photo but are not: refused in words once the worker has tried.
    dialog.add_images([b"not really a JPEG"])
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    assert dialog.pages.count() == 0 and "无法读取图片" in dialog.problem.text()


# QtMultimedia warns about its optional back-ends (PipeWire) on machines without them.
@pytest.mark.qt_log_level_fail("CRITICAL")
def test_the_document_camera_shows_a_live_picture_and_takes_a_page(
    qtbot: QtBot, capture_store: CaptureStore
) -> None:
    from PySide6.QtMultimedia import QMediaDevices

    if not QMediaDevices.videoInputs():
        pytest.skip("no camera on this machine: QMediaDevices.videoInputs() lists no video input device")
    dialog = CaptureDialog("M01", "申请书", capture_store, subject=SUBJECT)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.source.currentData() is not None and dialog.shoot.isEnabled()
    qtbot.waitUntil(dialog.camera_active, timeout=10_000)
    qtbot.waitUntil(
        lambda: dialog.preview.pixmap() is not None and not dialog.preview.pixmap().isNull(), timeout=10_000
    )
    qtbot.waitUntil(dialog._image_capture.isReadyForCapture, timeout=10_000)
    dialog.take_picture()
    qtbot.waitUntil(lambda: dialog.pages.count() == 1, timeout=15_000)
    with qtbot.waitSignal(dialog.captured, timeout=10_000):
        dialog.save()
    assert set(capture_store.captured(SUBJECT)) == {"M01"}


@pytest.mark.skipif(shutil.which("scanimage") is None, reason="SANE's scanimage is not installed")
def test_a_page_from_a_scanner_the_system_offers(
    qtbot: QtBot, capture_store: CaptureStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SANE with its virtual "test" flatbed only: the real scanimage, the real SANE library.
    config = tmp_path / "sane.d"
    config.mkdir()
    (config / "dll.conf").write_text("test\n", encoding="utf-8")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(config))
    dialog = CaptureDialog(
        "M01", "申请书", capture_store, subject=SUBJECT, use_camera=False, find_scanners=find_scanners
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.source.count() == 3, timeout=30_000)  # two test scanners, then files
    assert dialog.source.itemText(0) == "扫描仪：Noname frontend-tester"
    assert dialog.source.currentIndex() == 2 and not dialog.shoot.isEnabled()  # files stay chosen
    dialog.source.setCurrentIndex(0)
    assert dialog.shoot.isEnabled() and dialog.shoot.text() == "扫描本页（空格）"
    qtbot.keyClick(dialog, Qt.Key.Key_Space)
    assert not dialog.shoot.isEnabled()  # one scan at a time
    qtbot.waitUntil(lambda: dialog.pages.count() == 1 and not dialog.busy, timeout=60_000)
    assert dialog.shoot.isEnabled() and not dialog.problem.isVisible()
    with qtbot.waitSignal(dialog.captured, timeout=10_000) as signal:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert signal.args[0] == "M01" and signal.args[2] == 1
    (info,) = capture_store.captured(SUBJECT).values()
    assert len(PdfReader(io.BytesIO(capture_store.pdf(info.capture_id))).pages) == 1
