"""Sync conflicts reach the clerk: a citizen served at two windows, listed, acknowledged, gone.

Real widgets, real stores, a real hallserver: window 1 and window 2 both accept the same
booking, the server keeps both decisions and answers window 2's push with a conflict.
"""

from __future__ import annotations

import datetime as dt
import gc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, CounterRig, make_rig
from helpers.live_server import LiveServer
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from hallclient import wire
from hallclient.counter import Counter
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.domain import MaterialCheck
from hallclient.resources import resource_path
from hallclient.store import Store
from ui.clerk.conflicts_dialog import ConflictsDialog, local_time
from ui.clerk.main_window import ClerkMainWindow
from ui.event_bridge import EventBridge
from ui.gui import make_qt_app
from ui.receipts import ReceiptPrinter
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui

# pytest-qt's QApplication exists before make_qt_app could style it: style the windows under test.
QSS = resource_path("qss", "app.qss").read_text(encoding="utf-8")
DIALOG_PNG = Path("/tmp/conflicts_dialog.png")
STATUSBAR_PNG = Path("/tmp/conflicts_statusbar.png")


def accept_all(counter: Counter, ticket: wire.Ticket) -> str:
    ctx = counter.service_context(ticket)
    assert ctx.item is not None and ctx.booking is not None
    checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
    return counter.accept(ctx, checks).payload.case_no


@pytest.fixture(autouse=True)
def qt_garbage_collected_on_the_gui_thread() -> Iterator[None]:
    """Collect windows an earlier test left behind now, on the GUI thread.

    Otherwise a cyclic collection may start on a server or worker thread; shiboken then queues
    the C++ deletion to the main thread as a pending call, and that segfaults (seen after
    test_clerk_window, whose CounterApp windows are closed but never deleted).
    """
    gc.collect()
    yield
    gc.collect()


@pytest.fixture
def window2(live_server: LiveServer, tmp_path: Path) -> Iterator[CounterRig]:
    built = make_rig(live_server, tmp_path / "w2", window_no=2)
    yield built
    built.close()


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    make_qt_app()
    r = TaskRunner()
    yield r
    r.shutdown()


def test_a_citizen_served_at_two_windows_is_listed_until_acknowledged(
    qtbot: QtBot, rig: CounterRig, window2: CounterRig, runner: TaskRunner
) -> None:
    w1, w2 = rig.services, window2.services
    w1.counter.login("clerk1", DEMO_PASSWORD)
    w2.counter.login("clerk2", DEMO_PASSWORD)
    for s in (w1, w2):
        s.counter.refresh()
        assert s.sync.sync_once().online

    # Window 1 calls A001 and accepts; its push is applied.
    ticket = w1.counter.call_next()
    assert ticket is not None and ticket.ticket_no == "A001" and ticket.booking_code
    first_case = accept_all(w1.counter, ticket)
    assert w1.sync.sync_once().conflicts == 0

    # Window 2 sees the same ticket after a sync and accepts the same booking too.
    w2.sync.sync_once()
    (same,) = [t for t in w2.store.tickets(dt.date.today(), "DEMO") if t.ticket_no == "A001"]
    second_case = accept_all(w2.counter, same)
    status = w2.sync.sync_once()
    assert status.online and status.pending_ops == 0 and status.conflicts >= 1
    expected = f"预约 {ticket.booking_code} 已由 1 号窗口办理（{first_case}）"
    conflicts = w2.store.unacknowledged_conflicts()
    assert [c.kind for c in conflicts if expected in c.detail] == ["case_decided"]

    session = w2.counter.session
    assert session is not None
    bridge = EventBridge(w2.bus)
    mw = ClerkMainWindow(w2.counter, runner, bridge, ReceiptPrinter(w2.counter, runner), session)
    qtbot.addWidget(mw)
    mw.setStyleSheet(QSS)
    mw.resize(1440, 900)
    mw.show()
    qtbot.waitExposed(mw)
    assert not mw.conflicts_button.isVisible()  # nothing said yet: no stale count on start-up

    # The next round's status makes the count visible and clickable.
    w2.sync.sync_once()
    qtbot.waitUntil(mw.conflicts_button.isVisible, timeout=5_000)
    assert mw.conflicts_button.text() == f"冲突 {len(conflicts)} 条"
    qtbot.waitUntil(lambda: runner.in_flight == 0, timeout=10_000)
    assert mw.statusBar().grab().save(str(STATUSBAR_PNG))

    qtbot.mouseClick(mw.conflicts_button, Qt.MouseButton.LeftButton)
    dialog = mw.conflicts_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: len(dialog.rows) == len(conflicts), timeout=5_000)
    assert dialog.isVisible()
    (row,) = [r for r in dialog.rows if expected in r.detail.text()]
    texts = [label.text() for label in row.findChildren(QLabel)]
    assert "办件决定" in texts and local_time(row.conflict.created_at) in texts
    assert "本窗口的办理记录均已保存" in " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert dialog.grab().save(str(DIALOG_PNG))

    # 已知悉 goes to the store through the runner, then the list reloads without that row.
    qtbot.mouseClick(row.ack_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(expected not in r.detail.text() for r in dialog.rows), timeout=5_000)
    assert all(expected not in c.detail for c in w2.store.unacknowledged_conflicts())
    if dialog.rows:  # anything else the same push caused
        qtbot.mouseClick(dialog.ack_all_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not dialog.rows, timeout=5_000)
    assert w2.store.unacknowledged_conflicts() == []
    assert dialog.empty.isVisible() and not dialog.ack_all_button.isEnabled()

    # The count goes with the next status, and the server kept both decisions.
    status = w2.sync.sync_once()
    assert status.conflicts == 0
    qtbot.waitUntil(lambda: not mw.conflicts_button.isVisible(), timeout=5_000)
    assert second_case != first_case
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


