"""After 不满意/非常不满意: what went wrong (several may be picked) and an optional remark.

The level the citizen chose stands whatever happens here: if the countdown runs
out, the rating is stored with the reasons picked so far (maybe none). The hall
then has a follow-up (整改) due in working days.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QSizePolicy, QVBoxLayout, QWidget

from hallclient.i18n import N_
from hallclient.ratings import MAX_COMMENT_CHARS, REASONS
from hallclient.wire import RatingLevel
from ui.citizen.page import CitizenPage, WrapButton, label, wrap_button
from ui.citizen.rating_page import level_label

SORRY = N_("很抱歉，让您不满意了")
ASK = N_("您的评价：{level}。请告诉我们哪里做得不好（可多选）")
COMMENT = N_("其他意见（可不填）")
PROMISE = N_("大厅将在 {days} 个工作日内整改")
SUBMIT = N_("提交评价")
COUNTDOWN = N_("{s} 秒后将自动提交")

COLUMNS = 4


class ReasonsPage(CitizenPage):
    submitted = Signal(object, object, str)  # RatingLevel, list[str] of reasons (msgids), comment

    def __init__(self, follow_up_days: int, parent: QWidget | None = None) -> None:
        super().__init__("reasonsPage", parent)
        self.follow_up_days = follow_up_days
        self.level = RatingLevel.DISSATISFIED
        self.title = label("citizenTitle")
        self.ask = label("citizenSubtitle")
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(12)
        self.reason_buttons: dict[str, WrapButton] = {}
        for i, reason in enumerate(REASONS):
            b = WrapButton()
            b.setObjectName("reasonButton")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setCheckable(True)
            # Equal columns whatever the text; a long reason wraps inside its button.
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
            b.wrap_margin = 32
            grid.addWidget(b, i // COLUMNS, i % COLUMNS)
            self.reason_buttons[reason] = b
        for c in range(COLUMNS):
            grid.setColumnStretch(c, 1)
        self.comment = QLineEdit()
        self.comment.setObjectName("ratingComment")
        self.comment.setMaxLength(MAX_COMMENT_CHARS)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        self.promise = label("citizenHint", align=left)
        self.countdown_label = label("ratingCountdown", align=right)
        self.submit_button = wrap_button("primaryButton")
        self.submit_button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        self.submit_button.clicked.connect(self.submit)

        # The remark and the submit button share a row, and the two notes another: the reasons
        # get the height, also in large type.
        send = QHBoxLayout()
        send.setSpacing(18)
        send.addWidget(self.comment, 3)
        send.addWidget(self.submit_button, 1)
        notes = QHBoxLayout()
        notes.addWidget(self.promise, 3)
        notes.addWidget(self.countdown_label, 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(60, 8, 60, 14)
        layout.setSpacing(10)
        layout.addWidget(self.title)
        layout.addWidget(self.ask)
        layout.addSpacing(6)
        layout.addLayout(grid)
        layout.addSpacing(18)
        layout.addLayout(send)
        layout.addStretch(1)
        layout.addLayout(notes)

        self._remaining = 0
        self._timer = QTimer(self)
        self._timer.setObjectName("reasonsCountdownTimer")
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        # Touching the page means the citizen is still there: give them the full time again.
        for b in self.reason_buttons.values():
            b.toggled.connect(self._keep_alive)
        self.comment.textEdited.connect(self._keep_alive)
        self._timeout_s = 60

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self, level: RatingLevel, timeout_s: int) -> None:
        self.level = level
        self._timeout_s = timeout_s
        for b in self.reason_buttons.values():
            b.blockSignals(True)
            b.setChecked(False)
            b.blockSignals(False)
        self.comment.clear()
        self.submit_button.setEnabled(True)
        self._remaining = timeout_s
        self._retranslate()
        self._timer.start()

    def picked(self) -> list[str]:
        return [r for r, b in self.reason_buttons.items() if b.isChecked()]

    def _keep_alive(self, *_args: object) -> None:
        if self._timer.isActive():
            self._remaining = self._timeout_s
            self._show_remaining()

    def _tick(self) -> None:
        self._remaining -= 1
        if self._remaining <= 0:
            self.submit()
        else:
            self._show_remaining()

    def submit(self) -> None:
        if not self._timer.isActive():
            return  # submitted once
        self._timer.stop()
        self.submit_button.setEnabled(False)
        self.submitted.emit(self.level, self.picked(), self.comment.text())

    def expire_now(self) -> None:
        if self._timer.isActive():
            self._remaining = 1
            self._tick()

    def _show_remaining(self) -> None:
        self.countdown_label.setText(self.t(COUNTDOWN).format(s=self._remaining))

    def _retranslate(self) -> None:
        t = self.t
        self.title.setText(t(SORRY))
        self.ask.setText(t(ASK).format(level=t(level_label(self.level))))
        for reason, b in self.reason_buttons.items():
            b.set_full_text(t(reason))
        self.comment.setPlaceholderText(t(COMMENT))
        self.promise.setText(t(PROMISE).format(days=self.follow_up_days))
        self.submit_button.set_full_text(t(SUBMIT))
        self._show_remaining()

    def _restyle(self) -> None:
        self.comment.setAlignment(Qt.AlignmentFlag.AlignLeft)
