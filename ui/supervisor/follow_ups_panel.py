"""整改: the follow-ups bad ratings opened; assign one, write its result, close it.

The panel only emits what the supervisor asked for; the window sends it to the
server off the GUI thread and hands back the updated follow-up.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.i18n import N_, _
from ui.supervisor.fmt import level_name

STATUS_FILTERS: list[tuple[wire.FollowUpFilter, str]] = [
    (wire.FollowUpFilter.OPEN, N_("未关闭")),
    (wire.FollowUpFilter.OVERDUE, N_("已逾期")),
    (wire.FollowUpFilter.CLOSED, N_("已关闭")),
    (wire.FollowUpFilter.ALL, N_("全部")),
]
ACTIONS = {"assign": N_("指派"), "result": N_("填写整改结果"), "close": N_("关闭")}


def status_text(f: wire.FollowUpInfo) -> tuple[str, str]:
    if f.status == "closed":
        return _("已关闭"), "#15803d"
    if f.overdue:
        return _("已逾期"), "#b91c1c"
    if f.assignee_id is not None:
        return _("整改中"), "#1d4ed8"
    return _("待指派"), "#b45309"


class FollowUpsPanel(QWidget):
    filter_changed = Signal()
    assign_requested = Signal(str, int, str)  # case_no, assignee id, note
    result_requested = Signal(str, str)  # case_no, result
    close_requested = Signal(str, str)  # case_no, note

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("followUpsPanel")
        self.items: list[wire.FollowUpInfo] = []
        self.status = QComboBox()
        self.status.setObjectName("followUpStatus")
        for value, label in STATUS_FILTERS:
            self.status.addItem(_(label), value)
        self.status.currentIndexChanged.connect(lambda _i: self.filter_changed.emit())
        self.summary = QLabel()
        self.summary.setObjectName("panelTitle")
        top = QHBoxLayout()
        top.addWidget(QLabel(_("状态：")))
        top.addWidget(self.status)
        top.addWidget(self.summary, 1)

        headers = [_("状态"), _("办件编号"), _("窗口"), _("服务人员"), _("事项"), _("评价"), _("原因")]
        headers += [_("评价时间"), _("整改期限"), _("负责人")]
        self.table = QTableWidget(0, len(headers))
        self.table.setObjectName("followUpsTable")
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.itemSelectionChanged.connect(self._selected)

        self.detail = QLabel()
        self.detail.setObjectName("followUpDetail")
        self.detail.setWordWrap(True)
        self.assignee = QComboBox()
        self.assignee.setObjectName("assigneeCombo")
        self.assign_note = QLineEdit()
        self.assign_note.setPlaceholderText(_("交办说明（可选）"))
        self.assign_button = QPushButton(_("指派"))
        self.assign_button.setObjectName("assignButton")
        self.assign_button.clicked.connect(self._assign)
        assign_row = QHBoxLayout()
        assign_row.addWidget(self.assignee, 1)
        assign_row.addWidget(self.assign_note, 2)
        assign_row.addWidget(self.assign_button)
        self.result = QPlainTextEdit()
        self.result.setObjectName("resultEdit")
        self.result.setPlaceholderText(_("整改结果：做了什么、群众是否认可"))
        self.result.setMaximumHeight(90)
        self.result_button = QPushButton(_("保存整改结果"))
        self.result_button.setObjectName("resultButton")
        self.result_button.clicked.connect(self._result)
        self.close_button = QPushButton(_("关闭任务"))
        self.close_button.setObjectName("closeFollowUpButton")
        self.close_button.clicked.connect(self._close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.result_button)
        buttons.addWidget(self.close_button)
        self.history = QListWidget()
        self.history.setObjectName("followUpHistory")
        self.history.setMaximumHeight(110)

        box = QGroupBox(_("整改任务"))
        form = QFormLayout(box)
        form.addRow(self.detail)
        form.addRow(_("负责人："), assign_row)
        form.addRow(_("整改结果："), self.result)
        form.addRow(buttons)
        form.addRow(_("处理记录："), self.history)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self._show_detail(None)

    def status_filter(self) -> wire.FollowUpFilter:
        # Qt hands a StrEnum back as its plain string.
        return wire.FollowUpFilter(self.status.currentData() or wire.FollowUpFilter.OPEN)

    def set_staff(self, staff: list[wire.StaffMember]) -> None:
        self.assignee.clear()
        for m in staff:
            if not m.disabled:
                self.assignee.addItem(f"{m.name}（{m.staff_no}）", m.id)

    def show_follow_ups(self, response: wire.FollowUpsResponse) -> None:
        chosen = self.current()
        self.items = response.follow_ups
        late = sum(f.overdue for f in self.items)
        self.summary.setText(_("共 {n} 件，其中逾期 {late} 件").format(n=len(self.items), late=late))
        self.table.setRowCount(len(self.items))
        for row, f in enumerate(self.items):
            text, color = status_text(f)
            cells = [
                text,
                f.case_no,
                str(f.window_no),
                f.clerk_name,
                f.item_name or f.item_code,
                level_name(f.level.value),
                "；".join(_(r) for r in f.reasons),
                f.rated_at.astimezone().strftime("%Y-%m-%d %H:%M"),
                f.due_date.isoformat() if f.due_date else "—",
                f.assignee_name,
            ]
            for col, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if col == 0:
                    item.setForeground(QBrush(QColor(color)))
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(6, QHeaderView.ResizeMode.Stretch)
        again = next((i for i, f in enumerate(self.items) if chosen and f.case_no == chosen.case_no), None)
        if again is not None:
            self.table.selectRow(again)
        else:
            self.table.clearSelection()
            self._show_detail(None)

    def select_case(self, case_no: str) -> bool:
        for row, f in enumerate(self.items):
            if f.case_no == case_no:
                self.table.selectRow(row)
                return True
        return False

    def current(self) -> wire.FollowUpInfo | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.items):
            return None
        return self.items[rows[0].row()]

    def updated(self, f: wire.FollowUpInfo) -> None:
        """One follow-up changed on the server: show its new state at once."""
        for i, old in enumerate(self.items):
            if old.case_no == f.case_no:
                self.items[i] = f
        if (c := self.current()) is not None and c.case_no == f.case_no:
            self._show_detail(f)

    def _selected(self) -> None:
        self._show_detail(self.current())

    def _show_detail(self, f: wire.FollowUpInfo | None) -> None:
        open_ = f is not None and f.status != "closed"
        for w in (self.assignee, self.assign_note, self.assign_button, self.result, self.result_button):
            w.setEnabled(open_)
        self.close_button.setEnabled(open_ and bool(f and f.result.strip()))
        self.history.clear()
        if f is None:
            self.detail.setText(_("选择一条整改任务查看和处理。"))
            self.result.setPlainText("")
            return
        reasons = "；".join(_(r) for r in f.reasons) or _("未选原因")
        comment = _("；留言：{text}").format(text=f.comment) if f.comment else ""
        due = f.due_date.isoformat() if f.due_date else _("未设期限")
        self.detail.setText(
            _(
                "{case}（{window} 号窗口，{clerk}）评价“{level}”，原因：{reasons}{comment}。整改期限 {due}。"
            ).format(
                case=f.case_no,
                window=f.window_no,
                clerk=f.clerk_name or _("未知"),
                level=level_name(f.level.value),
                reasons=reasons,
                comment=comment,
                due=due,
            )
        )
        if f.assignee_id is not None:
            index = self.assignee.findData(f.assignee_id)
            if index >= 0:
                self.assignee.setCurrentIndex(index)
        self.result.setPlainText(f.result)
        for step in f.history:
            when = step.at.astimezone().strftime("%m-%d %H:%M")
            who = f" → {step.assignee_name}" if step.assignee_name else ""
            text = f"：{step.text}" if step.text else ""
            self.history.addItem(
                f"{when} {step.by_name} {_(ACTIONS.get(step.action, step.action))}{who}{text}"
            )

    def _assign(self) -> None:
        f = self.current()
        assignee = self.assignee.currentData()
        if f is not None and isinstance(assignee, int):
            self.assign_requested.emit(f.case_no, assignee, self.assign_note.text().strip())
            self.assign_note.clear()

    def _result(self) -> None:
        f = self.current()
        text = self.result.toPlainText().strip()
        if f is not None and text:
            self.result_requested.emit(f.case_no, text)

    def _close(self) -> None:
        f = self.current()
        if f is not None:
            self.close_requested.emit(f.case_no, "")
