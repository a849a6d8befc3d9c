"""The items of the citizen's visit (一件事一次办): choose a bundle or add items, see each item's outcome.

The items are decided in the order listed (the bundle's order, items added here
after); the decision buttons of the case workspace act on the first item not yet
decided, shown highlighted. Each decided item shows its own case number and date.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.i18n import N_, _
from hallclient.visits import DecidedItem, Visit

DECISION_LABELS = {
    wire.Decision.ACCEPT: N_("已受理"),
    wire.Decision.CORRECT: N_("一次性告知补正"),
    wire.Decision.REJECT: N_("不予受理"),
    wire.Decision.COMPLETE: N_("当场办结"),
}
COL_NO, COL_ITEM, COL_DEPT, COL_STATE, COL_CASE = range(5)
NEXT_FILL = QColor("#fff7d6")


class VisitPanel(QGroupBox):
    bundle_chosen = Signal(str)  # bundle code
    item_added = Signal(str)  # item code
    item_removed = Signal(str)  # item code

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("本次办理事项（一件事一次办）"), parent)
        self.setObjectName("visitPanel")
        self.visit: Visit | None = None

        self.bundle_chooser = QComboBox()
        self.bundle_chooser.setObjectName("bundleChooser")
        self.bundle_button = QPushButton(_("按“一件事”办理"))
        self.bundle_button.setObjectName("bundleButton")
        self.bundle_button.clicked.connect(self._bundle)
        self.item_chooser = QComboBox()
        self.item_chooser.setObjectName("visitItemChooser")
        self.add_button = QPushButton(_("添加事项"))
        self.add_button.setObjectName("addItemButton")
        self.add_button.clicked.connect(self._add)
        self.remove_button = QPushButton(_("移除选中事项"))
        self.remove_button.setObjectName("removeItemButton")
        self.remove_button.clicked.connect(self._remove)

        self.table = QTableWidget(0, 5)
        self.table.setObjectName("visitItems")
        self.table.setHorizontalHeaderLabels(
            [_("顺序"), _("事项"), _("实施部门"), _("办理结果"), _("办件编号 / 日期")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.table.setMaximumHeight(170)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(COL_NO, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(COL_ITEM, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(COL_DEPT, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(COL_STATE, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(COL_CASE, QHeaderView.ResizeMode.ResizeToContents)
        self.summary = QLabel()
        self.summary.setObjectName("visitSummary")
        self.summary.setWordWrap(True)

        choose = QHBoxLayout()
        choose.addWidget(self.bundle_chooser, 2)
        choose.addWidget(self.bundle_button)
        choose.addSpacing(12)
        choose.addWidget(self.item_chooser, 3)
        choose.addWidget(self.add_button)
        choose.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.table)
        layout.addWidget(self.summary)
        self.set_bundles([])
        self.set_catalog([])
        self.show_visit(None)

    def set_bundles(self, bundles: list[wire.Bundle]) -> None:
        self.bundle_chooser.clear()
        self.bundle_chooser.addItem(_("选择“一件事”"), None)
        for b in bundles:
            self.bundle_chooser.addItem(_("{name}（{n} 项）").format(name=b.name, n=len(b.items)), b.code)
        self.bundle_button.setEnabled(bool(bundles))

    def set_catalog(self, items: list[wire.ServiceItem]) -> None:
        self.item_chooser.clear()
        self.item_chooser.addItem(_("再办一个事项…"), None)
        for item in items:
            self.item_chooser.addItem(item.name, item.code)

    def show_visit(self, visit: Visit | None) -> None:
        self.visit = visit
        # A bundle is chosen before the first decision; items can be added until the end.
        started = visit is not None and bool(visit.decided)
        self.bundle_chooser.setEnabled(not started)
        self.bundle_button.setEnabled(not started and self.bundle_chooser.count() > 1)
        self.remove_button.setEnabled(visit is not None and not visit.complete)
        items = list(visit.items) if visit is not None else []
        self.table.setRowCount(len(items))
        self.table.setVisible(visit is not None)
        nxt = visit.next_item if visit is not None else None
        for row, item in enumerate(items):
            assert visit is not None
            done = visit.decided_item(item.code)
            cells = [
                str(row + 1),
                item.name + (_("（即办件）") if item.instant else ""),
                item.department,
                _(DECISION_LABELS[done.decision])
                if done
                else (_("正在办理") if item is nxt else _("待办理")),
                self._case_text(done) if done else _("承诺 {n} 个工作日").format(n=item.promised_days),
            ]
            for col, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setData(Qt.ItemDataRole.UserRole, item.code)
                if item is nxt:
                    cell.setBackground(QBrush(NEXT_FILL))
                self.table.setItem(row, col, cell)
        if visit is None:
            self.summary.setText(_("多个事项一次办理：选择“一件事”，或添加事项；共用的材料只核验一次。"))
        elif nxt is None:
            self.summary.setText(
                _("{n} 个事项已全部作出决定，合并回执列出每个事项的办件编号和承诺办结日期。").format(
                    n=len(items)
                )
            )
        else:
            self.summary.setText(
                _("第 {k}/{n} 项：{item}。材料清单已合并，共用的材料只核验一次。").format(
                    k=visit.position(nxt.code), n=len(items), item=nxt.name
                )
            )

    @staticmethod
    def _case_text(done: DecidedItem) -> str:
        if done.decision is wire.Decision.ACCEPT and done.promised_date is not None:
            return f"{done.case_no} · {done.promised_date.isoformat()}"
        if done.decision is wire.Decision.CORRECT and done.correction_deadline is not None:
            return f"{done.case_no} · {done.correction_deadline.isoformat()}"
        return done.case_no

    def _bundle(self) -> None:
        code = self.bundle_chooser.currentData()
        if code is not None:
            self.bundle_chosen.emit(code)

    def _add(self) -> None:
        code = self.item_chooser.currentData()
        if code is not None:
            self.item_added.emit(code)
            self.item_chooser.setCurrentIndex(0)

    def _remove(self) -> None:
        row = self.table.currentRow()
        cell = self.table.item(row, COL_ITEM) if row >= 0 else None
        if cell is not None:
            self.item_removed.emit(cell.data(Qt.ItemDataRole.UserRole))
