"""Shared test setup: Qt runs offscreen with two screens, real servers on loopback."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_SCREENS = Path(__file__).resolve().parents[2] / "shared" / "qt" / "screens.json"
if not _SCREENS.exists():
    _SCREENS = Path(__file__).resolve().parent / "qt" / "screens.json"
# Must be set before any QApplication exists (pytest-qt creates it lazily).
os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={_SCREENS}")
os.environ.setdefault("QT_QUICK_BACKEND", "software")

from helpers.counter_setup import CounterRig, make_rig  # noqa: E402
from helpers.live_server import LiveServer, start_demo_server  # noqa: E402


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_gui_thread() -> Iterator[None]:
    """Collect garbage here, on the GUI thread, after every test.

    Closed windows left for the cycle collector can otherwise be collected later on
    a server or worker thread, and PySide deleting a QObject from there crashes the
    process (seen as a rare segfault in the ui tests).
    """
    yield
    gc.collect()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A hallserver seeded with the demo hall for today, on a free loopback port."""
    server = start_demo_server(tmp_path / "server")
    yield server
    server.stop()


@pytest.fixture
def rig(live_server: LiveServer, tmp_path: Path) -> Iterator[CounterRig]:
    """Window 1's core services against the live server, with a real SQLite store in tmp_path."""
    built = make_rig(live_server, tmp_path / "window1", window_no=1)
    yield built
    built.close()
