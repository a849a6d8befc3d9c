"""The status-bar indicators: online or offline, ops waiting to sync, last sync time; conflicts to check."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from hallclient.events import SyncStatus
from hallclient.i18n import _


class SyncStatusLabel(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self.setText(_("正在连接服务器…"))

    def show_status(self, s: SyncStatus) -> None:
        state = _("● 在线") if s.online and not s.last_error else _("● 离线")
        color = "#15803d" if s.online and not s.last_error else "#b91c1c"
        last = s.last_sync.strftime("%H:%M:%S") if s.last_sync else _("从未")
        text = _("{state}　待上传 {pending} 条　上次同步 {last}").format(
            state=state, pending=s.pending_ops, last=last
        )
        if s.next_attempt is not None:
            text += _("　{time} 重试").format(time=s.next_attempt.strftime("%H:%M:%S"))
        self.setText(text)
        self.setStyleSheet(f"color: {color};")
        tip = s.last_error or _("同步正常")
        if s.circuit_open:
            tip += "\n" + _("服务器连续多次不可用，已放慢重试频率；办件照常保存在本机，恢复后自动上传。")
        self.setToolTip(tip)


class ConflictsButton(QPushButton):
    """「冲突 N 条」 next to the sync label: hidden while there are none, opens the list when clicked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflictsButton")
        self.setToolTip(_("服务器未能按原样采用的操作，点击查看并确认"))
        self.show_count(0)

    def show_count(self, n: int) -> None:
        self.setText(_("冲突 {n} 条").format(n=n))
        self.setVisible(n > 0)

    def show_status(self, s: SyncStatus) -> None:
        self.show_count(s.conflicts)
