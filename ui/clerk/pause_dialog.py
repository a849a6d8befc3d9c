"""暂停服务: the window stops calling, and the hall sees why."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QWidget

from hallclient.i18n import N_, _
from ui.clerk.action_dialog import ActionDialog

COMMON_REASONS = (N_("临时离开"), N_("设备故障"), N_("系统故障"), N_("业务培训"), N_("午间休息"))


class PauseDialog(ActionDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(_("暂停服务"), _("暂停服务"), parent)
        self.setObjectName("pauseDialog")
        self.reason = QComboBox()
        self.reason.setObjectName("pauseReason")
        self.reason.setEditable(True)
        self.reason.addItems([_(r) for r in COMMON_REASONS])
        self.reason.setCurrentIndex(-1)
        edit = self.reason.lineEdit()
        if edit is not None:
            edit.setPlaceholderText(_("选择或填写暂停原因"))
        form = QFormLayout()
        form.addRow(_("暂停原因"), self.reason)
        self.body.addLayout(form)

    def values(self) -> str:
        reason = self.reason.currentText().strip()
        if not reason:
            raise ValueError(_("请填写暂停服务的原因"))
        return reason
