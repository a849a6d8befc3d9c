"""出件: hand over an accepted case's result, recorded with who collected it, and a pick-up slip."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QComboBox, QFormLayout, QLineEdit, QWidget

from hallclient.i18n import _
from hallclient.masking import mask_name
from hallclient.store import CaseView
from ui.clerk.action_dialog import ActionDialog


@dataclass(frozen=True)
class PickupRequest:
    case_no: str
    picked_up_by: str


class PickupDialog(ActionDialog):
    def __init__(
        self,
        cases: list[CaseView],
        names: dict[str, str],
        parent: QWidget | None = None,
        *,
        states: dict[str, str] | None = None,
    ) -> None:
        super().__init__(_("出件（领取办理结果）"), _("出件并打印领取凭证"), parent)
        self.setObjectName("pickupDialog")
        self.cases = {c.case_no: c for c in cases}
        self.case_combo = QComboBox()
        self.case_combo.setObjectName("pickupCase")
        for c in cases:
            promised = c.promised_date.isoformat() if c.promised_date else ""
            label = f"{c.case_no}  {names.get(c.item_code, c.item_code)}  {mask_name(c.applicant.name)}  {promised}"
            if states and c.case_no in states:
                label += f"  {states[c.case_no]}"
            self.case_combo.addItem(label, c.case_no)
        self.case_combo.currentIndexChanged.connect(self._prefill)
        self.by = QLineEdit()
        self.by.setObjectName("pickupBy")
        self.by.setPlaceholderText(_("领取人姓名（本人或受托人）"))
        form = QFormLayout()
        form.addRow(_("办件"), self.case_combo)
        form.addRow(_("领取人"), self.by)
        self.body.addLayout(form)
        if not cases:
            self.show_error(_("本窗口没有待领取的办件"))
            self.ok_button.setEnabled(False)
        self._prefill()

    def select(self, case_no: str) -> None:
        index = self.case_combo.findData(case_no)
        if index >= 0:
            self.case_combo.setCurrentIndex(index)

    def _prefill(self) -> None:
        case = self.cases.get(self.case_combo.currentData() or "")
        self.by.setText(case.applicant.name if case else "")

    def values(self) -> PickupRequest:
        case_no = self.case_combo.currentData()
        if not case_no:
            raise ValueError(_("请选择要领取的办件"))
        if not self.by.text().strip():
            raise ValueError(_("请填写领取人姓名"))
        return PickupRequest(case_no, self.by.text().strip())
