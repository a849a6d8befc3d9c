"""不予受理: the reasons chosen and written, the legal basis, and the remedies the notice will state."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QCheckBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QVBoxLayout, QWidget

from hallclient.config import DecisionsConfig
from hallclient.decisions import DEFAULT_LEGAL_BASIS, REJECTION_REASONS
from hallclient.i18n import _
from ui.clerk.action_dialog import ActionDialog


@dataclass(frozen=True)
class RejectionRequest:
    reasons: list[str]
    legal_basis: str


class RejectionDialog(ActionDialog):
    def __init__(self, item_name: str, config: DecisionsConfig, parent: QWidget | None = None) -> None:
        super().__init__(_("不予受理：{item}").format(item=item_name), _("出具不予受理通知书"), parent)
        self.setObjectName("rejectionDialog")
        reasons = QVBoxLayout()
        self.reason_boxes: list[tuple[QCheckBox, str]] = []
        for i, reason in enumerate(REJECTION_REASONS):
            box = QCheckBox(_(reason))
            box.setObjectName(f"reason_{i}")
            reasons.addWidget(box)
            # The paper states the reason in the hall's words (Chinese), whatever the clerk's language.
            self.reason_boxes.append((box, reason))
        self.other = QPlainTextEdit()
        self.other.setObjectName("otherReason")
        self.other.setPlaceholderText(_("其他理由或具体说明（写在通知书上）"))
        self.other.setTabChangesFocus(True)
        self.other.setMaximumHeight(80)
        self.legal_basis = QLineEdit(DEFAULT_LEGAL_BASIS)
        self.legal_basis.setObjectName("legalBasis")
        remedies = QLabel(
            _(
                "通知书将告知：如不服，可在收到之日起 60 日内向{body}申请行政复议，或在 6 个月内向{court}提起行政诉讼。"
            ).format(body=config.reconsideration_body, court=config.court)
        )
        remedies.setWordWrap(True)
        remedies.setObjectName("hint")
        form = QFormLayout()
        form.addRow(_("理由"), reasons)
        form.addRow("", self.other)
        form.addRow(_("法律依据"), self.legal_basis)
        self.body.addLayout(form)
        self.body.addWidget(remedies)

    def values(self) -> RejectionRequest:
        reasons = [reason for box, reason in self.reason_boxes if box.isChecked()]
        other = self.other.toPlainText().strip()
        if other:
            reasons.append(other)
        if not reasons:
            raise ValueError(_("不予受理必须写明理由：请勾选或填写至少一条理由。"))
        if not self.legal_basis.text().strip():
            raise ValueError(_("不予受理必须写明法律依据。"))
        return RejectionRequest(reasons, self.legal_basis.text().strip())
