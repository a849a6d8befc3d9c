"""The sign-in dialog with the second factor, driven with pytest-qt against a live hallserver.

The demo hall is switched to the rule every other hall has (password and TOTP code)
and clerk1 enrolled with the real `hallserver clerk enrol-totp`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QValidator
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from hallserver import totp
from hallserver.cli import main as hallserver_main
from ui.app import CounterApp
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui


@pytest.fixture
def enrolled(rig: CounterRig, capsys: pytest.CaptureFixture[str]) -> tuple[str, list[str]]:
    """clerk1's TOTP secret and recovery codes; the hall requires the second factor."""
    db = f"sqlite:///{rig.server.db_path}"
    assert hallserver_main(["clerk", "require-totp", "--hall", "DEMO", "--db", db]) == 0
    capsys.readouterr()
    assert hallserver_main(["clerk", "enrol-totp", DEMO_USER, "--hall", "DEMO", "--db", db]) == 0
    out = capsys.readouterr().out
    secret = re.search(r"secret=([A-Z2-7]+)", out)
    assert secret is not None
    return secret.group(1), re.findall(r"^  ([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})$", out, re.M)


@pytest.fixture
def counter_app(qtbot: QtBot, rig: CounterRig, enrolled: tuple[str, list[str]]) -> Iterator[CounterApp]:
    # Enrolled first: the CLI's QR code and the app's font warm-up thread would otherwise
    # import reportlab's barcode package at the same time (it imports itself circularly).
    make_qt_app()
    app = CounterApp(rig.services)
    app.start()
    yield app
    for w in (app.main_window, app.citizen, app.login):
        if w is not None:
            w.close()
    app.runner.shutdown()


def now_code(secret: str) -> str:
    return totp.code_at(secret, dt.datetime.now(dt.UTC))


def submit(qtbot: QtBot, app: CounterApp, password: str = DEMO_PASSWORD, code: str = "") -> None:
    app.login.username.setText(DEMO_USER)
    app.login.password.setText(password)
    app.login.code.setText(code)
    button = app.login.findChild(QPushButton, "loginButton")
    assert button is not None
    app.login.error.clear()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: app.login.buttons.isEnabled() and app.login.error.text() != "正在登录…", timeout=10_000
    )


def test_the_dialog_has_the_code_field_and_the_recovery_path(
    qtbot: QtBot, counter_app: CounterApp, tmp_path: Path
) -> None:
    dialog = counter_app.login
    assert dialog.code_label.text() == "动态口令" and dialog.code.placeholderText()
    validator = dialog.code.validator()
    assert validator is not None
    assert validator.validate("123456", 0)[0] == QValidator.State.Acceptable
    assert validator.validate("12a", 0)[0] == QValidator.State.Invalid
    shot = tmp_path / "login-code.png"
    assert dialog.grab().save(str(shot))
    qtbot.mouseClick(dialog.recovery_link, Qt.MouseButton.LeftButton)
    assert dialog.recovery_mode and dialog.code_label.text() == "备用码"
    validator = dialog.code.validator()
    assert validator is not None
    assert validator.validate("k7m2-9q4x-hc3d", 0)[0] == QValidator.State.Acceptable
    assert dialog.grab().save(str(tmp_path / "login-recovery.png"))
    qtbot.mouseClick(dialog.recovery_link, Qt.MouseButton.LeftButton)
    assert not dialog.recovery_mode and dialog.code_label.text() == "动态口令"
    image = QImage(str(shot))
    assert image.width() >= 460 and image.height() >= 250


def test_password_alone_asks_for_the_code_and_keeps_the_password(
    qtbot: QtBot, counter_app: CounterApp, enrolled: tuple[str, list[str]]
) -> None:
    submit(qtbot, counter_app)
    assert "6 位动态口令" in counter_app.login.error.text()
    assert counter_app.login.password.text() == DEMO_PASSWORD  # only the code is asked again
    assert counter_app.main_window is None