# -- the dialog alone, on a store with outcomes the server could have sent ---------------------------

DAY = dt.date.today()
NOW = dt.datetime.now().replace(hour=9, minute=30, second=0, microsecond=0)


def store_with_conflicts(path: Path) -> tuple[Store, list[str]]:
    store = Store(path / "counter.sqlite", FieldCipher(load_or_create_key(path / "device.key")))
    store.upsert_tickets(
        [
            wire.Ticket(
                ticket_no=no,
                hall_code="DEMO",
                date=DAY,
                item_code="ITEM-001",
                state=wire.TicketState.WAITING,
                issued_at=NOW.replace(hour=8).astimezone(),
            )
            for no in ("A001", "A002")
        ]
    )
    store.set_ticket_state(DAY, "A001", wire.TicketState.CALLED, 3, NOW)
    store.set_ticket_state(DAY, "A002", wire.TicketState.CALLED, 3, NOW + dt.timedelta(minutes=12))
    ids = [str(p.op.op_id) for p in store.pending_ops(10)]
    store.apply_results(
        [
            wire.OpResult(
                op_id=uuid.UUID(ids[0]),
                status=wire.OpStatus.CONFLICT,
                detail="A001 号同时被 2 号窗口叫到，请与该窗口确认",
            ),
            wire.OpResult(
                op_id=uuid.UUID(ids[1]), status=wire.OpStatus.REJECTED, detail=f"{DAY} 没有 A002 号"
            ),
        ],
        NOW,
    )
    return store, ids


def test_closing_keeps_the_rest_and_acknowledge_all_clears_what_was_shown(
    qtbot: QtBot, tmp_path: Path, runner: TaskRunner
) -> None:
    store, ids = store_with_conflicts(tmp_path)
    try:
        dialog = ConflictsDialog(store, runner)
        qtbot.addWidget(dialog)
        dialog.setStyleSheet(QSS)
        counts: list[int] = []
        dialog.remaining_changed.connect(counts.append)
        dialog.refresh()
        dialog.show()
        qtbot.waitUntil(lambda: len(dialog.rows) == 2, timeout=5_000)
        assert [r.conflict.op_id for r in dialog.rows] == ids
        row_texts = [" ".join(label.text() for label in r.findChildren(QLabel)) for r in dialog.rows]
        assert "09:30" in row_texts[0] and "叫号状态" in row_texts[0] and "2 号窗口" in row_texts[0]
        assert "09:42" in row_texts[1] and "没有 A002 号" in row_texts[1]
        dialog.grab().save("/tmp/conflicts_dialog_two_rows.png")

        # Closing with rows left acknowledges nothing: they are there next time.
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
        assert [c.op_id for c in store.unacknowledged_conflicts()] == ids

        dialog.refresh()
        dialog.show()
        qtbot.waitUntil(lambda: counts == [2, 2], timeout=5_000)
        qtbot.mouseClick(dialog.ack_all_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: counts[-1] == 0, timeout=5_000)
        assert store.unacknowledged_conflicts() == [] and dialog.rows == []
        assert dialog.empty.isVisible()
    finally:
        qtbot.waitUntil(lambda: runner.in_flight == 0, timeout=5_000)
        store.close()


def test_times_are_local_and_carry_the_date_when_not_today() -> None:
    today = dt.date(2026, 11, 24)
    assert local_time(dt.datetime(2026, 11, 24, 9, 5), today) == "09:05"
    assert local_time(dt.datetime(2026, 11, 23, 16, 40), today) == "11-23 16:40"
    aware = dt.datetime(2026, 11, 24, 9, 5).astimezone()
    assert local_time(aware.astimezone(dt.UTC), today) == "09:05"
