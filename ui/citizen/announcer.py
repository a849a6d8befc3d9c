"""Spoken call announcements (叫号播报) through QtTextToSpeech, offline engines only.

Citizens' numbers must not leave the hall, so a cloud engine is never used: only
engines that synthesise on the machine are allowed (speech-dispatcher on Linux,
SAPI/WinRT on Windows, the system voices on macOS). ``mock`` is Qt's test engine
and is used only when asked for by name. Without an engine, or when the module or
its libraries are missing, announcements are silently skipped: the call is shown
large on the screen anyway.

QtTextToSpeech (PySide6-Addons) is not imported at start-up: it loads
QtMultimedia, which costs time and may grumble about audio libraries it does
not need for a speech daemon. Nor on the first call, where it stalled the
screens for ~50 ms: it is loaded a moment after the screen is built
(``PRELOAD_MS``), in a turn of the event loop of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import (
    QLocale,
    QMessageLogContext,
    QObject,
    QTimer,
    QtMsgType,
    Signal,
    qInstallMessageHandler,
)

log = logging.getLogger(__name__)

# Engines that speak without a network; anything else (a cloud plug-in) is refused.
OFFLINE_ENGINES = ("speechd", "flite", "sapi", "winrt", "darwin", "macos")
TEST_ENGINE = "mock"
AUTO = "auto"
# After the screens are built and shown, well before a clerk can call anyone.
PRELOAD_MS = 300

# What loading QtMultimedia/QtTextToSpeech says on machines without PipeWire or a speech
# daemon: expected, handled (we fall back to silence), so not worth a warning.
_EXPECTED_NOISE = ("qt.multimedia", "qt.speech")
_EXPECTED_TEXT = ("text-to-speech", "pipewire", "speech-dispatcher", "speechd")


def _expected(category: str | None, message: str) -> bool:
    low = message.lower()
    return (category or "").startswith(_EXPECTED_NOISE) or any(t in low for t in _EXPECTED_TEXT)


@contextmanager
def _quiet_expected_qt_messages() -> Iterator[None]:
    """Drop the messages loading a speech engine is known to print; pass on everything else."""
    previous: Callable[..., Any] | None = None

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if _expected(context.category, message):
            log.debug("qt (speech): %s", message)
        elif previous is not None:
            previous(kind, context, message)
        else:
            log.warning("qt: %s", message)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


class Announcer(QObject):
    """Speaks a call once per call; does nothing when no allowed engine works."""

    spoken = Signal(str)  # the text handed to the engine

    def __init__(self, engine: str | None = AUTO, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.requested = engine
        self.engine_name = ""
        self._tts: Any = None
        self._loaded = engine is None  # None: speech switched off
        self.last_text = ""
        if not self._loaded:
            # A timer of the announcer's own, so it dies with it (a test's screen closed at once).
            self._preload = QTimer(self)
            self._preload.setSingleShot(True)
            self._preload.timeout.connect(self._load)
            self._preload.start(PRELOAD_MS)

    @property
    def available(self) -> bool:
        self._load()
        return self._tts is not None

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        with _quiet_expected_qt_messages():
            try:
                from PySide6.QtTextToSpeech import QTextToSpeech
            except ImportError as exc:  # PySide6-Addons or a library it needs (libpulse) missing
                log.info("call announcements off: QtTextToSpeech unavailable (%s)", exc)
                return
            available = list(QTextToSpeech.availableEngines())
            if self.requested == AUTO:
                candidates = [e for e in OFFLINE_ENGINES if e in available]
            elif self.requested in (*OFFLINE_ENGINES, TEST_ENGINE) and self.requested in available:
                candidates = [self.requested]
            else:
                log.warning(
                    "speech engine %r is not an available offline engine: calls not spoken", self.requested
                )
                return
            for name in candidates:
                tts = QTextToSpeech(name, self)
                if tts.state() != QTextToSpeech.State.Error:
                    self._tts, self.engine_name = tts, name
                    self._choose_voice(tts)
                    log.info("call announcements spoken with the %s engine", name)
                    return
                log.info("speech engine %s not usable: %s", name, tts.errorString())
                tts.deleteLater()
        log.info("call announcements off: no working offline speech engine")

    @staticmethod
    def _choose_voice(tts: Any) -> None:
        chinese = [loc for loc in tts.availableLocales() if loc.language() == QLocale.Language.Chinese]
        if chinese:
            tts.setLocale(chinese[0])

    def announce(self, ticket_no: str, window_no: int) -> None:
        """请 A007 号到 3 号窗口办理: said in Chinese, the hall's language, whatever the screen shows."""
        text = f"请 {ticket_no} 号，到 {window_no} 号窗口办理"
        self._load()
        if self._tts is None:
            return
        with _quiet_expected_qt_messages():
            self._tts.say(text)
        self.last_text = text
        self.spoken.emit(text)

    def stop(self) -> None:
        if self._tts is not None:
            self._tts.stop()
