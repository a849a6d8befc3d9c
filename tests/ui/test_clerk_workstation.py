"""The clerk workstation driven through its real widgets, by keyboard, against a live hallserver.

Every queue action (F2 call, F3 recall, F4 no-show, F9 park, F10 resume, F11 transfer,
F12 pause), the lookup (Ctrl+F) and the keyboard-wedge scanner, the four decisions
(F5 accept, F6 correction, F7 rejection, F8 instant completion), the pick-up (Ctrl+G)
and the overdue panel. Each test checks what the clerk sees and what was stored: the
local store, its outbox, and the server's own database once the sync worker has pushed.

Screenshots go to ``tmp_path/"shots"`` (or to ``$HALL_SHOTS_DIR`` when set, to look at them).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig, make_rig
from helpers.live_server import LiveServer
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QInputMethodEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from hallclient import wire
from hallclient.counter import ServiceContext
from hallclient.decisions import DEFAULT_LEGAL_BASIS
from hallclient.domain import MaterialCheck
from hallclient.validation import resident_id_check_digit
from ui.app import CounterApp
from ui.clerk.correction_dialog import CorrectionDialog
from ui.clerk.lookup_dialog import LookupDialog
from ui.clerk.main_window import ClerkMainWindow
from ui.clerk.pause_dialog import PauseDialog
from ui.clerk.pickup_dialog import PickupDialog
from ui.clerk.rejection_dialog import RejectionDialog
from ui.clerk.transfer_dialog import TransferDialog
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui

HALL = "DEMO"
Key = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
HUMAN_MS = 60  # a person's keystrokes: well above the scanner's 35 ms gap
WAIT_MS = 15_000


# -- fixtures (sign-in copied from test_clerk_window.py) ----------------------------------


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


@pytest.fixture
def mw(qtbot: QtBot, counter_app: CounterApp) -> ClerkMainWindow:
    """Window 1 signed in as clerk1, today's queue and the catalog loaded, the window active."""
    sign_in(qtbot, counter_app)
    qtbot.waitUntil(lambda: counter_app.citizen is not None, timeout=10_000)
    window = counter_app.main_window
    assert window is not None
    qtbot.waitUntil(lambda: window.queue.model.rowCount() == 48 and bool(window.catalog), timeout=WAIT_MS)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    return window


@pytest.fixture
def window2(live_server: LiveServer, tmp_path: Path) -> Iterator[CounterRig]:
    """Window 2 with clerk2 signed in on the server (core only, no widgets)."""
    rig2 = make_rig(live_server, tmp_path / "w2", window_no=2)
    rig2.services.counter.login("clerk2", DEMO_PASSWORD)
    yield rig2
    rig2.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("HALL_SHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- helpers ---------------------------------------------------------------------------------


def today() -> dt.date:
    return dt.date.today()


def booking_code(n: int) -> str:
    return f"YY{today():%Y%m%d}{n:04d}"


def press(
    qtbot: QtBot, mw: ClerkMainWindow, key: Qt.Key, modifier: Any = Qt.KeyboardModifier.NoModifier
) -> None:
    """A key as the clerk presses it: to whatever has the focus in the clerk's window."""
    focus = QApplication.focusWidget()
    target = focus if focus is not None and focus.window() is mw else mw
    qtbot.keyClick(target, key, modifier)


def type_chinese(widget: QWidget, text: str) -> None:
    """Text as an input method commits it (QTest cannot type non-Latin-1 characters)."""
    widget.setFocus()
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def confirm(qtbot: QtBot, dialog: QWidget) -> None:
    """Enter in a dialog: its default button (OK)."""
    qtbot.keyClick(dialog, Key.Key_Return)


def wait_context(qtbot: QtBot, mw: ClerkMainWindow) -> ServiceContext:
    qtbot.waitUntil(lambda: mw.case_view.context is not None, timeout=WAIT_MS)
    ctx = mw.case_view.context
    assert ctx is not None
    return ctx


def wait_dialog(qtbot: QtBot, mw: ClerkMainWindow, kind: type) -> Any:
    qtbot.waitUntil(lambda: isinstance(mw.dialog, kind) and mw.dialog.isVisible(), timeout=WAIT_MS)
    return mw.dialog


def wait_closed(qtbot: QtBot, mw: ClerkMainWindow, dialog: QWidget) -> None:
    qtbot.waitUntil(lambda: mw.dialog is None and not dialog.isVisible(), timeout=WAIT_MS)
    mw.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is mw, timeout=5_000)


def local_ticket(rig: CounterRig, ticket_no: str) -> wire.Ticket:
    [t] = [t for t in rig.services.store.tickets(today(), HALL) if t.ticket_no == ticket_no]
    return t


