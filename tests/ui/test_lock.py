"""The clerk window locks (by Ctrl+L or when idle) and only the clerk's password opens it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from hallclient.audit import AuditAction
from ui.app import CounterApp
from ui.clerk.main_window import ClerkMainWindow
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui


@pytest.fixture
def signed_in(qtbot: QtBot, rig: CounterRig) -> Iterator[ClerkMainWindow]:
    make_qt_app()
    app = CounterApp(rig.services)
    app.start()
    app.login.username.setText(DEMO_USER)
    app.login.password.setText(DEMO_PASSWORD)
    button = app.login.findChild(QPushButton, "loginButton")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.citizen is not None, timeout=10_000)
    assert app.main_window is not None
    qtbot.waitUntil(
        lambda: app.main_window is not None and app.main_window.queue.model.rowCount() > 0, timeout=15_000
    )
    yield app.main_window
    for w in (app.main_window, app.citizen):
        if w is not None:
            w.close()
    app.runner.shutdown()


def actions(rig: CounterRig) -> list[str]:
    return [e.action for e in rig.services.store.audit_entries()]


def test_ctrl_l_hides_the_work_and_only_the_password_unlocks(
    qtbot: QtBot, signed_in: ClerkMainWindow, rig: CounterRig
) -> None:
    mw = signed_in
    mw.call_next()
    qtbot.waitUntil(lambda: mw.case_view.context is not None, timeout=10_000)
    with qtbot.waitSignal(mw.locked_changed, timeout=5_000) as locked:
        qtbot.keyClick(mw, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert locked.args == [True]
    assert mw.pages.currentWidget() is mw.lock_panel
    assert not mw.case_view.isVisible()  # nothing of the citizen on screen
    qtbot.waitUntil(lambda: AuditAction.LOCK.value in actions(rig), timeout=5_000)

    mw.lock_panel.password.setText("not-the-password")
    mw.lock_panel.button.click()
    qtbot.waitUntil(lambda: "还可以再试" in mw.lock_panel.error.text(), timeout=10_000)
    assert mw.locked and mw.pages.currentWidget() is mw.lock_panel

    with qtbot.waitSignal(mw.locked_changed, timeout=10_000) as unlocked:
        mw.lock_panel.password.setText(DEMO_PASSWORD)
        mw.lock_panel.button.click()
    assert unlocked.args == [False]
    assert not mw.locked and mw.case_view.isVisible()
    assert mw.case_view.context is not None  # the citizen's case is still there after unlocking
    assert actions(rig)[-1] == AuditAction.UNLOCK.value


def test_idle_minutes_lock_the_window_by_themselves(qtbot: QtBot, signed_in: ClerkMainWindow) -> None:
    mw = signed_in
    mw.idle.timer.setInterval(300)  # stands for [security] idle_lock_minutes
    mw.idle.start()
    with qtbot.waitSignal(mw.locked_changed, timeout=5_000):
        pass
    assert mw.locked and mw.pages.currentWidget() is mw.lock_panel


def test_input_restarts_the_idle_countdown(qtbot: QtBot, signed_in: ClerkMainWindow) -> None:
    mw = signed_in
    mw.idle.timer.setInterval(600)
    mw.idle.start()
    for _ in range(6):
        qtbot.wait(200)
        # Through the window, as the platform delivers a key: input is watched there, not app-wide.
        qtbot.keyClick(mw.windowHandle(), Qt.Key.Key_A)
    assert not mw.locked  # 1.2 s of typing outlived the 0.6 s countdown
    qtbot.waitUntil(lambda: mw.locked, timeout=5_000)


def test_a_supervisor_signs_in_to_the_supervision_window_not_a_counter(
    qtbot: QtBot, rig: CounterRig, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from hallserver.cli import main as hallserver_cli

    monkeypatch.setattr("sys.stdin", io.StringIO("boss-pass-2026\n"))
    args = ["clerk", "add", "--db", f"sqlite:///{rig.server.db_path}", "--hall", "DEMO", "--username", "boss"]
    args += ["--name", "周主任", "--staff-no", "ZW-0001", "--role", "supervisor", "--password-stdin"]
    assert hallserver_cli(args) == 0
    make_qt_app()
    app = CounterApp(rig.services)
    app.start()
    try:
        app.login.username.setText("boss")
        app.login.password.setText("boss-pass-2026")
        button = app.login.findChild(QPushButton, "loginButton")
        assert button is not None
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: app.supervisor_window is not None, timeout=10_000)
        assert app.main_window is None and app.citizen is None  # no counter, no citizen screen
        assert app.supervisor_window is not None and app.supervisor_window.isVisible()
    finally:
        if app.supervisor_window is not None:
            app.supervisor_window.close()
        app.runner.shutdown()
