"""The locked clerk window: nothing of the citizen shows, and only the clerk's password opens it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from hallclient.i18n import _


class LockPanel(QWidget):
    unlock_requested = Signal(str)  # the password typed

    def __init__(self, clerk_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockPanel")
        title = QLabel(_("窗口已锁定"))
        title.setObjectName("lockTitle")
        who = QLabel(_("{name} 的工作界面已锁定，输入登录密码解锁").format(name=clerk_name))
        who.setObjectName("lockWho")
        self.password = QLineEdit()
        self.password.setObjectName("unlockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(_("密码"))
        self.password.setMaximumWidth(320)
        self.password.returnPressed.connect(self._submit)
        self.button = QPushButton(_("解锁"))
        self.button.setObjectName("unlockButton")
        self.button.clicked.connect(self._submit)
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for w in (title, who, self.password, self.button, self.error):
            layout.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def reset(self) -> None:
        self.password.clear()
        self.error.clear()
        self.button.setEnabled(True)
        self.password.setFocus()

    def _submit(self) -> None:
        if not self.password.text():
            self.error.setText(_("请输入密码"))
            return
        self.button.setEnabled(False)
        self.unlock_requested.emit(self.password.text())

    def show_error(self, message: str) -> None:
        self.button.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.error.setText(message)
