"""With the server blackholed, the clerk's window keeps painting: the network waits on workers.

A timer ticking every 5 ms records the longest gap between its ticks (an event
loop stall) during a whole call -> accept -> print -> rate flow while every
request to the server hangs until the client's timeout. The figure is printed
for the benchmarks; the assertion only checks that the GUI never sat out a
network timeout.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from hallclient.domain import MaterialCheck
from hallclient.wire import RatingLevel
from ui.app import CounterApp
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui
TIMEOUT_S = 3.0


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A port that completes no exchange: connections queue in the backlog and nothing answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(0)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


class StallMeter:
    def __init__(self) -> None:
        self.longest = 0.0
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()


def test_clerk_window_keeps_painting_while_the_server_is_blackholed(
    qtbot: QtBot, rig: CounterRig, blackhole: str
) -> None:
    make_qt_app()
    s = rig.services
    s.api.timeout_s = TIMEOUT_S
    app = CounterApp(s)
    app.start()
    s.counter.login(DEMO_USER, DEMO_PASSWORD)  # an earlier online sign-in leaves the offline verifier
    s.counter.refresh()
    s.sync.sync_once()
    s.api.base_url = blackhole  # from here on every request hangs until the timeout
    s.sync_worker.start()
    try:
        meter = StallMeter()
        meter.start()
        app.login.username.setText(DEMO_USER)
        app.login.password.setText(DEMO_PASSWORD)
        button = app.login.findChild(QPushButton, "loginButton")
        assert button is not None
        button.click()
        qtbot.waitUntil(lambda: app.citizen is not None, timeout=20_000)
        mw, citizen = app.main_window, app.citizen
        assert mw is not None and citizen is not None and not mw.session.online
        qtbot.waitUntil(lambda: mw.queue.model.rowCount() == 48, timeout=20_000)

        mw.queue.call_button.click()
        qtbot.waitUntil(lambda: mw.case_view.context is not None, timeout=20_000)
        ctx = mw.case_view.context
        assert ctx is not None and ctx.item is not None
        for m in ctx.item.materials:
            mw.case_view.set_check(m.code, MaterialCheck.ORIGINAL_SEEN)
        with qtbot.waitSignal(mw.receipt_ready, timeout=20_000):
            mw.case_view.accept_button.click()
        qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.rating, timeout=10_000)
        citizen.rating.buttons[RatingLevel.SATISFIED].click()
        qtbot.waitUntil(lambda: s.store.pending_count() >= 3, timeout=10_000)
        qtbot.wait(int(TIMEOUT_S * 1000) + 500)  # let a sync round hang and fail meanwhile
        meter.timer.stop()
    finally:
        for w in (app.main_window, app.citizen, app.login):
            if w is not None:
                w.close()
        s.sync_worker.stop(timeout=TIMEOUT_S + 2)
        app.runner.shutdown()
    print(f"longest event-loop stall with the server blackholed: {meter.longest * 1000:.0f} ms")
    assert meter.longest < 0.8 * TIMEOUT_S, f"the GUI waited {meter.longest:.2f} s: it sat out a network call"
