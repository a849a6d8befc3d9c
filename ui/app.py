"""The composition root: builds the core services and the two windows, and wires them."""

from __future__ import annotations

import datetime as dt
import logging

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from hallclient.counter import ClerkSession
from hallclient.events import CaseDecided, TicketCalled
from hallclient.i18n import set_language
from hallclient.services import Services
from hallclient.wire import Decision, RatingLevel
from ui.citizen.citizen_screen import CitizenScreen
from ui.citizen.placement import CitizenPlacement
from ui.clerk.login_dialog import LoginDialog
from ui.clerk.main_window import ClerkMainWindow
from ui.event_bridge import EventBridge
from ui.receipts import ReceiptPrinter
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class CounterApp(QObject):
    """Owns the windows of one counter session: sign-in, then the clerk window and citizen screen."""

    signed_in = Signal()

    def __init__(
        self, services: Services, *, runner: TaskRunner | None = None, login: LoginDialog | None = None
    ) -> None:
        """``runner`` and ``login``: the ones start-up already made to show the sign-in window early."""
        super().__init__()
        self.services = services
        set_language(services.config.counter.language)
        self.runner = runner if runner is not None else TaskRunner(self)
        # The cases of a visit being rated, by the visit's first case (one rating per visit).
        self._visit_cases: dict[str, list[str]] = {}
        self.bridge = EventBridge(services.bus, self)
        self.printer = ReceiptPrinter(services.counter, self.runner, layout=services.config.printing.layout)
        if login is None:
            login = LoginDialog(services.counter, self.runner)
        else:
            login.counter = services.counter
        self.login = login
        self.login.accepted.connect(self._after_login)
        self.main_window: ClerkMainWindow | None = None
        self.citizen: CitizenScreen | None = None
        self.citizen_placement: CitizenPlacement | None = None
        self.supervisor_window: QWidget | None = None

    def start(self) -> None:
        self.printer.warm_up()
        self.login.show()

    def _after_login(self) -> None:
        session = self.login.session
        assert session is not None
        if session.clerk.role in ("supervisor", "admin") and session.online:
            self.open_supervision(session)
            return
        self.open_windows(session)

    def open_supervision(self, session: ClerkSession) -> None:
        """A hall supervisor signs in to the figures, warnings and follow-ups, not to a counter."""
        from ui.supervisor.supervisor_window import SupervisorWindow

        self.supervisor_window = SupervisorWindow(self.services.api, self.runner, session)
        self.supervisor_window.show()
        self.signed_in.emit()

    def open_windows(self, session: ClerkSession) -> None:
        s = self.services
        self.main_window = ClerkMainWindow(s.counter, self.runner, self.bridge, self.printer, session)
        self.bridge.ticket_called.connect(self._on_called)
        self.bridge.case_decided.connect(self._on_decided)
        self.main_window.show()
        # The clerk's window first, with today's queue from the local store; the citizen's screen
        # (its pages and its full-screen placement, some 0.3 s of the GUI thread) after that. A no-op
        # on the counter worker, queued behind the window's first load of the queue, says when.
        self.runner.run(
            lambda: None, lambda _: QTimer.singleShot(0, lambda: self._open_citizen_screen(session))
        )
        self.runner.run(s.counter.refresh)
        s.sync_worker.start()
        s.uploads.start()
        self.main_window.kick_uploads = s.uploads.kick

    def _open_citizen_screen(self, session: ClerkSession) -> None:
        s, main_window = self.services, self.main_window
        if main_window is None or self.runner.closed:  # shut down meanwhile
            return
        cs = s.config.citizen_screen
        self.citizen = CitizenScreen(
            hall_name=session.hall_name,
            window_no=s.config.counter.window_no,
            clerk_name=session.clerk.name,
            staff_no=session.clerk.staff_no,
            rating_timeout_s=cs.rating_timeout_s,
            rating_sink=self._record_rating,
            follow_up_days=cs.follow_up_working_days,
            large_font=cs.large_font,
            speech_engine="auto",
        )
        # The citizen's signature on the second screen goes into the receipt of their decision.
        citizen = self.citizen
        main_window.signature_provider = lambda: list(citizen.signature_strokes)
        self.citizen_placement = CitizenPlacement(self.citizen, cs.screen_name)
        if session.clerk.photo_url:
            self._load_clerk_photo(session.clerk.photo_url)
        main_window.service_started.connect(self.citizen.show_service)
        main_window.service_ended.connect(self.citizen.end_service)
        main_window.locked_changed.connect(self.citizen.set_blanked)
        main_window.wait_estimate_changed.connect(self.citizen.set_wait_estimate)
        # 复用既往材料: asked on the citizen's screen, answered back to the clerk's window.
        main_window.reuse_consent_asked.connect(self.citizen.ask_reuse_consent)
        self.citizen.reuse_answered.connect(main_window.reuse_answered)
        main_window.refresh_estimate()
        self.place_citizen_screen()
        # Shown after the clerk's window, it would take the keyboard from it: the clerk's window
        # stays the active one, as when it was shown last.
        main_window.activateWindow()
        # Citizens' data past retention goes now and then once a day (the counter runs for weeks).
        self.housekeeping()
        self._housekeeping_timer = QTimer(self)
        self._housekeeping_timer.setInterval(24 * 60 * 60 * 1000)
        self._housekeeping_timer.timeout.connect(self.housekeeping)
        self._housekeeping_timer.start()
        self.signed_in.emit()

    def place_citizen_screen(self) -> None:
        """On the citizen's screen, full screen; a window with one screen; again when screens change."""
        assert self.citizen_placement is not None
        self.citizen_placement.place()

    def _load_clerk_photo(self, url: str) -> None:
        """Fetch the clerk's photo off the GUI thread; without it the screen shows the surname."""
        from urllib.parse import urljoin, urlsplit

        server = self.services.config.server
        full = urljoin(server.url.rstrip("/") + "/", url)
        if urlsplit(full).netloc != urlsplit(server.url).netloc:
            log.info("clerk photo not loaded: it is not on the platform server")
            return

        def fetch() -> bytes:
            import requests

            r = requests.get(full, timeout=server.timeout_s, verify=server.ca_bundle or True)
            r.raise_for_status()
            return r.content

        def show(data: bytes) -> None:
            if self.citizen is not None:
                self.citizen.set_clerk_photo(data)

        self.runner.run(
            fetch, show, lambda exc: log.info("clerk photo not loaded: %s", type(exc).__name__), pool="io"
        )

    def _on_called(self, e: TicketCalled) -> None:
        if self.citizen is not None:
            self.citizen.show_called(e.ticket_no)

    def _on_decided(self, e: CaseDecided) -> None:
        if self.citizen is None or e.decision not in (
            Decision.ACCEPT,
            Decision.COMPLETE,
            Decision.CORRECT,
            Decision.REJECT,
        ):
            return
        day = e.decided_at.astimezone().date()
        visit = self.services.counter.open_visit(e.ticket_no, day) if e.ticket_no else None
        if visit is not None and e.case_no in visit.case_nos:
            # 一次一评: a visit of several items is rated once, after its last decision, the items named;
            # the rating is stored against the visit's first case.
            if not visit.complete or e.case_no != visit.case_nos[-1]:
                return
            first = visit.case_nos[0]
            self._visit_cases[first] = visit.case_nos
            self.citizen.start_rating(
                first, e.decided_at, visit.name, items=[d.item_name for d in visit.decided]
            )
            return
        self.citizen.start_rating(e.case_no, e.decided_at, e.item_name)

    def _record_rating(
        self, case_no: str, level: RatingLevel, decided_at: dt.datetime, reasons: list[str], comment: str
    ) -> None:
        counter = self.services.counter
        visit_cases = self._visit_cases.pop(case_no, None)
        self.runner.run(
            lambda: counter.record_rating(
                case_no,
                level,
                decided_at=decided_at,
                reasons=reasons,
                comment=comment,
                visit_case_nos=visit_cases,
            ),
            on_error=lambda exc: log.error("rating not stored: %s", type(exc).__name__),
        )

    def housekeeping(self) -> None:
        self.runner.run(
            self.services.housekeeping,
            lambda n: log.info("retention purge cleared %s records", n),
            lambda exc: log.error("retention purge failed: %s", type(exc).__name__),
        )

    def shutdown(self) -> None:
        # Stop the sync thread first: its events would otherwise queue work on a closing runner.
        self.services.sync_worker.stop()
        self.runner.shutdown()
        self.services.close()
