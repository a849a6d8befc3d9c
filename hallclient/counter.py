"""The counter's use cases: sign in, call the next citizen, decide, record a rating.

Plain Python, no Qt: the ui calls these on its worker threads, tests call them
directly. Each method that changes something is one store transaction with its
outbox op, then a kick to the sync worker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hallclient import decisions, wire
from hallclient.api import PlatformClient, PlatformError, Unreachable
from hallclient.audit import AuditAction
from hallclient.config import Config
from hallclient.decisions import MaterialFinding
from hallclient.domain import HallInfo, MaterialCheck, ReceiptData
from hallclient.elicenses import LicenseMatch, match_licenses
from hallclient.events import CaseDecided, EventBus, QueueChanged, RatingRecorded, TicketCalled
from hallclient.i18n import N_, _
from hallclient.lookup import QueryKind, classify_query
from hallclient.papers import (
    ApprovalDecision,
    CorrectionNotice,
    Paper,
    PaperKind,
    PickupSlip,
    RejectionNotice,
    Strokes,
)
from hallclient.sessions import SignInGuard, SignInRefused
from hallclient.signing import sign_fields
from hallclient.store import CaseView, Store
from hallclient.workdays import CalendarMissing, WorkCalendar

log = logging.getLogger(__name__)

WINDOWS_KEY = "hall_windows"
# A name is searched among the bookings of a few days around today only: names are
# stored encrypted, so they are matched after decrypting, never through an index.
NAME_SEARCH_DAYS = 7
APPROVAL_TITLE = "准予行政许可决定书"
PAPER_OF_DECISION = {
    wire.Decision.ACCEPT: PaperKind.RECEIPT,
    wire.Decision.CORRECT: PaperKind.CORRECTION,
    wire.Decision.REJECT: PaperKind.REJECTION,
    wire.Decision.COMPLETE: PaperKind.APPROVAL,
}
TICKET_STATE_LABELS = {
    wire.TicketState.WAITING: N_("等候中"),
    wire.TicketState.CALLED: N_("已叫号"),
    wire.TicketState.SERVING: N_("办理中"),
    wire.TicketState.PARKED: N_("挂起"),
    wire.TicketState.NO_SHOW: N_("过号"),
    wire.TicketState.TRANSFERRED: N_("已转移"),
    wire.TicketState.DONE: N_("已办结"),
}
T = TypeVar("T")


class CounterError(Exception):
    """A clerk action refused, with a message that says what to do."""


@dataclass(frozen=True)
class ClerkSession:
    clerk: wire.ClerkInfo
    hall_name: str
    online: bool
    warnings: tuple[str, ...] = ()


# Case numbers carry the local date and receipts the local time: a clock this far off
# the platform's is worth telling the clerk (and IT) about at sign-in.
MAX_CLOCK_SKEW = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class ServiceContext:
    """What the case workspace shows for the citizen now being served."""

    ticket: wire.Ticket
    booking: wire.Booking | None
    item: wire.ServiceItem | None
    # Materials the e-license registry holds for this applicant (kept in memory for this case only).
    licenses: Mapping[str, LicenseMatch] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue panel."""

    ticket: wire.Ticket
    slot: str
    item_name: str


@dataclass(frozen=True)
class PaperOutcome:
    """A paper to print and archive, with the signed facts its QR code carries."""

    paper: Paper
    signed_fields: dict[str, str]
    signature: str
    warnings: list[str] = field(default_factory=list)

    @property
    def case_no(self) -> str:
        return self.signed_fields["case_no"]

    @property
    def doc_id(self) -> str:
        return self.signed_fields["doc_id"]

    @property
    def kind(self) -> PaperKind:
        return PaperKind(self.signed_fields["kind"])


@dataclass(frozen=True)
class DecisionOutcome(PaperOutcome):
    payload: wire.CaseDecidedPayload = field(kw_only=True)

    @property
    def receipt(self) -> ReceiptData:
        if not isinstance(self.paper, ReceiptData):
            raise TypeError(f"{self.kind.value} is not a receipt")
        return self.paper


@dataclass(frozen=True)
class LookupHit:
    """A citizen found at the counter: a booking (with today's ticket, if any) or an earlier case."""

    booking: wire.Booking | None = None
    ticket: wire.Ticket | None = None
    case: CaseView | None = None


@dataclass(frozen=True)
class OverdueEntry:
    """One line of the overdue panel (超时预警 / 补正预警)."""

    case_no: str
    item_name: str
    applicant_name: str
    kind: str  # "due_soon" | "overdue" | "correction_open" | "correction_late"
    date: dt.date | None
    working_days_left: int | None


