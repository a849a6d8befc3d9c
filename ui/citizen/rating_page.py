"""The 好差评 page: five levels, a countdown, and nothing chosen for the citizen.

When the countdown runs out the page reports ``RatingLevel.NOT_RATED`` (未评价):
the absence of a rating is stored as such, never turned into a grade.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QVBoxLayout, QWidget

from hallclient.i18n import N_
from hallclient.wire import RatingLevel
from ui.citizen.page import CitizenPage, WrapToolButton, label, unbreakable_parts
from ui.citizen.style import rating_button_px, rating_button_sheet

# The national 好差评 scale, best first; colours go from green to red, faces from a smile to a frown.
LEVELS = [
    (RatingLevel.VERY_SATISFIED, N_("非常满意"), "#15803d"),
    (RatingLevel.SATISFIED, N_("满意"), "#3f7d1c"),
    (RatingLevel.BASIC, N_("基本满意"), "#8a5a00"),
    (RatingLevel.DISSATISFIED, N_("不满意"), "#c2410c"),
    (RatingLevel.VERY_DISSATISFIED, N_("非常不满意"), "#b91c1c"),
]
_SMILE = {
    RatingLevel.VERY_SATISFIED: 1.0,
    RatingLevel.SATISFIED: 0.55,
    RatingLevel.BASIC: 0.0,
    RatingLevel.DISSATISFIED: -0.55,
    RatingLevel.VERY_DISSATISFIED: -1.0,
}
NOT_RATED = N_("未评价")

TITLE = N_("请您对本次服务进行评价")
ITEM = N_("办理事项：{item}")
VISIT_ITEMS = N_("本次共办理 {n} 个事项：{items}")
ONE_RATING = N_("一次办理，一次评价")
ANONYMOUS = N_("评价由您本人作出，窗口工作人员看不到您的评价")
COUNTDOWN = N_("{s} 秒后未评价将记为“未评价”")


def level_label(level: RatingLevel) -> str:
    """The untranslated (msgid) name of a level, 未评价 included."""
    return next((lbl for lv, lbl, _c in LEVELS if lv is level), NOT_RATED)


def face_icon(smile: float, size: int) -> QIcon:
    """A simple white face: a smile for +1, a straight mouth for 0, a frown for -1."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    w = max(2.0, size / 16)
    pen = QPen(QColor("#ffffff"), w)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    p.setPen(pen)
    r = QRectF(w, w, size - 2 * w, size - 2 * w)
    p.drawEllipse(r)
    p.setBrush(QColor("#ffffff"))
    eye = size / 14
    for ex in (0.36, 0.64):
        p.drawEllipse(QPointF(r.x() + r.width() * ex, r.y() + r.height() * 0.40), eye, eye)
    p.setBrush(Qt.BrushStyle.NoBrush)
    y = r.y() + r.height() * (0.66 - 0.04 * smile)
    left = QPointF(r.x() + r.width() * 0.30, y)
    right = QPointF(r.x() + r.width() * 0.70, y)
    path = QPainterPath(left)
    path.quadTo(QPointF(r.center().x(), y + r.height() * 0.22 * smile), right)
    p.drawPath(path)
    p.end()
    return QIcon(pm)


class RatingPage(CitizenPage):
    rated = Signal(object)  # RatingLevel; NOT_RATED on timeout

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("ratingPage", parent)
        self.item_name = ""
        self.items: list[str] = []
        self.title = label("citizenTitle")
        self.subtitle = label("citizenSubtitle")
        self.items_label = label("citizenHint")
        self.items_label.setObjectName("ratingItems")
        self.anonymous = label("citizenHint")
        self.countdown_label = label("ratingCountdown")

        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        self.buttons: dict[RatingLevel, WrapToolButton] = {}
        for i, (level, _label, _color) in enumerate(LEVELS):
            b = WrapToolButton()
            b.setObjectName(f"rate_{level.value}")
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            # Five equal buttons whatever the language; a long name wraps inside its button.
            b.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.clicked.connect(lambda _checked=False, lv=level: self._choose(lv))
            grid.addWidget(b, 0, i)
            grid.setColumnStretch(i, 1)
            self.buttons[level] = b

        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 10, 40, 20)
        layout.addStretch(1)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.items_label)
        layout.addSpacing(28)
        layout.addLayout(grid)
        layout.addSpacing(24)
        layout.addWidget(self.anonymous)
        layout.addWidget(self.countdown_label)
        layout.addStretch(1)

        self._font_px = rating_button_px(False)
        self._remaining = 0
        self._timer = QTimer(self)
        self._timer.setObjectName("ratingCountdownTimer")
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._restyle()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self, item_name: str, timeout_s: int, *, items: Sequence[str] = ()) -> None:
        """Ask for one rating; ``items`` names every item of a visit of several (rated together)."""
        self.item_name = item_name
        self.items = list(items) if len(items) > 1 else []
        self._remaining = timeout_s
        for b in self.buttons.values():
            b.setEnabled(True)
        self._retranslate()
        self._timer.start()

    def _tick(self) -> None:
        self._remaining -= 1
        if self._remaining <= 0:
            self._finish(RatingLevel.NOT_RATED)
        else:
            self._show_remaining()

    def _show_remaining(self) -> None:
        self.countdown_label.setText(self.t(COUNTDOWN).format(s=self._remaining))

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

    def abandon(self) -> None:
        """The service is over without a choice (a new decision came): 未评价."""
        self._finish(RatingLevel.NOT_RATED)

    def _retranslate(self) -> None:
        t = self.t
        self.title.setText(t(TITLE))
        self.subtitle.setText(t(ITEM).format(item=self.item_name))
        self.items_label.setVisible(bool(self.items))
        if self.items:
            # Item names are the catalog's (Chinese); the sentence around them is translated.
            self.items_label.setText(
                t(VISIT_ITEMS).format(n=len(self.items), items="、".join(self.items)) + "　" + t(ONE_RATING)
            )
        self.anonymous.setText(t(ANONYMOUS))
        for level, text, _c in LEVELS:
            self.buttons[level].set_full_text(t(text))
        self._show_remaining()
        self._fit_text()

    def _restyle(self) -> None:
        self._font_px = rating_button_px(self.large, self.scale)
        icon = round(84 * self.scale * (1.2 if self.large else 1.0))
        for level, _text, _color in LEVELS:
            b = self.buttons[level]
            b.wrap_margin = round(2 * (8 + 4) * self.scale) + 28  # the sheet's padding and rim, and air
            b.setIcon(face_icon(_SMILE[level], icon))
            b.setIconSize(QSize(icon, icon))
        self._apply_sheets()
        self._fit_text()

    def _apply_sheets(self) -> None:
        for level, _text, color in LEVELS:
            self.buttons[level].setStyleSheet(
                rating_button_sheet(color, self.large, self.scale, self._font_px)
            )

    def _fit_text(self) -> None:
        """One type size for all five, small enough that each name's longest word fits its button
        (a word cannot wrap; an English level name may be one long word)."""
        base = rating_button_px(self.large, self.scale)
        font = QFont(self.font())
        font.setBold(True)
        font.setPixelSize(round(base))
        metrics = QFontMetrics(font)
        px = base
        for b in self.buttons.values():
            room = b.width() - b.wrap_margin
            if room <= 0 or not b.full_text:
                return  # not laid out yet
            need = max(metrics.horizontalAdvance(w) for w in unbreakable_parts(b.full_text))
            if need > room:
                px = min(px, base * room / need)
        px = max(px, base * 0.6)
        if abs(px - self._font_px) >= 1:
            self._font_px = px
            self._apply_sheets()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_text()
