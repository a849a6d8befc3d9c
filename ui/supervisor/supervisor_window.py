"""The supervisor window (大厅负责人): how the hall, a window, a clerk or an item did, and what is open.

Figures and charts for a date range (last month by default) filtered by window and
item, the 超时/补正预警 lists, the 整改 follow-ups to assign, answer and close, the
rating bursts to review, spreadsheet exports and the one-page monthly PDF. The hall's
admin also gets 账号与动态口令: who has a second factor, and binding one (ui/supervisor/
enrolment_dialog.py shows the QR code and recovery codes once).

Every server call runs on the runner's io pool; the GUI thread only shows what
comes back. A refresh answered after a newer one was asked for is dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.api import PlatformClient, PlatformError
from hallclient.counter import ClerkSession
from hallclient.i18n import N_, _
from ui.supervisor.accounts_panel import AccountsPanel
from ui.supervisor.bursts_panel import BurstsPanel
from ui.supervisor.figures_panel import FiguresPanel
from ui.supervisor.fmt import GROUP_NAMES, PERIOD_NAMES, last_month, this_month
from ui.supervisor.follow_ups_panel import FollowUpsPanel
from ui.supervisor.warnings_panel import WarningsPanel
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)

SUPERVISOR_ROLES = ("supervisor", "admin")
# Binding clerks' authenticators is the admin's alone (the server says 403 to anyone else).
ADMIN_ROLE = "admin"
EXPORTS: list[tuple[wire.ExportWhat, str]] = [
    (wire.ExportWhat.FIGURES, N_("指标表")),
    (wire.ExportWhat.RATINGS, N_("评价明细（匿名）")),
    (wire.ExportWhat.FOLLOW_UPS, N_("整改任务（匿名）")),
]
FORMATS: list[tuple[wire.ExportFormat, str, str]] = [
    (wire.ExportFormat.XLSX, N_("Excel"), "Excel (*.xlsx)"),
    (wire.ExportFormat.CSV, N_("CSV"), "CSV (*.csv)"),
]
STYLE = """
#supervisorHeader { background: #1e3a8a; border-radius: 6px; }
#supervisorHeader QLabel { color: white; font-size: 18px; padding: 4px 10px; }
#supervisorTitle { font-weight: bold; font-size: 20px; }
#figureTile { background: white; border: 1px solid #d1d5db; border-radius: 6px; }
#tileCaption { color: #4b5563; font-size: 14px; }
QLabel[tileValue="true"] { font-size: 26px; font-weight: bold; }
#tileNote { color: #6b7280; font-size: 12px; }
#roleBanner { background: #fee2e2; color: #991b1b; font-weight: bold; padding: 6px 10px; }
#supervisorStatus[error="true"] { color: #b91c1c; }
QToolButton#exportButton { background: #1d4ed8; color: white; border-radius: 5px; padding: 6px 14px; }
"""


@dataclass(frozen=True)
class Query:
    """The filters the supervisor chose."""

    date_from: dt.date
    date_to: dt.date
    window: int | None
    item: str | None
    by: wire.FigureGroup
    period: wire.FigurePeriod


@dataclass(frozen=True)
class Snapshot:
    query: Query
    figures: wire.FiguresResponse
    days: wire.FiguresResponse
    overdue: wire.WarningsResponse
    corrections: wire.WarningsResponse
    follow_ups: wire.FollowUpsResponse
    bursts: wire.BurstsResponse


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(q: QDate) -> dt.date:
    return dt.date(q.year(), q.month(), q.day())


def ask_save_path(parent: QWidget, suggested: str, file_filter: str) -> Path | None:
    path, _chosen = QFileDialog.getSaveFileName(parent, _("保存"), suggested, file_filter)
    return Path(path) if path else None


class SupervisorWindow(QMainWindow):
    def __init__(
        self,
        api: PlatformClient,
        runner: TaskRunner,
        session: ClerkSession,
        *,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        super().__init__()
        self.api = api
        self.runner = runner
        self.session = session
        self.today = today
        self.setObjectName("supervisorWindow")
        self.setWindowTitle(_("{hall} · 监管看板").format(hall=session.hall_name))
        self.setStyleSheet(STYLE)
        self.resize(1600, 980)
        # Replaceable by tests: where an export or a report is saved (None: cancelled).
        self.ask_save_path: Callable[[str, str], Path | None] = lambda s, f: ask_save_path(self, s, f)
        self.snapshot: Snapshot | None = None
        self.staff: list[wire.StaffMember] = []
        self.last_export: Path | None = None
        self.last_report: bytes | None = None
        self.preview: QWidget | None = None
        self.enrolment_dialog: QWidget | None = None
        self.loading = False
        self._generation = 0
        self._closed = False

        header = QWidget()
        header.setObjectName("supervisorHeader")
        hl = QHBoxLayout(header)
        hall = QLabel(session.hall_name)
        hall.setObjectName("supervisorTitle")
        who = QLabel(
            _("监管看板　{name}（工号 {staff}）").format(
                name=session.clerk.name, staff=session.clerk.staff_no
            )
        )
        hl.addWidget(hall)
        hl.addStretch(1)
        hl.addWidget(who)

        self.role_banner = QLabel(_("本账号不是大厅负责人：监管数据（含评价）仅限大厅负责人或管理员查看。"))
        self.role_banner.setObjectName("roleBanner")
        self.role_banner.setVisible(session.clerk.role not in SUPERVISOR_ROLES)

        start, end = last_month(today())
        self.date_from = QDateEdit(_qdate(start))
        self.date_from.setObjectName("dateFrom")
        self.date_to = QDateEdit(_qdate(end))
        self.date_to.setObjectName("dateTo")
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        last = QPushButton(_("上月"))
        last.setObjectName("lastMonthButton")
        last.clicked.connect(lambda: self.set_range(*last_month(self.today())))
        current = QPushButton(_("本月"))
        current.setObjectName("thisMonthButton")
        current.clicked.connect(lambda: self.set_range(*this_month(self.today())))
        self.window_filter = QComboBox()
        self.window_filter.setObjectName("windowFilter")
        self.window_filter.addItem(_("全部窗口"), None)
        self.item_filter = QComboBox()
        self.item_filter.setObjectName("itemFilter")
        self.item_filter.addItem(_("全部事项"), None)
        self.item_filter.setMinimumContentsLength(14)
        self.group = QComboBox()
        self.group.setObjectName("groupBy")
        for value in (
            wire.FigureGroup.WINDOW,
            wire.FigureGroup.CLERK,
            wire.FigureGroup.ITEM,
            wire.FigureGroup.HALL,
        ):
            self.group.addItem(_(GROUP_NAMES[value]), value)
        self.period = QComboBox()
        self.period.setObjectName("period")
        for period in wire.FigurePeriod:
            self.period.addItem(_(PERIOD_NAMES[period]), period)
        self.refresh_button = QPushButton(_("刷新 (F5)"))
        self.refresh_button.setObjectName("refreshButton")
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button = QToolButton()
        self.export_button.setObjectName("exportButton")
        self.export_button.setText(_("导出"))
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        self.export_actions: dict[tuple[wire.ExportWhat, wire.ExportFormat], QAction] = {}
        for what, what_label in EXPORTS:
            for fmt, fmt_label, _filter in FORMATS:
                action = menu.addAction(f"{_(what_label)} · {_(fmt_label)}")
                action.triggered.connect(lambda _c=False, w=what, f=fmt: self.export(w, f))
                self.export_actions[(what, fmt)] = action
        self.export_button.setMenu(menu)
        self.report_button = QPushButton(_("月报 PDF"))
        self.report_button.setObjectName("reportButton")
        self.report_button.clicked.connect(self.monthly_report)

        bar = QHBoxLayout()
        for w in (
            QLabel(_("从")),
            self.date_from,
            QLabel(_("到")),
            self.date_to,
            last,
            current,
            self.window_filter,
            self.item_filter,
            self.group,
            self.period,
            self.refresh_button,
        ):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        bar.addWidget(self.report_button)

        self.figures = FiguresPanel()
        self.warnings = WarningsPanel()
        self.follow_ups = FollowUpsPanel()
        self.follow_ups.filter_changed.connect(self.reload_follow_ups)
        self.follow_ups.assign_requested.connect(self.assign)
        self.follow_ups.result_requested.connect(self.write_result)
        self.follow_ups.close_requested.connect(self.close_follow_up)
        self.bursts = BurstsPanel()
        self.bursts.filter_changed.connect(self.reload_bursts)
        self.bursts.review_requested.connect(self.review)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("supervisorTabs")
        self.tabs.addTab(self.figures, _("指标与图表"))
        self.tabs.addTab(self.warnings, _("超时与补正预警"))
        self.tabs.addTab(self.follow_ups, _("差评整改"))
        self.tabs.addTab(self.bursts, _("集中评价复核"))
        self.accounts: AccountsPanel | None = None
        if session.clerk.role == ADMIN_ROLE:
            self.accounts = AccountsPanel()
            self.accounts.enrol_requested.connect(self.enrol_totp)
            self.tabs.addTab(self.accounts, _("账号与动态口令"))

        central = QWidget()
        lay = QVBoxLayout(central)
        lay.addWidget(header)
        lay.addWidget(self.role_banner)
        lay.addLayout(bar)
        lay.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.status = QLabel()
        self.status.setObjectName("supervisorStatus")
        self.statusBar().addWidget(self.status, 1)
        QShortcut(QKeySequence("F5"), self).activated.connect(self.refresh)
        for i in range(self.tabs.count()):
            QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self).activated.connect(
                lambda i=i: self.tabs.setCurrentIndex(i)
            )
        for combo in (self.window_filter, self.item_filter, self.group, self.period):
            combo.activated.connect(lambda _i: self.refresh())
        self._load_choices()

    # -- plumbing ------------------------------------------------------------------------

    def say(self, text: str, *, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setProperty("error", error)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def _error(self, exc: BaseException) -> None:
        if self._closed:
            return
        self.loading = False
        self.refresh_button.setEnabled(True)
        if isinstance(exc, PlatformError):
            self.say(exc.message, error=True)
        else:
            log.exception("supervisor task failed", exc_info=exc)
            self.say(_("出错了：{error}").format(error=exc), error=True)

    def _run(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        def ok(value: Any) -> None:
            if not self._closed:
                done(value)

        self.runner.run(work, ok, self._error, pool="io")

    def query(self) -> Query:
        start, end = _pydate(self.date_from.date()), _pydate(self.date_to.date())
        # Qt hands a StrEnum back as its plain string: turn it into the enum again.
        return Query(
            start,
            end,
            self.window_filter.currentData(),
            self.item_filter.currentData(),
            wire.FigureGroup(self.group.currentData() or wire.FigureGroup.WINDOW),
            wire.FigurePeriod(self.period.currentData() or wire.FigurePeriod.TOTAL),
        )

    def set_range(self, start: dt.date, end: dt.date) -> None:
        self.date_from.setDate(_qdate(start))
        self.date_to.setDate(_qdate(end))
        self.refresh()

    def set_filters(
        self,
        *,
        window: int | None = None,
        item: str | None = None,
        by: wire.FigureGroup | None = None,
        period: wire.FigurePeriod | None = None,
    ) -> None:
        """Choose filters as the combos would (for keyboard-less callers and tests); no refresh."""
        for combo, value in ((self.window_filter, window), (self.item_filter, item)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        if by is not None:
            self.group.setCurrentIndex(self.group.findData(by))
        if period is not None:
            self.period.setCurrentIndex(self.period.findData(period))

    # -- loading -------------------------------------------------------------------------

    def _load_choices(self) -> None:
        api = self.api

        def work() -> tuple[wire.WindowsResponse, wire.CatalogResponse, wire.StaffResponse]:
            return api.windows(), api.catalog(), api.supervision_staff()

        self.say(_("正在读取窗口、事项和人员…"))
        self._run(work, self._got_choices)

    def _got_choices(
        self, got: tuple[wire.WindowsResponse, wire.CatalogResponse, wire.StaffResponse]
    ) -> None:
        windows, catalog, staff = got
        for w in windows.windows:
            self.window_filter.addItem(w.name or _("{n} 号窗口").format(n=w.window_no), w.window_no)
        for item in catalog.items:
            self.item_filter.addItem(item.name, item.code)
        self.staff = staff.staff
        self.follow_ups.set_staff(staff.staff)
        if self.accounts is not None:
            self.accounts.show_staff(staff.staff)
        self.refresh()

    def refresh(self) -> None:
        q = self.query()
        if q.date_to < q.date_from:
            self.say(_("结束日期早于开始日期"), error=True)
            return
        self._generation += 1
        generation = self._generation
        status = self.follow_ups.status_filter()
        unreviewed = self.bursts.unreviewed.isChecked()
        api = self.api

        def work() -> Snapshot:
            figures = api.supervision_figures(
                q.date_from, q.date_to, by=q.by, period=q.period, window=q.window, item=q.item
            )
            days = api.supervision_figures(
                q.date_from, q.date_to, period=wire.FigurePeriod.DAY, window=q.window, item=q.item
            )
            return Snapshot(
                q,
                figures,
                days,
                api.supervision_overdue(window=q.window, item=q.item),
                api.supervision_corrections(window=q.window, item=q.item),
                api.supervision_follow_ups(status, window=q.window),
                api.supervision_bursts(
                    date_from=q.date_from, date_to=q.date_to, window=q.window, unreviewed=unreviewed
                ),
            )

        def done(snap: Snapshot) -> None:
            if generation != self._generation:
                return  # a newer refresh is on its way
            self.loading = False
            self.refresh_button.setEnabled(True)
            self.snapshot = snap
            self.figures.show_figures(snap.figures, snap.days)
            self.warnings.show_warnings(snap.overdue, snap.corrections)
            self.follow_ups.show_follow_ups(snap.follow_ups)
            self.bursts.show_bursts(snap.bursts)
            self._count_tabs(snap)
            self.say(
                _("{start} 至 {end} 的数据已更新（{time}）").format(
                    start=q.date_from.isoformat(),
                    end=q.date_to.isoformat(),
                    time=dt.datetime.now().strftime("%H:%M:%S"),
                )
            )

        self.loading = True
        self.refresh_button.setEnabled(False)
        self.say(_("正在读取…"))
        self._run(work, done)

    def _count_tabs(self, snap: Snapshot) -> None:
        warnings = len(snap.overdue.warnings) + len(snap.corrections.warnings)
        self.tabs.setTabText(1, _("超时与补正预警（{n}）").format(n=warnings))
        self.tabs.setTabText(2, _("差评整改（{n}）").format(n=len(snap.follow_ups.follow_ups)))
        pending = sum(b.review is None for b in snap.bursts.bursts)
        self.tabs.setTabText(3, _("集中评价复核（{n}）").format(n=pending))

    def reload_follow_ups(self) -> None:
        status, window = self.follow_ups.status_filter(), self.query().window
        api = self.api
        self._run(lambda: api.supervision_follow_ups(status, window=window), self.follow_ups.show_follow_ups)

    def reload_bursts(self) -> None:
        q = self.query()
        unreviewed = self.bursts.unreviewed.isChecked()
        api = self.api
        self._run(
            lambda: api.supervision_bursts(
                date_from=q.date_from, date_to=q.date_to, window=q.window, unreviewed=unreviewed
            ),
            self.bursts.show_bursts,
        )

    # -- follow-ups and bursts ---------------------------------------------------------------

    def _changed(self, message: str) -> Callable[[wire.FollowUpInfo], None]:
        def done(f: wire.FollowUpInfo) -> None:
            self.follow_ups.updated(f)
            self.say(message.format(case=f.case_no))
            self.refresh()  # 整改率 and the lists move with it

        return done

    def assign(self, case_no: str, assignee: int, note: str) -> None:
        api = self.api
        self._run(lambda: api.assign_follow_up(case_no, assignee, note), self._changed(_("{case} 已指派")))

    def write_result(self, case_no: str, result: str) -> None:
        api = self.api
        self._run(lambda: api.follow_up_result(case_no, result), self._changed(_("{case} 的整改结果已保存")))

    def close_follow_up(self, case_no: str, note: str) -> None:
        api = self.api
        self._run(lambda: api.close_follow_up(case_no, note), self._changed(_("{case} 的整改任务已关闭")))

    def review(self, case_no: str, verdict: wire.BurstVerdict, note: str) -> None:
        api = self.api

        def done(b: wire.BurstRating) -> None:
            self.say(_("{case} 的复核结论已记录").format(case=b.case_no))
            self.reload_bursts()

        self._run(lambda: api.review_burst(case_no, verdict, note), done)

    # -- second-factor enrolment (admin) -----------------------------------------------------

    def enrol_totp(self, clerk_id: int, reset: bool) -> None:
        """Bind (or re-bind) the clerk's authenticator and show the result once."""
        member = next((m for m in self.staff if m.id == clerk_id), None)
        if member is None:
            return
        api = self.api

        def done(enrolment: wire.TotpEnrolment) -> None:
            from ui.supervisor.enrolment_dialog import EnrolmentDialog

            if self.enrolment_dialog is not None:
                self.enrolment_dialog.close()
            dialog = EnrolmentDialog(enrolment, member, parent=self)
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            self.enrolment_dialog = dialog
            dialog.show()
            self.say(_("{name} 的动态口令已绑定；备用码只显示这一次").format(name=member.name))
            # Separately: the one showing of the codes must not depend on the list reloading.
            self._run(api.supervision_staff, self._got_staff)

        self.say(_("正在绑定动态口令…"))
        self._run(lambda: api.enrol_totp(clerk_id, reset=reset), done)

    def _got_staff(self, staff: wire.StaffResponse) -> None:
        self.staff = staff.staff
        self.follow_ups.set_staff(staff.staff)
        if self.accounts is not None:
            self.accounts.show_staff(staff.staff)

    # -- exports and the monthly report ------------------------------------------------------

    def export(self, what: wire.ExportWhat, fmt: wire.ExportFormat) -> None:
        q = self.query()
        suggested = f"{what.value}-{q.date_from:%Y%m%d}-{q.date_to:%Y%m%d}.{fmt.value}"
        file_filter = next(f for value, _label, f in FORMATS if value is fmt)
        path = self.ask_save_path(suggested, file_filter)
        if path is None:
            return
        api = self.api

        def work() -> Path:
            _name, content = api.supervision_export(
                what, q.date_from, q.date_to, fmt=fmt, by=q.by, period=q.period, window=q.window, item=q.item
            )
            tmp = path.with_name(f".{path.name}.part")
            tmp.write_bytes(content)
            tmp.replace(path)
            return path

        def done(saved: Path) -> None:
            self.last_export = saved
            self.say(_("已导出到 {path}").format(path=saved))

        self.say(_("正在导出…"))
        self._run(work, done)

    def monthly_report(self) -> None:
        """The month of the start date, on one page, shown in the preview (print or save from there)."""
        from printing.monthly_report import month_bounds

        q = self.query()
        start, end = month_bounds(q.date_from)
        scope = " · ".join(
            text
            for text, value in (
                (self.window_filter.currentText(), q.window),
                (self.item_filter.currentText(), q.item),
            )
            if value is not None
        )
        api, hall, names = self.api, self.session.hall_name, self._window_names()

        def work() -> bytes:
            from printing.monthly_report import MonthlyReportData, render_monthly_report

            total = api.supervision_figures(start, end, window=q.window, item=q.item)
            windows = api.supervision_figures(
                start, end, by=wire.FigureGroup.WINDOW, window=q.window, item=q.item
            )
            days = api.supervision_figures(
                start, end, period=wire.FigurePeriod.DAY, window=q.window, item=q.item
            )
            data = MonthlyReportData(
                hall_name=hall,
                month=start,
                total=total.total,
                windows=windows.rows,
                days=days.rows,
                overdue_now=len(api.supervision_overdue(window=q.window, item=q.item).warnings),
                corrections_now=len(api.supervision_corrections(window=q.window, item=q.item).warnings),
                follow_ups_open_now=len(api.supervision_follow_ups(window=q.window).follow_ups),
                scope=scope,
                generated_at=dt.datetime.now(),
                window_names=names,
            )
            return render_monthly_report(data)

        def done(pdf: bytes) -> None:
            from ui.clerk.preview_dialog import PreviewDialog

            self.last_report = pdf
            title = _("{year}年{month}月运行月报").format(year=start.year, month=start.month)
            dialog = PreviewDialog(pdf, title=title, parent=self)
            self.preview = dialog
            dialog.show()
            self.say(_("{title}已生成").format(title=title))

        self.say(_("正在生成月报…"))
        self._run(work, done)

    def _window_names(self) -> dict[int, str]:
        names: dict[int, str] = {}
        for i in range(1, self.window_filter.count()):
            value = self.window_filter.itemData(i)
            if isinstance(value, int):
                names[value] = self.window_filter.itemText(i)
        return names

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        if self.preview is not None:
            self.preview.close()
        if self.enrolment_dialog is not None:
            self.enrolment_dialog.close()  # wipes the secret and the codes
        super().closeEvent(event)