def outbox(rig: CounterRig) -> list[str]:
    """Every op ever written to the outbox (sent or not), by kind."""
    with sqlite3.connect(rig.services.store.path) as db:
        return [r[0] for r in db.execute("select kind from outbox order by id")]


def server_rows(rig: CounterRig, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(rig.server.db_path) as db:
        return db.execute(sql, params).fetchall()


def server_ticket(rig: CounterRig, ticket_no: str) -> tuple[Any, ...]:
    [row] = server_rows(
        rig,
        "select state, window_no, recalls, note from tickets where ticket_no = ? and date = ?",
        ticket_no,
        today().isoformat(),
    )
    return row


def synced(qtbot: QtBot, rig: CounterRig) -> None:
    """Let the sync worker push everything; nothing may come back as a conflict."""
    store = rig.services.store
    rig.services.sync_worker.kick()
    qtbot.waitUntil(lambda: store.pending_count() == 0, timeout=WAIT_MS)
    assert store.unacknowledged_conflicts() == []


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(str(path)).pages))


def shot(widget: QWidget, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path))
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage(str(path))
    assert not image.isNull() and image.width() > 100 and image.height() > 100
    return path


def check_materials(qtbot: QtBot, mw: ClerkMainWindow, keys: list[Qt.Key]) -> None:
    """In the materials table, from the first row: one key per material (1 seen … 4 wrong)."""
    table = mw.case_view.materials
    table.setFocus()
    qtbot.waitUntil(table.hasFocus, timeout=5_000)
    qtbot.keyClick(table, Key.Key_Home, CTRL, delay=HUMAN_MS)
    assert table.currentRow() == 0
    assert len(keys) == table.rowCount()
    for key in keys:
        qtbot.keyClick(table, key, delay=HUMAN_MS)


def all_seen(ctx: ServiceContext) -> list[Qt.Key]:
    assert ctx.item is not None
    # Originals seen and copies taken alternately: both count as present.
    return [Key.Key_1 if i % 2 == 0 else Key.Key_2 for i in range(len(ctx.item.materials))]


def decide(qtbot: QtBot, mw: ClerkMainWindow, key: Qt.Key) -> tuple[str, Path]:
    """Press a decision key (or confirm its dialog) and wait for the archived paper."""
    with qtbot.waitSignal(mw.receipt_ready, timeout=30_000) as paper:
        press(qtbot, mw, key)
    case_no, path = paper.args
    assert isinstance(path, Path) and path.is_file() and path.stat().st_size > 0
    return case_no, path


def serve_by_lookup(qtbot: QtBot, mw: ClerkMainWindow, code: str) -> ServiceContext:
    """Ctrl+F, the booking code, Enter, Enter on the hit: that booking is now served."""
    press(qtbot, mw, Key.Key_F, CTRL)
    dialog: LookupDialog = wait_dialog(qtbot, mw, LookupDialog)
    qtbot.keyClicks(dialog.query, code)
    qtbot.keyClick(dialog.query, Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and dialog.table.hasFocus(), timeout=WAIT_MS)
    qtbot.keyClick(dialog.table, Key.Key_Return)
    wait_closed(qtbot, mw, dialog)
    ctx = wait_context(qtbot, mw)
    assert ctx.booking is not None and ctx.booking.code == code
    return ctx


def valid_id(first17: str) -> str:
    return first17 + resident_id_check_digit(first17)


# -- 1. call, recall, no-show ---------------------------------------------------------------------


def test_f2_calls_f3_recalls_up_to_the_limit_f4_marks_no_show(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, shots: Path
) -> None:
    shot(mw.queue, shots, "queue")
    press(qtbot, mw, Key.Key_F2)
    ctx = wait_context(qtbot, mw)
    assert ctx.ticket.ticket_no == "A001" and ctx.booking is not None and ctx.item is not None
    view = mw.case_view
    assert "A001" in view.title.text() and ctx.booking.code in view.title.text()
    assert view.name_edit.text() == ctx.booking.applicant.name and view.name_edit.isReadOnly()
    assert view.id_edit.text() == ctx.booking.applicant.id_number
    assert view.materials.rowCount() == len(ctx.item.materials)
    assert ctx.item.code in view.item_code.text()
    called = local_ticket(rig, "A001")
    assert called.state is wire.TicketState.CALLED and called.window_no == 1
    qtbot.waitUntil(  # the queue shows the call too
        lambda: any(
            r.ticket.ticket_no == "A001" and r.ticket.state is wire.TicketState.CALLED
            for r in mw.queue.model.rows
        ),
        timeout=WAIT_MS,
    )
    shot(mw, shots, "workspace")

    limit = rig.config.counter.max_recalls
    assert limit == 3
    for n in range(1, limit + 1):
        press(qtbot, mw, Key.Key_F3)
        qtbot.waitUntil(
            lambda n=n: view.context is not None and view.context.ticket.recalls == n, timeout=WAIT_MS
        )
        assert f"第 {n} 次" in mw.message.text()
    qtbot.waitUntil(lambda: local_ticket(rig, "A001").recalls == limit, timeout=WAIT_MS)

    press(qtbot, mw, Key.Key_F3)
    qtbot.waitUntil(lambda: "上限 3 次" in mw.message.text(), timeout=WAIT_MS)
    assert local_ticket(rig, "A001").recalls == limit
    assert view.context is not None and view.context.ticket.recalls == limit

    press(qtbot, mw, Key.Key_F4)
    qtbot.waitUntil(lambda: view.context is None, timeout=WAIT_MS)
    assert "F2" in view.title.text()
    assert view.name_edit.text() == "" and view.materials.rowCount() == 0
    assert not any(b.isEnabled() for b in view.decision_buttons)
    assert local_ticket(rig, "A001").state is wire.TicketState.NO_SHOW
    assert "过号" in mw.message.text()
    qtbot.waitUntil(
        lambda: any(
            r.ticket.ticket_no == "A001" and r.ticket.state is wire.TicketState.NO_SHOW
            for r in mw.queue.model.rows
        ),
        timeout=WAIT_MS,
    )
    synced(qtbot, rig)
    assert server_ticket(rig, "A001")[:3] == ("no_show", 1, 3)


