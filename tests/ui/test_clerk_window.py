"""The real windows driven with pytest-qt against a live hallserver: sign in, call, accept, rate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QKeySequence
from PySide6.QtWidgets import QLabel, QPushButton
from pytestqt.qtbot import QtBot

from hallclient.domain import MaterialCheck
from hallclient.wire import RatingLevel, TicketState
from ui.app import CounterApp
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui


@pytest.fixture
def counter_app(qtbot: QtBot, rig: CounterRig) -> Iterator[CounterApp]:
    make_qt_app()
    app = CounterApp(rig.services)
    app.start()
    yield app
    for w in (app.main_window, app.citizen, app.login):
        if w is not None:
            w.close()
    app.runner.shutdown()


def sign_in(qtbot: QtBot, app: CounterApp, password: str = DEMO_PASSWORD) -> None:
    app.login.username.setText(DEMO_USER)
    app.login.password.setText(password)
    button = app.login.findChild(QPushButton, "loginButton")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_wrong_password_shows_the_reason_and_stays_on_login(qtbot: QtBot, counter_app: CounterApp) -> None:
    sign_in(qtbot, counter_app, password="wrong-password")
    qtbot.waitUntil(lambda: "用户名或密码错误" in counter_app.login.error.text(), timeout=10_000)
    assert counter_app.main_window is None
    assert counter_app.login.password.text() == ""  # cleared for the next try
    assert counter_app.login.isVisible()


def test_counter_path_from_sign_in_to_rating(qtbot: QtBot, counter_app: CounterApp, tmp_path: Path) -> None:
    sign_in(qtbot, counter_app)
    qtbot.waitUntil(lambda: counter_app.citizen is not None, timeout=10_000)
    mw, citizen = counter_app.main_window, counter_app.citizen
    assert mw is not None and citizen is not None
    assert citizen.screen().name() == "1-citizen"
    assert mw.screen().name() == "0-clerk"
    qtbot.waitUntil(lambda: mw.queue.model.rowCount() == 48, timeout=15_000)
    header = " ".join(label.text() for label in mw.findChildren(QLabel))
    assert "王晓燕" in header and "ZW-0107" in header and "1 号窗口" in header

    qtbot.mouseClick(mw.queue.call_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: mw.case_view.context is not None, timeout=10_000)
    ctx = mw.case_view.context
    assert (
        ctx is not None
        and ctx.ticket.ticket_no == "A001"
        and ctx.booking is not None
        and ctx.item is not None
    )
    assert ctx.item.name in mw.case_view.item_name.text()
    assert mw.case_view.id_edit.text() == ctx.booking.applicant.id_number
    assert mw.case_view.materials.rowCount() == len(ctx.item.materials)
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.called, timeout=5_000)
    assert "A001" in citizen.called_text.text()

    # Accepting with a material not yet checked is refused, and says which one.
    first = ctx.item.materials[0]
    for m in ctx.item.materials:
        mw.case_view.set_check(m.code, MaterialCheck.ORIGINAL_SEEN)
    mw.case_view.set_check(first.code, MaterialCheck.MISSING)
    qtbot.mouseClick(mw.case_view.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.name in mw.case_view.error.text(), timeout=10_000)
    assert counter_app.services.store.pending_count() == 0

    mw.case_view.set_check(first.code, MaterialCheck.ORIGINAL_SEEN)
    assert mw.case_view.accept_button.shortcut() == QKeySequence(Qt.Key.Key_F5)
    assert mw.queue.call_button.shortcut() == QKeySequence(Qt.Key.Key_F2)
    with qtbot.waitSignal(mw.receipt_ready, timeout=20_000) as receipt:
        qtbot.mouseClick(mw.case_view.accept_button, Qt.MouseButton.LeftButton)
    case_no, pdf_path = receipt.args
    assert case_no.startswith("DEMO-") and case_no.endswith("-01-0001")
    text = PdfReader(str(pdf_path)).pages[0].extract_text()
    assert "受理通知书" in text.replace(" ", "") and case_no in text

    # The citizen rates on the second screen; the clerk's window never shows the rating.
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.rating, timeout=10_000)
    qtbot.mouseClick(citizen.rating.buttons[RatingLevel.VERY_SATISFIED], Qt.MouseButton.LeftButton)
    store = counter_app.services.store
    qtbot.waitUntil(lambda: store.has_rating(case_no), timeout=10_000)
    assert "非常满意" not in " ".join(label.text() for label in mw.findChildren(QLabel))

    mw.refresh_queue()
    qtbot.waitUntil(
        lambda: any(
            r.ticket.ticket_no == "A001" and r.ticket.state is TicketState.DONE
            for r in counter_app.services.counter.queue()
        ),
        timeout=10_000,
    )
    shot = tmp_path / "clerk.png"
    assert mw.grab().save(str(shot))
    image = QImage(str(shot))
    assert image.width() >= 1000 and image.height() >= 700