class Counter:
    def __init__(
        self,
        config: Config,
        store: Store,
        api: PlatformClient,
        bus: EventBus,
        calendar: WorkCalendar,
        *,
        signing_key: str = "",
        on_change: Callable[[], None] = lambda: None,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.config = config
        self.store = store
        self.api = api
        self.bus = bus
        self.calendar = calendar
        self.signing_key = signing_key
        self.on_change = on_change
        self.clock = clock
        self.session: ClerkSession | None = None
        self.username = ""
        self.guard = SignInGuard(store, config.security, clock)

    @property
    def hall_code(self) -> str:
        return self.config.counter.hall_code

    @property
    def window_no(self) -> int:
        return self.config.counter.window_no

    def today(self) -> dt.date:
        return self.clock().date()

    # -- sign in -------------------------------------------------------------------

    def login(
        self, username: str, password: str, totp_code: str | None = None, recovery_code: str | None = None
    ) -> ClerkSession:
        """Sign in online, or offline from what an earlier online sign-in left here.

        Where the hall requires two factors: the password and the authenticator's code,
        or online only, a one-time recovery code instead of the code.
        """
        from hallclient import sessions

        totp_code = (totp_code or "").strip()[:16] or None
        recovery_code = (recovery_code or "").strip()[:32] or None
        req = wire.LoginRequest(
            hall_code=self.hall_code,
            window_no=self.window_no,
            username=username,
            password=password,
            device_id=self.config.counter.device_id,
            totp_code=totp_code,
            recovery_code=recovery_code,
        )
        try:
            self.guard.check_not_locked(username)
        except SignInRefused as exc:
            raise CounterError(str(exc)) from exc
        try:
            resp = self.api.login(req)
        except Unreachable as exc:
            return self._offline_login(username, password, exc, totp_code, recovery_code)
        except PlatformError as exc:
            self.store.audit(AuditAction.LOGIN_FAILED, username, exc.code, self.clock())
            counted = {
                "bad_credentials": sessions.PASSWORD,
                "totp_invalid": sessions.TOTP,
                "totp_reused": sessions.TOTP,
                "recovery_code_invalid": sessions.RECOVERY,
            }.get(exc.code)
            if counted is not None:
                message = self.guard.failed(username, counted, reused=exc.code == "totp_reused")
                raise CounterError(message) from SignInRefused(message, counted)
            if exc.code == "totp_required":
                message = _("请同时输入手机身份验证器上的 6 位动态口令。")
                raise CounterError(message) from SignInRefused(message, sessions.TOTP)
            raise CounterError(exc.message) from SignInRefused(exc.message, exc.field)
        self.guard.succeeded(username)
        self.guard.remember(
            username,
            password,
            resp.clerk,
            resp.hall_name,
            second_factor=resp.second_factor,
            totp_secret=resp.totp_secret,
            totp_code=totp_code,
        )
        warnings = self._transport_warnings() + self._clock_warnings(resp.second_factor)
        if resp.recovery_codes_left is not None:
            warnings += (
                _(
                    "您用了一个备用码登录，还剩 {n} 个未用。手机丢失时请尽快请大厅管理员重新绑定动态口令（会作废旧的备用码）。"
                ).format(n=resp.recovery_codes_left),
            )
        self.username = username
        self.session = ClerkSession(
            clerk=resp.clerk, hall_name=resp.hall_name, online=True, warnings=warnings
        )
        self._signed_in("online")
        return self.session

    def _signed_in(self, how: str) -> None:
        assert self.session is not None
        self.store.actor = self.session.clerk.staff_no
        self.store.audit(AuditAction.LOGIN, self.session.clerk.staff_no, how, self.clock())

    def _offline_login(
        self,
        username: str,
        password: str,
        cause: Unreachable,
        totp_code: str | None = None,
        recovery_code: str | None = None,
    ) -> ClerkSession:
        try:
            cached = self.guard.verify(
                username,
                password,
                why_offline=cause.message,
                totp_code=totp_code,
                recovery_code=recovery_code,
            )
        except SignInRefused as exc:
            self.store.audit(AuditAction.LOGIN_FAILED, username, "offline", self.clock())
            raise CounterError(str(exc)) from exc
        self.session = ClerkSession(clerk=cached.clerk, hall_name=cached.hall_name, online=False)
        self.username = username
        self._signed_in("offline")
        return self.session

    def lock(self) -> None:
        """The screen locked (idle, or the clerk stepped away): recorded; unlocking needs the password."""
        session = self._require_session()
        self.store.audit(AuditAction.LOCK, session.clerk.staff_no, "", self.clock())

    def unlock(self, password: str) -> None:
        """Only the signed-in clerk's own password opens the locked window.

        The session was opened with both factors; re-entering the password after
        the idle lock is the re-authentication (the lockout counts its mistakes too).
        """
        session = self._require_session()
        try:
            cached = self.guard.verify(self.username, password)
        except SignInRefused as exc:
            self.store.audit(AuditAction.LOGIN_FAILED, self.username, "unlock", self.clock())
            raise CounterError(str(exc)) from exc
        if cached.clerk.id != session.clerk.id:
            raise CounterError(_("只有登录的工作人员本人可以解锁；其他人请先退出后登录。"))
        self.store.audit(AuditAction.UNLOCK, session.clerk.staff_no, "", self.clock())

    def logout(self) -> None:
        session = self._require_session()
        try:
            self.api.logout()
        except PlatformError as exc:
            log.info("logout not reported to the server: %s", exc.code)
        self.store.audit(AuditAction.LOGOUT, session.clerk.staff_no, "", self.clock())
        self.store.actor = ""
        self.session = None
        self.username = ""

    def _transport_warnings(self) -> tuple[str, ...]:
        """Plain http is for loopback and demos; anywhere else citizens' data would cross the LAN readable."""
        from urllib.parse import urlsplit

        url = urlsplit(self.config.server.url)
        if url.scheme == "https" or (url.hostname or "") in ("127.0.0.1", "localhost", "::1"):
            return ()
        log.warning("server reached over plain http: %s", url.hostname)
        return (
            _(
                "与服务器的连接未加密（http://{host}），群众的个人信息会以明文在网络上传输。请联系信息技术人员改用 https。"
            ).format(host=url.hostname),
        )

    def _clock_warnings(self, second_factor: bool = False) -> tuple[str, ...]:
        """A clock off the server's: wrong times on papers; with two factors, no offline sign-in."""
        from hallclient import sessions

        try:
            server_time = self.api.health().time
        except PlatformError:
            return ()
        local = self.clock().astimezone()
        skew = local - server_time
        limit = min(MAX_CLOCK_SKEW, sessions.TOTP_TOLERANCE) if second_factor else MAX_CLOCK_SKEW
        if abs(skew) <= limit:
            return ()
        log.warning("clock skew of %s against the platform", skew)
        direction = _("快") if skew > dt.timedelta(0) else _("慢")
        fix = ""
        if second_factor:
            fix = _(
                "动态口令只容许 {seconds} 秒的误差，断网时将无法用动态口令登录。校准方法：Windows 在“设置 → 时间和语言 → 日期和时间”中打开“自动设置时间”并点“立即同步”；统信 UOS、麒麟在终端执行 sudo timedatectl set-ntp true，并把时间服务器设为大厅的时间服务器。"
            ).format(seconds=int(sessions.TOTP_TOLERANCE.total_seconds()))
        if abs(skew) <= MAX_CLOCK_SKEW:
            seconds = round(abs(skew).total_seconds())
            return (
                _("本机时间比服务器{direction} {seconds} 秒。").format(direction=direction, seconds=seconds)
                + fix,
            )
        minutes = round(abs(skew).total_seconds() / 60)
        return (
            _(
                "本机时间比服务器{direction} {minutes} 分钟，办件编号和通知书上的时间会不准确，请联系信息技术人员校准时间。"
            ).format(direction=direction, minutes=minutes)
            + fix,
        )

    def _require_session(self) -> ClerkSession:
        if self.session is None:
            raise CounterError(_("请先登录"))
        return self.session

    # -- queue -------------------------------------------------------------------

    def refresh(self) -> None:
        """Fetch catalog, today's bookings and tickets now (the sync worker keeps them fresh after)."""
        try:
            self.store.upsert_catalog(self.api.catalog().items)
            self.store.upsert_bookings(self.api.bookings(self.today()).bookings)
        except PlatformError as exc:
            log.info("refresh failed, working from the local cache: %s", exc.code)
        self.bus.publish(QueueChanged())

    def queue(self) -> list[QueueRow]:
        names = {i.code: i.name for i in self.store.catalog()}
        rows = []
        for t in self.store.tickets(self.today(), self.hall_code):
            booking = self.store.booking(t.booking_code, self.hall_code) if t.booking_code else None
            item_code = t.item_code or (booking.item_code if booking else None)
            rows.append(
                QueueRow(
                    ticket=t, slot=booking.slot if booking else "", item_name=names.get(item_code or "", "")
                )
            )
        return rows

    def call_next(self) -> wire.Ticket | None:
        """Claim the next citizen: from the server when online, else from the local cache."""
        self._require_session()
        self._require_open()
        try:
            resp = self.api.call_next(self.window_no)
        except Unreachable:
            ticket = self.store.next_waiting_ticket(self.today(), self.hall_code, self.window_no)
            if ticket is None:
                return None
            now = self.clock()
            self.store.set_ticket_state(
                self.today(), ticket.ticket_no, wire.TicketState.CALLED, self.window_no, now
            )
            ticket = ticket.model_copy(update={"state": wire.TicketState.CALLED, "window_no": self.window_no})
            self.on_change()
        except PlatformError as exc:
            raise CounterError(exc.message) from None
        else:
            if resp.ticket is None:
                return None
            ticket = resp.ticket
            self.store.upsert_ticket(ticket)
        self.bus.publish(TicketCalled(ticket.ticket_no, self.window_no, ticket.state))
        self.bus.publish(QueueChanged())
        return ticket

    def service_context(self, ticket: wire.Ticket) -> ServiceContext:
        booking = self.store.booking(ticket.booking_code, self.hall_code) if ticket.booking_code else None
        # A ticket moved to another item (转移) is served for that item, booked or not.
        item_code = ticket.item_code or (booking.item_code if booking else None)
        item = self.store.catalog_item(item_code) if item_code else None
        return ServiceContext(ticket=ticket, booking=booking, item=item)

    # -- queue actions -------------------------------------------------------------

    def _require_open(self) -> None:
        paused, reason = self.store.window_state(self.window_no)
        if paused:
            raise CounterError(_("本窗口已暂停服务（{reason}），请先恢复服务再叫号").format(reason=reason))

    def _require_mine(self, ticket: wire.Ticket, *states: wire.TicketState) -> None:
        if ticket.state not in states or ticket.window_no != self.window_no:
            raise CounterError(
                _("{ticket} 号现在是“{state}”，不能进行此操作").format(
                    ticket=ticket.ticket_no, state=_(TICKET_STATE_LABELS[ticket.state])
                )
            )

    def _change_ticket(self, ticket: wire.Ticket, state: wire.TicketState, **extra: Any) -> wire.Ticket:
        self.store.set_ticket_state(
            ticket.date, ticket.ticket_no, state, self.window_no, self.clock(), **extra
        )
        self.on_change()
        self.bus.publish(QueueChanged())
        window = extra.get("to_window") if state is wire.TicketState.TRANSFERRED else self.window_no
        return ticket.model_copy(
            update={"state": state, "window_no": window, "recalls": extra.get("recalls", 0)}
        )

    def recall(self, ticket: wire.Ticket) -> wire.Ticket:
        """重呼: call the same number again, up to the configured number of times."""
        self._require_session()
        self._require_mine(ticket, wire.TicketState.CALLED)
        limit = self.config.counter.max_recalls
        if ticket.recalls >= limit:
            raise CounterError(
                _("{ticket} 号已重呼 {n} 次（上限 {limit} 次），请按过号处理 (F4)").format(
                    ticket=ticket.ticket_no, n=ticket.recalls, limit=limit
                )
            )
        called = self._change_ticket(ticket, wire.TicketState.CALLED, recalls=ticket.recalls + 1)
        self.bus.publish(TicketCalled(ticket.ticket_no, self.window_no, called.state))
        return called

    def start_serving(self, ticket: wire.Ticket) -> wire.Ticket:
        """The citizen is at the counter: no longer a no-show candidate."""
        self._require_session()
        if ticket.state is wire.TicketState.SERVING:
            return ticket
        self._require_mine(ticket, wire.TicketState.CALLED)
        return self._change_ticket(ticket, wire.TicketState.SERVING)

    def no_show(self, ticket: wire.Ticket) -> wire.Ticket:
        """过号: the called citizen did not come to the window."""
        self._require_session()
        self._require_mine(ticket, wire.TicketState.CALLED)
        return self._change_ticket(ticket, wire.TicketState.NO_SHOW)

    def park(self, ticket: wire.Ticket, note: str = "") -> wire.Ticket:
        """挂起: the citizen steps away (to copy a paper, fetch a document) and is served on return."""
        self._require_session()
        self._require_mine(ticket, wire.TicketState.CALLED, wire.TicketState.SERVING)
        return self._change_ticket(ticket, wire.TicketState.PARKED, note=note)

    def parked(self) -> list[wire.Ticket]:
        return [
            t
            for t in self.store.tickets(self.today(), self.hall_code)
            if t.state is wire.TicketState.PARKED and t.window_no == self.window_no
        ]

    def resume(self, ticket: wire.Ticket) -> ServiceContext:
        """Serve a parked citizen again at this window."""
        self._require_session()
        self._require_mine(ticket, wire.TicketState.PARKED)
        return self.service_context(self._change_ticket(ticket, wire.TicketState.SERVING))

    def windows(self) -> list[wire.WindowInfo]:
        """The hall's windows as the server sees them now, remembered for use offline."""
        try:
            found = self.api.windows().windows
        except Unreachable:
            raw = self.store.get_state(WINDOWS_KEY)
            return [wire.WindowInfo.model_validate(w) for w in json.loads(raw)] if raw else []
        except PlatformError as exc:
            raise CounterError(exc.message) from None
        self.store.set_state(WINDOWS_KEY, json.dumps([w.model_dump() for w in found], ensure_ascii=False))
        return found

    def transfer(
        self, ticket: wire.Ticket, *, to_window: int | None = None, to_item: str | None = None, note: str
    ) -> wire.Ticket:
        """转移: hand the citizen to another window or move them to another item, with a note."""
        self._require_session()
        self._require_mine(ticket, wire.TicketState.CALLED, wire.TicketState.SERVING, wire.TicketState.PARKED)
        if to_window is None and to_item is None:
            raise CounterError(_("请选择转入的窗口或事项"))
        if not note.strip():
            raise CounterError(_("请填写转移说明，接手的窗口需要知道为什么转过去"))
        if to_window == self.window_no:
            raise CounterError(_("不能转移到本窗口"))
        if to_item is not None and self.store.catalog_item(to_item) is None:
            raise CounterError(_("事项编码 {code} 不在事项目录中").format(code=to_item))
        if to_window is not None:
            known = self.windows()
            if not known:
                raise CounterError(
                    _(
                        "暂时取不到各窗口的状态（离线），不能确认 {window} 号窗口是否在办理业务；请只选择转入的事项，由任意窗口叫号。"
                    ).format(window=to_window)
                )
            target = next((w for w in known if w.window_no == to_window), None)
            if target is None:
                raise CounterError(_("本大厅没有 {window} 号窗口").format(window=to_window))
            if not target.open or target.paused:
                why = (
                    _("暂停服务：{reason}").format(reason=target.pause_reason)
                    if target.paused
                    else _("无人登录")
                )
                raise CounterError(
                    _("{window} 号窗口现在不办理业务（{why}），请选择其他窗口").format(
                        window=to_window, why=why
                    )
                )
        return self._change_ticket(
            ticket, wire.TicketState.TRANSFERRED, to_window=to_window, to_item=to_item, note=note.strip()
        )

    def window_paused(self) -> tuple[bool, str]:
        return self.store.window_state(self.window_no)

    def pause(self, reason: str) -> None:
        """暂停服务: no calls until resumed; the hall sees the window paused, with the reason."""
        self._require_session()
        if not reason.strip():
            raise CounterError(_("请填写暂停服务的原因"))
        self.store.record_window_state(self.window_no, True, reason.strip(), self.clock())
        self.on_change()

    def resume_service(self) -> None:
        self._require_session()
        self.store.record_window_state(self.window_no, False, "", self.clock())
        self.on_change()

    # -- lookup ----------------------------------------------------------------------

    def lookup(self, query: str) -> list[LookupHit]:
        """Find a citizen by booking code, resident ID number or name (or a scanned slip)."""
        found = classify_query(query)
        day = self.today()
        tickets = {t.booking_code: t for t in self.store.tickets(day, self.hall_code) if t.booking_code}
        if found.kind is QueryKind.BOOKING_CODE:
            b = self.store.booking(found.value, self.hall_code)
            return [LookupHit(booking=b, ticket=tickets.get(b.code))] if b else []
        if found.kind is QueryKind.ID_NUMBER:
            bookings = self.store.find_bookings_by_id_number(found.value, self.hall_code)
            hits = [LookupHit(booking=b, ticket=tickets.get(b.code)) for b in bookings]
            return hits + [LookupHit(case=c) for c in self.store.cases_by_id_number(found.value)]
        bookings = self.store.bookings_between(
            day - dt.timedelta(days=NAME_SEARCH_DAYS),
            day + dt.timedelta(days=NAME_SEARCH_DAYS),
            self.hall_code,
        )
        return [
            LookupHit(booking=b, ticket=tickets.get(b.code))
            for b in bookings
            if found.value in b.applicant.name
        ]

    def serve_booking(self, booking: wire.Booking, current: wire.Ticket | None) -> ServiceContext:
        """Serve a looked-up booking: with its own ticket when it has one, else under the current one."""
        self._require_session()
        if booking.status is wire.BookingStatus.CANCELLED:
            raise CounterError(_("预约 {code} 已取消").format(code=booking.code))
        if booking.status is wire.BookingStatus.SERVED:
            raise CounterError(_("预约 {code} 已办理过").format(code=booking.code))
        if booking.date != self.today():
            raise CounterError(
                _("预约 {code} 是 {date} 的，不是今天的").format(
                    code=booking.code, date=booking.date.isoformat()
                )
            )
        own = next(
            (t for t in self.store.tickets(self.today(), self.hall_code) if t.booking_code == booking.code),
            None,
        )
        if own is not None and (current is None or own.ticket_no != current.ticket_no):
            if own.state in (
                wire.TicketState.WAITING,
                wire.TicketState.NO_SHOW,
                wire.TicketState.TRANSFERRED,
            ):
                if current is not None:
                    raise CounterError(
                        _("该预约有自己的号 {own}，请先处理完当前的 {current} 号").format(
                            own=own.ticket_no, current=current.ticket_no
                        )
                    )
                self._require_open()
                own = self._change_ticket(own, wire.TicketState.CALLED)
                self.bus.publish(TicketCalled(own.ticket_no, self.window_no, own.state))
                return self.service_context(own)
            if own.window_no != self.window_no:
                raise CounterError(
                    _("该预约的 {own} 号正在 {window} 号窗口办理").format(
                        own=own.ticket_no, window=own.window_no
                    )
                )
        if current is None:
            raise CounterError(_("请先叫号，或让群众取号"))
        return ServiceContext(
            ticket=current, booking=booking, item=self.store.catalog_item(booking.item_code)
        )

    def with_item(self, ctx: ServiceContext, item_code: str) -> ServiceContext:
        """A walk-in's item chosen at the counter."""
        item = self.store.catalog_item(item_code)
        if item is None:
            raise CounterError(_("事项编码 {code} 不在事项目录中").format(code=item_code))
        return ServiceContext(ticket=ctx.ticket, booking=ctx.booking, item=item)

    # -- e-licenses ---------------------------------------------------------------------

    def licenses(self, ctx: ServiceContext, holder_id: str) -> dict[str, LicenseMatch]:
        """Materials the registry already holds for this applicant; never stored on this counter."""
        self._require_session()
        if ctx.item is None or not any(m.license_types for m in ctx.item.materials):
            return {}
        try:
            found = self.api.licenses(holder_id, ctx.ticket.ticket_no).licenses
        except Unreachable:
            raise CounterError(_("暂时连不上电子证照库（离线），请收取纸质材料。")) from None
        except PlatformError as exc:
            raise CounterError(exc.message) from None
        return match_licenses(ctx.item, found)

    def license_file(self, ctx: ServiceContext, license_no: str) -> bytes:
        self._require_session()
        try:
            return self.api.license_file(license_no, ctx.ticket.ticket_no)
        except Unreachable:
            raise CounterError(_("暂时连不上电子证照库（离线），请查看纸质材料。")) from None
        except PlatformError as exc:
            raise CounterError(exc.message) from None

    # -- overdue ----------------------------------------------------------------------

    def overdue(self) -> list[OverdueEntry]:
        """This window's accepted cases near or past their promise, and corrections not returned."""
        today = self.today()
        names = {i.code: i.name for i in self.store.catalog()}
        warn = self.config.counter.overdue_warning_days
        out: list[OverdueEntry] = []
        for c in self.store.awaiting_pickup(self.window_no, (wire.Decision.ACCEPT,)):
            if c.promised_date is None:
                continue
            left = self._working_days_left(today, c.promised_date)
            if left <= warn:
                kind = "overdue" if c.promised_date < today else "due_soon"
                out.append(self._overdue_entry(c, names, kind, c.promised_date, left))
        for c in self.store.unreturned_corrections(self.window_no):
            late = c.correction_deadline is not None and c.correction_deadline < today
            days = self._working_days_left(today, c.correction_deadline) if c.correction_deadline else None
            kind = "correction_late" if late else "correction_open"
            out.append(self._overdue_entry(c, names, kind, c.correction_deadline, days))
        return out

    def _working_days_left(self, today: dt.date, due: dt.date) -> int:
        try:
            return self.calendar.working_days_between(today, due)
        except CalendarMissing:
            return (due - today).days

    @staticmethod
    def _overdue_entry(
        c: CaseView, names: Mapping[str, str], kind: str, date: dt.date | None, left: int | None
    ) -> OverdueEntry:
        return OverdueEntry(
            case_no=c.case_no,
            item_name=names.get(c.item_code, c.item_code),
            applicant_name=c.applicant.name,
            kind=kind,
            date=date,
            working_days_left=left,
        )

    # -- decisions ---------------------------------------------------------------

    def accept(
        self,
        ctx: ServiceContext,
        checks: Mapping[str, MaterialCheck | MaterialFinding],
        *,
        applicant: wire.Applicant | None = None,
        notes: str = "",
        signature: Strokes | None = None,
    ) -> DecisionOutcome:
        """受理: record the decision and build the receipt (行政许可法 §32 I(5))."""
        item, findings = self._item_and_findings(ctx, checks)
        self._check(decisions.check_accept, item, findings)
        self._check(decisions.check_e_licenses, item, findings, ctx.licenses)
        promised, warnings = self.promised_date(self.clock().date(), item.promised_days)
        return self._decide(
            ctx,
            item,
            findings,
            wire.Decision.ACCEPT,
            applicant,
            notes,
            warnings,
            promised_date=promised,
            signature=signature,
        )

    def request_correction(
        self,
        ctx: ServiceContext,
        checks: Mapping[str, MaterialCheck | MaterialFinding],
        *,
        applicant: wire.Applicant | None = None,
        notes: str = "",
    ) -> DecisionOutcome:
        """补正: one notice listing every missing or wrong material (行政许可法 §32 I(4))."""
        item, findings = self._item_and_findings(ctx, checks)
        self._check(decisions.check_correction, item, findings)
        self._check(decisions.check_e_licenses, item, findings, ctx.licenses)
        days = self.config.decisions.correction_working_days
        deadline, warnings = self.promised_date(self.clock().date(), days) if days else (None, [])
        return self._decide(
            ctx,
            item,
            findings,
            wire.Decision.CORRECT,
            applicant,
            notes,
            warnings,
            correction_deadline=deadline,
        )

    def reject(
        self,
        ctx: ServiceContext,
        *,
        reasons: list[str],
        legal_basis: str,
        applicant: wire.Applicant | None = None,
        checks: Mapping[str, MaterialCheck | MaterialFinding] | None = None,
        notes: str = "",
    ) -> DecisionOutcome:
        """不予受理: the reasons, the legal basis, and the citizen's remedies (行政许可法 §32 I(1)-(3))."""
        item, findings = self._item_and_findings(ctx, checks or {})
        cleaned = self._check(decisions.check_rejection, reasons, legal_basis)
        return self._decide(
            ctx,
            item,
            findings,
            wire.Decision.REJECT,
            applicant,
            notes,
            [],
            reasons=cleaned,
            legal_basis=legal_basis.strip(),
        )

    def complete_on_the_spot(
        self,
        ctx: ServiceContext,
        checks: Mapping[str, MaterialCheck | MaterialFinding],
        *,
        applicant: wire.Applicant | None = None,
        notes: str = "",
        signature: Strokes | None = None,
    ) -> DecisionOutcome:
        """即办件: decided and completed at the counter, the approval handed over at once."""
        item, findings = self._item_and_findings(ctx, checks)
        self._check(decisions.check_instant, item, findings)
        self._check(decisions.check_e_licenses, item, findings, ctx.licenses)
        return self._decide(
            ctx,
            item,
            findings,
            wire.Decision.COMPLETE,
            applicant,
            notes,
            [],
            promised_date=self.clock().date(),
            signature=signature,
        )

    def pickup(self, case_no: str, picked_up_by: str) -> PaperOutcome:
        """出件: hand over an accepted case's result and print the pick-up slip."""
        session = self._require_session()
        if not picked_up_by.strip():
            raise CounterError(_("请填写领取人姓名"))
        case = self.store.case(case_no)
        if case is None:
            raise CounterError(_("本窗口没有办件 {case_no}").format(case_no=case_no))
        if case.decision is not wire.Decision.ACCEPT:
            raise CounterError(_("办件 {case_no} 没有受理，没有可领取的结果").format(case_no=case_no))
        if case.picked_up_at is not None:
            raise CounterError(
                _("办件 {case_no} 的结果已于 {at} 领取").format(
                    case_no=case_no, at=case.picked_up_at.strftime("%Y-%m-%d %H:%M")
                )
            )
        item = self.store.catalog_item(case.item_code)
        now = self.clock()
        self.store.record_pickup(case_no, self.window_no, picked_up_by.strip(), now)
        self.on_change()
        payload = wire.CaseDecidedPayload(
            case_no=case.case_no,
            ticket_no=case.ticket_no,
            booking_code=case.booking_code,
            item_code=case.item_code,
            item_version=case.item_version,
            decision=case.decision,
            window_no=case.window_no,
            clerk_id=session.clerk.id,
            decided_at=case.decided_at.astimezone(),
            promised_date=case.promised_date,
            materials=list(case.materials),
            applicant=case.applicant,
            notes=case.notes,
        )
        item_name = item.name if item else case.item_code
        doc_id, fields, sig, url, hall = self._signing(PaperKind.PICKUP, payload, item_name, session)
        header = decisions.case_header(
            doc_id=doc_id,
            p=payload,
            item=item or self._unknown_item(case.item_code),
            hall=hall,
            clerk=session.clerk,
            decided_at=now,
            verify_url=url,
        )
        slip = PickupSlip(
            header=header,
            result_name=_("“{item}”办理结果").format(item=item_name),
            picked_up_at=now,
            picked_up_by=picked_up_by.strip(),
            promised_date=case.promised_date,
        )
        return PaperOutcome(paper=slip, signed_fields=fields, signature=sig)

    @staticmethod
    def _unknown_item(code: str) -> wire.ServiceItem:
        # An item dropped from the catalog since: the paper still names its code.
        return wire.ServiceItem(
            code=code, version=1, name=code, department="", legal_days=0, promised_days=0, materials=[]
        )

    def _item_and_findings(
        self, ctx: ServiceContext, checks: Mapping[str, MaterialCheck | MaterialFinding]
    ) -> tuple[wire.ServiceItem, dict[str, MaterialFinding]]:
        self._require_session()
        if ctx.item is None:
            raise CounterError(_("没有选择办理事项"))
        findings = {
            code: v if isinstance(v, MaterialFinding) else MaterialFinding(v) for code, v in checks.items()
        }
        for code, f in findings.items():
            match = ctx.licenses.get(code)
            if f.check is MaterialCheck.E_LICENSE and match is not None:
                findings[code] = MaterialFinding(f.check, match.source_note())
        return ctx.item, findings

    @staticmethod
    def _check(rule: Callable[..., T], *args: Any) -> T:
        try:
            return rule(*args)
        except decisions.DecisionRefused as exc:
            raise CounterError(str(exc)) from None

    def _decide(
        self,
        ctx: ServiceContext,
        item: wire.ServiceItem,
        findings: Mapping[str, MaterialFinding],
        decision: wire.Decision,
        applicant: wire.Applicant | None,
        notes: str,
        warnings: list[str],
        *,
        promised_date: dt.date | None = None,
        correction_deadline: dt.date | None = None,
        reasons: list[str] | None = None,
        legal_basis: str = "",
        signature: Strokes | None = None,
    ) -> DecisionOutcome:
        """Record one decision (case number, ticket, booking, outbox op) and build its paper."""
        session = self._require_session()
        applicant = applicant or (ctx.booking.applicant if ctx.booking else None)
        if applicant is None:
            raise CounterError(_("缺少申请人信息"))
        now = self.clock()
        materials = decisions.checked_materials(item, findings)

        def payload_for(case_no: str) -> wire.CaseDecidedPayload:
            return wire.CaseDecidedPayload(
                case_no=case_no,
                ticket_no=ctx.ticket.ticket_no,
                booking_code=ctx.booking.code if ctx.booking else None,
                item_code=item.code,
                item_version=item.version,
                decision=decision,
                window_no=self.window_no,
                clerk_id=session.clerk.id,
                decided_at=now.astimezone(),
                promised_date=promised_date,
                materials=materials,
                applicant=applicant,
                notes=notes,
                reasons=reasons or [],
                legal_basis=legal_basis,
                correction_deadline=correction_deadline,
            )

        payload = self.store.record_decision(
            hall_code=self.hall_code,
            day=now.date(),
            payload_for=payload_for,
            now=now,
            window_no=self.window_no,
            ticket_no=ctx.ticket.ticket_no,
        )
        outcome = self._paper_for(payload, item, findings, session, now, signature or [])
        outcome.warnings.extend(warnings)
        self.on_change()
        self.bus.publish(CaseDecided(payload.case_no, payload.decision, payload.ticket_no, now, item.name))
        self.bus.publish(QueueChanged())
        return outcome

    def promised_date(self, start: dt.date, days: int) -> tuple[dt.date, list[str]]:
        """The promised completion date, and a warning when a year's holidays are unknown.

        A missing holiday calendar must not stop the counter, but the clerk has to
        know that the date printed only skips weekends (and should be checked).
        """
        try:
            return self.calendar.add_working_days(start, days), []
        except CalendarMissing as exc:
            log.warning("holiday calendar missing for %s", exc.year)
            date = self.calendar.add_working_days_assuming_weekends(start, days)
            return date, [
                _("缺少 {year} 年节假日安排，承诺办结日期 {date} 只跳过了周末，请核对后再告知群众").format(
                    year=exc.year, date=date.isoformat()
                )
            ]

    def _signing(
        self, kind: PaperKind, p: wire.CaseDecidedPayload, item_name: str, session: ClerkSession
    ) -> tuple[str, dict[str, str], str, str, HallInfo]:
        doc_id = uuid.uuid4().hex[:20]
        hall_name = self.config.printing.hall_name or session.hall_name
        fields = self.document_fields(doc_id, kind.value, p, item_name, hall_name)
        signature = sign_fields(self.signing_key, fields) if self.signing_key else ""
        verify_url = f"{self.config.server.url.rstrip('/')}{wire.API_PREFIX}/verify/{doc_id}?s={signature}"
        return doc_id, fields, signature, verify_url, HallInfo(self.hall_code, hall_name, self.window_no)

    def _paper_for(
        self,
        p: wire.CaseDecidedPayload,
        item: wire.ServiceItem,
        findings: Mapping[str, MaterialFinding],
        session: ClerkSession,
        now: dt.datetime,
        strokes: Strokes,
    ) -> DecisionOutcome:
        kind = PAPER_OF_DECISION[p.decision]
        doc_id, fields, signature, url, hall = self._signing(kind, p, item.name, session)
        header = decisions.case_header(
            doc_id=doc_id,
            p=p,
            item=item,
            hall=hall,
            clerk=session.clerk,
            decided_at=now,
            verify_url=url,
            signature_strokes=strokes,
        )
        received = decisions.received_materials(item, p)
        paper: Paper
        if p.decision is wire.Decision.ACCEPT:
            assert p.promised_date is not None
            paper = ReceiptData(
                doc_id=doc_id,
                case_no=p.case_no,
                hall=hall,
                clerk_name=session.clerk.name,
                clerk_staff_no=session.clerk.staff_no,
                item_code=item.code,
                item_version=item.version,
                item_name=item.name,
                department=item.department,
                applicant_name=p.applicant.name,
                applicant_id_number=p.applicant.id_number,
                applicant_phone=p.applicant.phone,
                materials=received,
                accepted_at=now,
                promised_date=p.promised_date,
                promised_days=item.promised_days,
                verify_url=url,
                booking_code=p.booking_code,
                notes=p.notes,
                signature_strokes=strokes,
            )
        elif p.decision is wire.Decision.CORRECT:
            bring_to = self.config.decisions.correction_bring_to or _("{hall} {window} 号窗口").format(
                hall=hall.name, window=self.window_no
            )
            paper = CorrectionNotice(
                header=header,
                problems=decisions.problems_of(item, findings),
                received=received,
                bring_to=bring_to,
                deadline=p.correction_deadline,
            )
        elif p.decision is wire.Decision.REJECT:
            paper = RejectionNotice(
                header=header,
                reasons=p.reasons,
                legal_basis=p.legal_basis,
                reconsideration_body=self.config.decisions.reconsideration_body,
                court=self.config.decisions.court,
            )
        else:
            paper = ApprovalDecision(
                header=header,
                title=APPROVAL_TITLE,
                result_text=decisions.approval_text(p.applicant.name, item.name),
                materials=received,
            )
        return DecisionOutcome(paper=paper, signed_fields=fields, signature=signature, payload=p)

    @staticmethod
    def document_fields(
        doc_id: str, kind: str, p: wire.CaseDecidedPayload, item_name: str, hall_name: str
    ) -> dict[str, str]:
        """The facts a document's signature covers: no personal data, which the paper shows only masked."""
        return {
            "doc_id": doc_id,
            "kind": kind,
            "case_no": p.case_no,
            "item_code": p.item_code,
            "item_name": item_name,
            "decision": p.decision.value,
            "decided_on": p.decided_at.date().isoformat(),
            "promised_date": p.promised_date.isoformat() if p.promised_date else "",
            "hall": hall_name,
        }

    def next_reprint_no(self, outcome: PaperOutcome) -> int:
        """The count a 补打 of this paper prints and records: one more than any before it."""
        return self.store.reprint_count(outcome.doc_id) + 1

    def archive_document(self, outcome: PaperOutcome, pdf: bytes, *, reprint_no: int = 0) -> Path:
        """Keep the printed PDF with its SHA-256 and register it with the server through the outbox."""
        sha = hashlib.sha256(pdf).hexdigest()
        folder = self.config.data_dir / "documents" / outcome.case_no
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{outcome.doc_id}-{reprint_no}.pdf"
        try:
            path.write_bytes(pdf)
        except OSError as exc:
            # The decision is saved already; only the paper's copy is missing, and can be printed again.
            raise CounterError(
                _("文书 PDF 无法保存到 {path}（{reason}），办件已保存，可稍后补打。").format(
                    path=path, reason=exc.strerror or type(exc).__name__
                )
            ) from None
        self.store.record_document(
            doc_id=outcome.doc_id,
            case_no=outcome.case_no,
            kind=outcome.signed_fields["kind"],
            sha256=sha,
            path=path,
            fields=outcome.signed_fields,
            signature=outcome.signature,
            reprint_no=reprint_no,
            now=self.clock(),
        )
        self.on_change()
        return path

    # -- rating (the citizen screen's path, never the clerk's) -------------------------

    def record_rating(
        self,
        case_no: str,
        level: wire.RatingLevel,
        *,
        decided_at: dt.datetime,
        reasons: list[str] | None = None,
        comment: str = "",
    ) -> None:
        """Store the citizen's rating (or 未评价) with its outbox op; never called by the clerk's window.

        A bad rating keeps its reasons and opens a follow-up due in working days; a rating that
        ends a burst (identical, seconds after the decision, several in a row) is flagged.
        """
        from hallclient import ratings

        now = self.clock()
        due = None
        if ratings.needs_follow_up(level):
            due, _warnings = self.promised_date(now.date(), self.config.citizen_screen.follow_up_working_days)
        else:
            reasons, comment = [], ""  # reasons are asked for bad ratings only
        this = ratings.RatedService(level, decided_at, now)
        burst = ratings.is_burst([*self.store.recent_ratings(ratings.BURST_RUN - 1), this])
        payload = wire.RatingPayload(
            case_no=case_no,
            window_no=self.window_no,
            level=level,
            reasons=ratings.clean_reasons(reasons or []),
            comment=ratings.clean_comment(comment),
            decided_at=decided_at.astimezone(),
            rated_at=now.astimezone(),
            follow_up_due=due,
            burst=burst,
        )
        if burst:
            log.warning("rating for %s flagged as part of a burst at window %s", case_no, self.window_no)
        self.store.record_rating(payload, now)
        self.on_change()
        self.bus.publish(RatingRecorded(case_no))
