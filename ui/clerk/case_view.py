"""The case workspace: the item, the applicant, the pre-review and the materials checklist.

What the platform already knows (booking, applicant, pre-review) is shown, not
asked again; the clerk only records what was seen at the counter.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.counter import ServiceContext
from hallclient.domain import MaterialCheck
from hallclient.i18n import N_, _
from hallclient.validation import InvalidInput, validate_phone, validate_resident_id

PRE_REVIEW_LABELS = {
    wire.PreReviewResult.PASSED: (N_("预审通过"), "#15803d"),
    wire.PreReviewResult.NEEDS_CORRECTION: (N_("预审需补正"), "#b45309"),
    wire.PreReviewResult.REJECTED: (N_("预审未通过"), "#b91c1c"),
    wire.PreReviewResult.NONE: (N_("未经网上预审"), "#6b7280"),
}
MATERIAL_REVIEW_LABELS = {
    wire.MaterialStatus.OK: N_("预审合格"),
    wire.MaterialStatus.MISSING: N_("预审缺失"),
    wire.MaterialStatus.WRONG: N_("预审不符"),
    wire.MaterialStatus.NOT_REVIEWED: N_("未预审"),
}
CHECK_LABELS = {
    MaterialCheck.ORIGINAL_SEEN: N_("已核原件"),
    MaterialCheck.COPY_TAKEN: N_("已收复印件"),
    MaterialCheck.MISSING: N_("缺失"),
    MaterialCheck.WRONG: N_("不符合要求"),
}


class CaseView(QWidget):
    accept_requested = Signal(object, object, str)  # checks, applicant or None, notes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caseView")
        self.context: ServiceContext | None = None

        self.title = QLabel(_("当前没有办理中的群众，按 F2 叫号"))
        self.title.setObjectName("caseTitle")

        self.item_box = QGroupBox(_("办理事项"))
        self.item_form = QFormLayout(self.item_box)
        self.item_name = QLabel()
        self.item_name.setObjectName("itemName")
        self.item_code = QLabel()
        self.item_dept = QLabel()
        self.item_limits = QLabel()
        self.item_form.addRow(_("事项名称"), self.item_name)
        self.item_form.addRow(_("事项编码"), self.item_code)
        self.item_form.addRow(_("实施部门"), self.item_dept)
        self.item_form.addRow(_("办理时限"), self.item_limits)

        self.applicant_box = QGroupBox(_("申请人"))
        app_form = QFormLayout(self.applicant_box)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("applicantName")
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("applicantId")
        self.id_edit.setMaxLength(18)
        self.phone_edit = QLineEdit()
        self.phone_edit.setObjectName("applicantPhone")
        self.id_hint = QLabel()
        self.id_hint.setObjectName("idHint")
        self.id_hint.setStyleSheet("color: #b00020;")
        self.id_edit.textChanged.connect(self._check_id)
        app_form.addRow(_("姓名"), self.name_edit)
        app_form.addRow(_("身份证号"), self.id_edit)
        app_form.addRow("", self.id_hint)
        app_form.addRow(_("手机号"), self.phone_edit)

        self.review_box = QGroupBox(_("网上预审"))
        review_layout = QVBoxLayout(self.review_box)
        self.review_result = QLabel()
        self.review_result.setObjectName("preReviewResult")
        self.review_notes = QLabel()
        self.review_notes.setObjectName("preReviewNotes")
        self.review_notes.setWordWrap(True)
        review_layout.addWidget(self.review_result)
        review_layout.addWidget(self.review_notes)

        self.materials = QTableWidget(0, 4)
        self.materials.setObjectName("materialsTable")
        self.materials.setHorizontalHeaderLabels([_("申请材料"), _("要求"), _("网上预审"), _("现场核验")])
        self.materials.verticalHeader().setVisible(False)
        self.materials.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        mh = self.materials.horizontalHeader()
        mh.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            mh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)

        self.notes = QPlainTextEdit()
        self.notes.setObjectName("caseNotes")
        self.notes.setPlaceholderText(_("备注（选填）"))
        self.notes.setMaximumHeight(60)

        self.error = QLabel()
        self.error.setObjectName("caseError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")

        self.accept_button = QPushButton(_("受理并出具受理通知书 (F5)"))
        self.accept_button.setObjectName("acceptButton")
        self.accept_button.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.accept_button.setMinimumHeight(44)
        self.accept_button.clicked.connect(self._accept)

        top = QHBoxLayout()
        top.addWidget(self.item_box, 3)
        top.addWidget(self.applicant_box, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(top)
        layout.addWidget(self.review_box)
        layout.addWidget(QLabel(_("材料核验")))
        layout.addWidget(self.materials, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.error)
        layout.addWidget(self.accept_button)
        self.show_context(None)

    # -- showing ------------------------------------------------------------------

    def show_context(self, ctx: ServiceContext | None) -> None:
        self.context = ctx
        self.error.clear()
        self.notes.clear()
        enabled = ctx is not None
        for w in (
            self.item_box,
            self.applicant_box,
            self.review_box,
            self.materials,
            self.notes,
            self.accept_button,
        ):
            w.setEnabled(enabled)
        if ctx is None:
            self.title.setText(_("当前没有办理中的群众，按 F2 叫号"))
            for label in (
                self.item_name,
                self.item_code,
                self.item_dept,
                self.item_limits,
                self.review_result,
                self.review_notes,
            ):
                label.clear()
            for edit in (self.name_edit, self.id_edit, self.phone_edit):
                edit.clear()
            self.materials.setRowCount(0)
            return
        booking = ctx.booking
        kind = _("预约号 {code}").format(code=booking.code) if booking else _("现场取号")
        self.title.setText(_("正在办理：{ticket}　{kind}").format(ticket=ctx.ticket.ticket_no, kind=kind))
        self._show_item(ctx.item)
        self._show_applicant(booking.applicant if booking else None)
        self._show_review(booking.pre_review if booking else None)
        self._show_materials(ctx.item, booking.pre_review if booking else None)

    def _show_item(self, item: wire.ServiceItem | None) -> None:
        if item is None:
            self.item_name.setText(_("（未选择事项）"))
            return
        self.item_name.setText(item.name + (_("（即办件）") if item.instant else ""))
        self.item_code.setText(_("{code}（第 {version} 版）").format(code=item.code, version=item.version))
        self.item_dept.setText(item.department)
        self.item_limits.setText(
            _("法定 {legal} 个工作日，承诺 {promised} 个工作日").format(
                legal=item.legal_days, promised=item.promised_days
            )
        )

    def _show_applicant(self, applicant: wire.Applicant | None) -> None:
        # Data the platform already has is shown read-only: the citizen is not asked again.
        read_only = applicant is not None
        self.name_edit.setText(applicant.name if applicant else "")
        self.id_edit.setText(applicant.id_number if applicant else "")
        self.phone_edit.setText(applicant.phone if applicant else "")
        for edit in (self.name_edit, self.id_edit, self.phone_edit):
            edit.setReadOnly(read_only)

    def _show_review(self, review: wire.PreReview | None) -> None:
        result = review.result if review else wire.PreReviewResult.NONE
        text, color = PRE_REVIEW_LABELS[result]
        self.review_result.setText(_(text))
        self.review_result.setStyleSheet(f"color: {color}; font-weight: bold;")
        self.review_notes.setText(
            review.reviewer_notes if review and review.reviewer_notes else _("无审核意见")
        )

    def _show_materials(self, item: wire.ServiceItem | None, review: wire.PreReview | None) -> None:
        materials = item.materials if item else []
        reviewed = {m.material_code: m for m in review.materials} if review else {}
        self.materials.setRowCount(len(materials))
        for row, m in enumerate(materials):
            self.materials.setItem(row, 0, QTableWidgetItem(m.name))
            need = _("原件") if m.original_required else _("复印件 {n} 份").format(n=m.copies)
            self.materials.setItem(row, 1, QTableWidgetItem(need))
            r = reviewed.get(m.code)
            status = _(MATERIAL_REVIEW_LABELS[r.status]) if r else _("未预审")
            cell = QTableWidgetItem(status + (f"：{r.note}" if r and r.note else ""))
            self.materials.setItem(row, 2, cell)
            combo = QComboBox()
            combo.setObjectName(f"check_{m.code}")
            combo.addItem(_("请选择"), None)
            for check, label in CHECK_LABELS.items():
                combo.addItem(_(label), check)
            self.materials.setCellWidget(row, 3, combo)

    def _check_id(self, text: str) -> None:
        if self.id_edit.isReadOnly() or len(text) < 18:
            self.id_hint.clear()
            return
        try:
            validate_resident_id(text)
            self.id_hint.clear()
        except InvalidInput as exc:
            self.id_hint.setText(str(exc))

    # -- reading ------------------------------------------------------------------

    def checks(self) -> dict[str, MaterialCheck]:
        out: dict[str, MaterialCheck] = {}
        if self.context is None or self.context.item is None:
            return out
        for row, m in enumerate(self.context.item.materials):
            combo = self.materials.cellWidget(row, 3)
            if isinstance(combo, QComboBox) and combo.currentData() is not None:
                out[m.code] = MaterialCheck(combo.currentData())
        return out

    def set_check(self, material_code: str, check: MaterialCheck) -> None:
        combo = self.findChild(QComboBox, f"check_{material_code}")
        if combo is not None:
            combo.setCurrentIndex(combo.findData(check))

    def _accept(self) -> None:
        if self.context is None:
            return
        applicant = None
        if self.context.booking is None:
            try:
                applicant = wire.Applicant(
                    name=self.name_edit.text().strip(),
                    id_number=validate_resident_id(self.id_edit.text()),
                    phone=validate_phone(self.phone_edit.text()),
                )
            except InvalidInput as exc:
                self.error.setText(str(exc))
                return
            if not applicant.name:
                self.error.setText(_("请填写申请人姓名"))
                return
        self.error.clear()
        self.accept_requested.emit(self.checks(), applicant, self.notes.toPlainText().strip())

    def show_error(self, message: str) -> None:
        self.error.setText(message)
