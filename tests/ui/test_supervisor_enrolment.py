"""The admin's 账号与动态口令 tab, driven with pytest-qt against a live hallserver.

The admin binds clerk2's authenticator from the supervisor window; the dialog's QR code
is scanned back (zbarimg) to the URI the server answered, the ten recovery codes are on
screen, the saved PNG is private and scans too, and clerk2 then signs in with a code of
the secret and with a recovery code. Closing the dialog wipes it. A supervisor who is
not the admin has no such tab. The dialog is saved as a PNG (HALL_SHOTS=DIR keeps it).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.live_server import LiveServer
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hallclient import wire
from hallclient.api import PlatformClient, PlatformError
from hallclient.counter import ClerkSession
from hallclient.qr import qr_matrix
from hallserver import totp
from hallserver.cli import main as hallserver_cli
from hallserver.seed import DEMO_PASSWORD
from ui.gui import make_qt_app
from ui.supervisor.accounts_panel import AccountsPanel
from ui.supervisor.enrolment_dialog import QUIET_ZONE, EnrolmentDialog
from ui.supervisor.supervisor_window import SupervisorWindow
from ui.tasks import TaskRunner

pytestmark = pytest.mark.gui
PASSWORD = "admin-pass-2026"
WindowFactory = Callable[[str], SupervisorWindow]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("HALL_SHOTS", tmp_path / "shots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def open_window(
    qtbot: QtBot, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WindowFactory]:
    """The supervisor window of a new account ``boss`` with the given role."""
    make_qt_app()
    opened: list[tuple[SupervisorWindow, TaskRunner]] = []

    def make(role: str) -> SupervisorWindow:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        args = ["clerk", "add", "--db", f"sqlite:///{live_server.db_path}", "--hall", "DEMO"]
        args += ["--username", "boss", "--name", "周主任", "--staff-no", "ZW-0001"]
        args += ["--role", role, "--password-stdin"]
        assert hallserver_cli(args) == 0
        api = PlatformClient(live_server.url, timeout_s=10)
        login = api.login(
            wire.LoginRequest(
                hall_code="DEMO", window_no=3, username="boss", password=PASSWORD, device_id="ADMIN-PC"
            )
        )
        runner = TaskRunner()
        session = ClerkSession(clerk=login.clerk, hall_name=login.hall_name, online=True)
        w = SupervisorWindow(api, runner, session)
        opened.append((w, runner))
        w.show()
        qtbot.waitExposed(w)
        qtbot.waitUntil(lambda: w.snapshot is not None and not w.loading, timeout=20_000)
        return w

    yield make
    for w, runner in opened:
        w.close()
        runner.shutdown()


def zbar(png: Path) -> list[str]:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg (zbar-tools) is not installed")
    out = subprocess.run(
        [zbarimg, "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
        check=False,
        capture_output=True,
        text=True,
    )
    return out.stdout.splitlines()


def drawn_matrix(dialog: EnrolmentDialog) -> list[list[bool]]:
    """The modules as painted on screen, read back from the widget's pixels."""
    image = dialog.qr.grab().toImage()
    side = min(image.width(), image.height())
    left = (image.width() - side) // 2
    n = len(dialog.qr.matrix)
    module = side // (n + 2 * QUIET_ZONE)
    x0 = left + (side - module * (n + 2 * QUIET_ZONE)) // 2 + QUIET_ZONE * module
    y0 = (side - module * (n + 2 * QUIET_ZONE)) // 2 + QUIET_ZONE * module
    ratio = image.devicePixelRatio()
    return [
        [
            image.pixelColor(
                int((x0 + c * module + module // 2) * ratio), int((y0 + r * module + module // 2) * ratio)
            ).lightness()
            < 128
            for c in range(n)
        ]
        for r in range(n)
    ]


def row_of(panel: AccountsPanel, staff_no: str) -> int:
    for row in range(panel.table.rowCount()):
        if panel.table.item(row, 1).text() == staff_no:
            return row
    raise AssertionError(staff_no)


def enrol_from_tab(qtbot: QtBot, w: SupervisorWindow, staff_no: str) -> EnrolmentDialog:
    panel = w.accounts
    assert panel is not None
    before = w.enrolment_dialog
    panel.table.selectRow(row_of(panel, staff_no))
    qtbot.mouseClick(panel.enrol_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: w.enrolment_dialog is not before and w.enrolment_dialog is not None, timeout=20_000
    )
    dialog = w.enrolment_dialog
    assert isinstance(dialog, EnrolmentDialog)
    qtbot.waitExposed(dialog)
    return dialog


def test_admin_binds_clerk2s_authenticator_from_the_tab(
    qtbot: QtBot, open_window: WindowFactory, live_server: LiveServer, shots: Path, tmp_path: Path
) -> None:
    w = open_window("admin")
    panel = w.accounts
    assert panel is not None
    tab = w.tabs.indexOf(panel)
    assert tab >= 0 and w.tabs.tabText(tab) == "账号与动态口令"
    w.tabs.setCurrentIndex(tab)
    staff_nos = {panel.table.item(r, 1).text() for r in range(panel.table.rowCount())}
    assert {"ZW-0107", "ZW-0112", "ZW-0123", "ZW-0001"} <= staff_nos
    row = row_of(panel, "ZW-0112")
    assert panel.table.item(row, 0).text() == "李建国"
    assert panel.table.item(row, 3).text() == "未绑定"
    assert not panel.enrol_button.isEnabled()  # nothing chosen yet

    dialog = enrol_from_tab(qtbot, w, "ZW-0112")
    enrolment = dialog.enrolment
    assert enrolment is not None and not enrolment.replaced
    assert "clerk2@DEMO" in enrolment.uri and f"secret={enrolment.secret}" in enrolment.uri
    # The QR code on screen is the URI's, read back from the pixels and scanned.
    assert dialog.qr.matrix == qr_matrix(enrolment.uri)
    assert drawn_matrix(dialog) == qr_matrix(enrolment.uri)
    grabbed = tmp_path / "qr-grab.png"
    assert dialog.qr.grab().save(str(grabbed))
    assert zbar(grabbed) == [enrolment.uri]
    # The secret grouped by four for typing, the ten codes, the once-only warning.
    secret_text = dialog.secret.text()
    assert secret_text.replace(" ", "") == enrolment.secret
    assert all(len(g) == 4 for g in secret_text.split(" "))
    shown = [re.sub(r"^\s*\d+\.\s*", "", label.text()) for label in dialog.code_labels]
    assert shown == enrolment.recovery_codes and len(shown) == 10
    assert "只显示这一次" in dialog.findChild(type(dialog.secret), "enrolmentWarning").text()
    qtbot.wait(100)
    assert dialog.grab().save(str(shots / "enrolment_dialog.png"))

    # The PNG: private, and it scans to the same URI.
    png = tmp_path / "saved" / "clerk2.png"
    dialog.ask_png_path = lambda suggested: png
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.saved == png and png.stat().st_mode & 0o777 == 0o600
    assert zbar(png) == [enrolment.uri]

    # The list now says clerk2 has a second factor; the button offers to re-bind.
    qtbot.waitUntil(lambda: panel.table.item(row_of(panel, "ZW-0112"), 3).text().startswith("已绑定"))
    day = enrolment.enrolled_at.astimezone().date().isoformat()
    assert panel.table.item(row_of(panel, "ZW-0112"), 3).text() == f"已绑定（{day}）"
    panel.table.selectRow(row_of(panel, "ZW-0112"))
    assert panel.enrol_button.text() == "重新绑定"
    assert w.grab().save(str(shots / "accounts_tab.png"))

    # Closing wipes the secret, the URI and the codes from the dialog.
    secret, codes, uri = enrolment.secret, list(enrolment.recovery_codes), enrolment.uri
    dialog.close()
    assert dialog.enrolment is None and dialog.qr.matrix == [] and dialog.secret.text() == ""
    assert all(label.text() == "" for label in dialog.code_labels)

    # clerk2 signs in with a code of the secret, then once with a recovery code.
    clerk = PlatformClient(live_server.url, timeout_s=10)

    def sign_in(**factor: str) -> wire.LoginResponse:
        return clerk.login(
            wire.LoginRequest(
                hall_code="DEMO",
                window_no=2,
                username="clerk2",
                password=DEMO_PASSWORD,
                device_id="PC-02",
                **factor,
            )
        )

    with pytest.raises(PlatformError) as needs_code:
        sign_in()
    assert needs_code.value.code == "totp_required"
    assert sign_in(totp_code=totp.code_at(secret, dt.datetime.now(dt.UTC))).second_factor
    clerk.logout()
    assert sign_in(recovery_code=codes[0]).recovery_codes_left == 9
    clerk.logout()
    with pytest.raises(PlatformError) as spent:
        sign_in(recovery_code=codes[0])
    assert spent.value.code == "recovery_code_invalid"

    # Re-binding is confirmed first; declined, nothing happens.
    asked: list[str] = []

    def decline(member: wire.StaffMember) -> bool:
        asked.append(member.staff_no)
        return False

    panel.confirm_reset = decline
    qtbot.mouseClick(panel.enrol_button, Qt.MouseButton.LeftButton)
    assert asked == ["ZW-0112"] and w.enrolment_dialog is dialog
    panel.confirm_reset = lambda member: True
    again = enrol_from_tab(qtbot, w, "ZW-0112")
    assert again.enrolment is not None and again.enrolment.replaced
    assert again.enrolment.secret != secret and again.enrolment.uri != uri
    assert "重新绑定" in again.windowTitle() or any(
        "旧手机" in label.text() for label in again.findChildren(type(again.secret))
    )
    with pytest.raises(PlatformError) as voided:
        sign_in(recovery_code=codes[1])
    assert voided.value.code == "recovery_code_invalid"
    w.close()
    assert again.enrolment is None  # closing the window closes and wipes the dialog


def test_a_supervisor_who_is_not_the_admin_has_no_accounts_tab(
    open_window: WindowFactory,
) -> None:
    w = open_window("supervisor")
    assert w.accounts is None
    titles = [w.tabs.tabText(i) for i in range(w.tabs.count())]
    assert not any("动态口令" in t for t in titles) and len(titles) == 4
    assert w.findChild(AccountsPanel) is None
