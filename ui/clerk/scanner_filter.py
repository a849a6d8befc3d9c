"""Takes a keyboard-wedge scanner's text wherever the focus is (the timing rule is in hallclient.lookup).

It watches the clerk window's focused widget only, moving with the focus
(``follow_focus``): a filter on the whole application would run Python for
every event of every object, and each of those calls waits for the GIL
while a worker thread runs Python, which stalls the window. Keys still reach
the focused widget as typed,
until the timing shows a scanner is sending; from then on its keys are held
back, the few that slipped through are taken out of the field they landed in,
and the whole text is handed over as one scan when its Enter arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QPlainTextEdit, QWidget
from shiboken6 import isValid

from hallclient.lookup import WedgeDetector


class ScannerFilter(QObject):
    scanned = Signal(str)

    def __init__(
        self,
        window: QWidget,
        detector: WedgeDetector | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.detector = detector or WedgeDetector()
        self.clock = clock
        self._leaked: list[tuple[QWidget, int]] = []  # where the burst's first keys went
        self._held: list[QKeyEvent] = []  # keys held back while a burst runs
        self._replaying = False
        self._held_for: QWidget | None = None
        # A fast typist can look like a burst for a few keys; if no Enter follows soon,
        # the held keys are handed to the field after all, so nothing typed is lost.
        self._flush = QTimer(self)
        self._flush.setSingleShot(True)
        self._flush.setInterval(int(self.detector.max_gap_s * 1000 * 3))
        self._flush.timeout.connect(self._release_held)
        self._watched: QWidget | None = None
        self._following = False

    def follow_focus(self, app: QApplication) -> None:
        """Watch whichever widget of the window has the focus, from now on."""
        if self._following:
            return
        self._following = True
        app.focusChanged.connect(self._focus_moved)
        self._focus_moved(None, app.focusWidget())

    def stop_following(self, app: QApplication) -> None:
        if not self._following:
            return
        self._following = False
        app.focusChanged.disconnect(self._focus_moved)
        self._focus_moved(None, None)

    def _focus_moved(self, _old: QWidget | None, now: QWidget | None) -> None:
        if self._watched is not None and isValid(self._watched):
            self._watched.removeEventFilter(self)
        self._watched = None
        # With no widget focused, keys go to the window itself: a scan then must not be lost.
        target = now if now is not None and now.window() is self.window else None
        if target is None and now is None and self.window.isActiveWindow():
            target = self.window
        if target is not None:
            target.installEventFilter(self)
            self._watched = target

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if self._replaying or event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        # Only keys meant for the clerk's window: a dialog of its own handles its own typing.
        focus = QApplication.focusWidget()
        if focus is None:
            if watched is not self.window:
                return False
            focus = self.window  # no widget has the focus: the keys are the window's
        elif focus.window() is not self.window or watched is not focus:
            return False
        now = self.clock()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._flush.stop()
            text = self.detector.enter(now)
            if text is None:
                self._release_held()
                self._leaked.clear()
                return False
            self._held.clear()
            self._take_back_leaked()
            self.scanned.emit(text)
            return True
        char = event.text()
        if len(char) != 1 or not char.isprintable() or event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier:
            self._release_held()
            self.detector.reset()
            self._leaked.clear()
            return False
        bursting = self.detector.in_burst(now)
        self.detector.key(char, now)
        if bursting:
            self._held.append(QKeyEvent(event.type(), event.key(), event.modifiers(), event.text()))
            self._held_for = focus
            self._flush.start()
            return True
        self._release_held()
        if not self.detector.in_burst(now):
            self._leaked.clear()
        self._leaked.append((focus, 1))
        return False

    def _release_held(self) -> None:
        """Not a scanner after all: give the held keys to the widget they were meant for, in order."""
        held, widget = list(self._held), self._held_for
        self._held.clear()
        self._held_for = None
        if not held or widget is None:
            return
        self._leaked.clear()
        self.detector.reset()
        self._replaying = True
        try:
            for key_event in held:
                QApplication.sendEvent(widget, key_event)
        finally:
            self._replaying = False

    def _take_back_leaked(self) -> None:
        """Remove the keys that reached an edit field before the burst was recognised."""
        for widget, count in self._leaked:
            if isinstance(widget, QLineEdit) and not widget.isReadOnly():
                for _i in range(count):
                    widget.backspace()
            elif isinstance(widget, QPlainTextEdit) and not widget.isReadOnly():
                cursor = widget.textCursor()
                for _i in range(count):
                    cursor.deletePreviousChar()
        self._leaked.clear()
