"""The citizen screen on the offscreen two-screen setup: placement, pages, signature, rating, languages.

These tests drive the widget alone, with a list as the rating sink; the flows
through the real counter core and a live hallserver are in test_citizen_flow.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPointingDevice, QScreen, QTabletEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from hallclient import wire
from hallclient.counter import ServiceContext
from hallclient.i18n import LANGUAGES
from hallclient.i18n import translator as real_translator
from hallclient.ratings import REASONS
from hallclient.wire import RatingLevel
from ui.citizen import announcer as announcer_module
from ui.citizen import citizen_screen as citizen_screen_module
from ui.citizen.announcer import Announcer
from ui.citizen.citizen_screen import CitizenScreen
from ui.citizen.placement import CitizenPlacement, citizen_screen
from ui.citizen.signature_pad import PAD_ASPECT, SignaturePad
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui

SHOTS = Path("/tmp/citizen-shots")
Rated = tuple[str, RatingLevel, dt.datetime, list[str], str]
DECIDED = dt.datetime(2026, 11, 24, 10, 0)


def make_screen(
    qtbot: QtBot, sink: list[Rated] | None = None, timeout_s: int = 30, **kw: Any
) -> CitizenScreen:
    make_qt_app()  # the product's application stylesheet, as at a counter
    rated: list[Rated] = sink if sink is not None else []
    w = CitizenScreen(
        hall_name="示范区政务服务中心",
        window_no=3,
        clerk_name="王丽",
        staff_no="DEMO-0103",
        rating_timeout_s=timeout_s,
        rating_sink=lambda c, lv, at, reasons, comment: rated.append((c, lv, at, reasons, comment)),
        **kw,
    )
    qtbot.addWidget(w)
    return w


def screen_named(name: str) -> QScreen:
    found = [s for s in QGuiApplication.screens() if s.name() == name]
    assert found, f"no screen {name}"
    return found[0]


def service_context(*, booked: bool = True) -> ServiceContext:
    item = wire.ServiceItem(
        code="11330100MB0001001A4000117001",
        version=3,
        name="个体工商户设立登记",
        department="市场监督管理局",
        legal_days=15,
        promised_days=3,
        materials=[
            wire.Material(code="M001", name="申请人居民身份证"),
            wire.Material(code="M002", name="个体工商户设立登记申请书"),
            wire.Material(code="M003", name="经营场所使用证明（房产证明或租赁合同）"),
            wire.Material(code="M004", name="委托书及受托人身份证明（委托办理时）", original_required=False),
        ],
    )
    ticket = wire.Ticket(
        ticket_no="A007" if booked else "B012",
        hall_code="DEMO",
        date=DECIDED.date(),
        booking_code="YY202611240007" if booked else None,
        item_code=item.code,
        state=wire.TicketState.SERVING,
        window_no=3,
        issued_at=DECIDED,
    )
    booking = wire.Booking(
        code="YY202611240007",
        hall_code="DEMO",
        date=DECIDED.date(),
        slot="09:30-10:00",
        item_code=item.code,
        applicant=wire.Applicant(name="张三丰", id_number="11010119900307123X", phone="13812345678"),
        pre_review=wire.PreReview(result=wire.PreReviewResult.PASSED),
    )
    return ServiceContext(ticket=ticket, booking=booking if booked else None, item=item)


def all_text(w: QWidget) -> str:
    parts = [lbl.text() for lbl in w.findChildren(QLabel) if lbl.isVisibleTo(w)]
    parts += [b.text() for b in w.findChildren(QAbstractButton) if b.isVisibleTo(w)]
    return "\n".join(parts)


def draw(qtbot: QtBot, pad: SignaturePad, points: list[tuple[float, float]]) -> None:
    """One stroke with the mouse through points given in the signing area's 0..1 coordinates."""
    pts = [pad.to_widget(p).toPoint() for p in points]
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[0])
    for pt in pts[1:]:
        QTest.mouseMove(pad, pt)
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pts[-1])


