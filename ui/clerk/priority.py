"""Priority (绿色通道) at the counter: the queue's category column, marking a waiting ticket, taking a number.

The reason a clerk gives for priority is required, audited and kept by the hall; it is
never shown on the citizen screen or printed on the ticket, which show the category only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QWidget

from hallclient import wire
from hallclient.counter import CATEGORY_LABELS, PRIORITY_CATEGORIES, QueueRow
from hallclient.i18n import N_, _
from hallclient.validation import InvalidInput, validate_phone
from ui.clerk.action_dialog import ActionDialog
from ui.clerk.queue_model import TICKET_ROLE, QueueModel

Index = QModelIndex | QPersistentModelIndex
PRIORITY_FILL = QColor("#dcfce7")
COMMON_REASONS = (
    N_("65 周岁以上，已核验身份证"),
    N_("出示残疾人证"),
    N_("出示军人证件或优待证"),
    N_("孕妇，行动不便"),
)


class CategoryQueueModel(QueueModel):
    """Today's queue with each ticket's category (the last column); priority rows shaded."""

    def __init__(self) -> None:
        super().__init__()
        self._headers = [*self._headers, _("类别")]
        self._fill = QBrush(PRIORITY_FILL)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row: QueueRow = self.rows[index.row()]
        category = row.category or wire.TicketCategory.ORDINARY
        if role == Qt.ItemDataRole.BackgroundRole and category in PRIORITY_CATEGORIES:
            return self._fill
        if index.column() == len(self._headers) - 1:
            if role == Qt.ItemDataRole.DisplayRole:
                return _(CATEGORY_LABELS[category])
            if role == TICKET_ROLE:
                return row.ticket
            return None
        return super().data(index, role)


@dataclass(frozen=True)
class PriorityRequest:
    ticket_no: str
    category: wire.TicketCategory
    reason: str


def _category_combo(name: str, *, ordinary: bool) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    if ordinary:
        combo.addItem(_(CATEGORY_LABELS[wire.TicketCategory.ORDINARY]), wire.TicketCategory.ORDINARY)
    for c in PRIORITY_CATEGORIES:
        combo.addItem(_(CATEGORY_LABELS[c]), c)
    return combo


def _reason_combo() -> QComboBox:
    reason = QComboBox()
    reason.setObjectName("priorityReason")
    reason.setEditable(True)
    reason.addItems([_(r) for r in COMMON_REASONS])
    reason.setCurrentIndex(-1)
    edit = reason.lineEdit()
    if edit is not None:
        edit.setPlaceholderText(_("优先的理由（必填，仅记录备查，不会显示给群众）"))
    return reason


class PriorityDialog(ActionDialog):
    """标记优先: the category for a waiting ticket, and why (audited)."""

    def __init__(self, ticket: wire.Ticket, parent: QWidget | None = None) -> None:
        super().__init__(_("优先办理：{ticket} 号").format(ticket=ticket.ticket_no), _("标记优先"), parent)
        self.setObjectName("priorityDialog")
        self.ticket = ticket
        self.category = _category_combo("priorityCategory", ordinary=False)
        self.reason = _reason_combo()
        form = QFormLayout()
        form.addRow(_("类别"), self.category)
        form.addRow(_("理由"), self.reason)
        self.body.addLayout(form)
        hint = QLabel(_("群众屏幕和号票只显示类别，不显示理由。超过最长等候时间的普通群众仍会先叫。"))
        hint.setWordWrap(True)
        self.body.addWidget(hint)

    def values(self) -> PriorityRequest:
        category = wire.TicketCategory(self.category.currentData())  # Qt hands the enum back as str
        reason = self.reason.currentText().strip()
        if category is not wire.TicketCategory.ORDINARY and not reason:
            raise ValueError(_("请写明优先办理的理由"))
        return PriorityRequest(self.ticket.ticket_no, category, reason)


@dataclass(frozen=True)
class NumberRequest:
    bundle_code: str | None
    item_codes: list[str]
    category: wire.TicketCategory
    reason: str
    phone: str | None


class TakeNumberDialog(ActionDialog):
    """取号 for a walk-in at the counter: the items (a bundle or several), the category, a phone for SMS."""

    def __init__(
        self, catalog: list[wire.ServiceItem], bundles: list[wire.Bundle], parent: QWidget | None = None
    ) -> None:
        super().__init__(_("现场取号"), _("取号并打印号票"), parent)
        self.setObjectName("takeNumberDialog")
        self.bundle = QComboBox()
        self.bundle.setObjectName("numberBundle")
        self.bundle.addItem(_("（不办“一件事”）"), None)
        for b in bundles:
            self.bundle.addItem(b.name, b.code)
        self.items = QListWidget()
        self.items.setObjectName("numberItems")
        for item in catalog:
            entry = QListWidgetItem(item.name)
            entry.setData(Qt.ItemDataRole.UserRole, item.code)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Unchecked)
            self.items.addItem(entry)
        self.items.setMaximumHeight(180)
        self.category = _category_combo("numberCategory", ordinary=True)
        self.reason = _reason_combo()
        self.phone = QLineEdit()
        self.phone.setObjectName("numberPhone")
        self.phone.setPlaceholderText(_("选填：叫号和结果可领取时短信通知"))
        form = QFormLayout()
        form.addRow(_("一件事"), self.bundle)
        form.addRow(_("事项（可多选）"), self.items)
        form.addRow(_("类别"), self.category)
        form.addRow(_("优先理由"), self.reason)
        form.addRow(_("手机号"), self.phone)
        self.body.addLayout(form)

    def values(self) -> NumberRequest:
        codes = [
            self.items.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.items.count())
            if self.items.item(i).checkState() == Qt.CheckState.Checked
        ]
        category = wire.TicketCategory(self.category.currentData())  # Qt hands the enum back as str
        reason = self.reason.currentText().strip()
        if category is not wire.TicketCategory.ORDINARY and not reason:
            raise ValueError(_("请写明优先办理的理由"))
        phone = self.phone.text().strip() or None
        if phone is not None:
            try:
                phone = validate_phone(phone)
            except InvalidInput as exc:
                raise ValueError(str(exc)) from None
        return NumberRequest(
            self.bundle.currentData(),
            codes,
            category,
            reason if category is not wire.TicketCategory.ORDINARY else "",
            phone,
        )
