"""Today's tickets as a Qt table model: a refresh swaps one list, no per-cell widgets are built."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from hallclient.counter import TICKET_STATE_LABELS, QueueRow
from hallclient.i18n import _
from hallclient.wire import Ticket, TicketState

STATE_COLORS = {
    TicketState.WAITING: "#1f2937",
    TicketState.CALLED: "#b45309",
    TicketState.SERVING: "#1d4ed8",
    TicketState.PARKED: "#7c3aed",
    TicketState.TRANSFERRED: "#0f766e",
    TicketState.DONE: "#6b7280",
    TicketState.NO_SHOW: "#9ca3af",
}
TICKET_ROLE = Qt.ItemDataRole.UserRole

Index = QModelIndex | QPersistentModelIndex


class QueueModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[QueueRow] = []
        self._headers = [_("号码"), _("预约时段"), _("事项"), _("状态")]
        self._brushes = {state: QBrush(QColor(color)) for state, color in STATE_COLORS.items()}

    def set_rows(self, rows: list[QueueRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's API)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008 (Qt's API)
        return 0 if parent.isValid() else len(self._headers)

    def headerData(  # noqa: N802 (Qt's name)
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.rows[index.row()]
        t = row.ticket
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, index.column())
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._brushes.get(t.state)
        if role == TICKET_ROLE:
            return t
        if role == Qt.ItemDataRole.ToolTipRole and t.note:
            return _("转移说明：{note}").format(note=t.note)
        return None

    @staticmethod
    def _cell(row: QueueRow, column: int) -> str:
        t = row.ticket
        if column == 0:
            return t.ticket_no
        if column == 1:
            return row.slot or _("现场取号")
        if column == 2:
            return row.item_name
        state = _(TICKET_STATE_LABELS[t.state])
        if t.state is TicketState.TRANSFERRED:
            where = _("{window}号窗").format(window=t.window_no) if t.window_no else _("任意窗口")
            return _("{state}→{where}").format(state=state, where=where)
        if t.window_no and t.state is not TicketState.WAITING:
            state = _("{state}（{window}号窗）").format(state=state, window=t.window_no)
        if t.recalls:
            state += _(" 重呼{n}次").format(n=t.recalls)
        return state

    def ticket_at(self, row: int) -> Ticket | None:
        return self.rows[row].ticket if 0 <= row < len(self.rows) else None