# -- 2. park and resume ----------------------------------------------------------------------------


def test_f9_parks_and_f10_resumes_the_same_citizen(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig
) -> None:
    press(qtbot, mw, Key.Key_F2)
    ctx = wait_context(qtbot, mw)
    ticket_no = ctx.ticket.ticket_no

    press(qtbot, mw, Key.Key_F9)
    qtbot.waitUntil(lambda: mw.case_view.context is None, timeout=WAIT_MS)
    assert local_ticket(rig, ticket_no).state is wire.TicketState.PARKED
    qtbot.waitUntil(mw.queue.resume_button.isEnabled, timeout=WAIT_MS)
    assert "挂起 1 人" in mw.queue.counts.text()

    press(qtbot, mw, Key.Key_F10)
    back = wait_context(qtbot, mw)
    assert back.ticket.ticket_no == ticket_no and back.booking == ctx.booking
    assert back.ticket.state is wire.TicketState.SERVING
    assert mw.case_view.name_edit.text() == ctx.booking.applicant.name  # type: ignore[union-attr]
    state = local_ticket(rig, ticket_no)
    assert state.state is wire.TicketState.SERVING and state.window_no == 1
    synced(qtbot, rig)
    assert server_ticket(rig, ticket_no)[:2] == ("serving", 1)


# -- 3. transfer -------------------------------------------------------------------------------------


def test_f11_transfer_needs_a_note_and_an_open_window_and_window_2_calls_the_citizen_first(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, window2: CounterRig, shots: Path
) -> None:
    press(qtbot, mw, Key.Key_F2)
    ctx = wait_context(qtbot, mw)
    ticket_no = ctx.ticket.ticket_no
    synced(qtbot, rig)
    ops_before = outbox(rig)

    press(qtbot, mw, Key.Key_F11)
    dialog: TransferDialog = wait_dialog(qtbot, mw, TransferDialog)
    windows = [dialog.window_combo.itemData(i) for i in range(dialog.window_combo.count())]
    assert windows == [None, 2, 3]  # not its own window
    combo = dialog.window_combo
    combo.setFocus()

    def choose_window(no: int) -> None:
        qtbot.keyClick(combo, Key.Key_Home)
        while combo.currentData() != no:
            qtbot.keyClick(combo, Key.Key_Down)

    # Window 3: nobody signed in there. Refused in the dialog, nothing saved.
    choose_window(3)
    assert "无人登录" in combo.currentText()
    type_chinese(dialog.note, "需到不动产专窗办理")
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: "3 号窗口现在不办理业务" in dialog.error.text(), timeout=WAIT_MS)
    assert dialog.isVisible() and mw.dialog is dialog and dialog.ok_button.isEnabled()
    assert local_ticket(rig, ticket_no).state is wire.TicketState.CALLED
    assert outbox(rig) == ops_before

    # Window 2, but no note: refused before anything is sent to the core.
    choose_window(2)
    assert "李建国" in combo.currentText()
    dialog.note.setFocus()
    qtbot.keyClick(dialog.note, Key.Key_A, CTRL)
    qtbot.keyClick(dialog.note, Key.Key_Delete)
    assert dialog.note.toPlainText() == ""
    confirm(qtbot, dialog)
    assert "转移说明" in dialog.error.text()
    assert dialog.isVisible() and mw.dialog is dialog
    shot(dialog, shots, "dialog-transfer")
    qtbot.wait(200)
    assert outbox(rig) == ops_before
    assert local_ticket(rig, ticket_no).state is wire.TicketState.CALLED

    note = "申请人需办理抵押登记，已核身份证原件"
    type_chinese(dialog.note, note)
    confirm(qtbot, dialog)
    wait_closed(qtbot, mw, dialog)
    assert mw.case_view.context is None
    assert f"{ticket_no} 号已转移到2 号窗口" in mw.message.text()
    moved = local_ticket(rig, ticket_no)
    assert (moved.state, moved.window_no, moved.note) == (wire.TicketState.TRANSFERRED, 2, note)
    assert outbox(rig) == [*ops_before, "ticket_state"]
    synced(qtbot, rig)
    assert server_ticket(rig, ticket_no) == ("transferred", 2, 0, note)

    # Window 2 calls the transferred citizen before everyone still waiting.
    first = window2.services.counter.call_next()
    assert first is not None and first.ticket_no == ticket_no and first.note == note


