"""At the counter: a material captured from the checklist travels with the accepted case to its back office."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from helpers.paper_photos import write_photos
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from hallclient.domain import MaterialCheck
from hallserver.db import session_factory
from hallserver.models import CaseMaterial
from ui.app import CounterApp
from ui.capture.capture_dialog import CaptureDialog
from ui.clerk.main_window import ClerkMainWindow
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui


@pytest.fixture
def app(qtbot: QtBot, rig: CounterRig) -> Iterator[CounterApp]:
    make_qt_app()
    counter_app = CounterApp(rig.services)
    counter_app.start()
    counter_app.login.username.setText(DEMO_USER)
    counter_app.login.password.setText(DEMO_PASSWORD)
    button = counter_app.login.findChild(QPushButton, "loginButton")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: counter_app.citizen is not None, timeout=10_000)
    yield counter_app
    for w in (counter_app.main_window, counter_app.citizen):
        if w is not None:
            w.close()
    counter_app.runner.shutdown()


# The dialog looks for a document camera through QtMultimedia's FFmpeg backend, which warns about
# missing video-acceleration libraries on a machine without a GPU: noise, not a fault of ours.
@pytest.mark.qt_log_level_fail("CRITICAL")
def test_a_captured_material_is_marked_and_forwarded_with_the_accepted_case(
    qtbot: QtBot, app: CounterApp, rig: CounterRig, tmp_path: Path
) -> None:
    mw = app.main_window
    assert isinstance(mw, ClerkMainWindow)
    qtbot.waitUntil(lambda: mw.queue.model.rowCount() > 0, timeout=15_000)
    mw.call_next()
    qtbot.waitUntil(lambda: mw.case_view.context is not None, timeout=10_000)
    ctx = mw.case_view.context
    assert ctx is not None and ctx.item is not None
    material = ctx.item.materials[-1]
    button = mw.case_view.findChild(QPushButton, f"capture_{material.code}")
    assert button is not None and button.text() == "采集"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: any(isinstance(w, CaptureDialog) and w.isVisible() for w in QApplication.topLevelWidgets()),
        timeout=5_000,
    )
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CaptureDialog) and w.isVisible())
    dialog.add_files(write_photos(tmp_path, 2))
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30_000)
    with qtbot.waitSignal(dialog.captured, timeout=15_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: button.text() == "已采集 2 页", timeout=5_000)

    for m in ctx.item.materials:
        mw.case_view.set_check(m.code, MaterialCheck.ORIGINAL_SEEN)
    with qtbot.waitSignal(mw.receipt_ready, timeout=20_000) as decided:
        qtbot.mouseClick(mw.case_view.accept_button, Qt.MouseButton.LeftButton)
    case_no = decided.args[0]

    def uploaded() -> bool:
        with session_factory(rig.server.engine)() as s:
            return s.get(CaseMaterial, (case_no, material.code)) is not None

    # The accepted case's papers go up in chunks on the upload worker, without the clerk waiting.
    qtbot.waitUntil(uploaded, timeout=30_000)
    with session_factory(rig.server.engine)() as s:
        stored = s.get(CaseMaterial, (case_no, material.code))
        assert stored is not None and stored.pages == 2

    # Back at the window the case shows where it is; it cannot be handed over before the decision.
    def forwarded() -> bool:
        rig.services.uploads.kick()  # the forward waits until the case itself reached the server
        rig.services.sync_worker.kick()
        return rig.services.store.back_office_status(case_no) is not None

    qtbot.waitUntil(forwarded, timeout=30_000)
    mw.pickup()
    qtbot.waitUntil(
        lambda: mw.dialog is not None and mw.dialog.objectName() == "pickupDialog", timeout=10_000
    )
    dialog = mw.dialog
    dialog.select(case_no)
    assert "审批中" in dialog.case_combo.currentText()
    dialog._submit()
    qtbot.waitUntil(lambda: "审批中" in dialog.error.text(), timeout=10_000)
    dialog.reject()
