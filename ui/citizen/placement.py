"""Which screen faces the citizen: the configured one by name, else the first non-primary one."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QScreen


def citizen_screen(configured_name: str = "") -> QScreen | None:
    """The screen for the citizen window, or None when there is only the clerk's screen."""
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
