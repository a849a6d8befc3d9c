"""超时预警 and 补正预警 of the whole hall, as of today (the applicant's name masked by the server)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.i18n import N_, _

KINDS: dict[wire.WarningKind, tuple[str, str]] = {
    wire.WarningKind.OVERDUE: (N_("已超期"), "#b91c1c"),
    wire.WarningKind.DUE_SOON: (N_("临近承诺日期"), "#b45309"),
    wire.WarningKind.CORRECTION_LATE: (N_("补正逾期未交"), "#b91c1c"),
    wire.WarningKind.CORRECTION_OPEN: (N_("待补正"), "#1d4ed8"),
}


def warning_table(name: str, date_header: str) -> QTableWidget:
    headers = [
        _("预警"),
        _("办件编号"),
        _("窗口"),
        _("工作人员"),
        _("事项"),
        _("申请人"),
        date_header,
        _("工作日"),
    ]
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
    return table


def fill(table: QTableWidget, warnings: list[wire.CaseWarning]) -> None:
    table.setRowCount(len(warnings))
    for row, w in enumerate(warnings):
        label, color = KINDS[w.kind]
        if w.working_days_left is None:
            days = "—"
        elif w.working_days_left < 0:
            days = _("超过 {n} 天").format(n=-w.working_days_left)
        else:
            days = _("还剩 {n} 天").format(n=w.working_days_left)
        cells = [
            _(label),
            w.case_no,
            str(w.window_no),
            w.clerk_name,
            w.item_name or w.item_code,
            w.applicant,
            w.date.isoformat() if w.date else _("未设期限"),
            days,
        ]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if col == 0:
                item.setForeground(QBrush(QColor(color)))
            if col in (2, 7):
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            table.setItem(row, col, item)
    table.resizeColumnsToContents()
    table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)


class WarningsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("warningsPanel")
        self.overdue_title = QLabel()
        self.overdue_title.setObjectName("panelTitle")
        self.corrections_title = QLabel()
        self.corrections_title.setObjectName("panelTitle")
        self.overdue = warning_table("overdueTable", _("承诺日期"))
        self.corrections = warning_table("correctionsTable", _("补正期限"))
        top, bottom = QWidget(), QWidget()
        tl, bl = QVBoxLayout(top), QVBoxLayout(bottom)
        tl.addWidget(self.overdue_title)
        tl.addWidget(self.overdue, 1)
        bl.addWidget(self.corrections_title)
        bl.addWidget(self.corrections, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        lay = QVBoxLayout(self)
        lay.addWidget(split)

    def show_warnings(self, overdue: wire.WarningsResponse, corrections: wire.WarningsResponse) -> None:
        late = sum(w.kind is wire.WarningKind.OVERDUE for w in overdue.warnings)
        self.overdue_title.setText(
            _("超时预警：{n} 件，其中已超期 {late} 件（截至 {day}）").format(
                n=len(overdue.warnings), late=late, day=overdue.as_of.isoformat()
            )
        )
        late = sum(w.kind is wire.WarningKind.CORRECTION_LATE for w in corrections.warnings)
        self.corrections_title.setText(
            _("补正预警：{n} 件未返回，其中逾期 {late} 件").format(n=len(corrections.warnings), late=late)
        )
        fill(self.overdue, overdue.warnings)
        fill(self.corrections, corrections.warnings)
