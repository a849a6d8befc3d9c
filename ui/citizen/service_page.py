"""During service: the item, the applicant's data masked, the materials, and a confirm button.

Only masked data ever reaches this screen (hallclient.masking): the person behind
the citizen in the queue can read it too.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from hallclient.counter import ServiceContext
from hallclient.i18n import N_
from hallclient.masking import mask_id_number, mask_name, mask_phone
from ui.citizen.page import CitizenPage, button, label

TITLE = N_("请核对您的信息")
ITEM = N_("办理事项：{item}")
NAME = N_("申请人")
ID_NUMBER = N_("身份证号")
PHONE = N_("手机号")
WALK_IN = N_("现场取号 {ticket}")
MATERIALS = N_("需要提交的材料")
NO_MATERIALS = N_("无需提交材料")
HINT = N_("如信息有误，请告诉窗口工作人员")
CONFIRM = N_("信息无误，确认")
CONFIRMED = N_("已确认")

_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


class ServicePage(CitizenPage):
    confirmed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("servicePage", parent)
        self.item_name = ""
        self.ticket_no = ""
        self.person: tuple[str, str, str] | None = None  # masked name, ID, phone
        self.materials: list[str] = []
        self.is_confirmed = False

        self.title = label("citizenTitle")
        self.item = label("citizenSubtitle")
        self.fields = QGridLayout()
        self.fields.setHorizontalSpacing(24)
        self.fields.setVerticalSpacing(14)
        self.field_labels = [label("fieldLabel", align=_RIGHT, wrap=False) for _ in range(3)]
        self.field_values = [label("fieldValue", align=_LEFT, wrap=False) for _ in range(3)]
        for i, (k, v) in enumerate(zip(self.field_labels, self.field_values, strict=True)):
            self.fields.addWidget(k, i, 0)
            self.fields.addWidget(v, i, 1)
        self.fields.setColumnStretch(1, 1)
        self.walk_in = label("fieldValue")
        self.hint = label("citizenHint")
        self.confirm_button = button("primaryButton")
        self.confirm_button.clicked.connect(self._confirm)

        left = QVBoxLayout()
        left.setSpacing(16)
        left.addWidget(self.title)
        left.addWidget(self.item)
        left.addSpacing(12)
        left.addLayout(self.fields)
        left.addWidget(self.walk_in)
        left.addStretch(1)
        left.addWidget(self.hint)
        left.addWidget(self.confirm_button)

        self.materials_card = QFrame()
        self.materials_card.setObjectName("materialsCard")
        ml = QVBoxLayout(self.materials_card)
        ml.setContentsMargins(24, 18, 24, 18)
        self.materials_title = label("materialsTitle", align=_LEFT)
        # One row per material, its number apart, so a long name wraps under itself.
        self.materials_box = QWidget()
        box = QVBoxLayout(self.materials_box)
        box.setContentsMargins(0, 4, 0, 0)
        self.materials_grid = QGridLayout()
        box.addLayout(self.materials_grid)
        box.addStretch(1)
        self.materials_grid.setHorizontalSpacing(10)
        self.materials_grid.setVerticalSpacing(8)
        self.materials_grid.setColumnStretch(1, 1)
        self.material_rows: list[tuple[QLabel, QLabel]] = []
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.materials_box)
        ml.addWidget(self.materials_title)
        ml.addWidget(scroll, 1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(48, 24, 48, 32)
        layout.setSpacing(40)
        layout.addLayout(left, 11)
        layout.addWidget(self.materials_card, 9)

    def show_context(self, ctx: ServiceContext) -> None:
        self.ticket_no = ctx.ticket.ticket_no
        self.item_name = ctx.item.name if ctx.item else "—"
        if ctx.booking is not None:
            a = ctx.booking.applicant
            self.person = (mask_name(a.name), mask_id_number(a.id_number), mask_phone(a.phone))
        else:
            self.person = None
        self.materials = [m.name for m in ctx.item.materials] if ctx.item else []
        self.is_confirmed = False
        self._retranslate()

    def _confirm(self) -> None:
        if self.is_confirmed:
            return
        self.is_confirmed = True
        self._retranslate()
        self.confirmed.emit()

    def _retranslate(self) -> None:
        t = self.t
        self.title.setText(t(TITLE))
        self.item.setText(t(ITEM).format(item=self.item_name))
        names = (t(NAME), t(ID_NUMBER), t(PHONE))
        for k, v, name, value in zip(
            self.field_labels, self.field_values, names, self.person or ("", "", ""), strict=True
        ):
            k.setText(name)
            v.setText(value)
            k.setVisible(self.person is not None)
            v.setVisible(self.person is not None)
        self.walk_in.setVisible(self.person is None)
        self.walk_in.setText(t(WALK_IN).format(ticket=self.ticket_no))
        self.materials_title.setText(t(MATERIALS))
        self._fill_materials()
        self.hint.setText(t(HINT))
        self.confirm_button.setText(t(CONFIRMED) if self.is_confirmed else t(CONFIRM))
        self.confirm_button.setEnabled(not self.is_confirmed)

    def _fill_materials(self) -> None:
        names = self.materials or [self.t(NO_MATERIALS)]
        top_right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop
        top_left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        while len(self.material_rows) < len(names):
            row = len(self.material_rows)
            number, name = (
                label("materialsList", align=top_right, wrap=False),
                label("materialsList", align=top_left),
            )
            self.materials_grid.addWidget(number, row, 0, top_right)
            self.materials_grid.addWidget(name, row, 1)
            self.material_rows.append((number, name))
        for i, (number, name) in enumerate(self.material_rows):
            shown = i < len(names)
            number.setVisible(shown and bool(self.materials))
            name.setVisible(shown)
            number.setText(f"{i + 1}." if shown else "")
            name.setText(names[i] if shown else "")

    def materials_text(self) -> str:
        return "\n".join(name.text() for _n, name in self.material_rows if name.isVisibleTo(self))

    def details_text(self) -> str:
        """Everything the page shows about the applicant, as text (tests)."""
        parts = [self.item.text(), self.walk_in.text() if self.person is None else ""]
        parts += [f"{k.text()} {v.text()}" for k, v in zip(self.field_labels, self.field_values, strict=True)]
        return "\n".join(p for p in parts if p.strip())
