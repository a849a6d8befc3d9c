"""The 好差评 page: five levels, a countdown, and nothing chosen for the citizen."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from hallclient.i18n import N_, _
from hallclient.wire import RatingLevel

# The national 好差评 scale, best first; colours go from green to red.
LEVELS = [
    (RatingLevel.VERY_SATISFIED, N_("非常满意"), "#15803d"),
    (RatingLevel.SATISFIED, N_("满意"), "#4d7c0f"),
    (RatingLevel.BASIC, N_("基本满意"), "#a16207"),
    (RatingLevel.DISSATISFIED, N_("不满意"), "#c2410c"),
    (RatingLevel.VERY_DISSATISFIED, N_("非常不满意"), "#b91c1c"),
]


class RatingPage(QWidget):
    rated = Signal(object)  # RatingLevel; NOT_RATED on timeout

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ratingPage")
        self.title = QLabel(_("请您对本次服务进行评价"))
        self.title.setObjectName("citizenTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle = QLabel()
        self.subtitle.setObjectName("citizenSubtitle")
        self.subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle.setWordWrap(True)
        self.countdown_label = QLabel()
        self.countdown_label.setObjectName("ratingCountdown")
        self.countdown_label.setAlignment(Qt.AlignmentFlag.AlignCenter)

        grid = QGridLayout()
        self.buttons: dict[RatingLevel, QPushButton] = {}
        for i, (level, label, color) in enumerate(LEVELS):
            b = QPushButton(_(label))
            b.setObjectName(f"rate_{level.value}")
            b.setMinimumHeight(110)
            b.setStyleSheet(
                f"QPushButton {{ background: {color}; color: white; font-size: 30px; "
                f"border-radius: 12px; }} QPushButton:pressed {{ background: #111827; }}"
            )
            b.clicked.connect(lambda _checked=False, lv=level: self._choose(lv))
            grid.addWidget(b, 0, i)
            self.buttons[level] = b

        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addSpacing(30)
        layout.addLayout(grid)
        layout.addSpacing(20)
        layout.addWidget(self.countdown_label)
        layout.addStretch(1)

        self._remaining = 0
        self._timer = QTimer(self)
        self._timer.setObjectName("ratingCountdownTimer")
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    def start(self, item_name: str, timeout_s: int) -> None:
        self.subtitle.setText(_("办理事项：{item}").format(item=item_name))
        self._remaining = timeout_s
        for b in self.buttons.values():
            b.setEnabled(True)
        self._show_remaining()
        self._timer.start()

    def _tick(self) -> None:
        self._remaining -= 1
        if self._remaining <= 0:
            self._finish(RatingLevel.NOT_RATED)
        else:
            self._show_remaining()

    def _show_remaining(self) -> None:
        self.countdown_label.setText(_("{s} 秒后未评价将记为“未评价”").format(s=self._remaining))

    def _choose(self, level: RatingLevel) -> None:
        self._finish(level)

    def _finish(self, level: RatingLevel) -> None:
        if not self._timer.isActive():
            return  # one rating per service: a second tap or a late tick is ignored
        self._timer.stop()
        for b in self.buttons.values():
            b.setEnabled(False)
        self.rated.emit(level)

    def expire_now(self) -> None:
        """End the countdown at once (the demo's and tests' stand-in for waiting it out)."""
        if self._timer.isActive():
            self._remaining = 1
            self._tick()