def test_a_wrong_code_says_so_and_a_right_one_signs_in(
    qtbot: QtBot, counter_app: CounterApp, enrolled: tuple[str, list[str]], tmp_path: Path
) -> None:
    secret, _codes = enrolled
    code = now_code(secret)
    submit(qtbot, counter_app, code=f"{(int(code) + 1) % 1_000_000:06d}")
    assert "动态口令不对或已过期" in counter_app.login.error.text()
    assert "还可以再试 4 次" in counter_app.login.error.text()
    assert counter_app.login.code.text() == "" and counter_app.login.password.text() == DEMO_PASSWORD
    assert counter_app.login.grab().save(str(tmp_path / "login-wrong-code.png"))
    counter_app.login.code.setText(code)
    qtbot.mouseClick(counter_app.login.findChild(QPushButton, "loginButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: counter_app.citizen is not None, timeout=10_000)


def test_a_wrong_password_clears_the_password_whatever_the_code(
    qtbot: QtBot, counter_app: CounterApp, enrolled: tuple[str, list[str]]
) -> None:
    secret, _codes = enrolled
    submit(qtbot, counter_app, password="wrong-password", code=now_code(secret))
    assert "用户名或密码错误" in counter_app.login.error.text()
    assert counter_app.login.password.text() == "" and counter_app.login.code.text() == ""


def test_wrong_codes_lock_the_account_and_say_until_when(
    qtbot: QtBot, counter_app: CounterApp, enrolled: tuple[str, list[str]]
) -> None:
    secret, _codes = enrolled
    for _ in range(5):
        code = now_code(secret)
        submit(qtbot, counter_app, code=f"{(int(code) + 7) % 1_000_000:06d}")
    assert re.search(r"锁定至 \d\d:\d\d", counter_app.login.error.text())
    submit(qtbot, counter_app, code=now_code(secret))
    assert "锁定至" in counter_app.login.error.text()
    assert counter_app.main_window is None


def test_a_recovery_code_signs_in_once(
    qtbot: QtBot, counter_app: CounterApp, enrolled: tuple[str, list[str]], rig: CounterRig
) -> None:
    _secret, codes = enrolled
    qtbot.mouseClick(counter_app.login.recovery_link, Qt.MouseButton.LeftButton)
    submit(qtbot, counter_app, code=codes[0])
    qtbot.waitUntil(lambda: counter_app.citizen is not None, timeout=10_000)
    assert counter_app.login.session is not None
    assert any("还剩 9 个" in w for w in counter_app.login.session.warnings)


def test_a_spent_recovery_code_is_refused_in_the_recovery_field(
    qtbot: QtBot, counter_app: CounterApp, enrolled: tuple[str, list[str]], rig: CounterRig
) -> None:
    _secret, codes = enrolled
    counter = rig.services.counter
    counter.login(DEMO_USER, DEMO_PASSWORD, recovery_code=codes[0])
    counter.logout()
    qtbot.mouseClick(counter_app.login.recovery_link, Qt.MouseButton.LeftButton)
    submit(qtbot, counter_app, code=codes[0])
    assert "备用码不对或已经用过" in counter_app.login.error.text()
    assert counter_app.login.recovery_mode and counter_app.login.password.text() == DEMO_PASSWORD


def test_offline_the_dialog_signs_in_with_password_and_code(
    qtbot: QtBot, counter_app: CounterApp, enrolled: tuple[str, list[str]], rig: CounterRig
) -> None:
    secret, codes = enrolled
    counter = rig.services.counter
    # An online sign-in leaves the sealed secret; a recovery code spends no time-step.
    counter.login(DEMO_USER, DEMO_PASSWORD, recovery_code=codes[0])
    counter.logout()
    rig.server.stop()
    submit(qtbot, counter_app)
    assert "6 位动态口令" in counter_app.login.error.text()
    qtbot.mouseClick(counter_app.login.recovery_link, Qt.MouseButton.LeftButton)
    submit(qtbot, counter_app, code=codes[1])
    assert "备用码只能在联网时使用" in counter_app.login.error.text()
    qtbot.mouseClick(counter_app.login.recovery_link, Qt.MouseButton.LeftButton)
    submit(qtbot, counter_app, code=now_code(secret))
    qtbot.waitUntil(lambda: counter_app.citizen is not None, timeout=10_000)
    assert counter_app.login.session is not None and not counter_app.login.session.online
