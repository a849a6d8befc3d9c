"""Idle: the number now called at this window, who serves here, and the time."""

from __future__ import annotations

from PySide6.QtCore import QDateTime, QLocale, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from hallclient.i18n import N_
from ui.citizen.clerk_photo import ClerkPhoto
from ui.citizen.page import CitizenPage, label

WELCOME = N_("欢迎您")
WAIT_FOR_CALL = N_("请留意叫号，轮到您时请到本窗口办理")
NOW_CALLING = N_("当前叫号")
SERVED_BY = N_("为您服务的工作人员")
STAFF_NO = N_("工号：{staff}")

_CLOCK_FORMATS = {
    "zh_CN": (QLocale(QLocale.Language.Chinese, QLocale.Country.China), "yyyy年M月d日 dddd  HH:mm:ss"),
    "en": (QLocale(QLocale.Language.English, QLocale.Country.UnitedKingdom), "dddd d MMMM yyyy  HH:mm:ss"),
}


class IdlePage(CitizenPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("idlePage", parent)
        self.number = ""
        self.clerk_name = ""
        self.staff_no = ""

        self.welcome = label("citizenWelcome")
        self.caption = label("citizenCaption")
        self.current_number = label("citizenNumber", wrap=False)
        left = QVBoxLayout()
        left.addStretch(1)
        left.addWidget(self.welcome)
        left.addWidget(self.caption)
        left.addWidget(self.current_number)
        left.addStretch(1)

        self.card = QFrame()
        self.card.setObjectName("clerkCard")
        cl = QVBoxLayout(self.card)
        cl.setContentsMargins(28, 24, 28, 24)
        cl.setSpacing(10)
        self.served_by = label("clerkCaption")
        self.photo = ClerkPhoto()
        self.name_label = label("clerkName")
        self.staff_label = label("clerkStaffNo")
        cl.addWidget(self.served_by)
        cl.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignHCenter)
        cl.addWidget(self.name_label)
        cl.addWidget(self.staff_label)

        body = QHBoxLayout()
        body.setContentsMargins(40, 20, 60, 10)
        body.addLayout(left, 3)
        body.addWidget(self.card, 0, Qt.AlignmentFlag.AlignVCenter)

        self.clock = label("citizenClock", wrap=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(body, 1)
        layout.addWidget(self.clock)

        self._clock_timer = QTimer(self)
        self._clock_timer.setObjectName("citizenClockTimer")
        self._clock_timer.timeout.connect(self.tick_clock)
        self._clock_timer.start(1000)

    def set_clerk(self, name: str, staff_no: str) -> None:
        self.clerk_name, self.staff_no = name, staff_no
        self.photo.set_name(name)
        self._retranslate()

    def set_number(self, ticket_no: str) -> None:
        self.number = ticket_no
        self._retranslate()

    def tick_clock(self) -> None:
        locale, fmt = _CLOCK_FORMATS.get(self.lang, _CLOCK_FORMATS["zh_CN"])
        self.clock.setText(locale.toString(QDateTime.currentDateTime(), fmt))

    def _retranslate(self) -> None:
        t = self.t
        # Before the first call there is no number to show: greet instead of a dash in huge type.
        self.welcome.setVisible(not self.number)
        self.welcome.setText(t(WELCOME))
        self.caption.setText(t(NOW_CALLING) if self.number else t(WAIT_FOR_CALL))
        self.current_number.setVisible(bool(self.number))
        self.current_number.setText(self.number)
        self.served_by.setText(t(SERVED_BY))
        self.name_label.setText(self.clerk_name)
        self.staff_label.setText(t(STAFF_NO).format(staff=self.staff_no))
        self.tick_clock()

    def _restyle(self) -> None:
        self.photo.set_scale(self.scale * (1.15 if self.large else 1.0))
        self.photo.high_contrast = self.large
        self.photo.update()
