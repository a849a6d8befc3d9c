"""Today's queue with the clerk's queue actions, each on an F-key shown on its button."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hallclient.counter import QueueRow
from hallclient.i18n import _
from hallclient.wire import Ticket, TicketState
from ui.clerk.priority import CategoryQueueModel
from ui.clerk.queue_model import TICKET_ROLE, QueueModel


def action_button(text: str, key: Qt.Key, name: str) -> QPushButton:
    """A button whose F-key is part of its label, so the clerk learns the keys by looking."""
    shortcut = QKeySequence(key)
    button = QPushButton(f"{text} ({shortcut.toString(QKeySequence.SequenceFormat.NativeText)})")
    button.setObjectName(name)
    button.setShortcut(shortcut)
    button.setMinimumHeight(40)
    return button


class QueuePanel(QWidget):
    call_next_requested = Signal()
    recall_requested = Signal()
    no_show_requested = Signal()
    park_requested = Signal()
    resume_requested = Signal(object)  # the parked Ticket chosen, or None for the latest
    transfer_requested = Signal()
    pause_toggle_requested = Signal()
    take_number_requested = Signal()  # 取号 for a walk-in at this counter
    priority_requested = Signal(object)  # the waiting Ticket selected, to mark with a priority category

    def __init__(self, window_no: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.window_no = window_no
        self.setObjectName("queuePanel")
        self.current: Ticket | None = None
        self.paused = False
        self.busy = False
        self._parked_here = 0
        self.counts = QLabel()
        self.counts.setObjectName("queueCounts")
        self.pause_banner = QLabel()
        self.pause_banner.setObjectName("pauseBanner")
        self.pause_banner.setWordWrap(True)
        self.pause_banner.hide()

        self.model: QueueModel = CategoryQueueModel()
        self.table = QTableView()
        self.table.setObjectName("queueTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)
        self.table.activated.connect(self._activated)

        self.call_button = action_button(_("叫号"), Qt.Key.Key_F2, "callNextButton")
        self.call_button.setMinimumHeight(48)
        self.recall_button = action_button(_("重呼"), Qt.Key.Key_F3, "recallButton")
        self.no_show_button = action_button(_("过号"), Qt.Key.Key_F4, "noShowButton")
        self.park_button = action_button(_("挂起"), Qt.Key.Key_F9, "parkButton")
        self.resume_button = action_button(_("恢复挂起"), Qt.Key.Key_F10, "resumeButton")
        self.transfer_button = action_button(_("转移"), Qt.Key.Key_F11, "transferButton")
        self.pause_button = action_button(_("暂停服务"), Qt.Key.Key_F12, "pauseButton")
        self.number_button = QPushButton(_("取号 (Ctrl+N)"))
        self.number_button.setObjectName("takeNumberButton")
        self.number_button.setShortcut(QKeySequence("Ctrl+N"))
        self.priority_button = QPushButton(_("标记优先 (Ctrl+Y)"))
        self.priority_button.setObjectName("priorityButton")
        self.priority_button.setShortcut(QKeySequence("Ctrl+Y"))
        self.number_button.clicked.connect(self.take_number_requested)
        self.priority_button.clicked.connect(self._priority)
        self.call_button.clicked.connect(self.call_next_requested)
        self.recall_button.clicked.connect(self.recall_requested)
        self.no_show_button.clicked.connect(self.no_show_requested)
        self.park_button.clicked.connect(self.park_requested)
        self.resume_button.clicked.connect(lambda: self.resume_requested.emit(self.selected_parked()))
        self.transfer_button.clicked.connect(self.transfer_requested)
        self.pause_button.clicked.connect(self.pause_toggle_requested)

        buttons = QGridLayout()
        buttons.addWidget(self.call_button, 0, 0, 1, 4)
        buttons.addWidget(self.recall_button, 1, 0)
        buttons.addWidget(self.no_show_button, 1, 1)
        buttons.addWidget(self.park_button, 1, 2)
        buttons.addWidget(self.resume_button, 1, 3)
        buttons.addWidget(self.transfer_button, 2, 0, 1, 2)
        buttons.addWidget(self.pause_button, 2, 2, 1, 2)
        buttons.addWidget(self.number_button, 3, 0, 1, 2)
        buttons.addWidget(self.priority_button, 3, 2, 1, 2)

        top = QHBoxLayout()
        top.addStretch(1)
        top.addWidget(self.counts)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.pause_banner)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_rows(self, rows: list[QueueRow]) -> None:
        self.model.set_rows(rows)
        waiting = sum(r.ticket.state is TicketState.WAITING for r in rows)
        parked = sum(
            r.ticket.state is TicketState.PARKED and r.ticket.window_no == self.window_no for r in rows
        )
        text = _("等候 {waiting} 人 / 共 {total} 号").format(waiting=waiting, total=len(rows))
        if parked:
            text += _("，本窗口挂起 {n} 人").format(n=parked)
        self.counts.setText(text)
        self._parked_here = parked
        self._update_buttons()

    def set_current(self, ticket: Ticket | None) -> None:
        """The ticket now at this window; the per-citizen actions act on it."""
        self.current = ticket
        self._update_buttons()

    def set_paused(self, paused: bool, reason: str) -> None:
        self.paused = paused
        self.pause_banner.setVisible(paused)
        self.pause_banner.setText(_("本窗口暂停服务中：{reason}。按 F12 恢复服务。").format(reason=reason))
        # setText() replaces a button's shortcut with the label's mnemonic: keep F12 across relabels.
        key = self.pause_button.shortcut()
        label = _("恢复服务") if paused else _("暂停服务")
        self.pause_button.setText(f"{label} ({key.toString(QKeySequence.SequenceFormat.NativeText)})")
        self.pause_button.setShortcut(key)
        self._update_buttons()

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        t = self.current
        free = not self.busy
        called = t is not None and t.state is TicketState.CALLED
        self.call_button.setEnabled(free and t is None and not self.paused)
        self.recall_button.setEnabled(free and called)
        self.no_show_button.setEnabled(free and called)
        self.park_button.setEnabled(free and t is not None)
        self.transfer_button.setEnabled(free and t is not None)
        self.resume_button.setEnabled(free and t is None and self._parked_here > 0)
        self.pause_button.setEnabled(free and (t is None or self.paused))

    def selected_waiting(self) -> Ticket | None:
        index = self.table.currentIndex()
        ticket = self.model.ticket_at(index.row()) if index.isValid() else None
        if ticket is not None and ticket.state in (TicketState.WAITING, TicketState.TRANSFERRED):
            return ticket
        return None

    def _priority(self) -> None:
        self.priority_requested.emit(self.selected_waiting())

    def selected_parked(self) -> Ticket | None:
        index = self.table.currentIndex()
        ticket = self.model.ticket_at(index.row()) if index.isValid() else None
        if ticket is not None and ticket.state is TicketState.PARKED and ticket.window_no == self.window_no:
            return ticket
        return None

    def _activated(self, index: QModelIndex) -> None:
        ticket = index.data(TICKET_ROLE)
        if (
            isinstance(ticket, Ticket)
            and ticket.state is TicketState.PARKED
            and self.resume_button.isEnabled()
        ):
            self.resume_requested.emit(ticket)
