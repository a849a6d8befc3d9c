"""The clerk's main window: composes the queue, the case workspace and the status bar."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMainWindow, QPushButton, QSplitter, QVBoxLayout, QWidget

from hallclient import wire
from hallclient.counter import ClerkSession, Counter, CounterError, DecisionOutcome, ServiceContext
from hallclient.domain import MaterialCheck
from hallclient.events import SyncStatus
from hallclient.i18n import _
from ui.clerk.case_view import CaseView
from ui.clerk.conflicts_dialog import ConflictsDialog
from ui.clerk.queue_panel import QueuePanel
from ui.clerk.sync_status_label import ConflictsButton, SyncStatusLabel
from ui.event_bridge import EventBridge
from ui.receipts import ReceiptPrinter
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class ClerkMainWindow(QMainWindow):
    receipt_ready = Signal(str, object)  # case_no, Path of the archived PDF
    service_started = Signal(object)  # ServiceContext, for the citizen screen

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
        self.setObjectName("clerkMainWindow")
        self.setWindowTitle(
            _("{hall} · {window} 号窗口 · 综合受理").format(hall=session.hall_name, window=counter.window_no)
        )
        self.last_receipt: Path | None = None

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
        self.case_view = CaseView()
        self.case_view.accept_requested.connect(self.accept)

        self.receipt_label = QLabel()
        self.receipt_label.setObjectName("receiptLabel")
        self.open_receipt = QPushButton(_("查看受理通知书"))
        self.open_receipt.setObjectName("openReceiptButton")
        self.open_receipt.setEnabled(False)
        self.open_receipt.clicked.connect(self._open_receipt)
        receipt_row = QHBoxLayout()
        receipt_row.addWidget(self.receipt_label, 1)
        receipt_row.addWidget(self.open_receipt)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.case_view, 1)
        rl.addLayout(receipt_row)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.queue)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)

        central = QWidget()
        cl = QVBoxLayout(central)
        cl.addWidget(header)
        cl.addWidget(splitter, 1)
        self.setCentralWidget(central)

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

        bridge.queue_changed.connect(self.refresh_queue)
        bridge.sync_status.connect(self._on_sync_status)
        self._restore_geometry()
        self.refresh_queue()

    # -- queue ------------------------------------------------------------------

    def refresh_queue(self) -> None:
        self.runner.run(self.counter.queue, self.queue.set_rows, self._show_error)

    def call_next(self) -> None:
        if self.case_view.context is not None:
            self.say(_("请先完成当前群众的办理"))
            return
        self.queue.set_busy(True)
        self.say(_("正在叫号…"))

        def work() -> ServiceContext | None:
            ticket = self.counter.call_next()
            return self.counter.service_context(ticket) if ticket else None

        self.runner.run(work, self._called, self._call_failed)

    def _called(self, ctx: ServiceContext | None) -> None:
        self.queue.set_busy(False)
        if ctx is None:
            self.say(_("当前没有等候的群众"))
            return
        self.say(_("已叫号 {ticket}").format(ticket=ctx.ticket.ticket_no))
        self.case_view.show_context(ctx)
        self.service_started.emit(ctx)

    def _call_failed(self, exc: Exception) -> None:
        self.queue.set_busy(False)
        self._show_error(exc)

    # -- decision ----------------------------------------------------------------

    def accept(self, checks: dict[str, MaterialCheck], applicant: wire.Applicant | None, notes: str) -> None:
        ctx = self.case_view.context
        if ctx is None:
            return
        self.case_view.accept_button.setEnabled(False)
        self.runner.run(
            lambda: self.counter.accept(ctx, checks, applicant=applicant, notes=notes),
            self._accepted,
            self._accept_failed,
        )

    def _accepted(self, outcome: DecisionOutcome) -> None:
        self.case_view.show_context(None)
        self.say(
            _("已受理，受理编号 {case_no}，承诺办结日期 {date}").format(
                case_no=outcome.payload.case_no, date=outcome.payload.promised_date
            )
        )
        if outcome.warnings:
            # Not modal: the citizen is waiting; the warning stays until the next decision.
            self.say("⚠ " + "；".join(outcome.warnings))
        self.receipt_label.setText(_("正在生成受理通知书…"))
        self.printer.print_receipt(outcome, self._receipt_done, self._receipt_failed)

    def _accept_failed(self, exc: Exception) -> None:
        self.case_view.accept_button.setEnabled(True)
        if isinstance(exc, CounterError):
            self.case_view.show_error(str(exc))
        else:
            self._show_error(exc)

    def _receipt_done(self, result: tuple[str, Path]) -> None:
        case_no, path = result
        self.last_receipt = path
        self.receipt_label.setText(_("受理通知书已生成：{case_no}").format(case_no=case_no))
        self.open_receipt.setEnabled(True)
        self.receipt_ready.emit(case_no, path)

    def _receipt_failed(self, exc: Exception) -> None:
        # The case is decided and kept; only the paper failed, and can be printed again.
        self.receipt_label.setText(
            _("受理通知书生成失败：{error}。办件已保存，可稍后补打。").format(error=exc)
        )

    def _open_receipt(self) -> None:
        if self.last_receipt is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last_receipt)))

    # -- status -------------------------------------------------------------------

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

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("clerk/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        QSettings().setValue("clerk/geometry", self.saveGeometry())
        super().closeEvent(event)
