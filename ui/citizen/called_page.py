"""A call (叫号): the number and the window, as large as the screen allows."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from hallclient.i18n import N_
from ui.citizen.page import CitizenPage, label

NOW_CALLING = N_("现在叫号")
COME_TO_WINDOW = N_("请到 {window} 号窗口办理")


class CalledPage(CitizenPage):
    def __init__(self, window_no: int, parent: QWidget | None = None) -> None:
        super().__init__("calledPage", parent)
        self.window_no = window_no
        self.ticket_no = ""
        self.please = label("citizenCalledLine")
        self.number = label("citizenCalledNumber", wrap=False)
        self.where = label("citizenCalledLine")
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.please)
        layout.addWidget(self.number)
        layout.addWidget(self.where)
        layout.addStretch(1)

    def show_call(self, ticket_no: str) -> None:
        self.ticket_no = ticket_no
        self._retranslate()

    def text(self) -> str:
        """The whole call as one line (tests, logs)."""
        return f"{self.please.text()} {self.number.text()} {self.where.text()}"

    def _retranslate(self) -> None:
        self.please.setText(self.t(NOW_CALLING))
        self.number.setText(self.ticket_no)
        self.where.setText(self.t(COME_TO_WINDOW).format(window=self.window_no))
