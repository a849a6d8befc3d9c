"""账号与动态口令: the hall's accounts and who has a second factor; the admin binds or re-binds one.

Only the hall's admin sees this tab. Re-binding voids the clerk's phone and paper
recovery codes at once, so it is confirmed first. The panel only emits what was
asked for; the window calls the server off the GUI thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.i18n import N_, _

ROLE_NAMES: dict[str, str] = {
    "clerk": N_("窗口工作人员"),
    "supervisor": N_("大厅负责人"),
    "admin": N_("管理员"),
    "department": N_("部门审批人员"),
}


def role_name(role: str) -> str:
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def second_factor_text(enrolled_at: dt.datetime | None) -> str:
    if enrolled_at is None:
        return _("未绑定")
    return _("已绑定（{date}）").format(date=enrolled_at.astimezone().strftime("%Y-%m-%d"))


def confirm_reset(parent: QWidget, member: wire.StaffMember) -> bool:
    answer = QMessageBox.question(
        parent,
        _("重新绑定动态口令"),
        _(
            "重新绑定后，{name} 手机上原来的动态口令和原来的备用码立即作废，"
            "须当场用手机扫描新的二维码。确定重新绑定吗？"
        ).format(name=member.name),
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class AccountsPanel(QWidget):
    enrol_requested = Signal(int, bool)  # clerk id, reset

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("accountsPanel")
        self.staff: list[wire.StaffMember] = []
        # Replaceable by tests: asked before a re-binding voids the clerk's phone and codes.
        self.confirm_reset: Callable[[wire.StaffMember], bool] = lambda m: confirm_reset(self, m)

        self.summary = QLabel()
        self.summary.setObjectName("panelTitle")
        self.enrol_button = QPushButton(_("绑定动态口令"))
        self.enrol_button.setObjectName("enrolButton")
        self.enrol_button.setEnabled(False)
        self.enrol_button.clicked.connect(self._enrol)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.enrol_button)

        headers = [_("姓名"), _("工号"), _("角色"), _("动态口令")]
        self.table = QTableWidget(0, len(headers))
        self.table.setObjectName("accountsTable")
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self._enrol())

        note = QLabel(
            _(
                "动态口令须由本人当场用手机身份验证器扫码绑定；备用码只显示一次，"
                "请打印或抄下交本人保管。手机丢失或更换时选择“重新绑定”。"
            )
        )
        note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(note)

    def show_staff(self, staff: list[wire.StaffMember]) -> None:
        selected = self.selected()
        self.staff = list(staff)
        self.table.setRowCount(len(self.staff))
        for row, m in enumerate(self.staff):
            cells = [m.name, m.staff_no, role_name(m.role), second_factor_text(m.totp_enrolled_at)]
            if m.disabled:
                cells[0] = _("{name}（已停用）").format(name=m.name)
            for col, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, m.id)
                if col == 3:
                    item.setForeground(QBrush(QColor("#15803d" if m.totp_enrolled_at else "#b91c1c")))
                self.table.setItem(row, col, item)
        enrolled = sum(m.totp_enrolled_at is not None for m in self.staff)
        self.summary.setText(_("共 {n} 个账号，{k} 个已绑定动态口令").format(n=len(self.staff), k=enrolled))
        if selected is not None:
            self.select(selected.id)
        self._selection_changed()

    def selected(self) -> wire.StaffMember | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.staff):
            return None
        return self.staff[rows[0].row()]

    def select(self, clerk_id: int) -> None:
        for row, m in enumerate(self.staff):
            if m.id == clerk_id:
                self.table.selectRow(row)
                return

    def _selection_changed(self) -> None:
        m = self.selected()
        self.enrol_button.setEnabled(m is not None)
        enrolled = m is not None and m.totp_enrolled_at is not None
        self.enrol_button.setText(_("重新绑定") if enrolled else _("绑定动态口令"))

    def _enrol(self) -> None:
        m = self.selected()
        if m is None:
            return
        reset = m.totp_enrolled_at is not None
        if reset and not self.confirm_reset(m):
            return
        self.enrol_requested.emit(m.id, reset)