# -- 4. pause -----------------------------------------------------------------------------------------


def test_f12_pauses_with_a_reason_blocks_calling_and_f12_resumes(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, shots: Path
) -> None:
    store = rig.services.store
    ops_before = outbox(rig)
    press(qtbot, mw, Key.Key_F12)
    dialog: PauseDialog = wait_dialog(qtbot, mw, PauseDialog)
    confirm(qtbot, dialog)
    assert "暂停服务的原因" in dialog.error.text()
    assert dialog.isVisible()
    shot(dialog, shots, "dialog-pause")
    assert store.window_state(1) == (False, "") and outbox(rig) == ops_before

    edit = dialog.reason.lineEdit()
    assert edit is not None
    type_chinese(edit, "设备故障")
    confirm(qtbot, dialog)
    wait_closed(qtbot, mw, dialog)
    assert mw.queue.pause_banner.isVisible() and "设备故障" in mw.queue.pause_banner.text()
    assert "恢复服务" in mw.queue.pause_button.text()
    assert store.window_state(1) == (True, "设备故障")
    assert not mw.queue.call_button.isEnabled()
    shot(mw.queue, shots, "queue-paused")

    # F2 while paused calls nobody.
    press(qtbot, mw, Key.Key_F2)
    qtbot.wait(500)
    assert mw.case_view.context is None
    assert all(t.state is wire.TicketState.WAITING for t in store.tickets(today(), HALL))
    synced(qtbot, rig)
    assert server_rows(rig, "select paused, pause_reason from windows where window_no = 1") == [
        (1, "设备故障")
    ]
    assert all(state == "waiting" for (state,) in server_rows(rig, "select state from tickets"))

    # The button still answers to F12 and says so (its label changed to 恢复服务).
    assert mw.queue.pause_button.shortcut() == QKeySequence(Key.Key_F12), "F12 lost by the relabel"
    assert mw.queue.pause_button.text().endswith("(F12)")
    press(qtbot, mw, Key.Key_F12)
    qtbot.waitUntil(lambda: not mw.queue.paused, timeout=WAIT_MS)
    assert mw.queue.pause_button.shortcut() == QKeySequence(Key.Key_F12)
    assert mw.queue.pause_button.text() == "暂停服务 (F12)"
    assert not mw.queue.pause_banner.isVisible() and mw.queue.call_button.isEnabled()
    assert store.window_state(1) == (False, "")
    synced(qtbot, rig)
    assert server_rows(rig, "select paused, pause_reason from windows where window_no = 1") == [(0, "")]

    press(qtbot, mw, Key.Key_F2)
    assert wait_context(qtbot, mw).ticket.ticket_no == "A001"


# -- 5. decisions ----------------------------------------------------------------------------------------


