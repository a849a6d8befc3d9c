"""The case workspace: the item, the applicant, the pre-review, the materials checklist, the decisions.

What the platform already knows (booking, applicant, pre-review) is shown, not
asked again; the clerk only records what was seen at the counter. Keyboard
first: in the checklist the keys 1-4 set the current material's check.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal, SignalInstance
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
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
from hallclient.counter import CATEGORY_LABELS, ServiceContext
from hallclient.decisions import MaterialFinding
from hallclient.domain import MaterialCheck
from hallclient.i18n import N_, _
from hallclient.validation import InvalidInput, validate_name, validate_phone, validate_resident_id
from ui.clerk.queue_panel import action_button
from ui.clerk.visit_panel import VisitPanel

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
    MaterialCheck.E_LICENSE: N_("由电子证照提供"),
    MaterialCheck.REUSED: N_("复用既往材料"),
}
CHECK_KEYS = {Qt.Key.Key_1: 1, Qt.Key.Key_2: 2, Qt.Key.Key_3: 3, Qt.Key.Key_4: 4}
COL_NAME, COL_NEED, COL_REVIEW, COL_CHECK, COL_NOTE, COL_LICENSE, COL_CAPTURE, COL_REUSE = range(8)


class CaseView(QWidget):
    # Each: findings {material code: MaterialFinding}, applicant or None (booked), notes.
    accept_requested = Signal(object, object, str)
    correction_requested = Signal(object, object, str)
    reject_requested = Signal(object, object, str)
    complete_requested = Signal(object, object, str)
    item_chosen = Signal(str)  # a walk-in's item code
    applicant_id_ready = Signal(str)  # a walk-in's ID number, valid: look up the registry
    license_view_requested = Signal(str)  # the license number to open
    capture_requested = Signal(str, str)  # material code and name: scan its pages for the back office
    reuse_consent_requested = Signal(object)  # {material code: ReuseOffer} to put to the citizen
    work_started = Signal()  # the clerk began working on the citizen in front of them
    bundle_chosen = Signal(str)  # 一件事: the bundle's code
    visit_item_added = Signal(str)  # an item added to the visit
    visit_item_removed = Signal(str)  # an item not decided yet, dropped from the visit

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caseView")
        self.context: ServiceContext | None = None
        self._started = False
        self._materials_for: tuple[str, ...] | None = None
        self._review_texts: dict[int, str] = {}
        self._reuse_for: tuple[str, tuple[str, ...] | None] | None = None

        self.title = QLabel()
        self.title.setObjectName("caseTitle")
        self.transfer_note = QLabel()
        self.transfer_note.setObjectName("transferNote")
        self.transfer_note.setWordWrap(True)

        self.item_box = QGroupBox(_("办理事项"))
        self.item_form = QFormLayout(self.item_box)
        self.item_chooser = QComboBox()
        self.item_chooser.setObjectName("itemChooser")
        self.item_chooser.activated.connect(self._item_activated)
        self.item_name = QLabel()
        self.item_name.setObjectName("itemName")
        self.item_name.setWordWrap(True)
        self.item_code = QLabel()
        self.item_dept = QLabel()
        self.item_limits = QLabel()
        self.item_form.addRow(_("选择事项"), self.item_chooser)
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
        self.id_hint.setWordWrap(True)
        self.id_edit.textChanged.connect(self._check_id)
        for edit in (self.name_edit, self.id_edit, self.phone_edit):
            edit.textEdited.connect(self._mark_started)
        app_form.addRow(_("姓名"), self.name_edit)
        app_form.addRow(_("身份证号"), self.id_edit)
        app_form.addRow("", self.id_hint)
        app_form.addRow(_("手机号"), self.phone_edit)

        self.visit_panel = VisitPanel()
        self.visit_panel.bundle_chosen.connect(self.bundle_chosen)
        self.visit_panel.item_added.connect(self.visit_item_added)
        self.visit_panel.item_removed.connect(self.visit_item_removed)

        self.review_box = QGroupBox(_("网上预审"))
        review_layout = QVBoxLayout(self.review_box)
        self.review_result = QLabel()
        self.review_result.setObjectName("preReviewResult")
        self.review_notes = QLabel()
        self.review_notes.setObjectName("preReviewNotes")
        self.review_notes.setWordWrap(True)
        review_layout.addWidget(self.review_result)
        review_layout.addWidget(self.review_notes)

        self.materials = QTableWidget(0, 8)
        self.materials.setObjectName("materialsTable")
        self.materials.setHorizontalHeaderLabels(
            [
                _("申请材料"),
                _("要求"),
                _("网上预审"),
                _("现场核验"),
                _("问题说明（补正时必填）"),
                _("电子证照"),
                "",
                _("既往材料"),
            ]
        )
        self.materials.verticalHeader().setVisible(False)
        self.materials.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.materials.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.materials.installEventFilter(self)
        self.materials.setMinimumHeight(150)
        mh = self.materials.horizontalHeader()
        for col in (COL_NAME, COL_REVIEW):
            mh.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        for col in (COL_NEED, COL_CHECK):
            mh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        mh.setSectionResizeMode(COL_NOTE, QHeaderView.ResizeMode.Stretch)
        mh.setSectionResizeMode(COL_LICENSE, QHeaderView.ResizeMode.ResizeToContents)
        mh.setSectionResizeMode(COL_CAPTURE, QHeaderView.ResizeMode.ResizeToContents)
        mh.setSectionResizeMode(COL_REUSE, QHeaderView.ResizeMode.ResizeToContents)
        self._hint_text = _("材料核验：选中一行按 1 已核原件、2 已收复印件、3 缺失、4 不符合要求")
        self.materials_hint = QLabel(self._hint_text)
        self.materials_hint.setObjectName("hint")
        self.materials_hint.setWordWrap(True)
        self.reuse_button = QPushButton(_("请群众确认复用"))
        self.reuse_button.setObjectName("askReuseButton")
        self.reuse_button.setToolTip(_("在群众服务屏上请群众确认是否复用勾选的既往材料"))
        self.reuse_button.clicked.connect(self._ask_reuse)
        self.reuse_button.hide()

        self.notes = QPlainTextEdit()
        self.notes.setObjectName("caseNotes")
        self.notes.setPlaceholderText(_("备注（选填）"))
        self.notes.setMaximumHeight(56)
        self.notes.setTabChangesFocus(True)

        self.error = QLabel()
        self.error.setObjectName("caseError")
        self.error.setWordWrap(True)

        self.accept_button = action_button(_("受理"), Qt.Key.Key_F5, "acceptButton")
        self.correct_button = action_button(_("一次性告知补正"), Qt.Key.Key_F6, "correctButton")
        self.reject_button = action_button(_("不予受理"), Qt.Key.Key_F7, "rejectButton")
        self.complete_button = action_button(_("即办办结"), Qt.Key.Key_F8, "completeButton")
        self.accept_button.setProperty("primary", True)
        self.accept_button.clicked.connect(lambda: self._emit(self.accept_requested))
        self.correct_button.clicked.connect(lambda: self._emit(self.correction_requested))
        self.reject_button.clicked.connect(lambda: self._emit(self.reject_requested))
        self.complete_button.clicked.connect(lambda: self._emit(self.complete_requested))
        self.decision_buttons = (
            self.accept_button,
            self.correct_button,
            self.reject_button,
            self.complete_button,
        )

        top = QHBoxLayout()
        top.addWidget(self.item_box, 3)
        top.addWidget(self.applicant_box, 2)
        for edit in (self.name_edit, self.id_edit, self.phone_edit):
            edit.setMinimumWidth(230)  # an 18-character ID number must show whole
        decisions = QHBoxLayout()
        for button in self.decision_buttons:
            decisions.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.transfer_note)
        layout.addLayout(top)
        layout.addWidget(self.visit_panel)
        layout.addWidget(self.review_box)
        hint_row = QHBoxLayout()
        hint_row.addWidget(self.materials_hint, 1)
        hint_row.addWidget(self.reuse_button)
        layout.addLayout(hint_row)
        layout.addWidget(self.materials, 1)
        layout.addWidget(self.notes)
        layout.addWidget(self.error)
        layout.addLayout(decisions)
        self.show_context(None)

    # -- showing ------------------------------------------------------------------

    def set_catalog(self, items: list[wire.ServiceItem]) -> None:
        current = self.item_chooser.currentData()
        self.item_chooser.clear()
        self.item_chooser.addItem(_("请选择办理事项"), None)
        for item in items:
            self.item_chooser.addItem(f"{item.name}（{item.code}）", item.code)
        if current is not None:
            self.item_chooser.setCurrentIndex(max(0, self.item_chooser.findData(current)))
        self.visit_panel.set_catalog(items)

    def set_bundles(self, bundles: list[wire.Bundle]) -> None:
        self.visit_panel.set_bundles(bundles)
        self.visit_panel.show_visit(self.context.visit if self.context else None)

    def show_context(self, ctx: ServiceContext | None) -> None:
        same_citizen = (
            ctx is not None
            and self.context is not None
            and ctx.ticket.ticket_no == self.context.ticket.ticket_no
        )
        self.context = ctx
        self.error.clear()
        if not same_citizen:
            self.notes.clear()
            self._started = False
            self.show_license_summary("")
        enabled = ctx is not None
        for w in (
            self.item_box,
            self.applicant_box,
            self.visit_panel,
            self.review_box,
            self.materials,
            self.notes,
        ):
            w.setEnabled(enabled)
        self.visit_panel.show_visit(ctx.visit if ctx is not None else None)
        if ctx is None:
            self.title.setText(_("当前没有办理中的群众，按 F2 叫号，或按 Ctrl+F 查找预约"))
            self.transfer_note.hide()
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
            self._materials_for = None
            self.reuse_button.hide()
            self.item_form.setRowVisible(self.item_chooser, False)
            self.item_form.setRowVisible(self.item_code, True)
            self.item_form.setRowVisible(self.item_limits, True)
            self.review_box.setVisible(True)
            self._update_decisions()
            return
        booking = ctx.booking
        kind = _("预约号 {code}").format(code=booking.code) if booking else _("现场取号")
        title = _("正在办理：{ticket}　{kind}").format(ticket=ctx.ticket.ticket_no, kind=kind)
        if ctx.category not in (wire.TicketCategory.ORDINARY, wire.TicketCategory.APPOINTMENT):
            title += "　" + _(CATEGORY_LABELS[ctx.category])
        nxt = ctx.visit.next_item if ctx.visit is not None else None
        if ctx.visit is not None:
            title += "　" + (
                _("{visit} 第 {k}/{n} 项：{item}").format(
                    visit=ctx.visit.name,
                    k=ctx.visit.position(nxt.code),
                    n=len(ctx.visit.items),
                    item=nxt.name,
                )
                if nxt is not None
                else _("{visit}：{n} 个事项均已作出决定").format(visit=ctx.visit.name, n=len(ctx.visit.items))
            )
        self.title.setText(title)
        self.transfer_note.setVisible(bool(ctx.ticket.note))
        self.transfer_note.setText(_("转移说明：{note}").format(note=ctx.ticket.note))
        # A walk-in's item may be chosen or changed here; a booking's item is the one booked.
        # In a visit of several items, items are added in the visit's list instead.
        self.item_form.setRowVisible(self.item_chooser, booking is None and ctx.visit is None)
        # A visit's item box names the visit; each item's code and time limit are in the visit's list.
        self.item_form.setRowVisible(self.item_code, ctx.visit is None)
        self.item_form.setRowVisible(self.item_limits, ctx.visit is None)
        # A walk-in's visit has no pre-review to show: the room goes to the merged checklist.
        self.review_box.setVisible(booking is not None or ctx.visit is None)
        if booking is None:
            index = self.item_chooser.findData(ctx.item.code if ctx.item else None)
            self.item_chooser.setCurrentIndex(max(0, index))
        self._show_item(ctx.item)
        if not same_citizen:
            self._show_applicant(booking.applicant if booking else None)
        self._show_review(booking.pre_review if booking else None)
        if not (same_citizen and self._materials_for == _materials_key(ctx.item)):
            # Rebuilt only for a new citizen or item: the clerk's checks stay put otherwise.
            self._show_materials(ctx.item, booking.pre_review if booking else None)
        self._show_licenses(ctx)
        self._show_reuse(ctx)
        self._update_decisions()

    def _update_decisions(self) -> None:
        ctx = self.context
        if ctx is not None and ctx.visit is not None:
            # A visit's buttons decide its first item not decided yet.
            nxt = ctx.visit.next_item
            for button in self.decision_buttons:
                button.setEnabled(nxt is not None)
            self.complete_button.setEnabled(nxt is not None and nxt.instant)
            return
        has_item = ctx is not None and ctx.item is not None
        for button in self.decision_buttons:
            button.setEnabled(has_item)
        self.complete_button.setEnabled(
            has_item and ctx is not None and ctx.item is not None and ctx.item.instant
        )

    def set_deciding(self, deciding: bool) -> None:
        """While a decision is being saved, no second one can be started."""
        for button in self.decision_buttons:
            button.setEnabled(not deciding)
        if not deciding:
            self._update_decisions()

    def _show_item(self, item: wire.ServiceItem | None) -> None:
        if item is None:
            self.item_name.setText(_("（请先选择事项）"))
            for label in (self.item_code, self.item_dept, self.item_limits):
                label.clear()
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
        kept = self.findings()
        self._materials_for = _materials_key(item)
        self._review_texts = {}
        visit = self.context.visit if self.context is not None else None
        materials = item.materials if item else []
        reviewed = {m.material_code: m for m in review.materials} if review else {}
        self.materials.setRowCount(len(materials))
        for row, m in enumerate(materials):
            name = QTableWidgetItem(m.name)
            used_by = visit.used_by_names(m.code) if visit is not None else []
            if len(used_by) > 1:
                # Asked for once, checked once, used for every item listed.
                name.setText(_("{name}（{n} 项共用）").format(name=m.name, n=len(used_by)))
                name.setToolTip(_("用于：{items}").format(items="、".join(used_by)))
            self.materials.setItem(row, COL_NAME, name)
            need = _("原件") if m.original_required else _("复印件 {n} 份").format(n=m.copies)
            self.materials.setItem(row, COL_NEED, QTableWidgetItem(need))
            r = reviewed.get(m.code)
            status = _(MATERIAL_REVIEW_LABELS[r.status]) if r else _("未预审")
            review_text = status + (f"：{r.note}" if r and r.note else "")
            self._review_texts[row] = review_text
            cell = QTableWidgetItem(review_text)
            cell.setToolTip(review_text)
            self.materials.setItem(row, COL_REVIEW, cell)
            combo = QComboBox()
            combo.setObjectName(f"check_{m.code}")
            combo.addItem(_("请选择"), None)
            for check, label in CHECK_LABELS.items():
                combo.addItem(_(label), check)
            combo.activated.connect(self._mark_started)
            note = QLineEdit()
            note.setObjectName(f"note_{m.code}")
            note.setPlaceholderText(_("哪里不符合要求、需要补什么"))
            note.textEdited.connect(self._mark_started)
            # The reviewer's finding is the starting point of what the citizen is told.
            if r and r.status in (wire.MaterialStatus.WRONG, wire.MaterialStatus.MISSING) and r.note:
                note.setText(r.note)
            previous = kept.get(m.code)
            if previous is not None:
                combo.setCurrentIndex(combo.findData(previous.check))
                note.setText(previous.note)
            self.materials.setCellWidget(row, COL_CHECK, combo)
            self.materials.setCellWidget(row, COL_NOTE, note)
            capture = QPushButton(_("采集"))
            capture.setObjectName(f"capture_{m.code}")
            capture.setToolTip(_("用高拍仪或文件采集这份材料，随办件转后台审批"))
            capture.clicked.connect(
                lambda _c=False, code=m.code, name=m.name: self.capture_requested.emit(code, name)
            )
            self.materials.setCellWidget(row, COL_CAPTURE, capture)
        if materials:
            self.materials.setCurrentCell(0, COL_NAME)

    def show_captures(self, pages: dict[str, int]) -> None:
        """Which materials are captured (code -> pages): the 已采集 mark the back office relies on."""
        for row in range(self.materials.rowCount()):
            button = self.materials.cellWidget(row, COL_CAPTURE)
            if not isinstance(button, QPushButton):
                continue
            code = button.objectName().removeprefix("capture_")
            n = pages.get(code, 0)
            button.setText(_("已采集 {n} 页").format(n=n) if n else _("采集"))

    def show_license_summary(self, text: str) -> None:
        self.materials_hint.setText(f"{self._hint_text}　{text}" if text else self._hint_text)

    def _show_licenses(self, ctx: ServiceContext) -> None:
        """Materials the registry holds: marked 由电子证照提供 (unless the clerk chose otherwise), with a viewer."""
        if ctx.item is None:
            return
        for row, m in enumerate(ctx.item.materials):
            match = ctx.licenses.get(m.code)
            combo = self.materials.cellWidget(row, COL_CHECK)
            if not isinstance(combo, QComboBox):
                continue
            index = combo.findData(MaterialCheck.E_LICENSE)
            # Only a valid license may stand in for the paper.
            combo.model().item(index).setEnabled(bool(match and match.usable))  # type: ignore[attr-defined]
            if match is None:
                self.materials.removeCellWidget(row, COL_LICENSE)
                continue
            if match.usable and combo.currentData() is None:
                combo.setCurrentIndex(index)
            button = QPushButton(_("查看") if match.usable else _("无效"))
            button.setObjectName(f"license_{m.code}")
            button.setToolTip(match.describe())
            button.clicked.connect(
                lambda _c=False, no=match.license.license_no: self.license_view_requested.emit(no)
            )
            self.materials.setCellWidget(row, COL_LICENSE, button)
            review = self.materials.item(row, COL_REVIEW)
            if review is not None:
                text = self._review_texts.get(row, "") + "；" + match.describe()
                review.setText(text)
                review.setToolTip(text)

    def _show_reuse(self, ctx: ServiceContext) -> None:
        """Earlier submissions on offer: ticked to ask the citizen; once agreed, 复用既往材料."""
        if ctx.item is None:
            self.reuse_button.hide()
            return
        if (ctx.ticket.ticket_no, _materials_key(ctx.item)) != self._reuse_for:
            # Another citizen or checklist: the last one's ticks must not carry over.
            self._reuse_for = (ctx.ticket.ticket_no, _materials_key(ctx.item))
            for row in range(self.materials.rowCount()):
                self.materials.removeCellWidget(row, COL_REUSE)
        asking = False
        for row, m in enumerate(ctx.item.materials):
            offer = ctx.reuse.get(m.code)
            combo = self.materials.cellWidget(row, COL_CHECK)
            if not isinstance(combo, QComboBox):
                continue
            index = combo.findData(MaterialCheck.REUSED)
            agreed = offer is not None and offer.consented_at is not None
            # Only what the citizen agreed to may stand in for the paper.
            combo.model().item(index).setEnabled(agreed)  # type: ignore[attr-defined]
            if offer is None:
                if combo.currentData() == MaterialCheck.REUSED:
                    combo.setCurrentIndex(0)
                self.materials.removeCellWidget(row, COL_REUSE)
                continue
            old = self.materials.cellWidget(row, COL_REUSE)
            box = old if isinstance(old, QCheckBox) else QCheckBox()
            box.setObjectName(f"reuse_{m.code}")
            box.setToolTip(offer.describe())
            if agreed:
                box.setText(_("已同意"))
                box.setChecked(True)
                box.setEnabled(False)
                if (
                    combo.currentData() in (None, MaterialCheck.E_LICENSE)
                    and box.property("asked") is not True
                ):
                    # Asked and agreed: the earlier copy stands in, even where a license also would.
                    combo.setCurrentIndex(index)
                    box.setProperty("asked", True)
            else:
                box.setText(_("复用"))
                box.setEnabled(True)
                if not isinstance(old, QCheckBox):
                    # Offered where the registry does not already supply the material.
                    box.setChecked(combo.currentData() != MaterialCheck.E_LICENSE)
                asking = True
            if not isinstance(old, QCheckBox):
                self.materials.setCellWidget(row, COL_REUSE, box)
        self.reuse_button.setVisible(asking)

    def _ask_reuse(self) -> None:
        ctx = self.context
        if ctx is None:
            return
        chosen = {}
        for code, offer in ctx.reuse.items():
            box = self.findChild(QCheckBox, f"reuse_{code}")
            if offer.consented_at is None and isinstance(box, QCheckBox) and box.isChecked():
                chosen[code] = offer
                box.setProperty("asked", False)
        if not chosen:
            self.error.setText(_("请先勾选要复用的既往材料"))
            return
        self.error.clear()
        self._mark_started()
        self.reuse_consent_requested.emit(chosen)

    def _check_id(self, text: str) -> None:
        if self.id_edit.isReadOnly() or not text:
            self.id_hint.clear()
            return
        if len(text) < 18:
            self.id_hint.setText(_("还差 {n} 位").format(n=18 - len(text)))
            return
        try:
            number = validate_resident_id(text)
            self.id_hint.clear()
        except InvalidInput as exc:
            self.id_hint.setText(str(exc))
            return
        self.applicant_id_ready.emit(number)

    def fill_id_number(self, number: str) -> bool:
        """An ID-card reader's number goes into a walk-in's ID field; False if the field is not editable."""
        if self.context is None or self.id_edit.isReadOnly():
            return False
        self.id_edit.setText(number)
        self._mark_started()
        return True

    def _mark_started(self, *_args: object) -> None:
        if not self._started and self.context is not None:
            self._started = True
            self.work_started.emit()

    def _item_activated(self, index: int) -> None:
        code = self.item_chooser.itemData(index)
        if code is not None:
            self.item_chosen.emit(code)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if watched is self.materials and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            choice = CHECK_KEYS.get(Qt.Key(event.key()))
            row = self.materials.currentRow()
            if choice is not None and row >= 0:
                combo = self.materials.cellWidget(row, COL_CHECK)
                if isinstance(combo, QComboBox):
                    combo.setCurrentIndex(choice)
                    self._mark_started()
                    if row + 1 < self.materials.rowCount():
                        self.materials.setCurrentCell(row + 1, COL_NAME)
                    return True
        return super().eventFilter(watched, event)

    # -- reading ------------------------------------------------------------------

    def findings(self) -> dict[str, MaterialFinding]:
        out: dict[str, MaterialFinding] = {}
        if self.context is None or self.context.item is None:
            return out
        for row in range(self.materials.rowCount()):
            combo = self.materials.cellWidget(row, COL_CHECK)
            note = self.materials.cellWidget(row, COL_NOTE)
            if not isinstance(combo, QComboBox) or combo.currentData() is None:
                continue
            code = combo.objectName().removeprefix("check_")
            text = note.text() if isinstance(note, QLineEdit) else ""
            out[code] = MaterialFinding(MaterialCheck(combo.currentData()), text.strip())
        return out

    def checks(self) -> dict[str, MaterialCheck]:
        return {code: f.check for code, f in self.findings().items()}

    def set_check(self, material_code: str, check: MaterialCheck, note: str = "") -> None:
        combo = self.findChild(QComboBox, f"check_{material_code}")
        if combo is not None:
            combo.setCurrentIndex(combo.findData(check))
        edit = self.findChild(QLineEdit, f"note_{material_code}")
        if edit is not None and note:
            edit.setText(note)

    def _applicant(self) -> wire.Applicant | None:
        """A walk-in's applicant as typed, validated; None for a booking (the platform has it)."""
        if self.context is None or self.context.booking is not None:
            return None
        return wire.Applicant(
            name=validate_name(self.name_edit.text()),
            id_number=validate_resident_id(self.id_edit.text()),
            phone=validate_phone(self.phone_edit.text()),
        )

    def _emit(self, signal: SignalInstance) -> None:
        if self.context is None:
            return
        if self.context.item is None:
            self.error.setText(_("请先选择办理事项"))
            self.item_chooser.setFocus()
            return
        try:
            applicant = self._applicant()
        except InvalidInput as exc:
            self.error.setText(str(exc))
            return
        self.error.clear()
        signal.emit(self.findings(), applicant, self.notes.toPlainText().strip())

    def show_error(self, message: str) -> None:
        self.error.setText(message)


def _materials_key(item: wire.ServiceItem | None) -> tuple[str, ...] | None:
    """What the checklist was built for: the item and its materials (a visit's list grows with its items)."""
    return (item.code, *(m.code for m in item.materials)) if item is not None else None
