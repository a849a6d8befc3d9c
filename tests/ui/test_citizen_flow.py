"""The citizen screen in the real counter against a live hallserver on loopback.

Confirm → sign → rate through the real windows; a bad rating's reasons and
follow-up reach the server through the ordinary sync; a burst of identical quick
ratings is flagged on both sides; the clerk's window has nothing that reads or
writes a rating.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from helpers.live_server import LiveServer
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from hallclient import wire
from hallclient.domain import MaterialCheck, ReceiptData
from hallclient.ratings import BURST_RUN, REASONS
from hallclient.wire import RatingLevel
from ui.app import CounterApp
from ui.citizen.citizen_screen import CitizenScreen
from ui.citizen.signature_pad import SignaturePad
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


def sign_in(qtbot: QtBot, app: CounterApp) -> None:
    app.login.username.setText(DEMO_USER)
    app.login.password.setText(DEMO_PASSWORD)
    button = app.login.findChild(QPushButton, "loginButton")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.citizen is not None, timeout=10_000)
    mw = app.main_window
    assert mw is not None
    qtbot.waitUntil(lambda: mw.queue.model.rowCount() > 0, timeout=15_000)


def server_rows(server: LiveServer, sql: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.db_path) as db:
        return db.execute(sql, args).fetchall()


def sign_on_pad(pad: SignaturePad) -> None:
    for stroke in ([(0.1, 0.6), (0.2, 0.3), (0.3, 0.65)], [(0.5, 0.3), (0.55, 0.7)]):
        pts = [pad.to_widget(p).toPoint() for p in stroke]
        QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
        for pt in pts[1:]:
            QTest.mouseMove(pad, pt)
        QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])


def serve_one(qtbot: QtBot, app: CounterApp) -> tuple[str, list[list[tuple[float, float]]]]:
    """Call the next citizen, who confirms and signs; the clerk accepts. Returns (case no, strokes)."""
    mw, citizen = app.main_window, app.citizen
    assert mw is not None and citizen is not None
    qtbot.mouseClick(mw.queue.call_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: mw.case_view.context is not None, timeout=10_000)
    ctx = mw.case_view.context
    assert ctx is not None and ctx.booking is not None and ctx.item is not None
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.called, timeout=5_000)
    citizen._service_delay.setInterval(0)  # the called number has been seen
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.serving, timeout=10_000)

    # What the citizen sees is masked, and nothing in full.
    shown = "\n".join(lbl.text() for lbl in citizen.findChildren(QLabel) if lbl.isVisibleTo(citizen))
    a = ctx.booking.applicant
    assert re.search(r"\b\d{6}\*{8}\d{3}[\dX]\b", shown), shown
    assert re.search(r"\b1\d{2}\*{4}\d{4}\b", shown)
    assert f"{a.name[0]}{'*' * (len(a.name) - 1)}" in shown
    assert a.id_number not in shown and a.phone not in shown and a.name not in shown
    assert ctx.item.name in shown

    with qtbot.waitSignal(citizen.confirmed, timeout=2000):
        qtbot.mouseClick(citizen.serving.confirm_button, Qt.MouseButton.LeftButton)
    assert citizen.stack.currentWidget() is citizen.signing
    sign_on_pad(citizen.signing.pad)
    with qtbot.waitSignal(citizen.signature_captured, timeout=2000) as captured:
        qtbot.mouseClick(citizen.signing.confirm_button, Qt.MouseButton.LeftButton)
    strokes = captured.args[0]

    for m in ctx.item.materials:
        mw.case_view.set_check(m.code, MaterialCheck.ORIGINAL_SEEN)
    with qtbot.waitSignal(mw.receipt_ready, timeout=20_000) as receipt:
        qtbot.mouseClick(mw.case_view.accept_button, Qt.MouseButton.LeftButton)
    case_no: str = receipt.args[0]
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.rating, timeout=10_000)
    return case_no, strokes


def sync_everything(qtbot: QtBot, app: CounterApp) -> None:
    store = app.services.store
    app.services.sync_worker.kick()
    qtbot.waitUntil(lambda: store.pending_count() == 0, timeout=30_000)


def test_confirm_sign_then_a_bad_rating_leaves_a_follow_up_on_the_server(
    qtbot: QtBot, counter_app: CounterApp, live_server: LiveServer
) -> None:
    sign_in(qtbot, counter_app)
    citizen = counter_app.citizen
    assert citizen is not None
    case_no, strokes = serve_one(qtbot, counter_app)
    assert len(strokes) == 2 and all(0 <= x <= 1 and 0 <= y <= 1 for s in strokes for x, y in s)
    assert citizen.signature_strokes == strokes  # readable for whoever prints the receipt

    qtbot.mouseClick(citizen.rating.buttons[RatingLevel.VERY_DISSATISFIED], Qt.MouseButton.LeftButton)
    assert citizen.stack.currentWidget() is citizen.reasons
    qtbot.mouseClick(citizen.reasons.reason_buttons[REASONS[0]], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(citizen.reasons.reason_buttons[REASONS[4]], Qt.MouseButton.LeftButton)
    citizen.reasons.comment.insert("叫号后等了很久，回电13812345678")
    qtbot.mouseClick(citizen.reasons.submit_button, Qt.MouseButton.LeftButton)

    store, counter = counter_app.services.store, counter_app.services.counter
    qtbot.waitUntil(lambda: store.has_rating(case_no), timeout=10_000)
    due, _warnings = counter.promised_date(dt.date.today(), 5)
    assert store.open_follow_ups() == [(case_no, "very_dissatisfied", due)]

    sync_everything(qtbot, counter_app)
    [(level, reasons, comment, burst)] = server_rows(
        live_server, "select level, reasons, comment, burst from ratings where case_no = ?", case_no
    )
    assert (level, json.loads(str(reasons)), comment, burst) == (
        "very_dissatisfied",
        [REASONS[0], REASONS[4]],
        "叫号后等了很久，回电***********",  # a rating never carries the citizen's identity
        0,
    )
    [(hall, window_no, fu_level, due_date, status)] = server_rows(
        live_server,
        "select hall_code, window_no, level, due_date, status from follow_ups where case_no = ?",
        case_no,
    )
    assert (hall, window_no, fu_level, due_date, status) == (
        "DEMO",
        1,
        "very_dissatisfied",
        due.isoformat(),
        "open",
    )


def test_a_citizen_who_never_touches_the_screen_leaves_an_honest_not_rated(
    qtbot: QtBot, counter_app: CounterApp, live_server: LiveServer
) -> None:
    sign_in(qtbot, counter_app)
    citizen = counter_app.citizen
    assert citizen is not None
    citizen.rating_timeout_s = 1  # the configured minimum is 5 s; the wait itself is what is tested
    case_no, _strokes = serve_one(qtbot, counter_app)
    store = counter_app.services.store
    qtbot.waitUntil(lambda: store.has_rating(case_no), timeout=10_000)
    assert "未评价" in citizen.thanks_text.text()
    assert store.open_follow_ups() == []
    sync_everything(qtbot, counter_app)
    assert server_rows(live_server, "select level, reasons from ratings where case_no = ?", case_no) == [
        ("not_rated", "[]")
    ]
    assert server_rows(live_server, "select count(*) from follow_ups") == [(0,)]


def test_identical_ratings_seconds_after_each_decision_are_flagged(
    qtbot: QtBot, rig: CounterRig, live_server: LiveServer
) -> None:
    """Someone tapping 非常满意 the moment each case is decided, at one window."""
    make_qt_app()
    s = rig.services
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    s.counter.refresh()
    screen = CitizenScreen(
        hall_name="示范区政务服务中心",
        window_no=1,
        clerk_name="王晓燕",
        staff_no="ZW-0107",
        rating_timeout_s=30,
        rating_sink=lambda c, lv, at, reasons, comment: s.counter.record_rating(
            c, lv, decided_at=at, reasons=reasons, comment=comment
        ),
    )
    qtbot.addWidget(screen)
    cases = []
    for _ in range(BURST_RUN + 1):
        ticket = s.counter.call_next()
        assert ticket is not None
        ctx = s.counter.service_context(ticket)
        assert ctx.item is not None
        outcome = s.counter.accept(ctx, {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials})
        screen.start_rating(outcome.payload.case_no, outcome.payload.decided_at, ctx.item.name)
        screen.rating.buttons[RatingLevel.VERY_SATISFIED].click()  # within a second of the decision
        cases.append(outcome.payload.case_no)

    sent = [
        wire.RatingPayload.model_validate(pending.op.payload)
        for pending in s.store.pending_ops(100)
        if pending.op.kind is wire.OpKind.RATING_GIVEN
    ]
    assert [p.burst for p in sent] == [False, False, True, True]
    s.sync.sync_once()
    rows = server_rows(
        live_server,
        f"select case_no, burst from ratings where case_no in ({','.join('?' * len(cases))})",
        *cases,
    )
    # The server flags the whole run, the first two included.
    assert sorted(rows) == [(c, 1) for c in sorted(cases)]


def test_clerk_window_has_no_control_that_reads_or_writes_a_rating(
    qtbot: QtBot, counter_app: CounterApp
) -> None:
    sign_in(qtbot, counter_app)
    citizen, mw = counter_app.citizen, counter_app.main_window
    assert citizen is not None and mw is not None
    case_no, _strokes = serve_one(qtbot, counter_app)
    qtbot.mouseClick(citizen.rating.buttons[RatingLevel.DISSATISFIED], Qt.MouseButton.LeftButton)
    citizen.reasons.reason_buttons[REASONS[1]].click()
    citizen.reasons.submit()
    store = counter_app.services.store
    qtbot.waitUntil(lambda: store.has_rating(case_no), timeout=10_000)
    mw.refresh_queue()
    qtbot.waitUntil(lambda: counter_app.runner.in_flight == 0, timeout=10_000)

    words = re.compile(r"评价|满意|差评|整改|rating|rate_|satisf", re.IGNORECASE)
    walked: list[str] = []
    for w in [mw, *mw.findChildren(QWidget)]:
        # Nothing of the citizen screen lives inside the clerk's window.
        assert not isinstance(w, CitizenScreen) and not w.objectName().startswith("rate_")
        texts = [w.objectName(), w.windowTitle(), w.toolTip(), w.accessibleName(), w.statusTip()]
        if isinstance(w, (QLabel, QAbstractButton, QLineEdit)):
            texts.append(w.text())
        if isinstance(w, QLineEdit):
            texts.append(w.placeholderText())
        if isinstance(w, (QPlainTextEdit, QTextEdit)):
            texts.append(w.toPlainText())
        if isinstance(w, QComboBox):
            texts += [w.itemText(i) for i in range(w.count())]
        if isinstance(w, QAbstractItemView) and w.model() is not None:
            model = w.model()
            for r in range(model.rowCount()):
                for c in range(model.columnCount()):
                    texts.append(str(model.index(r, c).data() or ""))
            for c in range(model.columnCount()):
                texts.append(str(model.headerData(c, Qt.Orientation.Horizontal) or ""))
        walked += [t for t in texts if t]
    walked += [t for a in mw.findChildren(QAction) for t in (a.text(), a.toolTip()) if t]
    # The walk does see the window's content (the case just decided, its buttons)...
    assert len(walked) > 50 and any("受理" in t for t in walked) and any(case_no in t for t in walked)
    # ...and nothing in it is about ratings.
    seen = [t for t in walked if words.search(t)]
    assert seen == [], f"the clerk's window shows something about ratings: {seen}"
    assert citizen.window() is not mw.window()


def test_clerk_ui_code_never_touches_ratings() -> None:
    """Only the citizen screen's path writes a rating: no clerk module calls the rating API."""
    clerk = Path(__file__).resolve().parents[2] / "ui" / "clerk"
    for path in clerk.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for name in ("record_rating", "has_rating", "open_follow_ups", "RatingRow", "ui.citizen"):
            assert name not in source, f"{path.name} uses {name}"


def test_locking_the_clerks_window_blanks_the_citizen_screen(qtbot: QtBot, counter_app: CounterApp) -> None:
    sign_in(qtbot, counter_app)
    mw, citizen = counter_app.main_window, counter_app.citizen
    assert mw is not None and citizen is not None
    qtbot.mouseClick(mw.queue.call_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.called, timeout=10_000)
    citizen._service_delay.setInterval(0)
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.serving, timeout=10_000)
    mw.lock()
    assert citizen.stack.currentWidget() is citizen.blank
    assert "********" not in "\n".join(
        lbl.text() for lbl in citizen.findChildren(QLabel) if lbl.isVisibleTo(citizen)
    )


def test_the_citizens_signature_goes_into_the_receipt(qtbot: QtBot, counter_app: CounterApp) -> None:
    sign_in(qtbot, counter_app)
    mw = counter_app.main_window
    assert mw is not None
    case_no, strokes = serve_one(qtbot, counter_app)
    outcome = mw.last_outcome
    assert outcome is not None and outcome.case_no == case_no
    assert isinstance(outcome.paper, ReceiptData)
    assert outcome.paper.signature_strokes == strokes
