"""超时预警 and 补正预警: this window's cases near or past their promise, and corrections not back."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
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

from hallclient.counter import OverdueEntry
from hallclient.i18n import N_, _
from hallclient.masking import mask_name

KINDS = {
    "overdue": (N_("已超期"), "#b91c1c"),
    "due_soon": (N_("临近承诺日期"), "#b45309"),
    "correction_late": (N_("补正逾期未交"), "#b91c1c"),
    "correction_open": (N_("待补正"), "#1d4ed8"),
}


class OverduePanel(QWidget):
    refresh_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overduePanel")
        self.summary = QLabel()
        self.summary.setObjectName("overdueSummary")
        refresh = QPushButton(_("刷新"))
        refresh.clicked.connect(self.refresh_requested)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("overdueTable")
        self.table.setHorizontalHeaderLabels(
            [_("预警"), _("办件编号"), _("事项"), _("申请人"), _("日期"), _("进度")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        for col in (0, 1, 3, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(refresh)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def set_entries(self, entries: list[OverdueEntry]) -> None:
        self.table.setRowCount(len(entries))
        for row, e in enumerate(entries):
            label, color = KINDS[e.kind]
            when = e.date.isoformat() if e.date else _("未设期限")
            if e.working_days_left is not None and e.working_days_left >= 0 and e.kind != "correction_late":
                when += _("（还剩 {n} 个工作日）").format(n=e.working_days_left)
            elif e.working_days_left is not None and e.working_days_left < 0:
                when += _("（超过 {n} 个工作日）").format(n=-e.working_days_left)
            cells = [_(label), e.case_no, e.item_name, mask_name(e.applicant_name), when, e.stage]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if col == 0:
                    item.setForeground(QBrush(QColor(color)))
                self.table.setItem(row, col, item)
        late = sum(e.kind in ("overdue", "correction_late") for e in entries)
        self.summary.setText(
            _("共 {n} 条预警，其中已超期 {late} 条").format(n=len(entries), late=late)
            if entries
            else _("没有预警")
        )