def test_f5_accepts_only_with_every_material_present(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, shots: Path
) -> None:
    store = rig.services.store
    press(qtbot, mw, Key.Key_F2)
    ctx = wait_context(qtbot, mw)
    assert ctx.item is not None
    assert mw.case_view.complete_button.isEnabled() is ctx.item.instant
    ops_before = outbox(rig)

    # The first material missing: refused, the workspace names it, nothing saved.
    missing = ctx.item.materials[0]
    check_materials(qtbot, mw, [Key.Key_3, *all_seen(ctx)[1:]])
    combo = mw.case_view.findChild(QComboBox, f"check_{missing.code}")
    assert combo is not None and combo.currentText() == "缺失"
    press(qtbot, mw, Key.Key_F5)
    qtbot.waitUntil(lambda: missing.name in mw.case_view.error.text(), timeout=WAIT_MS)
    assert "补正" in mw.case_view.error.text()
    assert mw.case_view.context is not None and mw.case_view.accept_button.isEnabled()
    assert store.awaiting_pickup(1, (wire.Decision.ACCEPT,)) == []
    assert [k for k in outbox(rig)[len(ops_before) :] if k != "ticket_state"] == []  # serving only
    assert not (rig.config.data_dir / "documents").exists()
    shot(mw, shots, "workspace-refused")

    check_materials(qtbot, mw, all_seen(ctx))
    assert set(mw.case_view.checks().values()) <= {MaterialCheck.ORIGINAL_SEEN, MaterialCheck.COPY_TAKEN}
    assert len(mw.case_view.checks()) == len(ctx.item.materials)
    case_no, path = decide(qtbot, mw, Key.Key_F5)
    assert case_no.startswith(f"DEMO-{today():%Y%m%d}-01-")
    text = pdf_text(path)
    assert "受理通知书" in text and case_no in text
    assert path.parent == rig.config.data_dir / "documents" / case_no
    qtbot.waitUntil(lambda: mw.case_view.context is None, timeout=WAIT_MS)
    assert case_no in mw.message.text() and "承诺办结日期" in mw.message.text()
    assert case_no in mw.paper_label.text() and mw.open_paper.isEnabled()
    case = store.case(case_no)
    assert case is not None and case.decision is wire.Decision.ACCEPT and case.promised_date is not None
    assert case.booking_code == ctx.booking.code  # type: ignore[union-attr]
    assert {m.code for m in case.materials} == {m.code for m in ctx.item.materials}
    assert "case_decided" in outbox(rig) and "document_printed" in outbox(rig)
    synced(qtbot, rig)
    assert server_rows(rig, "select decision, window_no from cases where case_no = ?", case_no) == [
        ("accept", 1)
    ]
    assert server_rows(rig, "select kind from documents where case_no = ?", case_no) == [("receipt",)]
    assert server_ticket(rig, ctx.ticket.ticket_no)[0] == "done"


def test_f6_correction_needs_a_problem_and_says_what_is_wrong(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, shots: Path
) -> None:
    store = rig.services.store
    press(qtbot, mw, Key.Key_F2)
    ctx = wait_context(qtbot, mw)
    assert ctx.item is not None
    wrong = ctx.item.materials[0]
    note_edit = mw.case_view.findChild(QLineEdit, f"note_{wrong.code}")
    assert note_edit is not None
    note_edit.clear()  # a pre-review note may have been copied in; this test writes its own
    ops_before = outbox(rig)

    # Everything present: a correction notice would list nothing.
    check_materials(qtbot, mw, all_seen(ctx))
    press(qtbot, mw, Key.Key_F6)
    dialog: CorrectionDialog = wait_dialog(qtbot, mw, CorrectionDialog)
    assert dialog.list.count() == 0
    confirm(qtbot, dialog)
    qtbot.waitUntil(lambda: "至少要列出一份" in dialog.error.text(), timeout=WAIT_MS)
    qtbot.keyClick(dialog, Key.Key_Escape)
    wait_closed(qtbot, mw, dialog)

    # One material wrong, but not said what is wrong: refused in the dialog.
    check_materials(qtbot, mw, [Key.Key_4, *all_seen(ctx)[1:]])
    press(qtbot, mw, Key.Key_F6)
    dialog = wait_dialog(qtbot, mw, CorrectionDialog)
    assert dialog.list.count() == 1 and wrong.name in dialog.list.item(0).text()
    confirm(qtbot, dialog)
    qtbot.waitUntil(
        lambda: wrong.name in dialog.error.text() and "哪里不符合要求" in dialog.error.text(), timeout=WAIT_MS
    )
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    assert [k for k in outbox(rig)[len(ops_before) :] if k != "ticket_state"] == []
    assert store.unreturned_corrections(1) == []
    qtbot.keyClick(dialog, Key.Key_Escape)
    wait_closed(qtbot, mw, dialog)

    what = "复印件缺少骑缝章"
    type_chinese(note_edit, what)
    assert note_edit.text() == what
    press(qtbot, mw, Key.Key_F6)
    dialog = wait_dialog(qtbot, mw, CorrectionDialog)
    assert what in dialog.list.item(0).text()
    shot(dialog, shots, "dialog-correction")
    with qtbot.waitSignal(mw.receipt_ready, timeout=30_000) as paper:
        confirm(qtbot, dialog)
    case_no, path = paper.args
    wait_closed(qtbot, mw, dialog)
    text = pdf_text(path)
    assert "补正告知书" in text and case_no in text and wrong.name in text and what in text
    case = store.case(case_no)
    assert (
        case is not None and case.decision is wire.Decision.CORRECT and case.correction_deadline is not None
    )
    [checked] = [m for m in case.materials if m.code == wrong.code]
    assert (checked.status, checked.note) == ("wrong", what)
    assert mw.case_view.context is None

    # 8. The overdue panel lists the correction not yet returned (Ctrl+2 shows it).
    qtbot.waitUntil(lambda: mw.overdue.table.rowCount() == 1, timeout=WAIT_MS)
    assert mw.overdue.table.item(0, 0).text() == "待补正"
    assert mw.overdue.table.item(0, 1).text() == case_no
    assert case.correction_deadline.isoformat() in mw.overdue.table.item(0, 4).text()
    press(qtbot, mw, Key.Key_2, CTRL)
    assert mw.tabs.currentWidget() is mw.overdue
    shot(mw, shots, "overdue")
    press(qtbot, mw, Key.Key_1, CTRL)
    assert mw.tabs.currentWidget() is mw.queue

    synced(qtbot, rig)
    assert server_rows(rig, "select decision from cases where case_no = ?", case_no) == [("correct",)]


