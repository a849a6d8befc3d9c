"""Actions the server could not apply as they were: listed for the clerk until acknowledged.

A conflict or rejection is never dropped: the op stays in the store as unacknowledged
until the clerk clicks 已知悉 here. Reading and acknowledging go through the TaskRunner,
so the local database is never touched on the GUI thread.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from hallclient.i18n import N_, _
from hallclient.store import ConflictView, Store
from hallclient.wire import OpKind
from ui.tasks import TaskRunner

KIND_LABELS = {
    OpKind.TICKET_STATE.value: N_("叫号状态"),
    OpKind.CASE_DECIDED.value: N_("办件决定"),
    OpKind.RATING_GIVEN.value: N_("评价"),
    OpKind.DOCUMENT_PRINTED.value: N_("文书登记"),
}


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


def local_time(at: dt.datetime, today: dt.date | None = None) -> str:
    """HH:MM in local time; with the date in front when it is not today's."""
    local = at.astimezone() if at.tzinfo else at
    today = today or dt.date.today()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")


class ConflictRow(QFrame):
    """One unacknowledged conflict: time, kind, the server's words, and 已知悉."""

    acknowledge_requested = Signal(str)  # op_id

    def __init__(self, conflict: ConflictView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conflict = conflict
        self.setObjectName("conflictRow")
        when = QLabel(local_time(conflict.created_at))
        when.setObjectName("conflictTime")
        kind = QLabel(kind_label(conflict.kind))
        kind.setObjectName("conflictKind")
        self.detail = QLabel(conflict.detail or _("服务器未说明原因"))
        self.detail.setObjectName("conflictDetail")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.ack_button = QPushButton(_("已知悉"))
        self.ack_button.setObjectName("acknowledgeButton")
        self.ack_button.setMinimumHeight(40)
        self.ack_button.clicked.connect(lambda: self.acknowledge_requested.emit(conflict.op_id))

        head = QHBoxLayout()
        head.setSpacing(12)
        head.addWidget(when)
        head.addWidget(kind)
        head.addStretch(1)
        text = QVBoxLayout()
        text.setSpacing(4)
        text.addLayout(head)
        text.addWidget(self.detail)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(16)
        layout.addLayout(text, 1)
        layout.addWidget(self.ack_button, 0, Qt.AlignmentFlag.AlignVCenter)


class ConflictsDialog(QDialog):
    remaining_changed = Signal(int)  # unacknowledged conflicts left after a reload

    def __init__(self, store: Store, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.runner = runner
        self.rows: list[ConflictRow] = []
        self.setObjectName("conflictsDialog")
        self.setWindowTitle(_("同步冲突"))
        self.setMinimumSize(760, 460)
        self.resize(860, 560)

        title = QLabel(_("待确认的同步冲突"))
        title.setObjectName("conflictsTitle")
        intro = QLabel(
            _(
                "以下操作服务器未能按原样采用。本窗口的办理记录均已保存，无需重新办理。\n"
                "请与相关窗口或值班负责人核对后，点“已知悉”。"
            )
        )
        intro.setObjectName("conflictsIntro")
        intro.setWordWrap(True)

        self.list_widget = QWidget()
        self.list_widget.setObjectName("conflictList")
        self.list_layout = QVBoxLayout(self.list_widget)
        self.list_layout.setContentsMargins(0, 0, 4, 0)
        self.list_layout.setSpacing(8)
        self.list_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("conflictScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.list_widget)
        # The rows sit on the dialog's own background, not on a grey box.
        scroll.viewport().setAutoFillBackground(False)
        self.list_widget.setAutoFillBackground(False)

        self.empty = QLabel(_("没有待确认的冲突。"))
        self.empty.setObjectName("conflictsEmpty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.error = QLabel()
        self.error.setObjectName("conflictsError")
        self.error.setWordWrap(True)
        self.error.hide()

        self.ack_all_button = QPushButton(_("全部已知悉"))
        self.ack_all_button.setObjectName("acknowledgeAllButton")
        self.ack_all_button.setEnabled(False)
        self.ack_all_button.clicked.connect(self.acknowledge_all)
        self.close_button = QPushButton(_("关闭"))
        self.close_button.setObjectName("closeConflictsButton")
        self.close_button.clicked.connect(self.reject)
        for b in (self.ack_all_button, self.close_button):
            b.setMinimumSize(110, 40)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ack_all_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self._scroll = scroll

    # -- loading ---------------------------------------------------------------------

    def refresh(self) -> None:
        self.runner.run(self.store.unacknowledged_conflicts, self._show, self._failed)

    def _show(self, conflicts: list[ConflictView]) -> None:
        for row in self.rows:
            self.list_layout.removeWidget(row)
            row.deleteLater()
        self.rows = []
        for c in conflicts:
            row = ConflictRow(c, self.list_widget)
            row.acknowledge_requested.connect(self.acknowledge)
            self.list_layout.insertWidget(self.list_layout.count() - 1, row)
            self.rows.append(row)
        self._scroll.setVisible(bool(conflicts))
        self.empty.setVisible(not conflicts)
        self.ack_all_button.setEnabled(bool(conflicts))
        self.remaining_changed.emit(len(conflicts))

    def _failed(self, exc: Exception) -> None:
        for row in self.rows:
            row.ack_button.setEnabled(True)
        self.ack_all_button.setEnabled(bool(self.rows))
        self.error.setText(_("读取或确认冲突失败：{error}").format(error=exc))
        self.error.show()

    # -- acknowledging -----------------------------------------------------------------

    def acknowledge(self, op_id: str) -> None:
        for row in self.rows:
            if row.conflict.op_id == op_id:
                row.ack_button.setEnabled(False)
        self.error.hide()
        self.runner.run(lambda: self.store.acknowledge_conflict(op_id), self._acknowledged, self._failed)

    def acknowledge_all(self) -> None:
        """Acknowledge the rows the clerk has seen, not any that arrived meanwhile."""
        ids = [row.conflict.op_id for row in self.rows]
        if not ids:
            return
        for row in self.rows:
            row.ack_button.setEnabled(False)
        self.ack_all_button.setEnabled(False)
        self.error.hide()

        def work() -> None:
            for op_id in ids:
                self.store.acknowledge_conflict(op_id)

        self.runner.run(work, self._acknowledged, self._failed)

    def _acknowledged(self, _result: object) -> None:
        self.refresh()
