"""The clerk's main window: composes the queue, the warnings, the case workspace and the status bar.

Every action runs in the core off the GUI thread (``TaskRunner``); this window
only turns keys and clicks into those calls and shows what comes back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.captures import CaptureStore, subject_of
from hallclient.counter import (
    CATEGORY_LABELS,
    ClerkSession,
    Counter,
    CounterError,
    PaperOutcome,
    ServiceContext,
    VisitStep,
)
from hallclient.decisions import MaterialFinding
from hallclient.events import SyncStatus
from hallclient.i18n import _
from hallclient.lookup import QueryKind, classify_query
from hallclient.papers import QueueTicketSlip, Strokes
from hallclient.reuse import ReuseOffer
from hallclient.validation import InvalidInput
from ui.clerk.case_view import CaseView
from ui.clerk.conflicts_dialog import ConflictsDialog
from ui.clerk.correction_dialog import CorrectionDialog
from ui.clerk.lock_panel import LockPanel
from ui.clerk.lookup_dialog import LookupDialog
from ui.clerk.overdue_panel import OverduePanel
from ui.clerk.pause_dialog import PauseDialog
from ui.clerk.pickup_dialog import PickupDialog, PickupRequest
from ui.clerk.priority import NumberRequest, PriorityDialog, PriorityRequest, TakeNumberDialog
from ui.clerk.queue_panel import QueuePanel
from ui.clerk.rejection_dialog import RejectionDialog, RejectionRequest
from ui.clerk.scanner_filter import ScannerFilter
from ui.clerk.sync_status_label import ConflictsButton, SyncStatusLabel
from ui.clerk.transfer_dialog import TransferDialog, TransferRequest
from ui.event_bridge import EventBridge
from ui.idle_watcher import IdleWatcher
from ui.receipts import PrintedPaper, ReceiptPrinter
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

Findings = dict[str, MaterialFinding]


class ClerkMainWindow(QMainWindow):
    receipt_ready = Signal(str, object)  # case_no, Path of the archived PDF
    service_started = Signal(object)  # ServiceContext, for the citizen screen
    service_ended = Signal()
    locked_changed = Signal(bool)  # the citizen screen blanks while the clerk's window is locked
    wait_estimate_changed = Signal(object)  # wire.WaitEstimate, or None offline: for the citizen screen
    reuse_consent_asked = Signal(object)  # [ReuseOffer]: the citizen screen asks for consent

    def __init__(
        self,
        counter: Counter,
        runner: TaskRunner,
        bridge: EventBridge,
        printer: ReceiptPrinter,
        session: ClerkSession,
    ) -> None:
        super().__init__()
        self.counter = counter
        self.runner = runner
        self.printer = printer
        self.session = session
        # The citizen's signature from the second screen, when one was given (set by the app).
        self.signature_provider: Callable[[], Strokes] = list
        self.setObjectName("clerkMainWindow")
        self.setWindowTitle(
            _("{hall} · {window} 号窗口 · 综合受理").format(hall=session.hall_name, window=counter.window_no)
        )
        self.last_paper: PrintedPaper | None = None
        self.last_outcome: PaperOutcome | None = None
        self.catalog: list[wire.ServiceItem] = []
        self.bundles: list[wire.Bundle] = []
        self.dialog: Any = None  # the action dialog open now, if any

        header = QWidget()
        header.setObjectName("clerkHeader")
        hl = QHBoxLayout(header)
        hall = QLabel(session.hall_name)
        hall.setObjectName("hallName")
        who = QLabel(
            _("{window} 号窗口　{name}（工号 {staff}）").format(
                window=counter.window_no, name=session.clerk.name, staff=session.clerk.staff_no
            )
        )
        who.setObjectName("clerkName")
        hl.addWidget(hall)
        hl.addStretch(1)
        hl.addWidget(who)

        self.queue = QueuePanel(counter.window_no)
        self.queue.call_next_requested.connect(self.call_next)
        self.queue.recall_requested.connect(self.recall)
        self.queue.no_show_requested.connect(self.no_show)
        self.queue.park_requested.connect(self.park)
        self.queue.resume_requested.connect(self.resume)
        self.queue.transfer_requested.connect(self.transfer)
        self.queue.pause_toggle_requested.connect(self.toggle_pause)
        self.queue.take_number_requested.connect(self.take_number)
        self.queue.priority_requested.connect(self.mark_priority)
        self.overdue = OverduePanel()
        self.overdue.refresh_requested.connect(self.refresh_overdue)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("leftTabs")
        self.tabs.addTab(self.queue, _("今日排队"))
        self.tabs.addTab(self.overdue, _("预警"))

        self.case_view = CaseView()
        self.case_view.accept_requested.connect(self.accept)
        self.case_view.correction_requested.connect(self.request_correction)
        self.case_view.reject_requested.connect(self.reject)
        self.case_view.complete_requested.connect(self.complete)
        self.case_view.item_chosen.connect(self.choose_item)
        self.case_view.work_started.connect(self.start_serving)
        self.case_view.applicant_id_ready.connect(self.fetch_licenses)
        self.case_view.license_view_requested.connect(self.view_license)
        self.case_view.applicant_id_ready.connect(self.fetch_earlier_materials)
        self.case_view.reuse_consent_requested.connect(self.ask_reuse_consent)
        self._asking_reuse: tuple[str, dict[str, ReuseOffer]] | None = None
        self.case_view.capture_requested.connect(self.capture_material)
        self.captures = CaptureStore(counter.store, counter.clock)
        # Set by the app: wakes the upload worker once a case's captured papers are to be forwarded.
        self.kick_uploads: Callable[[], None] = lambda: None
        self.case_view.bundle_chosen.connect(self.choose_bundle)
        self.case_view.visit_item_added.connect(self.add_visit_item)
        self.case_view.visit_item_removed.connect(self.remove_visit_item)

        self.paper_label = QLabel()
        self.paper_label.setObjectName("receiptLabel")
        self.paper_label.setWordWrap(True)
        self.open_paper = QPushButton(_("预览 / 打印"))
        self.open_paper.setObjectName("openReceiptButton")
        self.open_paper.setEnabled(False)
        self.open_paper.clicked.connect(self.preview_last)
        self.reprint_button = QPushButton(_("补打 (Ctrl+R)"))
        self.reprint_button.setObjectName("reprintButton")
        self.reprint_button.setEnabled(False)
        self.reprint_button.clicked.connect(self.reprint_last)
        self.lookup_button = QPushButton(_("查找 (Ctrl+F)"))
        self.lookup_button.setObjectName("lookupButton")
        self.lookup_button.clicked.connect(self.lookup)
        self.pickup_button = QPushButton(_("出件 (Ctrl+G)"))
        self.pickup_button.setObjectName("pickupButton")
        self.pickup_button.clicked.connect(self.pickup)
        paper_row = QHBoxLayout()
        paper_row.addWidget(self.paper_label, 1)
        paper_row.addWidget(self.open_paper)
        paper_row.addWidget(self.reprint_button)
        paper_row.addWidget(self.lookup_button)
        paper_row.addWidget(self.pickup_button)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.case_view, 1)
        rl.addLayout(paper_row)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)

        work = QWidget()
        cl = QVBoxLayout(work)
        cl.addWidget(header)
        cl.addWidget(self.splitter, 1)
        self.lock_panel = LockPanel(session.clerk.name)
        self.lock_panel.unlock_requested.connect(self.unlock)
        self.pages = QStackedWidget()
        self.pages.addWidget(work)
        self.pages.addWidget(self.lock_panel)
        self.setCentralWidget(self.pages)
        self.locked = False
        self.idle = IdleWatcher(counter.config.security.idle_lock_minutes, self)
        self.idle.idle.connect(self.lock)

        shortcuts: list[tuple[str, Callable[[], object]]] = [
            ("Ctrl+F", self.lookup),
            ("Ctrl+G", self.pickup),
            ("Ctrl+P", self.preview_last),
            ("Ctrl+R", self.reprint_last),
            ("Ctrl+L", self.lock),
            ("Ctrl+1", lambda: self.tabs.setCurrentIndex(0)),
            ("Ctrl+2", lambda: self.tabs.setCurrentIndex(1)),
        ]
        for keys, slot in shortcuts:
            QShortcut(QKeySequence(keys), self).activated.connect(slot)

        self.sync_label = SyncStatusLabel()
        self.conflicts_button = ConflictsButton()
        self.conflicts_button.clicked.connect(self.show_conflicts)
        self.conflicts_dialog: ConflictsDialog | None = None
        self.statusBar().addPermanentWidget(self.conflicts_button)
        self.statusBar().addPermanentWidget(self.sync_label)
        self.message = QLabel()
        self.message.setObjectName("statusMessage")
        self.statusBar().addWidget(self.message, 1)
        if not session.online:
            self.say(_("离线登录：叫号和办件保存在本机，网络恢复后自动上传"))
        if session.warnings:
            self.say("⚠ " + "；".join(session.warnings))

        self.scanner = ScannerFilter(self)
        self.scanner.scanned.connect(self.scanned)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.scanner.follow_focus(app)
            self.idle.follow_focus(app)
        self.idle.start()

        bridge.queue_changed.connect(self.refresh_queue)
        # The waiting estimate for the citizen screen: now, every minute, and after each call.
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setInterval(60_000)
        self._estimate_timer.timeout.connect(self.refresh_estimate)
        self._estimate_timer.start()
        self._estimate_pending = False
        bridge.sync_status.connect(self._on_sync_status)
        self._restore_state()
        self.refresh_queue()
        self.runner.run(self.counter.window_paused, self._show_paused, self._show_error)

    # -- queue ------------------------------------------------------------------

    def refresh_queue(self) -> None:
        self.runner.run(self.counter.queue, self.queue.set_rows, self._show_error)
        self.refresh_overdue()
        # The catalog arrives with the first pull after sign-in and may change with any later one.
        self.runner.run(self.counter.store.catalog, self._got_catalog, self._show_error)
        self.runner.run(self.counter.bundles, self._got_bundles, self._show_error)

    def refresh_estimate(self) -> None:
        if self._estimate_pending:
            return
        self._estimate_pending = True

        def done(estimate: object) -> None:
            self._estimate_pending = False
            self.wait_estimate_changed.emit(estimate)

        def failed(exc: Exception) -> None:
            self._estimate_pending = False
            self._show_error(exc)

        self.runner.run(self.counter.wait_estimate, done, failed, pool="io")

    def refresh_overdue(self) -> None:
        self.runner.run(self.counter.overdue, self.overdue.set_entries, self._show_error)

    def _got_catalog(self, items: list[wire.ServiceItem]) -> None:
        if items != self.catalog:
            self.catalog = items
            self.case_view.set_catalog(items)

    def _got_bundles(self, bundles: list[wire.Bundle]) -> None:
        if bundles != self.bundles:
            self.bundles = bundles
            self.case_view.set_bundles(bundles)

    def _serve(self, ctx: ServiceContext | None) -> None:
        """Show the citizen now at the window (None: nobody)."""
        self.queue.set_current(ctx.ticket if ctx else None)
        self.case_view.show_context(ctx)
        if ctx is not None:
            self.service_started.emit(ctx)
            self.refresh_captures()
            if ctx.booking is not None and not ctx.licenses:
                self.fetch_licenses(ctx.booking.applicant.id_number)
            if ctx.booking is not None and not ctx.reuse:
                self.fetch_earlier_materials(ctx.booking.applicant.id_number)
        else:
            self.service_ended.emit()

    def _run(self, work: Callable[[], Any], done: Callable[[Any], None], what: str) -> None:
        """A queue action: the panel is busy until the core answers."""
        self.queue.set_busy(True)
        self.say(what)

        def finished(value: Any) -> None:
            self.queue.set_busy(False)
            done(value)

        def failed(exc: Exception) -> None:
            self.queue.set_busy(False)
            self._show_error(exc)

        self.runner.run(work, finished, failed)

    def call_next(self) -> None:
        if self.case_view.context is not None:
            self.say(_("请先完成当前群众的办理"))
            return

        def work() -> ServiceContext | None:
            ticket = self.counter.call_next()
            return self.counter.service_context(ticket) if ticket else None

        self._run(work, self._called, _("正在叫号…"))

    def _called(self, ctx: ServiceContext | None) -> None:
        if ctx is None:
            self.say(_("当前没有等候的群众"))
            return
        self.say(_("已叫号 {ticket}").format(ticket=ctx.ticket.ticket_no))
        self._serve(ctx)
        self.refresh_estimate()

    def _current(self) -> ServiceContext | None:
        ctx = self.case_view.context
        if ctx is None:
            self.say(_("当前没有办理中的群众"))
        return ctx

    def recall(self) -> None:
        ctx = self._current()
        if ctx is None:
            return

        def done(ticket: wire.Ticket) -> None:
            self.say(_("已重呼 {ticket}（第 {n} 次）").format(ticket=ticket.ticket_no, n=ticket.recalls))
            self._serve(dataclasses.replace(ctx, ticket=ticket))

        self._run(lambda: self.counter.recall(ctx.ticket), done, _("正在重呼…"))

    def no_show(self) -> None:
        ctx = self._current()
        if ctx is None:
            return

        def done(ticket: wire.Ticket) -> None:
            self.say(_("{ticket} 号已过号").format(ticket=ticket.ticket_no))
            self._serve(None)

        self._run(lambda: self.counter.no_show(ctx.ticket), done, _("正在过号…"))

    def park(self) -> None:
        ctx = self._current()
        if ctx is None:
            return

        def done(ticket: wire.Ticket) -> None:
            self.say(_("{ticket} 号已挂起，回来后按 F10 恢复").format(ticket=ticket.ticket_no))
            self._serve(None)

        self._run(lambda: self.counter.park(ctx.ticket), done, _("正在挂起…"))

    def resume(self, ticket: wire.Ticket | None) -> None:
        if self.case_view.context is not None:
            self.say(_("请先完成当前群众的办理"))
            return

        def work() -> ServiceContext:
            chosen = ticket
            if chosen is None:
                parked = self.counter.parked()
                if not parked:
                    raise CounterError(_("本窗口没有挂起的群众"))
                chosen = parked[-1]
            return self.counter.resume(chosen)

        def done(ctx: ServiceContext) -> None:
            self.say(_("已恢复办理 {ticket}").format(ticket=ctx.ticket.ticket_no))
            self._serve(ctx)

        self._run(work, done, _("正在恢复…"))

    def start_serving(self) -> None:
        ctx = self.case_view.context
        if ctx is None or ctx.ticket.state is not wire.TicketState.CALLED:
            return

        def done(ticket: wire.Ticket) -> None:
            current = self.case_view.context
            if current is not None and current.ticket.ticket_no == ticket.ticket_no:
                self.case_view.context = dataclasses.replace(current, ticket=ticket)
                self.queue.set_current(ticket)

        self.runner.run(lambda: self.counter.start_serving(ctx.ticket), done, self._show_error)

    def transfer(self) -> None:
        ctx = self._current()
        if ctx is None:
            return
        self.say(_("正在取得各窗口状态…"))
        self.runner.run(
            self.counter.windows, lambda windows: self._open_transfer(ctx, windows), self._show_error
        )

    def _open_transfer(self, ctx: ServiceContext, windows: list[wire.WindowInfo]) -> None:
        self.say("")
        dialog = TransferDialog(ctx.ticket, self.counter.window_no, windows, self.catalog, self)

        def submit(req: TransferRequest) -> None:
            def done(ticket: wire.Ticket) -> None:
                dialog.succeeded()
                where = _("{window} 号窗口").format(window=req.to_window) if req.to_window else _("任意窗口")
                self.say(_("{ticket} 号已转移到{where}").format(ticket=ticket.ticket_no, where=where))
                self._serve(None)

            self.runner.run(
                lambda: self.counter.transfer(
                    ctx.ticket, to_window=req.to_window, to_item=req.to_item, note=req.note
                ),
                done,
                lambda exc: self._dialog_error(dialog, exc),
            )

        self._open(dialog, submit)

    def toggle_pause(self) -> None:
        if self.queue.paused:
            self._run(
                self.counter.resume_service, lambda _v: self._after_pause(False, ""), _("正在恢复服务…")
            )
            return
        if self.case_view.context is not None:
            self.say(_("请先完成当前群众的办理，再暂停服务"))
            return
        dialog = PauseDialog(self)

        def submit(reason: str) -> None:
            def done(_v: object) -> None:
                dialog.succeeded()
                self._after_pause(True, reason)

            self.runner.run(
                lambda: self.counter.pause(reason), done, lambda exc: self._dialog_error(dialog, exc)
            )

        self._open(dialog, submit)

    def _after_pause(self, paused: bool, reason: str) -> None:
        self._show_paused((paused, reason))
        self.say(_("已暂停服务：{reason}").format(reason=reason) if paused else _("已恢复服务"))

    def _show_paused(self, state: tuple[bool, str]) -> None:
        self.queue.set_paused(*state)

    def choose_item(self, code: str) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        self.runner.run(lambda: self.counter.with_item(ctx, code), self._serve, self._show_error)

    # -- priority (绿色通道) and taking a number ------------------------------------------------

    def mark_priority(self, ticket: wire.Ticket | None) -> None:
        if ticket is None:
            self.say(_("请先在排队列表中选中一位等候中的群众"))
            return
        dialog = PriorityDialog(ticket, self)

        def submit(req: PriorityRequest) -> None:
            def done(marked: wire.Ticket) -> None:
                dialog.succeeded()
                label = _(CATEGORY_LABELS[marked.category or wire.TicketCategory.ORDINARY])
                self.say(_("{ticket} 号已标记为“{category}”").format(ticket=marked.ticket_no, category=label))
                self.refresh_queue()

            self.runner.run(
                lambda: self.counter.mark_priority(req.ticket_no, req.category, req.reason),
                done,
                lambda exc: self._dialog_error(dialog, exc),
            )

        self._open(dialog, submit)

    def take_number(self) -> None:
        dialog = TakeNumberDialog(self.catalog, self.bundles, self)

        def submit(req: NumberRequest) -> None:
            def done(slip: QueueTicketSlip) -> None:
                dialog.succeeded()
                self.say(_("已取号 {ticket}").format(ticket=slip.ticket_no))
                self.printer.print_paper(slip, self._slip_done, self._paper_failed)
                self.refresh_queue()

            self.runner.run(
                lambda: self.counter.take_number(
                    item_codes=req.item_codes,
                    bundle_code=req.bundle_code,
                    category=req.category,
                    reason=req.reason,
                    phone=req.phone,
                ),
                done,
                lambda exc: self._dialog_error(dialog, exc),
            )

        self._open(dialog, submit)

    def _slip_done(self, printed: PrintedPaper) -> None:
        # A queue ticket is no case document: shown for printing, not archived.
        self.last_paper = printed
        self.paper_label.setText(_("{title}已生成：{ref}").format(title=printed.title, ref=printed.ref))
        self.open_paper.setEnabled(True)

    # -- visits of several items (一件事一次办) -------------------------------------------------

    def choose_bundle(self, code: str) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        self._change_visit(lambda: self.counter.start_visit(ctx, bundle_code=code))

    def add_visit_item(self, code: str) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        self._change_visit(lambda: self.counter.add_to_visit(ctx, code))

    def remove_visit_item(self, code: str) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        self._change_visit(lambda: self.counter.remove_from_visit(ctx, code))

    def _change_visit(self, work: Callable[[], ServiceContext]) -> None:
        def done(ctx: ServiceContext) -> None:
            if ctx.visit is not None:
                self.say(
                    _("本次办理 {n} 个事项：{items}").format(
                        n=len(ctx.visit.items), items="、".join(i.name for i in ctx.visit.items)
                    )
                )
            self._serve(ctx)

        self.runner.run(
            work,
            done,
            lambda exc: (
                self.case_view.show_error(str(exc))
                if isinstance(exc, CounterError)
                else self._show_error(exc)
            ),
        )

    def _decide_visit(
        self,
        ctx: ServiceContext,
        decision: wire.Decision,
        findings: Findings,
        applicant: wire.Applicant | None,
        notes: str,
        dialog: Any = None,
        **extra: Any,
    ) -> None:
        """Decide the visit's next item from the merged checklist."""
        assert ctx.visit is not None
        nxt = ctx.visit.next_item
        if nxt is None:
            return
        strokes = self.signature_provider()
        self._decide(
            lambda: self.counter.decide_in_visit(
                ctx,
                nxt.code,
                decision,
                findings,
                applicant=applicant,
                notes=notes,
                signature=strokes,
                **extra,
            ),
            dialog,
        )

    # -- e-licenses ---------------------------------------------------------------------

    def _still_serving(self, ctx: ServiceContext) -> ServiceContext | None:
        """The case view's context if it is still the same citizen and item as ``ctx``."""
        current = self.case_view.context
        if current is None or current.ticket.ticket_no != ctx.ticket.ticket_no or current.item != ctx.item:
            return None
        return current

    def fetch_licenses(self, holder_id: str) -> None:
        """Ask the registry which materials it holds for the applicant now being served."""
        ctx = self.case_view.context
        if ctx is None or ctx.item is None or not any(m.license_types for m in ctx.item.materials):
            return

        def done(matches: dict[str, Any]) -> None:
            current = self._still_serving(ctx)
            if current is None:
                return  # another citizen or item by now
            self.case_view.show_context(dataclasses.replace(current, licenses=matches))
            usable = sum(m.usable for m in matches.values())
            if matches:
                # Beside the checklist, not in the status bar: that line answers the clerk's last key.
                self.case_view.show_license_summary(
                    _("电子证照库提供 {n} 份材料，无需群众再交纸质材料").format(n=usable)
                )

        def failed(exc: Exception) -> None:
            if isinstance(exc, CounterError):  # offline or refused: paper it is, said beside the checklist
                self.case_view.show_license_summary(str(exc))
            else:
                self._show_error(exc)

        self.runner.run(lambda: self.counter.licenses(ctx, holder_id), done, failed)

    def view_license(self, license_no: str) -> None:
        ctx = self.case_view.context
        if ctx is None or ctx.item is None:
            return
        item_name = ctx.item.name
        match = next((m for m in ctx.licenses.values() if m.license.license_no == license_no), None)
        title = match.license.type_name if match else license_no

        def show(pdf: bytes) -> None:
            from ui.clerk.license_viewer import LicenseViewer

            mark = _("仅供办理 {item} 使用 {date}").format(
                item=item_name, date=self.counter.today().isoformat()
            )
            viewer = LicenseViewer(pdf, title, mark, self)
            viewer.open()

        self.runner.run(lambda: self.counter.license_file(ctx, license_no), show, self._show_error)

    # -- earlier submissions (复用既往材料) -----------------------------------------------

    def fetch_earlier_materials(self, holder_id: str) -> None:
        """Ask the server which of this item's materials the applicant handed in for an earlier case."""
        ctx = self.case_view.context
        if ctx is None or ctx.item is None or not any(m.reuse_days > 0 for m in ctx.item.materials):
            return

        def done(offers: dict[str, ReuseOffer]) -> None:
            current = self._still_serving(ctx)
            if current is None:
                return  # another citizen or item by now
            self.case_view.show_context(dataclasses.replace(current, reuse=offers))
            if offers:
                self.say(_("有 {n} 份既往材料可以复用，请勾选后请群众确认").format(n=len(offers)))

        def failed(exc: Exception) -> None:
            if isinstance(exc, CounterError):  # offline or refused: paper, as usual
                self.say(str(exc))
            else:
                self._show_error(exc)

        self.runner.run(lambda: self.counter.earlier_materials(ctx, holder_id), done, failed)

    def ask_reuse_consent(self, offers: dict[str, ReuseOffer]) -> None:
        ctx = self.case_view.context
        if ctx is None or not offers:
            return
        self._asking_reuse = (ctx.ticket.ticket_no, dict(offers))
        self.say(_("请群众在服务屏上确认是否复用既往材料"))
        self.reuse_consent_asked.emit(list(offers.values()))

    def reuse_answered(self, answer: str) -> None:
        """The citizen screen's answer: agreed, refused, or not given in time (then paper)."""
        asked, self._asking_reuse = self._asking_reuse, None
        ctx = self.case_view.context
        if asked is None or ctx is None or ctx.ticket.ticket_no != asked[0]:
            return
        offers = asked[1]
        agreed = answer == "agreed"

        def done(new: ServiceContext) -> None:
            current = self.case_view.context
            if current is None or current.ticket.ticket_no != new.ticket.ticket_no:
                return
            self.case_view.show_context(dataclasses.replace(current, reuse=new.reuse))
            if agreed:
                self.say(_("群众已同意复用 {n} 份既往材料").format(n=len(offers)))
            elif answer == "refused":
                self.say(_("群众不同意复用既往材料，请收取纸质材料"))
            else:
                self.say(_("群众未在规定时间内确认，请收取纸质材料"))

        self.runner.run(
            lambda: self.counter.record_reuse_consent(ctx, offers, agreed), done, self._show_error
        )

    # -- paper capture (前台综合受理、后台分类审批) ----------------------------------------

    def _capture_subject(self, ctx: ServiceContext) -> str:
        return subject_of(ctx.ticket.date, ctx.ticket.ticket_no)

    def refresh_captures(self) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        subject = self._capture_subject(ctx)

        def pages() -> dict[str, int]:
            return {code: info.pages for code, info in self.captures.captured(subject).items()}

        self.runner.run(pages, self.case_view.show_captures, self._show_error)

    def capture_material(self, code: str, name: str) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        from ui.capture.capture_dialog import CaptureDialog

        dialog = CaptureDialog(code, name, self.captures, self, subject=self._capture_subject(ctx))
        dialog.captured.connect(lambda *_a: self.refresh_captures())
        dialog.open()

    def _forward_captures(self, ctx: ServiceContext | None, case_no: str) -> None:
        """After 受理: the citizen's captured papers travel with the case to its back office."""
        if ctx is None:
            return
        subject = self._capture_subject(ctx)

        def forward() -> int:
            return self.captures.forward(subject, case_no)

        def queued(n: int) -> None:
            if n:
                self.kick_uploads()

        self.runner.run(forward, queued, self._show_error)

    # -- lookup and scanner ----------------------------------------------------------

    def lookup(self, text: str = "") -> None:
        names = {i.code: i.name for i in self.catalog}
        dialog = LookupDialog(names, self)
        self.dialog = dialog

        def search(query: str) -> None:
            self.runner.run(
                lambda: self.counter.lookup(query),
                dialog.show_hits,
                lambda exc: dialog.show_error(
                    str(exc)
                    if isinstance(exc, (CounterError, InvalidInput))
                    else _("查找失败：{error}").format(error=exc)
                ),
            )

        def chosen_booking(booking: wire.Booking) -> None:
            current = self.case_view.context

            def done(ctx: ServiceContext) -> None:
                dialog.accept()
                self.say(_("正在办理预约 {code}").format(code=booking.code))
                self._serve(ctx)

            self.runner.run(
                lambda: self.counter.serve_booking(booking, current.ticket if current else None),
                done,
                lambda exc: dialog.show_error(str(exc)),
            )

        def chosen_case(case_no: str) -> None:
            dialog.accept()
            self.pickup(case_no)

        dialog.search_requested.connect(search)
        dialog.booking_chosen.connect(chosen_booking)
        dialog.case_chosen.connect(chosen_case)
        dialog.finished.connect(lambda _r: self._closed(dialog))
        dialog.open()
        if text:
            dialog.search(text)

    def scanned(self, text: str) -> None:
        """A scanner's text, wherever the focus was: an ID number for a walk-in's form, else a lookup."""
        try:
            query = classify_query(text)
        except InvalidInput as exc:
            self.say(_("扫描内容无法识别：{error}").format(error=exc))
            return
        if query.kind is QueryKind.ID_NUMBER and self.case_view.fill_id_number(query.value):
            self.say(_("已读入身份证号"))
            return
        if isinstance(self.dialog, LookupDialog):
            self.dialog.search(query.value)
            return
        self.lookup(query.value)

    # -- decisions ----------------------------------------------------------------

    def _decide(self, work: Callable[[], PaperOutcome | VisitStep], dialog: Any = None) -> None:
        self.case_view.set_deciding(True)

        def failed(exc: Exception) -> None:
            self.case_view.set_deciding(False)
            if dialog is not None:
                self._dialog_error(dialog, exc)
            elif isinstance(exc, CounterError):
                self.case_view.show_error(str(exc))
            else:
                self._show_error(exc)

        def done(outcome: PaperOutcome | VisitStep) -> None:
            if dialog is not None:
                dialog.succeeded()
            self.case_view.set_deciding(False)
            if isinstance(outcome, VisitStep):
                self._visit_decided(outcome)
            else:
                self._decided(outcome)

        self.runner.run(work, done, failed)

    def accept(self, findings: Findings, applicant: wire.Applicant | None, notes: str) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        if ctx.visit is not None:
            self._decide_visit(ctx, wire.Decision.ACCEPT, findings, applicant, notes)
            return
        strokes = self.signature_provider()
        self._decide(
            lambda: self.counter.accept(ctx, findings, applicant=applicant, notes=notes, signature=strokes)
        )

    def complete(self, findings: Findings, applicant: wire.Applicant | None, notes: str) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        if ctx.visit is not None:
            self._decide_visit(ctx, wire.Decision.COMPLETE, findings, applicant, notes)
            return
        strokes = self.signature_provider()
        self._decide(
            lambda: self.counter.complete_on_the_spot(
                ctx, findings, applicant=applicant, notes=notes, signature=strokes
            )
        )

    def request_correction(self, findings: Findings, applicant: wire.Applicant | None, notes: str) -> None:
        ctx = self.case_view.context
        if ctx is None or ctx.item is None:
            return
        item = ctx.item
        visit = ctx.visit
        if visit is not None and visit.next_item is not None:
            # The notice is the next item's: its own materials, found on the merged list.
            item = visit.next_item
        days = self.counter.config.decisions.correction_working_days

        def deadline() -> object:
            return self.counter.promised_date(self.counter.today(), days)[0] if days else None

        def show(due: object) -> None:
            assert due is None or isinstance(due, dt.date)
            if visit is not None:
                dialog = CorrectionDialog(item, visit.findings_for(item.code, findings), due, self)
                self._open(
                    dialog,
                    lambda _f: self._decide_visit(
                        ctx, wire.Decision.CORRECT, findings, applicant, notes, dialog
                    ),
                )
                return
            dialog = CorrectionDialog(item, findings, due, self)
            self._open(
                dialog,
                lambda f: self._decide(
                    lambda: self.counter.request_correction(ctx, f, applicant=applicant, notes=notes), dialog
                ),
            )

        self.runner.run(deadline, show, self._show_error)

    def reject(self, findings: Findings, applicant: wire.Applicant | None, notes: str) -> None:
        ctx = self.case_view.context
        if ctx is None or ctx.item is None:
            return
        nxt = ctx.visit.next_item if ctx.visit is not None else None
        dialog = RejectionDialog((nxt or ctx.item).name, self.counter.config.decisions, self)

        def submit(req: RejectionRequest) -> None:
            if ctx.visit is not None:
                self._decide_visit(
                    ctx,
                    wire.Decision.REJECT,
                    findings,
                    applicant,
                    notes,
                    dialog,
                    reasons=req.reasons,
                    legal_basis=req.legal_basis,
                )
                return
            self._decide(
                lambda: self.counter.reject(
                    ctx,
                    reasons=req.reasons,
                    legal_basis=req.legal_basis,
                    applicant=applicant,
                    checks=findings,
                    notes=notes,
                ),
                dialog,
            )

        self._open(dialog, submit)

    def pickup(self, case_no: str = "") -> None:
        names = {i.code: i.name for i in self.catalog}

        def work() -> tuple[list[Any], dict[str, str]]:
            store = self.counter.store
            cases = store.awaiting_pickup(self.counter.window_no, (wire.Decision.ACCEPT,))
            chosen = store.case(case_no) if case_no else None
            if chosen is not None and all(c.case_no != chosen.case_no for c in cases):
                # Found by lookup: shown, and the core says why it cannot be handed over.
                cases.insert(0, chosen)
            states = {}
            for c in cases:
                office = store.back_office_status(c.case_no)
                if office is not None:  # forwarded to its department: ready only once it decided
                    states[c.case_no] = (
                        _("（{department}已办结，待取件）")
                        if office.ready_for_pickup
                        else _("（{department}审批中）")
                    ).format(department=office.department)
            return cases, states

        def show(found: tuple[list[Any], dict[str, str]]) -> None:
            cases, states = found
            dialog = PickupDialog(cases, names, self, states=states)
            if case_no:
                dialog.select(case_no)

            def submit(req: PickupRequest) -> None:
                self._decide(lambda: self.counter.pickup(req.case_no, req.picked_up_by), dialog)

            self._open(dialog, submit)

        self.runner.run(work, show, self._show_error)

    def _decided(self, outcome: PaperOutcome) -> None:
        ctx = self.case_view.context
        payload = getattr(outcome, "payload", None)
        if payload is not None:
            texts = {
                wire.Decision.ACCEPT: _("已受理，受理编号 {case_no}，承诺办结日期 {date}"),
                wire.Decision.CORRECT: _("已一次性告知补正，编号 {case_no}，补正期限 {date}"),
                wire.Decision.REJECT: _("已决定不予受理，编号 {case_no}"),
                wire.Decision.COMPLETE: _("已当场办结，编号 {case_no}"),
            }
            date = (
                payload.correction_deadline
                if payload.decision is wire.Decision.CORRECT
                else payload.promised_date
            )
            self.say(texts[payload.decision].format(case_no=outcome.case_no, date=date or "—"))
            if payload.decision is wire.Decision.ACCEPT:
                self._forward_captures(ctx, outcome.case_no)
            if ctx is not None and ctx.ticket.ticket_no == payload.ticket_no:
                self._serve(None)
        else:
            self.say(_("已出件：{case_no}").format(case_no=outcome.case_no))
        if outcome.warnings:
            # Not modal: the citizen is waiting; the warning stays until the next message.
            self.say(self.message.text() + "　⚠ " + "；".join(outcome.warnings))
        self._print(outcome, 0)

    def _visit_decided(self, step: VisitStep) -> None:
        """One item of a visit decided: its own paper unless it is on the combined receipt, and at the
        end the combined receipt; the citizen stays at the window until every item is decided."""
        payload = step.outcome.payload
        visit = step.context.visit
        assert visit is not None
        item = visit.decided_item(payload.item_code)
        name = item.item_name if item else payload.item_code
        texts = {
            wire.Decision.ACCEPT: _("“{item}”已受理，编号 {case_no}，承诺办结日期 {date}"),
            wire.Decision.CORRECT: _("“{item}”已一次性告知补正，编号 {case_no}，补正期限 {date}"),
            wire.Decision.REJECT: _("“{item}”不予受理，编号 {case_no}"),
            wire.Decision.COMPLETE: _("“{item}”已当场办结，编号 {case_no}"),
        }
        date = (
            payload.correction_deadline
            if payload.decision is wire.Decision.CORRECT
            else payload.promised_date
        )
        text = texts[payload.decision].format(item=name, case_no=payload.case_no, date=date or "—")
        nxt = visit.next_item
        if nxt is not None:
            text += "　" + _("下一项：{item}").format(item=nxt.name)
        if step.outcome.warnings:
            text += "　⚠ " + "；".join(step.outcome.warnings)
        self.say(text)
        if payload.decision is wire.Decision.ACCEPT:
            self._forward_captures(step.context, payload.case_no)
        current = self.case_view.context
        if current is not None and current.ticket.ticket_no == step.context.ticket.ticket_no:
            if nxt is None:
                self._serve(None)
            else:
                self.case_view.show_context(step.context)
        # Acceptances are listed on the combined receipt; the other decisions have papers of their own.
        if payload.decision is not wire.Decision.ACCEPT:
            self._print(step.outcome, 0)
        if step.receipt is not None:
            self._print(step.receipt, 0)

    def _print(self, outcome: PaperOutcome, reprint_no: int) -> None:
        self.last_outcome = outcome
        self.paper_label.setText(_("正在生成文书…"))
        self.open_paper.setEnabled(False)
        self.reprint_button.setEnabled(False)
        self.printer.print_paper(
            outcome.paper,
            lambda printed: self._paper_done(outcome, printed),
            self._paper_failed,
            reprint_no=reprint_no,
            archive=lambda pdf: self.counter.archive_document(outcome, pdf, reprint_no=reprint_no),
        )

    def reprint_last(self) -> None:
        """补打: the same paper again, marked with its reprint count, archived and reported to the server."""
        outcome = self.last_outcome
        if outcome is None:
            self.say(_("本次登录还没有出具过文书"))
            return
        self.runner.run(
            lambda: self.counter.next_reprint_no(outcome),
            lambda n: self._print(outcome, n),
            self._show_error,
        )

    def _paper_done(self, outcome: PaperOutcome, printed: PrintedPaper) -> None:
        self.last_paper = printed
        text = _("{title}已生成：{ref}").format(title=printed.title, ref=printed.ref)
        if printed.warnings:
            text += "　⚠ " + "；".join(printed.warnings)
        self.paper_label.setText(text)
        self.open_paper.setEnabled(True)
        self.reprint_button.setEnabled(True)
        self.receipt_ready.emit(outcome.case_no, printed.path)

    def _paper_failed(self, exc: Exception) -> None:
        # The case is decided and kept; only the paper failed, and can be printed again.
        log.warning("paper failed: %s", type(exc).__name__)
        self.reprint_button.setEnabled(self.last_outcome is not None)
        self.paper_label.setText(_("文书生成失败：{error}。办件已保存，可稍后补打。").format(error=exc))

    def preview_last(self) -> None:
        if self.last_paper is not None:
            dialog = self.printer.preview(self.last_paper, self)
            dialog.open()

    # -- lock ----------------------------------------------------------------------------

    def lock(self) -> None:
        """Hide everything of the citizen until the clerk's password is typed (idle, or Ctrl+L)."""
        if self.locked:
            return
        self.locked = True
        self.idle.stop()
        if self.dialog is not None:
            self.dialog.reject()
        self.pages.setCurrentWidget(self.lock_panel)
        self.statusBar().hide()
        self.lock_panel.reset()
        self.locked_changed.emit(True)
        self.runner.run(self.counter.lock, on_error=self._show_error)

    def unlock(self, password: str) -> None:
        def done(_v: object) -> None:
            self.locked = False
            self.pages.setCurrentIndex(0)
            self.statusBar().show()
            self.idle.start()
            self.locked_changed.emit(False)

        def failed(exc: Exception) -> None:
            self.lock_panel.show_error(
                str(exc) if isinstance(exc, CounterError) else _("解锁失败：{error}").format(error=exc)
            )

        self.runner.run(lambda: self.counter.unlock(password), done, failed)

    # -- dialogs and status -------------------------------------------------------------

    def _open(self, dialog: Any, submit: Callable[[Any], None]) -> None:
        self.dialog = dialog
        dialog.submitted.connect(submit)
        dialog.finished.connect(lambda _r: self._closed(dialog))
        dialog.open()

    def _closed(self, dialog: Any) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _dialog_error(self, dialog: Any, exc: Exception) -> None:
        if isinstance(exc, CounterError):
            dialog.show_error(str(exc))
        else:
            log.warning("action failed: %s", type(exc).__name__)
            dialog.show_error(_("操作失败：{error}").format(error=exc))

    def say(self, text: str) -> None:
        self.message.setText(text)

    def _show_error(self, exc: Exception) -> None:
        log.warning("action failed: %s", type(exc).__name__)
        self.say(str(exc) if isinstance(exc, CounterError) else _("操作失败：{error}").format(error=exc))

    def _on_sync_status(self, status: SyncStatus) -> None:
        self.sync_label.show_status(status)
        self.conflicts_button.show_status(status)

    def show_conflicts(self) -> None:
        """The list of actions the server could not apply, for the clerk to check and acknowledge."""
        if self.conflicts_dialog is None:
            self.conflicts_dialog = ConflictsDialog(self.counter.store, self.runner, self)
            self.conflicts_dialog.remaining_changed.connect(self.conflicts_button.show_count)
        self.conflicts_dialog.refresh()
        self.conflicts_dialog.open()

    def _restore_state(self) -> None:
        settings = QSettings()
        geometry = settings.value("clerk/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        splitter = settings.value("clerk/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self.idle.watch_window(self.windowHandle())

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        settings = QSettings()
        settings.setValue("clerk/geometry", self.saveGeometry())
        settings.setValue("clerk/splitter", self.splitter.saveState())
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.scanner.stop_following(app)
            self.idle.stop_following(app)
        super().closeEvent(event)
