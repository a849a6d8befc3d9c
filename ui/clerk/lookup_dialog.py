"""Find a citizen: booking code, resident ID number, name, or a scanned booking slip / ID card."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.counter import TICKET_STATE_LABELS, LookupHit
from hallclient.i18n import N_, _
from hallclient.masking import mask_id_number

BOOKING_STATUS = {
    wire.BookingStatus.BOOKED: N_("已预约"),
    wire.BookingStatus.CANCELLED: N_("已取消"),
    wire.BookingStatus.SERVED: N_("已办理"),
}
DECISION_LABELS = {
    wire.Decision.ACCEPT: N_("已受理"),
    wire.Decision.CORRECT: N_("已告知补正"),
    wire.Decision.REJECT: N_("不予受理"),
    wire.Decision.COMPLETE: N_("已办结"),
}


class LookupDialog(QDialog):
    search_requested = Signal(str)
    booking_chosen = Signal(object)  # wire.Booking
    case_chosen = Signal(str)  # case number, for 出件

    def __init__(self, names: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lookupDialog")
        self.setWindowTitle(_("查找群众"))
        self.setMinimumSize(760, 420)
        self.names = names
        self.hits: list[LookupHit] = []
        self.query = QLineEdit()
        self.query.setObjectName("lookupQuery")
        self.query.setPlaceholderText(_("预约号、身份证号或姓名；也可直接扫描预约单二维码或读身份证"))
        self.query.returnPressed.connect(self._search)
        search = QPushButton(_("查找"))
        search.setObjectName("lookupSearch")
        search.clicked.connect(self._search)
        search.setAutoDefault(False)  # Enter on a hit serves it; it must not search again
        self.message = QLabel()
        self.message.setObjectName("lookupMessage")
        self.message.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("lookupResults")
        self.table.setHorizontalHeaderLabels([_("类别"), _("编号"), _("申请人"), _("事项"), _("状态")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for col in (0, 1, 2, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.activated.connect(lambda index: self._choose(index.row()))
        self.open_button = QPushButton(_("办理所选 (Enter)"))
        self.open_button.setObjectName("lookupOpen")
        self.open_button.clicked.connect(lambda: self._choose(self.table.currentRow()))
        self.open_button.setAutoDefault(False)
        row = QHBoxLayout()
        row.addWidget(self.query, 1)
        row.addWidget(search)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignRight)

    def search(self, text: str) -> None:
        self.query.setText(text)
        self._search()

    def _search(self) -> None:
        self.message.setText(_("正在查找…"))
        self.search_requested.emit(self.query.text())

    def show_hits(self, hits: list[LookupHit]) -> None:
        self.hits = hits
        self.table.setRowCount(len(hits))
        for i, hit in enumerate(hits):
            for col, text in enumerate(self._cells(hit)):
                self.table.setItem(i, col, QTableWidgetItem(text))
        self.message.setText(_("找到 {n} 条").format(n=len(hits)) if hits else _("没有找到，请核对后重试"))
        if hits:
            self.table.setCurrentCell(0, 0)
            self.table.setFocus()

    def _cells(self, hit: LookupHit) -> list[str]:
        if hit.booking is not None:
            b = hit.booking
            state = _(BOOKING_STATUS[b.status])
            if hit.ticket is not None:
                state += f" · {hit.ticket.ticket_no} {_(TICKET_STATE_LABELS[hit.ticket.state])}"
            who = f"{b.applicant.name} {mask_id_number(b.applicant.id_number)}"
            return [
                _("预约 {date} {slot}").format(date=b.date.isoformat(), slot=b.slot),
                b.code,
                who,
                self.names.get(b.item_code, b.item_code),
                state,
            ]
        assert hit.case is not None
        c = hit.case
        state = _(DECISION_LABELS[c.decision])
        if c.decision is wire.Decision.ACCEPT:
            state += " · " + (_("结果已领取") if c.picked_up_at else _("待领取"))
        who = f"{c.applicant.name} {mask_id_number(c.applicant.id_number)}"
        return [
            _("办件 {date}").format(date=c.decided_at.date().isoformat()),
            c.case_no,
            who,
            self.names.get(c.item_code, c.item_code),
            state,
        ]

    def show_error(self, message: str) -> None:
        self.message.setText(message)

    def _choose(self, row: int) -> None:
        if not 0 <= row < len(self.hits):
            return
        hit = self.hits[row]
        if hit.booking is not None:
            self.booking_chosen.emit(hit.booking)
        elif hit.case is not None:
            self.case_chosen.emit(hit.case.case_no)