# -- placement ---------------------------------------------------------------------


def test_two_screens_the_citizen_gets_the_non_primary_one(qtbot: QtBot) -> None:
    names = [s.name() for s in QGuiApplication.screens()]
    assert names == ["0-clerk", "1-citizen"]
    chosen = citizen_screen()
    assert chosen is not None and chosen.name() == "1-citizen"
    assert citizen_screen("1-citizen") is chosen
    # A configured name that is not plugged in falls back to the first non-primary screen.
    fallback = citizen_screen("HDMI-9")
    assert fallback is not None and fallback.name() == "1-citizen"
    # A configured name wins even over the rule (here: the clerk's own screen, for a kiosk setup).
    assert citizen_screen("0-clerk") is screen_named("0-clerk")


def test_placed_frameless_full_screen_on_the_citizen_screen(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    placement = CitizenPlacement(w)
    placement.place()
    qtbot.waitExposed(w)
    assert w.screen().name() == "1-citizen"
    assert w.isFullScreen()
    assert w.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert w.geometry() == screen_named("1-citizen").geometry()
    assert (w.width(), w.height()) == (1280, 800)


def test_hot_unplug_makes_a_window_and_plugging_back_goes_full_screen(qtbot: QtBot) -> None:
    """The offscreen platform cannot unplug a screen, so the screen list is narrowed and Qt's
    own screenRemoved/screenAdded signals are emitted, as a real unplug does."""
    w = make_screen(qtbot)
    plugged = {"1-citizen": True}

    def screens() -> list[QScreen]:
        return [s for s in QGuiApplication.screens() if plugged.get(s.name(), True)]

    placement = CitizenPlacement(w, screens=screens)
    placement.place()
    qtbot.waitExposed(w)
    assert w.isFullScreen() and w.screen().name() == "1-citizen"

    app = QGuiApplication.instance()
    assert isinstance(app, QGuiApplication)
    citizen = screen_named("1-citizen")
    plugged["1-citizen"] = False
    app.screenRemoved.emit(citizen)
    # A window on a virtual desktop changes screen when it moves there: allow the platform a moment.
    qtbot.waitUntil(lambda: not w.isFullScreen() and w.screen().name() == "0-clerk", timeout=3000)
    assert placement.current is None
    assert w.isVisible()
    assert not w.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert w.width() <= 1024 and w.height() <= 640
    assert screen_named("0-clerk").geometry().contains(w.geometry())

    plugged["1-citizen"] = True
    app.screenAdded.emit(citizen)
    qtbot.waitUntil(w.isFullScreen, timeout=3000)
    assert w.screen().name() == "1-citizen"
    assert w.geometry() == citizen.geometry()


def test_one_screen_only_is_a_normal_window(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    placement = CitizenPlacement(w, screens=lambda: [screen_named("0-clerk")])
    placement.place()
    qtbot.waitExposed(w)
    assert not w.isFullScreen()
    assert not w.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert (w.width(), w.height()) == (1024, 640)


# -- idle and call -----------------------------------------------------------------


def test_idle_shows_hall_clerk_and_clock_then_the_number_called(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    text = all_text(w)
    assert "示范区政务服务中心" in text and "王丽" in text and "DEMO-0103" in text
    assert "3 号窗口" in text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 星期. +\d\d:\d\d:\d\d", w.clock.text())
    # No photo from the server: the placeholder shows the surname.
    assert not w.idle.photo.has_photo and w.idle.photo.surname == "王"
    assert not w.current_number.isVisibleTo(w)

    w.show_called("A007")
    assert w.stack.currentWidget() is w.called
    assert "A007" in w.called_text.text() and "3 号窗口" in w.called_text.text()
    w.show_idle()
    assert w.current_number.text() == "A007" and w.current_number.isVisibleTo(w)


def test_clerk_photo_is_shown_and_a_broken_one_falls_back(qtbot: QtBot, tmp_path: Path) -> None:
    w = make_screen(qtbot)
    image = QImage(120, 150, QImage.Format.Format_RGB32)
    image.fill(Qt.GlobalColor.darkCyan)
    path = tmp_path / "clerk.png"
    assert image.save(str(path))
    assert w.set_clerk_photo(path.read_bytes())
    assert w.idle.photo.has_photo
    assert not w.set_clerk_photo(b"not an image")
    assert not w.idle.photo.has_photo


def test_call_is_spoken_with_the_mock_engine(qtbot: QtBot) -> None:
    w = make_screen(qtbot, speech_engine="mock")
    if not w.announcer.available:
        pytest.skip("QtTextToSpeech cannot load here (PySide6-Addons needs libpulse0)")
    assert w.announcer.engine_name == "mock"
    with qtbot.waitSignal(w.announcer.spoken, timeout=3000) as spoken:
        w.show_called("A007")
    assert spoken.args == ["请 A007 号，到 3 号窗口办理"]


def test_speech_is_silently_skipped_without_an_allowed_engine(qtbot: QtBot) -> None:
    # A name that is no offline engine (as a cloud plug-in would be) is refused; None is off.
    for engine in ("some-cloud-tts", None):
        a = Announcer(engine)
        a.announce("A007", 3)
        assert not a.available and a.last_text == ""
    assert "mock" not in announcer_module.OFFLINE_ENGINES  # never chosen by "auto"


# -- service: confirm and sign -------------------------------------------------------


def test_service_shows_masked_data_and_materials_then_confirm_leads_to_signing(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    w.show_service(service_context())
    assert w.stack.currentWidget() is w.serving
    text = all_text(w)
    assert "110101********123X" in text
    assert "138****5678" in text
    assert "张**" in text
    for secret in ("11010119900307123X", "13812345678", "张三丰"):
        assert secret not in text
    assert "个体工商户设立登记" in text and "经营场所使用证明" in w.serving.materials_text()
    with qtbot.waitSignal(w.confirmed, timeout=1000):
        qtbot.mouseClick(w.serving.confirm_button, Qt.MouseButton.LeftButton)
    assert w.stack.currentWidget() is w.signing
    assert w.signing.pad.is_empty and not w.signing.confirm_button.isEnabled()


def test_walk_in_without_booking_shows_the_ticket_only(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    w.show_service(service_context(booked=False))
    assert "现场取号 B012" in all_text(w)


def test_service_waits_until_the_call_has_been_seen(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    w.show_called("A007")
    w.show_service(service_context())
    assert w.stack.currentWidget() is w.called  # not yet: the number stays up a few seconds
    w._service_delay.setInterval(0)
    w._service_delay.start()
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.serving, timeout=2000)


def test_signature_pad_records_normalised_strokes_with_undo_redo_clear(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    w.show_service(service_context())
    w.serving.confirm_button.click()
    pad = w.signing.pad
    draw(qtbot, pad, [(0.1, 0.5), (0.2, 0.3), (0.3, 0.6), (0.45, 0.4)])
    draw(qtbot, pad, [(0.6, 0.2), (0.62, 0.7)])
    strokes = pad.strokes
    assert len(strokes) == 2 and len(strokes[0]) == 4
    for stroke in strokes:
        for x, y in stroke:
            assert 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
    assert strokes[0][0] == pytest.approx((0.1, 0.5), abs=0.01)
    assert strokes[1][-1] == pytest.approx((0.62, 0.7), abs=0.01)
    area = pad.area()
    assert area.width() / area.height() == pytest.approx(PAD_ASPECT)

    w.signing.undo_button.click()
    assert len(pad.strokes) == 1 and w.signing.redo_button.isEnabled()
    w.signing.redo_button.click()
    assert pad.strokes == strokes
    w.signing.clear_button.click()
    assert pad.is_empty and not w.signing.confirm_button.isEnabled()
    w.signing.undo_button.click()  # a cleared signature can be brought back
    assert pad.strokes == strokes

    with qtbot.waitSignal(w.signature_captured, timeout=1000) as captured:
        qtbot.mouseClick(w.signing.confirm_button, Qt.MouseButton.LeftButton)
    assert captured.args == [strokes]
    assert w.signature_strokes == strokes
    assert w.stack.currentWidget() is w.waiting
    # The next citizen starts unsigned: one citizen's signature never reaches another's papers.
    w.show_service(service_context(booked=False))
    assert w.signature_strokes == []


def test_signature_pad_takes_touch_and_pen(qtbot: QtBot) -> None:
    pad = SignaturePad()
    qtbot.addWidget(pad)
    pad.resize(900, 300)
    pad.show()
    qtbot.waitExposed(pad)
    touch = QTest.createTouchDevice()
    a, b = pad.to_widget((0.2, 0.5)).toPoint(), pad.to_widget((0.5, 0.5)).toPoint()
    QTest.touchEvent(pad, touch).press(0, a, pad).commit()
    QTest.touchEvent(pad, touch).move(0, b, pad).commit()
    QTest.touchEvent(pad, touch).release(0, b, pad).commit()
    assert len(pad.strokes) == 1
    assert pad.strokes[0][0] == pytest.approx((0.2, 0.5), abs=0.01)
    assert pad.strokes[0][-1] == pytest.approx((0.5, 0.5), abs=0.01)

    pen = QPointingDevice.primaryPointingDevice()

    def tablet(kind: QEvent.Type, p: tuple[float, float], pressure: float) -> None:
        pos = pad.to_widget(p)
        glob = QPointF(pad.mapToGlobal(pos.toPoint()))
        ev = QTabletEvent(
            kind, pen, pos, glob, pressure, 0, 0, 0, 0, 0, Qt.KeyboardModifier.NoModifier,
            Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton if pressure else Qt.MouseButton.NoButton,
        )  # fmt: skip
        QApplication.sendEvent(pad, ev)

    tablet(QEvent.Type.TabletPress, (0.7, 0.2), 0.5)
    tablet(QEvent.Type.TabletMove, (0.8, 0.6), 0.6)
    tablet(QEvent.Type.TabletRelease, (0.9, 0.6), 0.0)
    assert len(pad.strokes) == 2
    assert pad.strokes[1][0] == pytest.approx((0.7, 0.2), abs=0.01)
    assert pad.strokes[1][-1] == pytest.approx((0.9, 0.6), abs=0.01)


# -- rating --------------------------------------------------------------------------


def test_one_rating_per_service(qtbot: QtBot) -> None:
    sink: list[Rated] = []
    w = make_screen(qtbot, sink)
    w.start_rating("DEMO-20261124-03-0001", DECIDED, "个体工商户设立登记")
    assert w.stack.currentWidget() is w.rating
    assert "窗口工作人员看不到" in all_text(w)
    qtbot.mouseClick(w.rating.buttons[RatingLevel.SATISFIED], Qt.MouseButton.LeftButton)
    # A second tap (or a nervous double tap) must not become a second rating.
    w.rating.buttons[RatingLevel.VERY_DISSATISFIED].click()
    assert sink == [("DEMO-20261124-03-0001", RatingLevel.SATISFIED, DECIDED, [], "")]
    assert w.stack.currentWidget() is w.thanks
    assert "满意" in w.thanks_text.text()


def test_timeout_records_not_rated_never_a_grade(qtbot: QtBot) -> None:
    sink: list[Rated] = []
    w = make_screen(qtbot, sink, timeout_s=2)
    w.start_rating("DEMO-20261124-03-0002", DECIDED, "居民身份证换领")
    assert "2 秒后" in w.rating.countdown_label.text()
    qtbot.waitUntil(lambda: bool(sink), timeout=5000)  # the real countdown, nobody touching
    assert [(lv, reasons) for _c, lv, _a, reasons, _m in sink] == [(RatingLevel.NOT_RATED, [])]
    assert "未评价" in w.thanks_text.text()


def test_bad_rating_asks_for_reasons_and_keeps_them(qtbot: QtBot) -> None:
    sink: list[Rated] = []
    w = make_screen(qtbot, sink, follow_up_days=5)
    w.start_rating("DEMO-20261124-03-0003", DECIDED, "个体工商户设立登记")
    qtbot.mouseClick(w.rating.buttons[RatingLevel.DISSATISFIED], Qt.MouseButton.LeftButton)
    assert w.stack.currentWidget() is w.reasons
    assert sink == []  # not stored until the reasons are in (or their countdown runs out)
    assert "不满意" in w.reasons.ask.text() and "5 个工作日" in w.reasons.promise.text()
    qtbot.mouseClick(w.reasons.reason_buttons[REASONS[0]], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(w.reasons.reason_buttons[REASONS[2]], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(w.reasons.comment, "screen ")
    w.reasons.comment.insert("叫号屏不清楚")  # QTest types Latin-1 only; an input method would do this
    qtbot.mouseClick(w.reasons.submit_button, Qt.MouseButton.LeftButton)
    assert sink == [
        (
            "DEMO-20261124-03-0003",
            RatingLevel.DISSATISFIED,
            DECIDED,
            [REASONS[0], REASONS[2]],
            "screen 叫号屏不清楚",
        )
    ]
    assert "整改" in w.thanks_text.text()


def test_reasons_timeout_keeps_the_chosen_level(qtbot: QtBot) -> None:
    sink: list[Rated] = []
    w = make_screen(qtbot, sink)
    w.start_rating("DEMO-20261124-03-0004", DECIDED, "个体工商户设立登记")
    w.rating.buttons[RatingLevel.VERY_DISSATISFIED].click()
    w.reasons.reason_buttons[REASONS[1]].click()
    w.reasons.expire_now()
    assert sink == [("DEMO-20261124-03-0004", RatingLevel.VERY_DISSATISFIED, DECIDED, [REASONS[1]], "")]


def test_a_new_decision_ends_an_unfinished_rating_as_not_rated(qtbot: QtBot) -> None:
    sink: list[Rated] = []
    w = make_screen(qtbot, sink)
    w.start_rating("DEMO-20261124-03-0005", DECIDED, "甲")
    w.start_rating("DEMO-20261124-03-0006", DECIDED, "乙")
    assert sink == [("DEMO-20261124-03-0005", RatingLevel.NOT_RATED, DECIDED, [], "")]
    w.rating.buttons[RatingLevel.VERY_SATISFIED].click()
    assert sink[-1][:2] == ("DEMO-20261124-03-0006", RatingLevel.VERY_SATISFIED)


def test_a_call_during_rating_waits_for_the_citizen_to_finish(qtbot: QtBot) -> None:
    sink: list[Rated] = []
    w = make_screen(qtbot, sink)
    w.start_rating("DEMO-20261124-03-0007", DECIDED, "甲")
    w.show_called("A008")
    assert w.stack.currentWidget() is w.rating  # the rating is not taken away from the citizen
    w.rating.buttons[RatingLevel.SATISFIED].click()
    assert w.stack.currentWidget() is w.thanks
    w._back_to_idle.setInterval(0)
    w._back_to_idle.start()
    qtbot.waitUntil(lambda: w.stack.currentWidget() is w.called, timeout=2000)
    assert "A008" in w.called_text.text()


# -- the clerk's window locked, the citizen gone ------------------------------------------


def test_locking_the_clerks_window_blanks_the_citizen_screen(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    w.show_service(service_context())
    w.set_blanked(True)
    assert w.stack.currentWidget() is w.blank
    text = all_text(w)
    assert "110101********123X" not in text and "张**" not in text
    w.show_called("A009")  # nothing of a citizen shows while locked, a call included
    assert w.stack.currentWidget() is w.blank
    w.set_blanked(False)
    assert w.stack.currentWidget() is w.called


def test_a_rating_under_way_is_finished_before_the_screen_blanks(qtbot: QtBot) -> None:
    sink: list[Rated] = []
    w = make_screen(qtbot, sink)
    w.start_rating("DEMO-20261124-03-0011", DECIDED, "甲")
    w.set_blanked(True)
    assert w.stack.currentWidget() is w.rating  # the citizen's own, and it shows no personal data
    w.rating.buttons[RatingLevel.BASIC].click()
    assert sink[-1][:2] == ("DEMO-20261124-03-0011", RatingLevel.BASIC)
    w._after_thanks()
    assert w.stack.currentWidget() is w.blank


def test_service_ended_takes_the_citizens_data_off_the_screen(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    w.show_service(service_context())
    w.serving.confirm_button.click()
    assert w.stack.currentWidget() is w.signing
    w.end_service()
    assert w.stack.currentWidget() is w.idle
    # Ending a service does not take a rating away from the citizen.
    w.start_rating("DEMO-20261124-03-0012", DECIDED, "甲")
    w.end_service()
    assert w.stack.currentWidget() is w.rating


# -- language and large type ---------------------------------------------------------


def test_citizen_switches_language_and_large_type_without_touching_the_clerk(qtbot: QtBot) -> None:
    from hallclient.i18n import language

    clerk_language = language()
    w = make_screen(qtbot)
    assert w.language_button.text() == "English"
    normal_size = w.idle.photo.width()
    qtbot.mouseClick(w.language_button, Qt.MouseButton.LeftButton)
    assert w.language == "en" and w.language_button.text() == "中文"
    assert language() == clerk_language  # the clerk's language is not the citizen's
    qtbot.mouseClick(w.large_button, Qt.MouseButton.LeftButton)
    assert w.large and w.large_button.isChecked()
    assert w.idle.photo.width() > normal_size
    assert "#000000" in w.styleSheet()  # high contrast: black background
    # When the citizen leaves, the next one gets the hall's defaults again.
    w.start_rating("DEMO-20261124-03-0008", DECIDED, "甲")
    w.rating.buttons[RatingLevel.SATISFIED].click()
    w._after_thanks()
    assert w.language == "zh_CN" and not w.large and not w.large_button.isChecked()


def test_citizen_screen_never_uses_the_clerks_translator() -> None:
    """Texts are translated with the citizen's own ``translator``; the clerk's ``_`` and the
    process-wide ``set_language`` are not even imported."""
    sources = list((Path(__file__).resolve().parents[2] / "ui" / "citizen").glob("*.py"))
    assert len(sources) > 5
    for path in sources:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("from hallclient.i18n import"):
                names = {n.strip() for n in line.split(" import ", 1)[1].split(",")}
                assert not names & {"_", "set_language"}, f"{path.name}: {line}"


# -- every state, both languages, both modes: screenshots that are looked at -------------


def _clipped(w: QWidget) -> list[str]:
    """Visible labels, buttons and fields whose text does not fit, or that are squeezed."""
    bad = []
    for lbl in w.findChildren(QLabel):
        if not lbl.isVisibleTo(w) or not lbl.text():
            continue
        need = lbl.heightForWidth(lbl.width()) if lbl.wordWrap() else lbl.sizeHint().height()
        wide = lbl.sizeHint().width() if not lbl.wordWrap() else 0
        if need > lbl.height() + 2 or wide > lbl.width() + 2:
            bad.append(
                f"{lbl.objectName()}: {lbl.text()!r} needs {wide}x{need}, has {lbl.width()}x{lbl.height()}"
            )
    for b in w.findChildren(QAbstractButton):
        if not b.isVisibleTo(w) or not b.text():
            continue
        hint = b.sizeHint()  # of the text as wrapped (WrapButton), so a word too long still shows
        if hint.height() > b.height() + 2 or hint.width() > b.width() + 2:
            bad.append(
                f"{b.objectName()}: {b.text()!r} needs {hint.width()}x{hint.height()}, has {b.width()}x{b.height()}"
            )
    for e in w.findChildren(QLineEdit):
        if e.isVisibleTo(w) and e.sizeHint().height() > e.height() + 2:
            bad.append(f"{e.objectName()}: squeezed to {e.height()} px")
    return bad


@pytest.fixture
def placed(qtbot: QtBot) -> Iterator[CitizenScreen]:
    w = make_screen(qtbot)
    w.set_clerk("王晓燕", "ZW-0107")
    CitizenPlacement(w).place()
    qtbot.waitExposed(w)
    yield w


# English for the screen's texts, until the catalog has them (they are merged centrally): the
# screenshots must show real English lengths, which run longer than the Chinese.
ENGLISH = {
    "欢迎您": "Welcome",
    "请留意叫号，轮到您时请到本窗口办理": "Please watch for your number; when it is called, come to this window",
    "当前叫号": "Now serving",
    "为您服务的工作人员": "Serving you today",
    "工号：{staff}": "Staff no. {staff}",
    "现在叫号": "Now calling",
    "请到 {window} 号窗口办理": "Please come to window {window}",
    "请核对您的信息": "Please check your details",
    "办理事项：{item}": "Service: {item}",
    "申请人": "Applicant",
    "身份证号": "ID number",
    "手机号": "Mobile",
    "现场取号 {ticket}": "Walk-in ticket {ticket}",
    "需要提交的材料": "Documents to submit",
    "无需提交材料": "No documents needed",
    "如信息有误，请告诉窗口工作人员": "If anything is wrong, please tell the clerk",
    "信息无误，确认": "All correct, confirm",
    "已确认": "Confirmed",
    "请在下方框内签名": "Please sign in the box below",
    "您的签名将印在本次办理的文书上": "Your signature will be printed on the papers for this service",
    "请在此处签名": "Sign here",
    "撤销一笔": "Undo stroke",
    "恢复一笔": "Redo stroke",
    "全部清除": "Clear all",
    "确认签名": "Confirm signature",
    "非常满意": "Very satisfied",
    "满意": "Satisfied",
    "基本满意": "Fairly satisfied",
    "不满意": "Dissatisfied",
    "非常不满意": "Very dissatisfied",
    "未评价": "Not rated",
    "请您对本次服务进行评价": "How was our service today?",
    "评价由您本人作出，窗口工作人员看不到您的评价": "Only you rate the service; the clerk cannot see your rating",
    "{s} 秒后未评价将记为“未评价”": "With no choice in {s} s, this is recorded as “not rated”",
    "很抱歉，让您不满意了": "We are sorry we let you down",
    "您的评价：{level}。请告诉我们哪里做得不好（可多选）": "Your rating: {level}. What went wrong? (choose any)",
    "其他意见（可不填）": "Anything else? (optional)",
    "大厅将在 {days} 个工作日内整改": "The hall will put it right within {days} working days",
    "提交评价": "Submit",
    "{s} 秒后将自动提交": "Submitted automatically in {s} s",
    "等候时间太长": "Waited too long",
    "工作人员态度不好": "Clerk was impolite",
    "办理速度慢": "Service was slow",
    "材料要求多或重复": "Too many documents asked",
    "告知不清楚": "Unclear guidance",
    "跑了多次未办成": "Came back several times",
    "收费不合理": "Unfair fees",
    "其他": "Other",
    "{window} 号窗口 · 群众服务屏": "Window {window} · citizen screen",
    "{window} 号窗口": "Window {window}",
    "大字模式": "Large text",
    "签名已确认": "Signature confirmed",
    "请稍候，工作人员正在为您办理": "Please wait while the clerk completes your application",
    "您的评价：{level}": "Your rating: {level}",
    "感谢您的评价！": "Thank you for your rating!",
    "我们会认真整改，{days} 个工作日内完成。感谢您的评价！": (
        "We will put it right within {days} working days. Thank you for telling us!"
    ),
    "本次服务未评价": "This service was not rated",
    "感谢您的光临！": "Thank you for coming!",
}


@pytest.fixture
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    def translator(lang: str) -> Callable[[str], str]:
        t = real_translator(lang)
        return (lambda s: ENGLISH.get(s) or t(s)) if lang == "en" else t

    monkeypatch.setattr(citizen_screen_module, "translator", translator)


STATES = [
    "idle",
    "idle-called",
    "called",
    "service",
    "signature",
    "waiting",
    "rating",
    "reasons",
    "thanks",
    "blank",
]


def _enter(w: CitizenScreen, qtbot: QtBot, state: str) -> None:
    w.show_idle()
    if state == "idle":
        w.idle.set_number("")
    if state == "idle-called":
        w.show_called("A007")
        w.show_idle()
    elif state == "called":
        w.show_called("A007")
    elif state in ("service", "signature", "waiting"):
        w.show_service(service_context())
        if state != "service":
            w.serving.confirm_button.click()
            draw(qtbot, w.signing.pad, [(0.08, 0.6), (0.14, 0.3), (0.2, 0.65), (0.26, 0.35), (0.33, 0.62)])
            draw(qtbot, w.signing.pad, [(0.4, 0.3), (0.52, 0.32), (0.46, 0.3), (0.47, 0.7)])
            if state == "waiting":
                w.signing.confirm_button.click()
    elif state == "blank":
        w.show_service(service_context())
        w.set_blanked(True)
    elif state in ("rating", "reasons", "thanks"):
        w.start_rating("DEMO-20261124-03-0009", DECIDED, "个体工商户设立登记")
        if state != "rating":
            w.rating.buttons[RatingLevel.VERY_DISSATISFIED].click()
            w.reasons.reason_buttons[REASONS[0]].click()
            w.reasons.reason_buttons[REASONS[3]].click()
            if state == "thanks":
                w.reasons.submit()


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_screenshots_of_every_state(
    qtbot: QtBot, english: None, placed: CitizenScreen, lang: str, large: bool
) -> None:
    w = placed
    SHOTS.mkdir(parents=True, exist_ok=True)
    w.set_language(lang)
    w.set_large_font(large)
    problems = []
    for state in STATES:
        _enter(w, qtbot, state)
        qtbot.wait(30)
        shot = SHOTS / f"{state}-{lang}-{'large' if large else 'normal'}.png"
        assert w.grab().save(str(shot))
        image = QImage(str(shot))
        assert (image.width(), image.height()) == (1280, 800)
        colours = {image.pixel(x, y) for x in range(0, 1280, 23) for y in range(0, 800, 23)}
        assert len(colours) > 3, f"{shot.name} looks blank"
        problems += [f"{state}: {p}" for p in _clipped(w)]
        w.rating._timer.stop()
        w.reasons._timer.stop()
        w._rating_case = None
        w.set_blanked(False)
    assert not problems, "\n".join(problems)


def test_rating_buttons_keep_their_order_and_colours(qtbot: QtBot) -> None:
    w = make_screen(qtbot)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    w.start_rating("DEMO-20261124-03-0010", DECIDED, "甲")
    xs = [b.mapTo(w, QPoint(0, 0)).x() for b in w.rating.buttons.values()]
    assert xs == sorted(xs)
    widths = {b.width() for b in w.rating.buttons.values()}
    assert max(widths) - min(widths) <= 2  # five equal buttons: none looks preferred
    assert [b.full_text for b in w.rating.buttons.values()] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