def test_f7_rejection_needs_a_reason_and_states_the_remedies(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, shots: Path
) -> None:
    store = rig.services.store
    press(qtbot, mw, Key.Key_F2)
    ctx = wait_context(qtbot, mw)
    ops_before = outbox(rig)

    press(qtbot, mw, Key.Key_F7)
    dialog: RejectionDialog = wait_dialog(qtbot, mw, RejectionDialog)
    confirm(qtbot, dialog)
    assert "必须写明理由" in dialog.error.text()
    assert dialog.isVisible()
    qtbot.wait(200)
    assert [k for k in outbox(rig)[len(ops_before) :] if k != "ticket_state"] == []

    box, reason = dialog.reason_boxes[1]
    box.setFocus()
    qtbot.keyClick(box, Key.Key_Space)
    assert box.isChecked()
    written = "经营范围涉及前置审批，请先取得许可"
    type_chinese(dialog.other, written)
    shot(dialog, shots, "dialog-rejection")
    with qtbot.waitSignal(mw.receipt_ready, timeout=30_000) as paper:
        confirm(qtbot, dialog)
    case_no, path = paper.args
    wait_closed(qtbot, mw, dialog)
    text = pdf_text(path)
    assert "不予受理通知书" in text and case_no in text
    assert reason in text and written in text and "行政复议" in text and "行政诉讼" in text
    case = store.case(case_no)
    assert case is not None and case.decision is wire.Decision.REJECT
    assert case.ticket_no == ctx.ticket.ticket_no and mw.case_view.context is None
    synced(qtbot, rig)
    [(decision, body)] = server_rows(rig, "select decision, body from cases where case_no = ?", case_no)
    stored = json.loads(body)
    assert decision == "reject" and stored["reasons"] == [reason, written]
    assert stored["legal_basis"] == DEFAULT_LEGAL_BASIS


def test_f8_completes_only_an_instant_item_on_the_spot(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig
) -> None:
    store = rig.services.store
    bookings = store.bookings_between(today(), today(), HALL)

    def instant(b: wire.Booking) -> bool:
        item = store.catalog_item(b.item_code)
        return item is not None and item.instant

    ordinary = next(b for b in bookings if not instant(b))
    quick = next(b for b in bookings if instant(b))

    # Not an instant item: F8 is disabled and does nothing.
    ctx = serve_by_lookup(qtbot, mw, ordinary.code)
    assert not mw.case_view.complete_button.isEnabled()
    assert "即办件" not in mw.case_view.item_name.text()
    check_materials(qtbot, mw, all_seen(ctx))
    qtbot.waitUntil(  # checking the materials started the service
        lambda: local_ticket(rig, ctx.ticket.ticket_no).state is wire.TicketState.SERVING, timeout=WAIT_MS
    )
    ops_before = outbox(rig)
    press(qtbot, mw, Key.Key_F8)
    qtbot.wait(300)
    assert mw.case_view.context is not None and outbox(rig) == ops_before
    press(qtbot, mw, Key.Key_F9)  # park the ordinary one to serve the next
    qtbot.waitUntil(lambda: mw.case_view.context is None, timeout=WAIT_MS)

    ctx = serve_by_lookup(qtbot, mw, quick.code)
    assert ctx.item is not None and ctx.item.instant
    assert mw.case_view.complete_button.isEnabled() and "即办件" in mw.case_view.item_name.text()
    check_materials(qtbot, mw, all_seen(ctx))
    case_no, path = decide(qtbot, mw, Key.Key_F8)
    text = pdf_text(path)
    assert "准予行政许可决定书" in text and case_no in text and quick.applicant.name in text
    case = store.case(case_no)
    assert case is not None and case.decision is wire.Decision.COMPLETE and case.promised_date == today()
    assert "当场办结" in mw.message.text()
    synced(qtbot, rig)
    assert server_rows(rig, "select decision from cases where case_no = ?", case_no) == [("complete",)]
    assert server_rows(rig, "select kind from documents where case_no = ?", case_no) == [("approval",)]


