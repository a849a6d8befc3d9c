"""Start-up as ``hallclient --config FILE`` does it: the sign-in window first, the services behind it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, make_config
from helpers.live_server import LiveServer
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton
from pytestqt.qtbot import QtBot

from ui import gui
from ui.gui import CounterStartup, PendingDesk, make_qt_app

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def startup(qtbot: QtBot, live_server: LiveServer, tmp_path: Path) -> Iterator[CounterStartup]:
    s = CounterStartup(make_qt_app(), make_config(live_server, tmp_path / "window1"))
    yield s
    if s.counter_app is not None:
        for w in (s.counter_app.main_window, s.counter_app.citizen):
            if w is not None:
                w.close()
    s.login.close()
    s.shutdown()


def test_the_gui_module_leaves_the_store_and_the_windows_behind_the_sign_in_unloaded() -> None:
    # A fresh interpreter: in this one the tests have loaded everything already.
    probe = (
        "import sys, ui.gui; "
        "heavy = ['sqlalchemy', 'hallclient.store', 'hallclient.counter', 'hallclient.services', "
        "'ui.app', 'ui.clerk.main_window', 'ui.citizen.citizen_screen', 'reportlab', 'requests']; "
        "print(' '.join(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == []


def test_a_sign_in_clicked_before_the_services_are_ready_waits_for_them(
    qtbot: QtBot, startup: CounterStartup
) -> None:
    startup.start()
    login = startup.login
    assert login.isVisible() and isinstance(login.counter, PendingDesk)
    login.username.setText(DEMO_USER)
    login.password.setText(DEMO_PASSWORD)
    button = login.findChild(QPushButton, "loginButton")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: startup.counter_app is not None and startup.counter_app.citizen is not None, timeout=20_000
    )
    app = startup.counter_app
    assert app is not None and app.main_window is not None and app.main_window.isVisible()
    assert login.counter is app.services.counter  # later sign-ins go to the counter itself
    assert app.runner is startup.runner
    # The clerk's window keeps the keyboard although the citizen's screen was shown after it.
    assert app.citizen is not None and app.citizen.isVisible()
    assert QApplication.activeWindow() is app.main_window


def test_a_store_that_cannot_open_is_said_and_the_program_exits(
    qtbot: QtBot, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    config = dataclasses.replace(make_config(live_server, tmp_path / "window1"), data_dir=blocker / "data")
    said: list[str] = []
    monkeypatch.setattr(gui.QMessageBox, "critical", lambda _parent, _title, text: said.append(text))
    assert gui.run_gui(config) == 1
    assert len(said) == 1 and "本机数据无法打开" in said[0]
