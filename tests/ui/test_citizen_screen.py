"""The citizen screen on the offscreen two-screen setup: placement and the rating path."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from hallclient.wire import RatingLevel
from ui.citizen.citizen_screen import CitizenScreen
from ui.citizen.placement import citizen_screen

pytestmark = pytest.mark.gui


def make_screen(
    qtbot: QtBot, sink: list[tuple[str, RatingLevel, dt.datetime]], timeout_s: int = 30
) -> CitizenScreen:
    w = CitizenScreen(
        hall_name="示范区政务服务中心",
        window_no=3,
        clerk_name="王丽",
        staff_no="DEMO-0103",
        rating_timeout_s=timeout_s,
        rating_sink=lambda c, lv, at: sink.append((c, lv, at)),
    )
    qtbot.addWidget(w)
    return w


def test_two_screens_the_citizen_gets_the_non_primary_one(qtbot: QtBot) -> None:
    names = [s.name() for s in QGuiApplication.screens()]
    assert names == ["0-clerk", "1-citizen"]
    chosen = citizen_screen()
    assert chosen is not None and chosen.name() == "1-citizen"
    assert citizen_screen("1-citizen") is chosen
    # A configured name that is not plugged in falls back to the first non-primary screen.
    fallback = citizen_screen("HDMI-9")
    assert fallback is not None and fallback.name() == "1-citizen"


def test_called_number_then_idle_shows_it(qtbot: QtBot) -> None:
    w = make_screen(qtbot, [])
    w.show_called("A007")
    assert w.stack.currentWidget() is w.called
    assert "A007" in w.called_text.text() and "3" in w.called_text.text()
    w.show_idle()
    assert w.current_number.text() == "A007"


def test_one_rating_per_service(qtbot: QtBot) -> None:
    sink: list[tuple[str, RatingLevel, dt.datetime]] = []
    w = make_screen(qtbot, sink)
    decided = dt.datetime(2026, 11, 24, 10, 0)
    w.start_rating("DEMO-20261124-03-0001", decided, "个体工商户设立登记")
    assert w.stack.currentWidget() is w.rating
    qtbot.mouseClick(w.rating.buttons[RatingLevel.SATISFIED], Qt.MouseButton.LeftButton)
    # A second tap (or a nervous double tap) must not become a second rating.
    w.rating.buttons[RatingLevel.VERY_DISSATISFIED].click()
    assert sink == [("DEMO-20261124-03-0001", RatingLevel.SATISFIED, decided)]
    assert w.stack.currentWidget() is w.thanks
    assert "满意" in w.thanks_text.text()


def test_timeout_records_not_rated_never_a_grade(qtbot: QtBot) -> None:
    sink: list[tuple[str, RatingLevel, dt.datetime]] = []
    w = make_screen(qtbot, sink, timeout_s=5)
    w.start_rating("DEMO-20261124-03-0002", dt.datetime(2026, 11, 24, 10, 5), "居民身份证换领")
    qtbot.waitUntil(lambda: bool(sink), timeout=8000)  # the real 5-second countdown
    assert [lv for _c, lv, _a in sink] == [RatingLevel.NOT_RATED]
    assert "未评价" in w.thanks_text.text()
