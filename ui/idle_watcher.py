"""Notices when nobody has touched the clerk's window for a while (auto-lock)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

INPUT_EVENTS = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
    QEvent.Type.TabletPress,
}


class IdleWatcher(QObject):
    """``idle`` fires after ``minutes`` without keyboard, mouse or touch (``follow_focus`` to watch).

    It watches the focused window, where the platform's input arrives first, and
    the focused widget (input sent to it directly), not the whole application:
    a filter there runs Python for every event of every object, and each call
    waits for the GIL while a worker thread runs Python, which stalls the window.
    """

    idle = Signal()

    def __init__(self, minutes: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(int(minutes * 60_000))
        self.timer.timeout.connect(self.idle)
        self.enabled = minutes > 0
        self._widget: QWidget | None = None
        self._following = False

    def follow_focus(self, app: QApplication) -> None:
        if self._following:
            return
        self._following = True
        app.focusWindowChanged.connect(self._window_focused)
        app.focusChanged.connect(self._widget_focused)
        self._window_focused(app.focusWindow())
        self._widget_focused(None, app.focusWidget())

    def stop_following(self, app: QApplication) -> None:
        if not self._following:
            return
        self._following = False
        app.focusWindowChanged.disconnect(self._window_focused)
        app.focusChanged.disconnect(self._widget_focused)
        self._widget_focused(None, None)

    def watch_window(self, window: QWindow | None) -> None:
        """Watch this window's input even before it has the focus (the clerk's window, once shown)."""
        self._window_focused(window)

    def _window_focused(self, window: QWindow | None) -> None:
        # Installed again on a window already watched, a filter only moves to the front.
        if window is not None:
            window.installEventFilter(self)

    def _widget_focused(self, _old: QWidget | None, now: QWidget | None) -> None:
        if self._widget is not None and isValid(self._widget):
            self._widget.removeEventFilter(self)
        self._widget = now
        if now is not None:
            now.installEventFilter(self)

    def start(self) -> None:
        if self.enabled:
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() in INPUT_EVENTS and self.timer.isActive():
            self.timer.start()  # restart the countdown
        return False
