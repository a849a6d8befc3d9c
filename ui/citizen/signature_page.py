"""Signing (申请人签名): the pad, undo/redo/clear, and a confirm that hands the strokes on."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from hallclient.i18n import N_
from ui.citizen.page import CitizenPage, label, wrap_button
from ui.citizen.signature_pad import SignaturePad, Strokes

TITLE = N_("请在下方框内签名")
SUBTITLE = N_("您的签名将印在本次办理的文书上")
PLACEHOLDER = N_("请在此处签名")
UNDO = N_("撤销一笔")
REDO = N_("恢复一笔")
CLEAR = N_("全部清除")
CONFIRM = N_("确认签名")


class SignaturePage(CitizenPage):
    signed = Signal(object)  # Strokes

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("signaturePage", parent)
        self.title = label("citizenTitle")
        self.subtitle = label("citizenSubtitle")
        self.pad = SignaturePad()
        self.pad.changed.connect(self._update_buttons)
        self.undo_button = wrap_button("undoButton")
        self.redo_button = wrap_button("redoButton")
        self.clear_button = wrap_button("clearButton")
        self.confirm_button = wrap_button("primaryButton")
        for b in (self.undo_button, self.redo_button, self.clear_button, self.confirm_button):
            # Widths by proportion, whatever the language; a long label wraps and the pad yields.
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.undo_button.clicked.connect(self.pad.undo)
        self.redo_button.clicked.connect(self.pad.redo)
        self.clear_button.clicked.connect(self.pad.clear)
        self.confirm_button.clicked.connect(self._confirm)

        row = QHBoxLayout()
        row.setSpacing(20)
        row.addWidget(self.undo_button, 2)
        row.addWidget(self.redo_button, 2)
        row.addWidget(self.clear_button, 2)
        row.addSpacing(30)
        row.addWidget(self.confirm_button, 3)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 16, 48, 28)
        layout.setSpacing(12)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.pad, 1)
        layout.addLayout(row)
        self._update_buttons()

    def start(self) -> None:
        self.pad.reset()

    def _confirm(self) -> None:
        if not self.pad.is_empty:
            self.signed.emit(self.pad.strokes)

    @property
    def strokes(self) -> Strokes:
        return self.pad.strokes

    def _update_buttons(self) -> None:
        self.undo_button.setEnabled(self.pad.can_undo)
        self.redo_button.setEnabled(self.pad.can_redo)
        self.clear_button.setEnabled(not self.pad.is_empty)
        self.confirm_button.setEnabled(not self.pad.is_empty)

    def _retranslate(self) -> None:
        t = self.t
        self.title.setText(t(TITLE))
        self.subtitle.setText(t(SUBTITLE))
        self.pad.set_placeholder(t(PLACEHOLDER))
        self.undo_button.set_full_text(t(UNDO))
        self.redo_button.set_full_text(t(REDO))
        self.clear_button.set_full_text(t(CLEAR))
        self.confirm_button.set_full_text(t(CONFIRM))

    def _restyle(self) -> None:
        self.pad.high_contrast = self.large
        self.pad.update()
