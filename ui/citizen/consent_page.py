"""复用既往材料: the citizen agrees, or not, that papers handed in for an earlier case are used again.

Shows only what the citizen needs to decide and nothing personal: the earlier
item, the day, the materials. The answer goes back to the clerk's window
(``answered``); a countdown that runs out is no consent: paper, as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QSizePolicy, QVBoxLayout, QWidget

from hallclient.i18n import N_
from ui.citizen.page import CitizenPage, label, wrap_button

TITLE = N_("复用您以前提交的材料")
OFFER = N_("以下材料使用您在 {date} 办理“{item}”时提交的材料，不用再交纸质件：")
AGREE = N_("同意复用")
REFUSE = N_("不同意")
COUNTDOWN = N_("{s} 秒后未选择，将按“不同意”处理，请向工作人员提交纸质材料")

AGREED, REFUSED, TIMED_OUT = "agreed", "refused", "timeout"


@dataclass(frozen=True)
class ConsentLine:
    """One earlier submission as the citizen sees it (no personal data)."""

    date: str
    item: str
    material: str


class ConsentPage(CitizenPage):
    answered = Signal(str)  # AGREED, REFUSED or TIMED_OUT

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("consentPage", parent)
        self._lines: list[ConsentLine] = []
        self._remaining = 0
        self.active = False
        self.title = label("citizenTitle")
        self.card = QFrame()
        self.card.setObjectName("materialsCard")
        self.card_layout = QVBoxLayout(self.card)
        self.card_layout.setContentsMargins(28, 20, 28, 20)
        self.card_layout.setSpacing(10)
        self.countdown_label = label("ratingCountdown")
        self.agree_button = wrap_button("primaryButton")
        self.refuse_button = wrap_button("refuseButton")
        for b in (self.agree_button, self.refuse_button):
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.agree_button.clicked.connect(lambda: self._answer(AGREED))
        self.refuse_button.clicked.connect(lambda: self._answer(REFUSED))
        row = QHBoxLayout()
        row.setSpacing(30)
        row.addWidget(self.refuse_button, 2)
        row.addWidget(self.agree_button, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 20, 60, 28)
        layout.setSpacing(16)
        layout.addWidget(self.title)
        layout.addWidget(self.card)
        layout.addStretch(1)
        layout.addWidget(self.countdown_label)
        layout.addLayout(row)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    def start(self, lines: Sequence[ConsentLine], timeout_s: int) -> None:
        self._lines = list(lines)
        self._remaining = max(1, timeout_s)
        self.active = True
        self._timer.start()
        self._retranslate()

    def stop(self) -> None:
        """The citizen left or the clerk moved on: no answer is sent."""
        self.active = False
        self._timer.stop()

    def time_out(self) -> None:
        """End the countdown at once (tests' stand-in for waiting it out)."""
        self._answer(TIMED_OUT)

    def _tick(self) -> None:
        self._remaining -= 1
        if self._remaining <= 0:
            self._answer(TIMED_OUT)
            return
        self._show_countdown()

    def _answer(self, answer: str) -> None:
        if not self.active:
            return
        self.stop()
        self.answered.emit(answer)

    def _show_countdown(self) -> None:
        self.countdown_label.setText(self.t(COUNTDOWN).format(s=self._remaining))

    def _retranslate(self) -> None:
        t = self.t
        self.title.setText(t(TITLE))
        self.agree_button.set_full_text(t(AGREE))
        self.refuse_button.set_full_text(t(REFUSE))
        while self.card_layout.count():
            old = self.card_layout.takeAt(0)
            w = old.widget() if old is not None else None
            if w is not None:
                w.deleteLater()
        # One paragraph per earlier case, its materials listed under it.
        groups: dict[tuple[str, str], list[str]] = {}
        for line in self._lines:
            groups.setdefault((line.date, line.item), []).append(line.material)
        for (date, item), materials in groups.items():
            head = label("materialsTitle", align=Qt.AlignmentFlag.AlignLeft)
            head.setText(t(OFFER).format(date=date, item=item))
            self.card_layout.addWidget(head)
            body = label("materialsList", align=Qt.AlignmentFlag.AlignLeft)
            body.setText("\n".join(f"· {m}" for m in materials))
            self.card_layout.addWidget(body)
        self._show_countdown()