# -- 6. lookup and the wedge scanner ------------------------------------------------------------------------


def test_ctrl_f_finds_a_booking_by_code_and_serves_it(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, shots: Path
) -> None:
    code = booking_code(5)
    press(qtbot, mw, Key.Key_F, CTRL)
    dialog: LookupDialog = wait_dialog(qtbot, mw, LookupDialog)
    qtbot.keyClicks(dialog.query, code)
    qtbot.keyClick(dialog.query, Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    assert dialog.table.item(0, 1).text() == code and "A005" in dialog.table.item(0, 4).text()
    assert "找到 1 条" in dialog.message.text()
    shot(dialog, shots, "dialog-lookup")
    qtbot.waitUntil(dialog.table.hasFocus, timeout=5_000)
    qtbot.keyClick(dialog.table, Key.Key_Return)
    wait_closed(qtbot, mw, dialog)
    ctx = wait_context(qtbot, mw)
    assert ctx.booking is not None and ctx.booking.code == code and ctx.ticket.ticket_no == "A005"
    assert code in mw.case_view.title.text()
    t = local_ticket(rig, "A005")
    assert (t.state, t.window_no) == (wire.TicketState.CALLED, 1)
    synced(qtbot, rig)
    assert server_ticket(rig, "A005")[:2] == ("called", 1)


def test_a_scanned_booking_slip_opens_the_lookup_wherever_the_focus_is_but_typing_does_not(
    qtbot: QtBot, mw: ClerkMainWindow
) -> None:
    press(qtbot, mw, Key.Key_F2)
    wait_context(qtbot, mw)
    notes = mw.case_view.notes
    notes.setFocus()
    qtbot.waitUntil(notes.hasFocus, timeout=5_000)

    code = booking_code(7)
    qtbot.keyClicks(notes, code)  # a scanner: no delay between keys
    qtbot.keyClick(notes, Key.Key_Return)
    dialog: LookupDialog = wait_dialog(qtbot, mw, LookupDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    assert dialog.query.text() == code and dialog.table.item(0, 1).text() == code
    assert notes.toPlainText() == ""  # nothing of the scan left in the field
    qtbot.keyClick(dialog, Key.Key_Escape)
    wait_closed(qtbot, mw, dialog)

    # The same text typed by a person is text in the notes, not a scan.
    notes.setFocus()
    qtbot.waitUntil(notes.hasFocus, timeout=5_000)
    qtbot.keyClicks(notes, code, delay=80)
    qtbot.keyClick(notes, Key.Key_Return, delay=80)
    qtbot.wait(400)
    assert mw.dialog is None
    assert notes.toPlainText() == code + "\n"


def test_a_scan_with_no_field_focused_still_opens_the_lookup(qtbot: QtBot, mw: ClerkMainWindow) -> None:
    mw.activateWindow()
    qtbot.waitUntil(mw.isActiveWindow, timeout=5_000)
    focused = QApplication.focusWidget()
    if focused is not None:
        focused.clearFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is None, timeout=5_000)
    code = booking_code(9)
    qtbot.keyClicks(mw, code)  # the keys go to the window itself
    qtbot.keyClick(mw, Key.Key_Return)
    dialog: LookupDialog = wait_dialog(qtbot, mw, LookupDialog)
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=WAIT_MS)
    assert dialog.query.text() == code
    qtbot.keyClick(dialog, Key.Key_Escape)
    wait_closed(qtbot, mw, dialog)


def test_a_scanned_id_card_fills_a_walk_ins_id_number(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, window2: CounterRig, shots: Path
) -> None:
    # Window 2 takes every booked citizen, so the next one called at window 1 is the walk-in.
    while window2.services.counter.call_next() is not None:
        pass
    walk_in = rig.services.api.walk_in(None)
    assert walk_in.ticket_no.startswith("B") and walk_in.booking_code is None

    press(qtbot, mw, Key.Key_F2)
    ctx = wait_context(qtbot, mw)
    view = mw.case_view
    assert ctx.ticket.ticket_no == walk_in.ticket_no and ctx.booking is None and ctx.item is None
    assert not view.id_edit.isReadOnly() and view.id_edit.text() == ""
    assert view.item_chooser.isVisible()

    # A number with a wrong check digit, typed by hand: the field says what is wrong.
    good = valid_id("11010519491231002")
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    view.id_edit.setFocus()
    qtbot.waitUntil(view.id_edit.hasFocus, timeout=5_000)
    qtbot.keyClicks(view.id_edit, bad, delay=45)
    qtbot.waitUntil(lambda: "check" in view.id_hint.text() or "校验" in view.id_hint.text(), timeout=5_000)
    assert view.id_edit.text() == bad

    # Scanned with the focus in the name field: the ID field gets it, the name field nothing.
    view.name_edit.setFocus()
    qtbot.waitUntil(view.name_edit.hasFocus, timeout=5_000)
    qtbot.keyClicks(view.name_edit, good)
    qtbot.keyClick(view.name_edit, Key.Key_Return)
    qtbot.waitUntil(lambda: view.id_edit.text() == good, timeout=5_000)
    assert view.name_edit.text() == "" and view.id_hint.text() == ""
    assert "身份证号" in mw.message.text() and mw.dialog is None
    # Reading the card starts the service: the ticket is no longer a no-show candidate.
    qtbot.waitUntil(
        lambda: local_ticket(rig, walk_in.ticket_no).state is wire.TicketState.SERVING, timeout=WAIT_MS
    )

    # A scanned ID number that is not valid is refused in the status bar, and fills nothing.
    view.name_edit.setFocus()
    qtbot.keyClicks(view.name_edit, bad)
    qtbot.keyClick(view.name_edit, Key.Key_Return)
    qtbot.waitUntil(lambda: "扫描内容无法识别" in mw.message.text(), timeout=5_000)
    assert view.id_edit.text() == good and view.name_edit.text() == ""
    shot(mw, shots, "workspace-walk-in")


