"""转移: hand the citizen to another window or another item, with a note for the next clerk."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QPlainTextEdit, QWidget

from hallclient import wire
from hallclient.i18n import _
from ui.clerk.action_dialog import ActionDialog


@dataclass(frozen=True)
class TransferRequest:
    to_window: int | None
    to_item: str | None
    note: str


class TransferDialog(ActionDialog):
    def __init__(
        self,
        ticket: wire.Ticket,
        own_window: int,
        windows: list[wire.WindowInfo],
        items: list[wire.ServiceItem],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_("转移 {ticket} 号").format(ticket=ticket.ticket_no), _("转移"), parent)
        self.setObjectName("transferDialog")
        self.window_combo = QComboBox()
        self.window_combo.setObjectName("transferWindow")
        self.window_combo.addItem(_("不指定窗口（任意窗口叫号）"), None)
        for w in windows:
            if w.window_no == own_window:
                continue
            if w.paused:
                state = _("暂停服务：{reason}").format(reason=w.pause_reason)
            elif w.open:
                state = w.clerk_name or _("在岗")
            else:
                state = _("无人登录")
            label = _("{window} 号窗口 {name}（{state}）").format(
                window=w.window_no, name=w.name, state=state
            )
            self.window_combo.addItem(label, w.window_no)
        self.item_combo = QComboBox()
        self.item_combo.setObjectName("transferItem")
        self.item_combo.addItem(_("事项不变"), None)
        for item in items:
            self.item_combo.addItem(f"{item.name}（{item.code}）", item.code)
        self.note = QPlainTextEdit()
        self.note.setObjectName("transferNoteEdit")
        self.note.setPlaceholderText(_("为什么转过去、已经核验了什么（必填，接手的窗口会看到）"))
        self.note.setTabChangesFocus(True)
        self.note.setMaximumHeight(90)
        form = QFormLayout()
        form.addRow(_("转入窗口"), self.window_combo)
        form.addRow(_("转入事项"), self.item_combo)
        form.addRow(_("转移说明"), self.note)
        if not windows:
            form.addRow("", QLabel(_("暂时取不到各窗口状态（离线），只能转到事项，由任意窗口叫号")))
        self.body.addLayout(form)

    def values(self) -> TransferRequest:
        to_window = self.window_combo.currentData()
        to_item = self.item_combo.currentData()
        note = self.note.toPlainText().strip()
        if to_window is None and to_item is None:
            raise ValueError(_("请选择转入的窗口或事项"))
        if not note:
            raise ValueError(_("请填写转移说明，接手的窗口需要知道为什么转过去"))
        return TransferRequest(to_window, to_item, note)
