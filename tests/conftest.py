"""Shared test setup: Qt runs offscreen with two screens, real servers on loopback."""

from __future__ import annotations

import os
from pathlib import Path

_SCREENS = Path(__file__).resolve().parents[2] / "shared" / "qt" / "screens.json"
if not _SCREENS.exists():
    _SCREENS = Path(__file__).resolve().parent / "qt" / "screens.json"
# Must be set before any QApplication exists (pytest-qt creates it lazily).
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={_SCREENS}")
os.environ.setdefault("QT_QUICK_BACKEND", "software")
