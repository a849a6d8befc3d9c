"""The clerk's sign-in dialog: user name, password and, where the hall requires it, the second factor.

The code field takes the 6 digits the clerk's phone authenticator shows; a link
switches it to a one-time recovery code (备用码) for a clerk without the phone.
Each refusal says what was wrong (password, code, a code already used, locked
until when) and puts the cursor where the next try starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hallclient.i18n import _
from ui.tasks import TaskRunner

if TYPE_CHECKING:
    from hallclient.counter import ClerkSession


class SignInDesk(Protocol):
    """What the dialog needs of the counter: where it is, and the sign-in itself.

    The counter's module pulls in the local store (SQLAlchemy); at start-up the dialog is shown
    before that is loaded, with a stand-in whose ``login`` waits for the real counter.
    """

    @property
    def hall_code(self) -> str: ...

    @property
    def window_no(self) -> int: ...

    def login(
        self, username: str, password: str, *, totp_code: str | None = None, recovery_code: str | None = None
    ) -> ClerkSession: ...


class LoginDialog(QDialog):
    def __init__(self, counter: SignInDesk, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counter = counter
        self.runner = runner
        self.session: ClerkSession | None = None
        self.recovery_mode = False
        self.setWindowTitle(_("窗口工作人员登录"))
        self.setObjectName("loginDialog")
        self.setMinimumWidth(460)

        title = QLabel(_("政务服务窗口综合受理系统"))
        title.setObjectName("loginTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        where = QLabel(
            _("大厅 {hall} · {window} 号窗口").format(hall=counter.hall_code, window=counter.window_no)
        )
        where.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.code = QLineEdit()
        self.code.setObjectName("totpCode")
        self.code_label = QLabel()
        self.code_hint = QLabel()
        self.code_hint.setObjectName("totpHint")
        self.code_hint.setWordWrap(True)
        self.code_hint.setStyleSheet("color: #555;")
        self.recovery_link = QPushButton()
        self.recovery_link.setObjectName("recoveryLink")
        self.recovery_link.setFlat(True)
        self.recovery_link.setAutoDefault(False)
        self.recovery_link.setCursor(Qt.CursorShape.PointingHandCursor)
        # A link, not one more blue button beside 登录 (the app's QSS styles every QPushButton).
        self.recovery_link.setStyleSheet(
            "QPushButton#recoveryLink, QPushButton#recoveryLink:hover { background: transparent;"
            " border: none; padding: 2px 0; color: #1d4ed8; text-decoration: underline; text-align: left; }"
        )
        self.recovery_link.clicked.connect(lambda: self.use_recovery_code(not self.recovery_mode))
        self._digits = QRegularExpressionValidator(QRegularExpression(r"[0-9 ]{0,7}"), self)
        self._recovery = QRegularExpressionValidator(QRegularExpression(r"[0-9A-Za-z -]{0,32}"), self)
        form = QFormLayout()
        form.addRow(_("用户名"), self.username)
        form.addRow(_("密码"), self.password)
        form.addRow(self.code_label, self.code)
        form.addRow("", self.code_hint)
        form.addRow("", self.recovery_link)
        self.use_recovery_code(False)

        self.error = QLabel()
        self.error.setObjectName("loginError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(_("登录"))
        ok.setObjectName("loginButton")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("退出"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setTabOrder(self.username, self.password)
        self.setTabOrder(self.password, self.code)
        self.setTabOrder(self.code, ok)

    def use_recovery_code(self, on: bool) -> None:
        """Switch the second-factor field between the authenticator's code and a recovery code."""
        self.recovery_mode = on
        self.code.clear()
        if on:
            self.code_label.setText(_("备用码"))
            self.code.setValidator(self._recovery)
            self.code.setMaxLength(32)
            self.code.setPlaceholderText(_("例如 k7m2-9q4x-hc3d"))
            self.code_hint.setText(_("绑定动态口令时领到的一次性备用码，每个只能用一次，只能在联网时使用。"))
            self.recovery_link.setText(_("改用手机上的动态口令"))
        else:
            self.code_label.setText(_("动态口令"))
            self.code.setValidator(self._digits)
            self.code.setMaxLength(7)
            self.code.setPlaceholderText(_("手机身份验证器上的 6 位数字"))
            self.code_hint.setText(_("本大厅要求双因素登录时填写；未绑定动态口令的账号留空。"))
            self.recovery_link.setText(_("手机不在身边？用备用码登录"))
        if self.isVisible():
            self.code.setFocus()

    def submit(self) -> None:
        user, pw, code = self.username.text().strip(), self.password.text(), self.code.text().strip()
        if not user or not pw:
            self.error.setText(_("请输入用户名和密码"))
            return
        totp_code, recovery_code = (None, code) if self.recovery_mode else (code, None)
        self.buttons.setEnabled(False)
        self.error.setText(_("正在登录…"))
        self.runner.run(
            lambda: self.counter.login(user, pw, totp_code=totp_code, recovery_code=recovery_code),
            self._done,
            self._failed,
        )

    def _done(self, session: ClerkSession) -> None:
        self.session = session
        self.buttons.setEnabled(True)
        self.error.clear()
        self.code.clear()
        self.accept()

    def _failed(self, exc: Exception) -> None:
        # Loaded by the sign-in that just failed: no cost here, and none before the dialog shows.
        from hallclient.counter import CounterError
        from hallclient.sessions import RECOVERY, TOTP, refused_field

        self.buttons.setEnabled(True)
        field = refused_field(exc)
        # A code is good once: whatever went wrong, the next try needs the next one.
        self.code.clear()
        if field in (TOTP, RECOVERY):
            # The password was right: only the second factor is asked again.
            self.code.setFocus()
        else:
            self.password.clear()
            self.password.setFocus()
        if field == RECOVERY and not self.recovery_mode:
            self.use_recovery_code(True)
        if isinstance(exc, CounterError):
            self.error.setText(str(exc))
        else:
            self.error.setText(_("登录失败：{error}").format(error=type(exc).__name__))
        # Grow with the message: a refusal may take two or three lines.
        self.adjustSize()
