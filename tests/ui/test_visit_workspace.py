"""A visit of several items (一件事一次办) in the real clerk window and citizen screen, against a live hallserver.

The clerk takes a number for a walk-in opening a business (Ctrl+N: the 开办企业 bundle,
marked disabled with a reason), calls it first (F2), checks the merged checklist once,
decides the five items in order with the usual keys, and the combined receipt is
printed; the citizen rates the visit once, with the items named, and the reason for
priority shows nowhere on the citizen's side.

Screenshots (and the receipt as PNG) go to ``tmp_path/"shots"`` or ``$HALL_SHOTS_DIR``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from hallclient import wire
from hallclient.counter import ServiceContext
from ui.app import CounterApp
from ui.clerk.main_window import ClerkMainWindow
from ui.clerk.priority import TakeNumberDialog
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui

Key = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
HUMAN_MS = 60
WAIT_MS = 15_000
REASON = "出示残疾人证"
COMPANY_ITEMS = [
    "有限责任公司设立登记",
    "公章刻制备案",
    "新办纳税人涉税事项（含发票申领）",
    "单位社会保险登记（员工参保）",
    "住房公积金单位缴存登记",
]


@pytest.fixture
def counter_app(qtbot: QtBot, rig: CounterRig, monkeypatch: pytest.MonkeyPatch) -> Iterator[CounterApp]:
    # No maximum wait: the priority walk-in comes before the morning's bookings at any time of day.
    monkeypatch.setenv("HALLSERVER_QUEUE_MAX_WAIT_MIN", "0")
    make_qt_app()
    app = CounterApp(rig.services)
    app.start()
    yield app
    for w in (app.main_window, app.citizen, app.login):
        if w is not None:
            w.close()
    app.runner.shutdown()


@pytest.fixture
def mw(qtbot: QtBot, counter_app: CounterApp) -> ClerkMainWindow:
    counter_app.login.username.setText(DEMO_USER)
    counter_app.login.password.setText(DEMO_PASSWORD)
    button = counter_app.login.findChild(QPushButton, "loginButton")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: counter_app.citizen is not None, timeout=10_000)
    window = counter_app.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.queue.model.rowCount() == 48 and bool(window.bundles), timeout=WAIT_MS)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    return window


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("HALL_SHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def press(
    qtbot: QtBot, mw: ClerkMainWindow, key: Qt.Key, modifier: Any = Qt.KeyboardModifier.NoModifier
) -> None:
    focus = QApplication.focusWidget()
    target = focus if focus is not None and focus.window() is mw else mw
    qtbot.keyClick(target, key, modifier)


def type_chinese(widget: QWidget, text: str) -> None:
    widget.setFocus()
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(str(path)).pages))


def server_rows(rig: CounterRig, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(rig.server.db_path) as db:
        return db.execute(sql, params).fetchall()


def visit_of(mw: ClerkMainWindow) -> ServiceContext:
    ctx = mw.case_view.context
    assert ctx is not None and ctx.visit is not None
    return ctx


def decided(mw: ClerkMainWindow) -> int:
    ctx = mw.case_view.context
    return len(ctx.visit.decided) if ctx is not None and ctx.visit is not None else -1


def test_a_business_opened_in_one_visit_at_one_window(
    qtbot: QtBot, mw: ClerkMainWindow, counter_app: CounterApp, rig: CounterRig, shots: Path
) -> None:
    store = rig.services.store
    citizen = counter_app.citizen
    assert citizen is not None

    # The idle citizen screen shows the wait from the live queue.
    qtbot.waitUntil(lambda: "目前等候 48 人" in citizen.queue_info.text(), timeout=WAIT_MS)
    assert citizen.queue_info.isVisible() and "分钟" in citizen.queue_info.text()
    citizen.grab().save(str(shots / "citizen-idle-estimate.png"))

    # Ctrl+N: the number for the 开办企业 bundle, disabled, with the reason and a phone for SMS.
    press(qtbot, mw, Key.Key_N, CTRL)
    qtbot.waitUntil(
        lambda: isinstance(mw.dialog, TakeNumberDialog) and mw.dialog.isVisible(), timeout=WAIT_MS
    )
    dialog = mw.dialog
    assert isinstance(dialog, TakeNumberDialog)
    dialog.bundle.setCurrentIndex(dialog.bundle.findData("YJS-KBQY"))
    dialog.category.setCurrentIndex(dialog.category.findData(wire.TicketCategory.DISABLED))
    dialog.reason.setEditText(REASON)
    qtbot.keyClicks(dialog.phone, "13812345678")
    qtbot.keyClick(dialog, Key.Key_Return)
    qtbot.waitUntil(lambda: mw.dialog is None and "号票已生成" in mw.paper_label.text(), timeout=WAIT_MS)
    assert mw.last_paper is not None
    slip_text = re.sub(
        r"\s+", "", "".join(p.extract_text() for p in PdfReader(_bytes(mw.last_paper.pdf)).pages)
    )
    assert "残疾人优先" in slip_text and "开办企业" in slip_text and "预计等候约" in slip_text
    assert REASON not in slip_text
    ticket_no = mw.last_paper.ref
    qtbot.waitUntil(
        lambda: any(
            r.ticket.ticket_no == ticket_no and r.category is wire.TicketCategory.DISABLED
            for r in mw.queue.model.rows
        ),
        timeout=WAIT_MS,
    )

    # F2: called before the bookings; its visit starts with the bundle's five items.
    mw.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is mw, timeout=5_000)
    press(qtbot, mw, Key.Key_F2)
    qtbot.waitUntil(lambda: mw.case_view.context is not None, timeout=WAIT_MS)
    ctx = visit_of(mw)
    assert ctx.ticket.ticket_no == ticket_no
    # The citizen screen names the category while the number is up, never the reason.
    assert citizen.page() == "calledPage"
    qtbot.waitUntil(lambda: "优先办理：残疾人优先" in citizen.queue_info.text(), timeout=WAIT_MS)
    citizen.grab().save(str(shots / "citizen-called-priority.png"))
    assert [i.name for i in ctx.visit.items] == COMPANY_ITEMS  # type: ignore[union-attr]
    assert "残疾人优先" in mw.case_view.title.text() and "开办企业 第 1/5 项" in mw.case_view.title.text()
    panel = mw.case_view.visit_panel
    assert panel.table.rowCount() == 5
    table = mw.case_view.materials
    assert table.rowCount() == 6  # 14 materials of five items, each paper once
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert "申请人居民身份证（4 项共用）" in names and "开办企业“一表通”申请表（5 项共用）" in names

    # The applicant, typed once; every paper checked once with the keyboard.
    type_chinese(mw.case_view.name_edit, "赵开业")
    qtbot.keyClicks(mw.case_view.id_edit, "11010519491231002X")
    qtbot.keyClicks(mw.case_view.phone_edit, "13812345678")
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=5_000)
    qtbot.keyClick(table, Key.Key_Home, CTRL, delay=HUMAN_MS)
    for _row in range(table.rowCount()):
        qtbot.keyClick(table, Key.Key_1, delay=HUMAN_MS)
    assert len(mw.case_view.findings()) == 6

    # The items in the bundle's order: F5 accepts, F8 completes an instant item.
    keys = [Key.Key_F5, Key.Key_F8, Key.Key_F5, Key.Key_F8, Key.Key_F5]
    for n, key in enumerate(keys[:2], start=1):
        press(qtbot, mw, key)
        qtbot.waitUntil(lambda n=n: decided(mw) == n, timeout=WAIT_MS)  # type: ignore[misc]
    assert "第 3/5 项" in mw.case_view.title.text()
    mw.resize(1500, 1000)
    shot = shots / "workspace-bundle.png"
    assert mw.grab().save(str(shot))
    assert rig.services.store.has_rating(visit_of(mw).visit.case_nos[0]) is False  # type: ignore[union-attr]
    assert not citizen.rating_in_progress  # no rating in the middle of a visit
    for n, key in enumerate(keys[2:], start=3):
        press(qtbot, mw, key)
        if n < 5:
            qtbot.waitUntil(lambda n=n: decided(mw) == n, timeout=WAIT_MS)  # type: ignore[misc]
    # The last decision ends the service and prints the combined receipt.
    qtbot.waitUntil(lambda: mw.case_view.context is None, timeout=WAIT_MS)
    first = f"DEMO-{dt.date.today():%Y%m%d}-01-0001"
    case_nos = [f"DEMO-{dt.date.today():%Y%m%d}-01-{n:04d}" for n in range(1, 6)]
    qtbot.waitUntil(
        lambda: any(k == "visit_receipt" for _d, k, _p in store.documents_of(first)), timeout=30_000
    )
    [path] = [p for _d, k, p in store.documents_of(first) if k == "visit_receipt"]
    text = pdf_text(path)
    assert "一件事一次办回执" in text
    for case_no in case_nos:
        assert case_no in text
    assert REASON not in text
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(path), str(shots / "visit-receipt")], check=True)
    # The instant items' approvals were printed too; the acceptances are on the combined receipt.
    kinds = {case_no: [k for _d, k, _p in store.documents_of(case_no)] for case_no in case_nos}
    assert kinds[case_nos[1]] == ["approval"] and kinds[case_nos[3]] == ["approval"]
    assert kinds[case_nos[0]] == ["visit_receipt"] and kinds[case_nos[2]] == [] and kinds[case_nos[4]] == []

    # One rating for the visit, the items named, stored against the first case.
    qtbot.waitUntil(lambda: citizen.rating_in_progress, timeout=WAIT_MS)
    assert citizen.page() == "ratingPage"
    items_text = citizen.rating.items_label.text()
    assert all(name in items_text for name in COMPANY_ITEMS) and "5" in items_text
    assert all(REASON not in label.text() for label in citizen.findChildren(QLabel))
    citizen.grab().save(str(shots / "citizen-rating-visit.png"))
    rate = citizen.rating.buttons[wire.RatingLevel.SATISFIED]
    qtbot.mouseClick(rate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: store.has_rating(first), timeout=WAIT_MS)
    assert not any(store.has_rating(c) for c in case_nos[1:])
    rig.services.sync_worker.kick()
    qtbot.waitUntil(lambda: store.pending_count() == 0, timeout=WAIT_MS)
    rated = server_rows(
        rig,
        f"select case_no from ratings where case_no in ({','.join('?' * 5)})",
        *case_nos,  # noqa: S608
    )
    assert rated == [(first,)]
    assert server_rows(rig, "select count(*) from cases where ticket_no = ?", ticket_no) == [(5,)]


def _bytes(pdf: bytes) -> Any:
    import io

    return io.BytesIO(pdf)


def test_ctrl_y_marks_a_waiting_citizen_priority_with_an_audited_reason(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, shots: Path
) -> None:
    from hallclient.audit import AuditAction
    from ui.clerk.priority import PriorityDialog

    rows = mw.queue.model.rows
    row = next(i for i, r in enumerate(rows) if r.ticket.ticket_no == "A010")
    mw.queue.table.selectRow(row)
    press(qtbot, mw, Key.Key_Y, CTRL)
    qtbot.waitUntil(lambda: isinstance(mw.dialog, PriorityDialog) and mw.dialog.isVisible(), timeout=WAIT_MS)
    dialog = mw.dialog
    assert isinstance(dialog, PriorityDialog) and dialog.ticket.ticket_no == "A010"
    # No reason: refused in the dialog, nothing sent.
    qtbot.keyClick(dialog, Key.Key_Return)
    assert "理由" in dialog.error.text() and dialog.isVisible()
    dialog.category.setCurrentIndex(dialog.category.findData(wire.TicketCategory.ELDERLY))
    dialog.reason.setEditText("七十二岁，已核验身份证")
    dialog.grab().save(str(shots / "dialog-priority.png"))
    qtbot.keyClick(dialog, Key.Key_Return)
    qtbot.waitUntil(lambda: mw.dialog is None, timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: any(
            r.ticket.ticket_no == "A010" and r.category is wire.TicketCategory.ELDERLY
            for r in mw.queue.model.rows
        ),
        timeout=WAIT_MS,
    )
    assert "老年人优先" in mw.message.text()
    audit = [e for e in rig.services.store.audit_entries() if e.action == AuditAction.PRIORITY.value]
    assert [(e.subject, e.detail) for e in audit] == [("A010", "elderly: 七十二岁，已核验身份证")]
    column = mw.queue.model.columnCount() - 1
    assert mw.queue.model.index(row, column).data() == "老年人优先"
