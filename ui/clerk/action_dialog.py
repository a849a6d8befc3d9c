"""The shape every clerk dialog shares: fields, an inline error, and OK that waits for the core.

OK does not close the dialog: the action runs off the GUI thread, and the
dialog closes only when the core accepted it. A refusal is shown inside the
dialog, next to what must be fixed, and nothing is saved.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from hallclient.i18n import _


class ActionDialog(QDialog):
    submitted = Signal(object)  # the dialog's values, for the main window to act on

    def __init__(self, title: str, ok_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(520)
        self.body = QVBoxLayout()
        self.error = QLabel()
        self.error.setObjectName("dialogError")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setObjectName("dialogOk")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("取消"))
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.body)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def values(self) -> object:
        """The dialog's values; raise ValueError with a message to refuse them before submitting."""
        raise NotImplementedError

    def _submit(self) -> None:
        try:
            values = self.values()
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.error.clear()
        self.ok_button.setEnabled(False)
        self.submitted.emit(values)

    def show_error(self, message: str) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(message)

    def succeeded(self) -> None:
        self.ok_button.setEnabled(True)
        self.accept()