# -- 7. pick-up ------------------------------------------------------------------------------------------------


def test_ctrl_g_hands_over_an_accepted_result_once(
    qtbot: QtBot, mw: ClerkMainWindow, rig: CounterRig, shots: Path
) -> None:
    store = rig.services.store
    press(qtbot, mw, Key.Key_F2)
    ctx = wait_context(qtbot, mw)
    assert ctx.booking is not None
    applicant = ctx.booking.applicant
    check_materials(qtbot, mw, all_seen(ctx))
    case_no, _receipt = decide(qtbot, mw, Key.Key_F5)
    qtbot.waitUntil(lambda: mw.case_view.context is None, timeout=WAIT_MS)

    press(qtbot, mw, Key.Key_G, CTRL)
    dialog: PickupDialog = wait_dialog(qtbot, mw, PickupDialog)
    assert dialog.case_combo.findData(case_no) >= 0 and dialog.case_combo.currentData() == case_no
    assert dialog.by.text() == applicant.name
    shot(dialog, shots, "dialog-pickup")
    with qtbot.waitSignal(mw.receipt_ready, timeout=30_000) as paper:
        confirm(qtbot, dialog)
    slip_case, slip = paper.args
    wait_closed(qtbot, mw, dialog)
    assert slip_case == case_no
    text = pdf_text(slip)
    assert "领取凭证" in text and case_no in text
    picked = store.case(case_no)
    assert picked is not None and picked.picked_up_at is not None
    assert "已出件" in mw.message.text()
    synced(qtbot, rig)
    assert server_rows(rig, "select picked_up_by from cases where case_no = ?", case_no) == [
        (applicant.name,)
    ]
    assert server_rows(rig, "select picked_up_at is not null from cases where case_no = ?", case_no) == [(1,)]
    ops_before = outbox(rig)

    # Nothing left to hand over at this window.
    press(qtbot, mw, Key.Key_G, CTRL)
    dialog = wait_dialog(qtbot, mw, PickupDialog)
    assert dialog.case_combo.count() == 0 and not dialog.ok_button.isEnabled()
    assert "没有待领取" in dialog.error.text()
    qtbot.keyClick(dialog, Key.Key_Escape)
    wait_closed(qtbot, mw, dialog)

    # Found again by the applicant's ID number: the core refuses a second hand-over.
    press(qtbot, mw, Key.Key_F, CTRL)
    lookup: LookupDialog = wait_dialog(qtbot, mw, LookupDialog)
    qtbot.keyClicks(lookup.query, applicant.id_number)
    qtbot.keyClick(lookup.query, Key.Key_Return)
    qtbot.waitUntil(lambda: any(h.case is not None for h in lookup.hits), timeout=WAIT_MS)
    row = next(i for i, h in enumerate(lookup.hits) if h.case is not None and h.case.case_no == case_no)
    assert "结果已领取" in lookup.table.item(row, 4).text()
    qtbot.waitUntil(lookup.table.hasFocus, timeout=5_000)
    for _i in range(row):
        qtbot.keyClick(lookup.table, Key.Key_Down)
    assert lookup.table.currentRow() == row
    qtbot.keyClick(lookup.table, Key.Key_Return)
    again: PickupDialog = wait_dialog(qtbot, mw, PickupDialog)
    assert again.case_combo.currentData() == case_no
    confirm(qtbot, again)
    qtbot.waitUntil(lambda: "已于" in again.error.text() and "领取" in again.error.text(), timeout=WAIT_MS)
    assert again.isVisible() and outbox(rig) == ops_before
    qtbot.keyClick(again, Key.Key_Escape)
    wait_closed(qtbot, mw, again)
