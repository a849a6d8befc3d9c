"""What every page of the citizen screen shares: its own translator, and resizing with the screen.

The citizen picks the language on this screen, independently of the clerk: a page
never uses the clerk's ``_``. It keeps ``self.t`` (from ``translator(lang)``) and
sets every text in ``_retranslate``, which runs again when the citizen switches.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QLabel, QPushButton, QToolButton, QWidget

Translate = Callable[[str], str]


def label(name: str, *, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignCenter, wrap: bool = True) -> QLabel:
    lbl = QLabel()
    lbl.setObjectName(name)
    lbl.setAlignment(align)
    lbl.setWordWrap(wrap)
    lbl.setTextFormat(Qt.TextFormat.PlainText)
    return lbl


def _touch_button(b: QPushButton, name: str) -> None:
    if name:
        b.setObjectName(name)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a touch screen: no focus rings, no keyboard traps
    b.setCursor(Qt.CursorShape.PointingHandCursor)


def button(name: str = "") -> QPushButton:
    b = QPushButton()
    _touch_button(b, name)
    return b


def wrap_button(name: str = "") -> WrapButton:
    """A button whose label wraps to its width: set the text with ``set_full_text``."""
    b = WrapButton()
    _touch_button(b, name)
    return b


class CitizenPage(QWidget):
    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.t: Translate = str
        self.lang = "zh_CN"
        self.scale = 1.0
        self.large = False

    def retranslate(self, t: Translate, lang: str) -> None:
        self.t, self.lang = t, lang
        self._retranslate()

    def _retranslate(self) -> None:
        """Set every text from the page's state with ``self.t``."""

    def restyle(self, scale: float, large: bool) -> None:
        self.scale, self.large = scale, large
        self._restyle()

    def _restyle(self) -> None:
        """Sizes the stylesheet cannot give (painted widgets, fixed sizes)."""


_TOKENS = re.compile(r"[A-Za-z0-9'’.,;:!?()\-/]+|\s+|.")


def wrap_text(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` with line breaks so each line fits ``width``: between words, or between any two
    Chinese characters (which need no space to break)."""
    if width <= 0 or metrics.horizontalAdvance(text) <= width:
        return text
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        candidate = line + token
        if line and not token.isspace() and metrics.horizontalAdvance(candidate.rstrip()) > width:
            lines.append(line.rstrip())
            line = token
        elif not (not line and token.isspace()):
            line = candidate
    lines.append(line.rstrip())
    return "\n".join(lines)


def unbreakable_parts(text: str) -> list[str]:
    """The pieces a line can never be broken inside: Latin words (a Chinese character stands alone)."""
    return [t for t in _TOKENS.findall(text) if not t.isspace()] or [""]


class _Wrapping:
    """Buttons whose text wraps to their width (Qt's buttons never wrap): set ``full_text``."""

    full_text = ""
    wrap_margin = 40

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self._rewrap()

    def _rewrap(self) -> None:
        w: Any = self
        w.setText(wrap_text(self.full_text, w.fontMetrics(), w.width() - self.wrap_margin))


class WrapButton(_Wrapping, QPushButton):
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rewrap()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._rewrap()


class WrapToolButton(_Wrapping, QToolButton):
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rewrap()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._rewrap()
