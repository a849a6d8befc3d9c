"""A signature pad for mouse, touch and pen that records vector strokes, not pixels.

A stroke is the list of points from touching down to lifting; each point is
normalised to 0..1 within the signing area, y growing downwards. The signing
area keeps the aspect ratio the printed receipt's signature box assumes
(``PAD_ASPECT``, see printing.common.SignatureBox), so a signature prints
unstretched whatever the pad's size on screen. Undo, redo and clear act on
whole strokes; clearing can be undone too.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTabletEvent,
    QTouchEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

PAD_ASPECT = 3.0  # width / height of the signing area, as printing.common.SignatureBox draws it
MIN_STEP = 1.5  # pixels a point must move from the last one to be recorded

Point = tuple[float, float]
Stroke = list[Point]
Strokes = list[Stroke]


class SignaturePad(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signaturePad")
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(300, 100)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.placeholder = ""
        self.high_contrast = False
        self._strokes: Strokes = []
        self._current: Stroke | None = None
        self._last = QPointF()
        self._undo: list[Strokes] = []
        self._redo: list[Strokes] = []

    # -- state ------------------------------------------------------------------

    @property
    def strokes(self) -> Strokes:
        """A copy of the strokes drawn so far (the one being drawn is not included until lifted)."""
        return [list(s) for s in self._strokes]

    @property
    def is_empty(self) -> bool:
        return not self._strokes

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def _commit(self, new: Strokes) -> None:
        self._undo.append(self._strokes)
        self._redo.clear()
        self._strokes = new
        self.update()
        self.changed.emit()

    def clear(self) -> None:
        """Start again; the cleared signature can still be brought back with undo."""
        self._current = None
        if self._strokes:
            self._commit([])

    def reset(self) -> None:
        """Empty, with no history: for the next citizen."""
        self._strokes, self._current = [], None
        self._undo.clear()
        self._redo.clear()
        self.update()
        self.changed.emit()

    def undo(self) -> None:
        if self._undo:
            self._redo.append(self._strokes)
            self._strokes = self._undo.pop()
            self.update()
            self.changed.emit()

    def redo(self) -> None:
        if self._redo:
            self._undo.append(self._strokes)
            self._strokes = self._redo.pop()
            self.update()
            self.changed.emit()

    def set_placeholder(self, text: str) -> None:
        self.placeholder = text
        self.update()

    # -- geometry ---------------------------------------------------------------

    def area(self) -> QRectF:
        """The signing area: the largest PAD_ASPECT rectangle centred in the widget."""
        r = QRectF(self.rect()).adjusted(3, 3, -3, -3)
        w = min(r.width(), r.height() * PAD_ASPECT)
        h = w / PAD_ASPECT
        return QRectF(r.center().x() - w / 2, r.center().y() - h / 2, w, h)

    def to_pad(self, pos: QPointF) -> Point:
        a = self.area()
        x = min(max((pos.x() - a.x()) / a.width(), 0.0), 1.0)
        y = min(max((pos.y() - a.y()) / a.height(), 0.0), 1.0)
        return (round(x, 4), round(y, 4))

    def to_widget(self, p: Point) -> QPointF:
        a = self.area()
        return QPointF(a.x() + p[0] * a.width(), a.y() + p[1] * a.height())

    # -- input: mouse, pen and touch all end up here ------------------------------

    def _begin(self, pos: QPointF) -> None:
        self._current = [self.to_pad(pos)]
        self._last = pos
        self.update()

    def _extend(self, pos: QPointF) -> None:
        if self._current is None:
            return
        d = pos - self._last
        if abs(d.x()) + abs(d.y()) < MIN_STEP:
            return
        self._current.append(self.to_pad(pos))
        self._last = pos
        self.update()

    def _end(self, pos: QPointF | None = None) -> None:
        if self._current is None:
            return
        if pos is not None:
            self._extend(pos)
        stroke, self._current = self._current, None
        self._commit([*self._strokes, stroke])

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._extend(event.position())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._end(event.position())
        event.accept()

    def tabletEvent(self, event: QTabletEvent) -> None:
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            self._begin(event.position())
        elif kind == QEvent.Type.TabletMove and event.pressure() > 0:
            self._extend(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self._end(event.position())
        event.accept()  # accepted: Qt does not also synthesise mouse events

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            assert isinstance(event, QTouchEvent)
            points = event.points()
            if points:
                pos = points[0].position()  # one finger signs; a resting palm's second point is ignored
                if kind == QEvent.Type.TouchBegin:
                    self._begin(pos)
                elif kind == QEvent.Type.TouchUpdate:
                    self._extend(pos)
                else:
                    self._end(pos)
            event.accept()
            return True
        if kind == QEvent.Type.TouchCancel:
            self._current = None
            self.update()
            event.accept()
            return True
        return super().event(event)

    # -- painting -----------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        a = self.area()
        p.fillRect(a, QColor("#ffffff"))
        border = QColor("#ffd600") if self.high_contrast else QColor("#94a3b8")
        p.setPen(QPen(border, 4 if self.high_contrast else 2))
        p.drawRoundedRect(a, 10, 10)
        # A baseline to sign on, as on paper.
        base = QPen(QColor("#cbd5e1"), 2, Qt.PenStyle.DashLine)
        p.setPen(base)
        y = a.y() + a.height() * 0.74
        p.drawLine(QPointF(a.x() + a.width() * 0.06, y), QPointF(a.right() - a.width() * 0.06, y))
        if not self._strokes and self._current is None and self.placeholder:
            font = QFont(self.font())
            font.setPixelSize(max(14, int(a.height() * 0.14)))
            p.setFont(font)
            p.setPen(QColor("#94a3b8"))
            p.drawText(a, Qt.AlignmentFlag.AlignCenter, self.placeholder)
        ink = QPen(QColor("#10205a"), max(2.5, a.height() / 70))
        ink.setCapStyle(Qt.PenCapStyle.RoundCap)
        ink.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        p.setPen(ink)
        strokes = self._strokes + ([self._current] if self._current else [])
        for stroke in strokes:
            if len(stroke) == 1:
                p.drawPoint(self.to_widget(stroke[0]))
                continue
            path = QPainterPath(self.to_widget(stroke[0]))
            for pt in stroke[1:]:
                path.lineTo(self.to_widget(pt))
            p.drawPath(path)
        p.end()
