"""Which screen faces the citizen, and keeping the citizen window there as screens come and go.

The configured screen by name, else the first non-primary screen: frameless and
full screen. With only the clerk's screen: a normal window the clerk can move or
turn. Plugging the second monitor in (or out) mid-day moves the window at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

WINDOWED_SIZE = QSize(1024, 640)

ScreensFn = Callable[[], list[QScreen]]


def citizen_screen(configured_name: str = "", screens: list[QScreen] | None = None) -> QScreen | None:
    """The screen for the citizen window, or None when there is only the clerk's screen."""
    if screens is None:
        screens = QGuiApplication.screens()
    primary = QGuiApplication.primaryScreen()
    if configured_name:
        for s in screens:
            if s.name() == configured_name:
                return s
    for s in screens:
        if s is not primary:
            return s
    return None


class CitizenPlacement(QObject):
    """Places ``window`` now and again whenever a screen is added or removed."""

    def __init__(
        self,
        window: QWidget,
        configured_name: str = "",
        *,
        screens: ScreensFn | None = None,
        parent: QObject | None = None,
    ) -> None:
        # A child of the window by default: gone with it, so no signal reaches a deleted window.
        super().__init__(parent if parent is not None else window)
        self.window = window
        self.configured_name = configured_name
        self._screens: ScreensFn = screens or QGuiApplication.screens
        self.current: QScreen | None = None
        app = QGuiApplication.instance()
        assert isinstance(app, QGuiApplication)
        app.screenAdded.connect(self._screens_changed)
        app.screenRemoved.connect(self._screens_changed)

    def _alive(self) -> bool:
        """False once the window (and with it this object) is gone: a late signal does nothing."""
        return shiboken6.isValid(self) and shiboken6.isValid(self.window)

    def _screens_changed(self, screen: QScreen) -> None:
        # Qt is still updating its screen list when it signals: place once it has settled.
        if self._alive():
            QTimer.singleShot(0, self.place)

    def place(self) -> None:
        if not self._alive():
            return
        w = self.window
        target = citizen_screen(self.configured_name, self._screens())
        if target is None:
            self.current = None
            if w.isFullScreen() or w.windowFlags() & Qt.WindowType.FramelessWindowHint:
                # Hidden while it changes: restoring from full screen would otherwise put it back
                # where it was, on the screen that has just gone.
                w.hide()
                w.setWindowFlag(Qt.WindowType.FramelessWindowHint, False)
                w.setWindowState(Qt.WindowState.WindowNoState)
            primary = QGuiApplication.primaryScreen()
            if primary is not None:
                w.setScreen(primary)
                area = primary.availableGeometry()
                size = WINDOWED_SIZE.boundedTo(area.size())
                w.resize(size)
                w.move(area.center() - w.rect().center())
            w.show()
            log.info("citizen screen: one screen only, shown as a window")
            return
        self.current = target
        if not w.windowFlags() & Qt.WindowType.FramelessWindowHint:
            w.setWindowFlag(Qt.WindowType.FramelessWindowHint, True)
        w.setScreen(target)
        w.setGeometry(target.geometry())
        w.showFullScreen()
        log.info("citizen screen on %s", target.name())
