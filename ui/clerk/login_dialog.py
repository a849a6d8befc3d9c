"""The clerk's sign-in dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from hallclient.counter import ClerkSession, Counter, CounterError
from hallclient.i18n import _
from ui.tasks import TaskRunner


class LoginDialog(QDialog):
    def __init__(self, counter: Counter, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counter = counter
        self.runner = runner
        self.session: ClerkSession | None = None
        self.setWindowTitle(_("窗口工作人员登录"))
        self.setObjectName("loginDialog")
        self.setMinimumWidth(420)

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
        form = QFormLayout()
        form.addRow(_("用户名"), self.username)
        form.addRow(_("密码"), self.password)

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

    def submit(self) -> None:
        user, pw = self.username.text().strip(), self.password.text()
        if not user or not pw:
            self.error.setText(_("请输入用户名和密码"))
            return
        self.buttons.setEnabled(False)
        self.error.setText(_("正在登录…"))
        self.runner.run(lambda: self.counter.login(user, pw), self._done, self._failed)

    def _done(self, session: ClerkSession) -> None:
        self.session = session
        self.buttons.setEnabled(True)
        self.error.clear()
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        if isinstance(exc, CounterError):
            self.error.setText(str(exc))
        else:
            self.error.setText(_("登录失败：{error}").format(error=type(exc).__name__))
