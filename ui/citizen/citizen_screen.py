"""The second screen, turned towards the citizen.

Idle: the hall, the number now called, who serves at this window, the time.
Called: the number, large, and spoken when an offline speech engine exists.
Serving: the item and the applicant's data, masked, to confirm; then the
signature pad, whose strokes go to whoever prints the receipt
(``signature_captured``). After the decision: the rating, then reasons for a bad
one. The rating is written through this screen's own path (``rating_sink``), so
the clerk's window can neither see nor change it; a countdown that runs out
stores 未评价, never a grade.

The citizen chooses the language and large type here; the clerk's window keeps
its own language. Every text is a msgid translated with this screen's own
``translator``, never the clerk's ``_``. Both choices go back to the defaults
when the citizen leaves.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from hallclient import wire
from hallclient.counter import ServiceContext
from hallclient.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, translator
from hallclient.ratings import needs_follow_up
from hallclient.reuse import ReuseOffer
from hallclient.wire import RatingLevel
from ui.citizen.announcer import Announcer
from ui.citizen.called_page import CalledPage
from ui.citizen.consent_page import TIMED_OUT, ConsentLine, ConsentPage
from ui.citizen.idle_page import IdlePage
from ui.citizen.message_page import MessagePage
from ui.citizen.page import CitizenPage, button, label
from ui.citizen.queue_info import QueueInfo
from ui.citizen.rating_page import RatingPage, level_label
from ui.citizen.reasons_page import ReasonsPage
from ui.citizen.service_page import ServicePage
from ui.citizen.signature_pad import Strokes
from ui.citizen.signature_page import SignaturePage
from ui.citizen.style import scale_for_height, stylesheet

log = logging.getLogger(__name__)

CALLED_MIN_SHOW_MS = 4000
CONSENT_TIMEOUT_S = 60
THANKS_MS = 5000

# case no, level, decided at, reasons (msgids), remark
RatingSink = Callable[[str, RatingLevel, dt.datetime, list[str], str], None]

WINDOW_TITLE = N_("{window} 号窗口 · 群众服务屏")
WINDOW_NO = N_("{window} 号窗口")
LARGE_TYPE = N_("大字模式")
SIGNED = N_("签名已确认")
PLEASE_WAIT = N_("请稍候，工作人员正在为您办理")
YOUR_RATING = N_("您的评价：{level}")
THANKS_FOR_RATING = N_("感谢您的评价！")
FOLLOW_UP = N_("我们会认真整改，{days} 个工作日内完成。感谢您的评价！")
NOT_RATED = N_("本次服务未评价")
PAUSED = N_("窗口工作人员暂时离开")
PLEASE_WAIT_BACK = N_("请稍候，马上回来为您服务")
THANKS_FOR_COMING = N_("感谢您的光临！")

# Each language's own name, shown on the button that switches to it.
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


class CitizenScreen(QWidget):
    confirmed = Signal()  # the citizen confirmed the data shown
    signature_captured = Signal(object)  # Strokes: list of strokes of (x, y) points in 0..1
    reuse_answered = Signal(str)  # 复用既往材料: consent_page.AGREED, REFUSED or TIMED_OUT

    def __init__(
        self,
        *,
        hall_name: str,
        window_no: int,
        clerk_name: str,
        staff_no: str,
        rating_timeout_s: int,
        rating_sink: RatingSink,
        follow_up_days: int = 5,
        large_font: bool = False,
        language: str = DEFAULT_LANGUAGE,
        speech_engine: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("citizenScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.window_no = window_no
        self.hall_name = hall_name
        self.rating_timeout_s = rating_timeout_s
        self.rating_sink = rating_sink
        self.follow_up_days = follow_up_days
        self.default_language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self.default_large = large_font
        self.language = self.default_language
        self.large = large_font
        self.t = translator(self.language)
        self.scale = 1.0
        self.announcer = Announcer(speech_engine, self)
        self._rating_case: tuple[str, dt.datetime] | None = None
        self._pending_called: str | None = None
        self._pending_service: ServiceContext | None = None
        self._signature: Strokes = []

        banner = QWidget()
        banner.setObjectName("citizenBanner")
        banner.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        bl = QHBoxLayout(banner)
        bl.setContentsMargins(16, 6, 16, 6)
        bl.setSpacing(14)
        self.hall_label = label(
            "citizenHall", align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.window_label = label("citizenWindow", wrap=False)
        self.large_button = button("largeFontButton")
        self.large_button.setCheckable(True)
        self.large_button.toggled.connect(self.set_large_font)
        self.language_button = button("languageButton")
        self.language_button.clicked.connect(self._toggle_language)
        bl.addWidget(self.hall_label, 1)
        bl.addWidget(self.window_label)
        bl.addSpacing(20)
        bl.addWidget(self.large_button)
        bl.addWidget(self.language_button)

        self.stack = QStackedWidget()
        # The screen's size is given (full screen, or the window the clerk sizes); the pages scale
        # their type to it instead of forcing the window larger than the monitor.
        self.stack.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.idle = IdlePage()
        self.idle.set_clerk(clerk_name, staff_no)
        self.called = CalledPage(window_no)
        self.serving = ServicePage()
        self.serving.confirmed.connect(self._confirmed)
        self.signing = SignaturePage()
        self.signing.signed.connect(self._signed)
        self.waiting = MessagePage("waitingPage")
        self.consent = ConsentPage()
        self.consent.answered.connect(self._consent_answered)
        self._before_consent: QWidget = self.serving
        self.rating = RatingPage()
        self.rating.rated.connect(self._rated)
        self.reasons = ReasonsPage(follow_up_days)
        self.reasons.submitted.connect(self._record)
        self.thanks = MessagePage("thanksPage")
        self.blank = MessagePage("blankPage")
        self.blank.say(PAUSED, PLEASE_WAIT_BACK)
        self.blanked = False
        self._before_blank: QWidget = self.idle
        self.pages: list[CitizenPage] = [
            self.idle,
            self.called,
            self.serving,
            self.signing,
            self.waiting,
            self.consent,
            self.rating,
            self.reasons,
            self.thanks,
            self.blank,
        ]
        for page in self.pages:
            self.stack.addWidget(page)
        # Names the old tests and the demo script use.
        self.current_number = self.idle.current_number
        self.idle_caption = self.idle.caption
        self.clock = self.idle.clock
        self.called_text = self.called
        self.thanks_text = self.thanks

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(banner)
        layout.addWidget(self.stack, 1)
        # Under the idle and called pages: the called number's priority category, and the wait.
        self.queue_info = QueueInfo()
        self._category: wire.TicketCategory | None = None
        self._estimate: wire.WaitEstimate | None = None
        layout.addWidget(self.queue_info)

        self._back_to_idle = QTimer(self)
        self._back_to_idle.setObjectName("citizenBackToIdle")
        self._back_to_idle.setSingleShot(True)
        self._back_to_idle.timeout.connect(self._after_thanks)
        self._service_delay = QTimer(self)
        self._service_delay.setObjectName("citizenServiceDelay")
        self._service_delay.setSingleShot(True)
        self._service_delay.timeout.connect(self._show_pending_service)

        self.large_button.setChecked(self.large)
        self._apply_style(force=True)
        self._retranslate()
        self.show_idle()

    # -- what others read and call -------------------------------------------------

    @property
    def signature_strokes(self) -> Strokes:
        """The strokes of the current citizen's confirmed signature ([] before they sign)."""
        return [list(s) for s in self._signature]

    @property
    def rating_in_progress(self) -> bool:
        return self._rating_case is not None

    def page(self) -> str:
        current = self.stack.currentWidget()
        return current.objectName() if current is not None else ""

    def set_clerk(self, name: str, staff_no: str) -> None:
        self.idle.set_clerk(name, staff_no)

    def set_clerk_photo(self, data: bytes | None) -> bool:
        """The clerk's photo (image bytes); unreadable or None keeps the surname placeholder."""
        ok = self.idle.photo.set_photo(data)
        if data and not ok:
            log.warning("clerk photo could not be read; showing the placeholder")
        return ok

    # -- language and large type, the citizen's choice ------------------------------

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        self.language = lang
        self.t = translator(lang)
        self._retranslate()

    def _toggle_language(self) -> None:
        others = [x for x in LANGUAGES if x != self.language]
        self.set_language(others[0])

    def set_large_font(self, on: bool) -> None:
        self.large = on
        if self.large_button.isChecked() != on:
            self.large_button.setChecked(on)  # re-enters once with the same value
            return
        self._apply_style(force=True)

    def _retranslate(self) -> None:
        t = self.t
        self.setWindowTitle(t(WINDOW_TITLE).format(window=self.window_no))
        self.hall_label.setText(self.hall_name)
        self.window_label.setText(t(WINDOW_NO).format(window=self.window_no))
        self.large_button.setText(t(LARGE_TYPE))
        others = [x for x in LANGUAGES if x != self.language]
        self.language_button.setText(LANGUAGE_NAMES.get(others[0], others[0]))
        for page in self.pages:
            page.retranslate(t, self.language)
        self._show_queue_info()

    def _apply_style(self, force: bool = False) -> None:
        scale = scale_for_height(self.height()) if self.height() > 200 else 1.0
        if not force and abs(scale - self.scale) < 0.03:
            return
        self.scale = scale
        self.setStyleSheet(stylesheet(self.large, scale))
        for page in self.pages:
            page.restyle(scale, self.large)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_style()

    # -- the service, step by step --------------------------------------------------

    def _show(self, page: QWidget) -> None:
        """Switch pages; while blanked only the rating (the citizen's own) may show."""
        if self.blanked and page not in (self.rating, self.reasons, self.thanks):
            self._before_blank = page
            page = self.blank
        self.stack.setCurrentWidget(page)
        self._show_queue_info()

    def set_blanked(self, on: bool) -> None:
        """While the clerk's window is locked nothing of a citizen shows here. A rating under way
        is the citizen's to finish (it shows no personal data); the screen blanks after it."""
        if on == self.blanked:
            return
        self.blanked = on
        current = self.stack.currentWidget() or self.idle
        if on:
            self._service_delay.stop()
            if current not in (self.rating, self.reasons, self.thanks):
                self._show(current)
        elif current is self.blank:
            self._show(self._before_blank)
            if self._before_blank is self.called and self._pending_service is not None:
                self._service_delay.start(CALLED_MIN_SHOW_MS)

    def end_service(self) -> None:
        """Nobody at the window any more (skipped, parked, transferred): their data leaves the screen."""
        self._pending_service = None
        self._service_delay.stop()
        self.consent.stop()
        personal = (self.serving, self.signing, self.waiting, self.consent)
        if self._before_blank in personal:
            self._before_blank = self.idle
        if self.stack.currentWidget() in personal:
            self._show(self.idle)

    def show_idle(self) -> None:
        self._show(self.idle)

    def show_called(self, ticket_no: str) -> None:
        self._category = None  # until the service says which category the number is
        self.announcer.announce(ticket_no, self.window_no)
        self.idle.set_number(ticket_no)
        if self.rating_in_progress:
            # The previous citizen is still rating: theirs to finish. The call is spoken now
            # and shown as soon as they are done.
            self._pending_called = ticket_no
            return
        self._back_to_idle.stop()
        self._pending_called = None
        self.called.show_call(ticket_no)
        self._show(self.called)

    def set_wait_estimate(self, estimate: wire.WaitEstimate | None) -> None:
        """The live queue's estimate (None offline: no figure rather than a stale one)."""
        self._estimate = estimate
        self._show_queue_info()

    def _show_queue_info(self) -> None:
        current = self.stack.currentWidget()
        if current not in (self.idle, self.called):
            self.queue_info.hide()
            return
        self.queue_info.show_for(
            self.t, category=self._category, estimate=self._estimate, called=current is self.called
        )

    def show_service(self, ctx: ServiceContext) -> None:
        """Show the data to confirm, after the called number has been up long enough to be seen."""
        self._pending_service = ctx
        self._category = ctx.category  # shown (by name only) while the number is up
        self._show_queue_info()
        self._signature = []  # a new citizen: the last one's signature must never reach their papers
        if self.rating_in_progress:
            return
        self._back_to_idle.stop()
        if self.stack.currentWidget() is self.called:
            self._service_delay.start(CALLED_MIN_SHOW_MS)
        else:
            self._show_pending_service()

    def _show_pending_service(self) -> None:
        ctx = self._pending_service
        if ctx is None:
            return
        self._pending_service = None
        self.serving.show_context(ctx)
        self._show(self.serving)

    def _confirmed(self) -> None:
        self.confirmed.emit()
        self.signing.start()
        self._show(self.signing)

    def _signed(self, strokes: Strokes) -> None:
        self._signature = [list(s) for s in strokes]
        self.waiting.say(SIGNED, PLEASE_WAIT)
        self._show(self.waiting)
        self.signature_captured.emit(self.signature_strokes)

    def ask_reuse_consent(self, offers: Sequence[ReuseOffer], timeout_s: int = CONSENT_TIMEOUT_S) -> None:
        """Ask whether earlier submissions may stand for this case's papers; ``reuse_answered`` says.

        Only the earlier item, its day and the materials are shown: nothing personal.
        """
        if self.rating_in_progress or not offers:
            # The last citizen's rating is theirs to finish: nobody was asked, so no consent.
            self.reuse_answered.emit(TIMED_OUT)
            return
        lines = [
            ConsentLine(o.submitted_on.isoformat(), o.earlier.item_name, o.material_name) for o in offers
        ]
        current = self.stack.currentWidget()
        if current is not self.consent:
            personal = (self.serving, self.signing, self.waiting)
            self._before_consent = current if current in personal else self.serving
        self.consent.start(lines, timeout_s)
        self._show(self.consent)

    def _consent_answered(self, answer: str) -> None:
        if self.stack.currentWidget() is self.consent:
            self._show(self._before_consent)
        elif self.blanked and self._before_blank is self.consent:
            self._before_blank = self._before_consent
        self.reuse_answered.emit(answer)

    def start_rating(
        self, case_no: str, decided_at: dt.datetime, item_name: str, *, items: Sequence[str] = ()
    ) -> None:
        """Rate the service (一次一评): for a visit of several items, once, with every item named."""
        if self._rating_case is not None:
            # A new decision while the last citizen has not finished: what they chose stands,
            # what they did not choose is 未评价.
            if self.reasons.active:
                self.reasons.submit()
            else:
                self.rating.abandon()
        self._back_to_idle.stop()
        self._service_delay.stop()
        self._pending_service = None
        self._pending_called = None
        self._rating_case = (case_no, decided_at)
        self.rating.start(item_name, self.rating_timeout_s, items=items)
        self._show(self.rating)

    def _rated(self, level: RatingLevel) -> None:
        if self._rating_case is None:
            return
        if needs_follow_up(level):
            self.reasons.start(level, self.rating_timeout_s)
            self._show(self.reasons)
            return
        self._record(level, [], "")

    def _record(self, level: RatingLevel, reasons: list[str], comment: str) -> None:
        if self._rating_case is None:
            return
        case_no, decided_at = self._rating_case
        self._rating_case = None
        self.rating_sink(case_no, level, decided_at, list(reasons), comment.strip())
        if level is RatingLevel.NOT_RATED:
            self.thanks.say(NOT_RATED, THANKS_FOR_COMING)
        elif needs_follow_up(level):
            self.thanks.say(
                YOUR_RATING,
                FOLLOW_UP,
                translate_args=("level",),
                level=level_label(level),
                days=self.follow_up_days,
            )
        else:
            self.thanks.say(
                YOUR_RATING, THANKS_FOR_RATING, translate_args=("level",), level=level_label(level)
            )
        self._show(self.thanks)
        self._back_to_idle.start(THANKS_MS)

    def _after_thanks(self) -> None:
        # The citizen has gone: the next one starts with the hall's defaults.
        if self.language != self.default_language:
            self.set_language(self.default_language)
        if self.large != self.default_large:
            self.set_large_font(self.default_large)
        if self._pending_called is not None:
            self.show_called_again()
        elif self._pending_service is not None:
            self._show_pending_service()
        else:
            self.show_idle()

    def show_called_again(self) -> None:
        """Show a call that came while the last citizen was rating (already spoken)."""
        ticket_no, self._pending_called = self._pending_called, None
        if ticket_no is None:
            return
        self.called.show_call(ticket_no)
        self._show(self.called)
        if self._pending_service is not None:
            self._service_delay.start(CALLED_MIN_SHOW_MS)
