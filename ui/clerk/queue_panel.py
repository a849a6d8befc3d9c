"""Today's queue: booked and walk-in tickets with their state, and the call button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient.counter import QueueRow
from hallclient.i18n import N_, _
from hallclient.wire import TicketState

STATE_LABELS = {
    TicketState.WAITING: N_("等候中"),
    TicketState.CALLED: N_("已叫号"),
    TicketState.SERVING: N_("办理中"),
    TicketState.PARKED: N_("挂起"),
    TicketState.NO_SHOW: N_("过号"),
    TicketState.TRANSFERRED: N_("已转移"),
    TicketState.DONE: N_("已办结"),
}
STATE_COLORS = {
    TicketState.WAITING: "#1f2937",
    TicketState.CALLED: "#b45309",
    TicketState.SERVING: "#1d4ed8",
    TicketState.DONE: "#6b7280",
    TicketState.NO_SHOW: "#9ca3af",
}


class QueuePanel(QWidget):
    call_next_requested = Signal()

    def __init__(self, window_no: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_no = window_no
        self.setObjectName("queuePanel")
        header = QLabel(_("今日排队"))
        header.setObjectName("panelTitle")
        self.counts = QLabel()
        self.counts.setObjectName("queueCounts")

        self.table = QTableWidget(0, 4)
        self.table.setObjectName("queueTable")
        self.table.setHorizontalHeaderLabels([_("号码"), _("预约时段"), _("事项"), _("状态")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)

        self.call_button = QPushButton(_("叫号 (F2)"))
        self.call_button.setObjectName("callNextButton")
        self.call_button.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.call_button.setMinimumHeight(44)
        self.call_button.clicked.connect(self.call_next_requested)

        top = QHBoxLayout()
        top.addWidget(header)
        top.addStretch(1)
        top.addWidget(self.counts)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.call_button)

    def set_rows(self, rows: list[QueueRow]) -> None:
        self.table.setRowCount(len(rows))
        waiting = 0
        for i, row in enumerate(rows):
            t = row.ticket
            waiting += t.state is TicketState.WAITING
            state = _(STATE_LABELS.get(t.state, t.state.value))
            if t.window_no and t.state is not TicketState.WAITING:
                state = _("{state}（{window}号窗）").format(state=state, window=t.window_no)
            cells = [t.ticket_no, row.slot or _("现场取号"), row.item_name, state]
            color = QBrush(QColor(STATE_COLORS.get(t.state, "#1f2937")))
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setForeground(color)
                if col == 0:
                    item.setData(Qt.ItemDataRole.UserRole, t.ticket_no)
                self.table.setItem(i, col, item)
        self.counts.setText(_("等候 {waiting} 人 / 共 {total} 号").format(waiting=waiting, total=len(rows)))

    def set_busy(self, busy: bool) -> None:
        self.call_button.setEnabled(not busy)
