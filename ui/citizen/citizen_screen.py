"""The second screen, turned towards the citizen.

Idle: the hall, the number now called, who serves at this window. Called: the
number, large. Serving: the item and the applicant's data, masked, to confirm.
After the decision: the rating, written through this screen's own path
(``rating_sink``) so the clerk's window can neither see nor change it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

from hallclient.counter import ServiceContext
from hallclient.i18n import _
from hallclient.masking import mask_id_number, mask_name, mask_phone
from hallclient.wire import RatingLevel
from ui.citizen.rating_page import LEVELS, RatingPage

log = logging.getLogger(__name__)

CALLED_MIN_SHOW_MS = 4000

RatingSink = Callable[[str, RatingLevel, dt.datetime], None]


def _label(text: str, name: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    return label


class CitizenScreen(QWidget):
    def __init__(
        self,
        *,
        hall_name: str,
        window_no: int,
        clerk_name: str,
        staff_no: str,
        rating_timeout_s: int,
        rating_sink: RatingSink,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("citizenScreen")
        self.setWindowTitle(_("{window} 号窗口 · 服务评价").format(window=window_no))
        self.window_no = window_no
        self.rating_timeout_s = rating_timeout_s
        self.rating_sink = rating_sink
        self._rating_case: tuple[str, dt.datetime] | None = None

        banner = QWidget()
        banner.setObjectName("citizenBanner")
        bl = QHBoxLayout(banner)
        bl.addWidget(_label(hall_name, "citizenHall"), 1)
        bl.addWidget(_label(_("{window} 号窗口").format(window=window_no), "citizenWindow"))

        self.stack = QStackedWidget()
        # idle
        self.idle = QWidget()
        il = QVBoxLayout(self.idle)
        il.addStretch(1)
        # Before the first call there is no number to show: greet instead of a dash in huge type.
        self.idle_caption = _label(_("欢迎您，请稍候"), "citizenCaption")
        il.addWidget(self.idle_caption)
        self.current_number = _label("", "citizenNumber")
        self.current_number.hide()
        il.addWidget(self.current_number)
        il.addSpacing(30)
        il.addWidget(
            _label(
                _("窗口工作人员：{name}　工号：{staff}").format(name=clerk_name, staff=staff_no),
                "citizenClerk",
            )
        )
        il.addStretch(1)
        self.clock = _label("", "citizenClock")
        il.addWidget(self.clock)
        # called
        self.called = QWidget()
        cl = QVBoxLayout(self.called)
        cl.addStretch(1)
        self.called_text = _label("", "citizenCalled")
        cl.addWidget(self.called_text)
        cl.addStretch(1)
        # serving
        self.serving = QWidget()
        sl = QVBoxLayout(self.serving)
        sl.addWidget(_label(_("请核对您的信息"), "citizenTitle"))
        self.serving_item = _label("", "citizenSubtitle")
        self.serving_person = _label("", "citizenPerson")
        self.serving_materials = _label("", "citizenMaterials")
        self.serving_materials.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        sl.addWidget(self.serving_item)
        sl.addWidget(self.serving_person)
        sl.addWidget(self.serving_materials, 1)
        # rating and thanks
        self.rating = RatingPage()
        self.rating.rated.connect(self._rated)
        self.thanks = QWidget()
        tl = QVBoxLayout(self.thanks)
        self.thanks_text = _label("", "citizenTitle")
        tl.addWidget(self.thanks_text)
        for page in (self.idle, self.called, self.serving, self.rating, self.thanks):
            self.stack.addWidget(page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(banner)
        layout.addWidget(self.stack, 1)

        self._clock_timer = QTimer(self)
        self._clock_timer.setObjectName("citizenClockTimer")
        self._clock_timer.timeout.connect(self._tick_clock)
        self._clock_timer.start(1000)
        self._tick_clock()
        self._back_to_idle = QTimer(self)
        self._back_to_idle.setObjectName("citizenBackToIdle")
        self._back_to_idle.setSingleShot(True)
        self._back_to_idle.timeout.connect(self.show_idle)
        self._pending_service: ServiceContext | None = None
        self._service_delay = QTimer(self)
        self._service_delay.setObjectName("citizenServiceDelay")
        self._service_delay.setSingleShot(True)
        self._service_delay.timeout.connect(self._show_pending_service)
        self.show_idle()

    def _tick_clock(self) -> None:
        self.clock.setText(dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"))

    def page(self) -> str:
        current = self.stack.currentWidget()
        return (current.objectName() or type(current).__name__) if current is not None else ""

    def show_idle(self) -> None:
        self.stack.setCurrentWidget(self.idle)

    def show_called(self, ticket_no: str) -> None:
        self.idle_caption.setText(_("当前叫号"))
        self.current_number.setText(ticket_no)
        self.current_number.show()
        self.called_text.setText(
            _("请 {ticket} 号\n到 {window} 号窗口办理").format(ticket=ticket_no, window=self.window_no)
        )
        self.stack.setCurrentWidget(self.called)

    def show_service(self, ctx: ServiceContext) -> None:
        """Show the data to confirm, after the called number has been up long enough to be seen."""
        self._back_to_idle.stop()
        self._pending_service = ctx
        if self.stack.currentWidget() is self.called:
            self._service_delay.start(CALLED_MIN_SHOW_MS)
        else:
            self._show_pending_service()

    def _show_pending_service(self) -> None:
        ctx = self._pending_service
        if ctx is None:
            return
        self._pending_service = None
        self.serving_item.setText(_("办理事项：{item}").format(item=ctx.item.name if ctx.item else "—"))
        if ctx.booking is not None:
            a = ctx.booking.applicant
            self.serving_person.setText(
                _("申请人：{name}\n身份证号：{id}\n手机号：{phone}").format(
                    name=mask_name(a.name), id=mask_id_number(a.id_number), phone=mask_phone(a.phone)
                )
            )
        else:
            self.serving_person.setText(_("现场取号 {ticket}").format(ticket=ctx.ticket.ticket_no))
        names = [m.name for m in ctx.item.materials] if ctx.item else []
        self.serving_materials.setText(_("所需材料：") + "\n" + "\n".join(f"  · {n}" for n in names))
        self.stack.setCurrentWidget(self.serving)

    def start_rating(self, case_no: str, decided_at: dt.datetime, item_name: str) -> None:
        self._back_to_idle.stop()
        self._service_delay.stop()
        self._pending_service = None
        self._rating_case = (case_no, decided_at)
        self.rating.start(item_name, self.rating_timeout_s)
        self.stack.setCurrentWidget(self.rating)

    def _rated(self, level: RatingLevel) -> None:
        if self._rating_case is None:
            return
        case_no, decided_at = self._rating_case
        self._rating_case = None
        self.rating_sink(case_no, level, decided_at)
        if level is RatingLevel.NOT_RATED:
            self.thanks_text.setText(_("本次服务未评价。\n感谢您的光临！"))
        else:
            label = next(lbl for lv, lbl, _c in LEVELS if lv is level)
            self.thanks_text.setText(_("您的评价：{level}\n感谢您的评价！").format(level=_(label)))
        self.stack.setCurrentWidget(self.thanks)
        self._back_to_idle.start(5000)
