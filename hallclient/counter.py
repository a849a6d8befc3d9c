"""The counter's use cases: sign in, call the next citizen, decide, record a rating.

Plain Python, no Qt: the ui calls these on its worker threads, tests call them
directly. Each method that changes something is one store transaction with its
outbox op, then a kick to the sync worker.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
    QueueTicketSlip,
    RejectionNotice,
    Strokes,
    VisitLine,
    VisitMaterial,
    VisitReceipt,
)
from hallclient.reuse import ReuseOffer, match_earlier
from hallclient.sessions import SignInGuard, SignInRefused
from hallclient.signing import sign_fields
from hallclient.store import CaseView, Store
from hallclient.visits import VISIT_CHECKLIST_CODE, DecidedItem, Visit, bundle_items
from hallclient.workdays import CalendarMissing, WorkCalendar

log = logging.getLogger(__name__)

WINDOWS_KEY = "hall_windows"
BUNDLES_KEY = "catalog_bundles"
# What a number taken at this counter was for (items, bundle), so its visit starts when it is called.
PLANNED_VISIT_KEY = "planned_visit/{day}/{ticket}"
# Categories of today's tickets as far as this counter knows them (the queue panel shows them).
CATEGORIES_KEY = "ticket_categories/{day}"
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
CATEGORY_LABELS = {
    wire.TicketCategory.ORDINARY: N_("普通"),
    wire.TicketCategory.ELDERLY: N_("老年人优先"),
    wire.TicketCategory.DISABLED: N_("残疾人优先"),
    wire.TicketCategory.SERVICE_MEMBER: N_("军人优先"),
    wire.TicketCategory.PREGNANT: N_("孕妇优先"),
    wire.TicketCategory.APPOINTMENT: N_("预约"),
}
PRIORITY_CATEGORIES = (
    wire.TicketCategory.ELDERLY,
    wire.TicketCategory.DISABLED,
    wire.TicketCategory.SERVICE_MEMBER,
    wire.TicketCategory.PREGNANT,
)
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
    # The item being decided; in a visit of several items, the visit's merged checklist as one
    # synthetic item (code ``visits.VISIT_CHECKLIST_CODE``), each item decided through the visit.
    item: wire.ServiceItem | None
    # Materials the e-license registry holds for this applicant (kept in memory for this case only).
    licenses: Mapping[str, LicenseMatch] = field(default_factory=dict)
    visit: Visit | None = None
    # Materials the applicant handed in for earlier cases, offered again (kept in memory for this case only).
    reuse: Mapping[str, ReuseOffer] = field(default_factory=dict)

    @property
    def category(self) -> wire.TicketCategory:
        if self.ticket.category is not None:
            return self.ticket.category
        return wire.TicketCategory.APPOINTMENT if self.booking else wire.TicketCategory.ORDINARY


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue panel."""

    ticket: wire.Ticket
    slot: str
    item_name: str
    category: wire.TicketCategory | None = None


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
class VisitStep:
    """One item of a visit decided: its paper, the visit as it stands, and the combined receipt
    once every item is decided."""

    outcome: DecisionOutcome
    context: ServiceContext
    receipt: PaperOutcome | None = None


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
    # Where the case stands in its timeline, so the clerk knows whom to chase ("" when at the window).
    stage: str = ""


def _as_item_materials(
    by_paper: Mapping[str, T], visit: Visit, item_code: str, rekey: Callable[[T, str], T]
) -> dict[str, T]:
    """What the visit's checklist holds per paper, keyed by one item's own material codes
    (a shared paper stands for a material of each item that asks for it)."""
    out: dict[str, T] = {}
    for row in visit.materials:
        value = by_paper.get(row.key)
        if value is None:
            continue
        for code, material in row.uses:
            if code == item_code:
                out[material] = rekey(value, material)
    return out


@contextmanager
def _platform(offline: str) -> Iterator[None]:
    """A step only the server can take: offline, or refused by it, said to the clerk in words."""
    try:
        yield
    except Unreachable:
        raise CounterError(offline) from None
    except PlatformError as exc:
        raise CounterError(exc.message) from None


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
        # Visits of several items now open at this window, by ticket number (in memory: a visit
        # is done while the citizen is at the window; each decision is stored as it is taken).
        self._visits: dict[str, Visit] = {}

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
            catalog = self.api.catalog()
            self.store.upsert_catalog(catalog.items)
            self.store.set_state(
                BUNDLES_KEY,
                json.dumps([b.model_dump(mode="json") for b in catalog.bundles], ensure_ascii=False),
            )
            self.store.upsert_bookings(self.api.bookings(self.today()).bookings)
        except PlatformError as exc:
            log.info("refresh failed, working from the local cache: %s", exc.code)
        self.bus.publish(QueueChanged())

    def queue(self) -> list[QueueRow]:
        names = {i.code: i.name for i in self.store.catalog()}
        known = self._categories()
        rows = []
        tickets = self.store.tickets(self.today(), self.hall_code)
        # One query for all the booked tickets' bookings, not one per ticket.
        bookings = self.store.bookings_by_code(
            (t.booking_code for t in tickets if t.booking_code), self.hall_code
        )
        for t in tickets:
            booking = bookings.get(t.booking_code) if t.booking_code else None
            item_code = t.item_code or (booking.item_code if booking else None)
            category = t.category or known.get(t.ticket_no)
            if category is None:
                category = wire.TicketCategory.APPOINTMENT if t.booking_code else wire.TicketCategory.ORDINARY
            rows.append(
                QueueRow(
                    ticket=t,
                    slot=booking.slot if booking else "",
                    item_name=names.get(item_code or "", ""),
                    category=category,
                )
            )
        return rows

    def _categories(self) -> dict[str, wire.TicketCategory]:
        raw = self.store.get_state(CATEGORIES_KEY.format(day=self.today().isoformat()))
        return {k: wire.TicketCategory(v) for k, v in json.loads(raw).items()} if raw else {}

    def _remember_category(self, ticket: wire.Ticket) -> None:
        if ticket.category is None:
            return
        known = self._categories()
        if known.get(ticket.ticket_no) is ticket.category:
            return
        known[ticket.ticket_no] = ticket.category
        self.store.set_state(
            CATEGORIES_KEY.format(day=self.today().isoformat()),
            json.dumps({k: v.value for k, v in known.items()}),
        )

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
            self._remember_category(ticket)
        self.bus.publish(TicketCalled(ticket.ticket_no, self.window_no, ticket.state))
        self.bus.publish(QueueChanged())
        return ticket

    def service_context(self, ticket: wire.Ticket) -> ServiceContext:
        if ticket.category is None:
            ticket = ticket.model_copy(update={"category": self._categories().get(ticket.ticket_no)})
        booking = self.store.booking(ticket.booking_code, self.hall_code) if ticket.booking_code else None
        # A ticket moved to another item (转移) is served for that item, booked or not.
        item_code = ticket.item_code or (booking.item_code if booking else None)
        item = self.store.catalog_item(item_code) if item_code else None
        ctx = ServiceContext(ticket=ticket, booking=booking, item=item)
        open_visit = self._visits.get(_visit_key(ticket))
        if open_visit is not None:  # parked or recalled in the middle of a visit
            return self._visit_context(ctx, open_visit)
        planned = self.store.get_state(
            PLANNED_VISIT_KEY.format(day=ticket.date.isoformat(), ticket=ticket.ticket_no)
        )
        if planned:
            plan = json.loads(planned)
            try:
                return self.start_visit(
                    ctx, bundle_code=plan.get("bundle_code"), item_codes=plan.get("item_codes", [])
                )
            except CounterError as exc:
                log.info("planned visit of %s not started: %s", ticket.ticket_no, exc)
        return ctx

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
        if ctx.visit is not None:
            raise CounterError(
                _("正在办理“{name}”的多个事项，请在事项清单中添加或移除事项").format(name=ctx.visit.name)
            )
        return ServiceContext(ticket=ctx.ticket, booking=ctx.booking, item=item)

    # -- visits of several items (一件事一次办) ---------------------------------------------------

    def bundles(self) -> list[wire.Bundle]:
        """The catalog's 一件事 bundles, as last fetched (kept for offline use)."""
        raw = self.store.get_state(BUNDLES_KEY)
        return [wire.Bundle.model_validate(b) for b in json.loads(raw)] if raw else []

    def start_visit(
        self, ctx: ServiceContext, *, bundle_code: str | None = None, item_codes: Sequence[str] = ()
    ) -> ServiceContext:
        """Serve several items in this visit: a bundle (in its decision order) and/or items picked here.

        The item already chosen (a booking's, a walk-in's) stays part of the visit. One item
        alone is no visit: the context is returned for that item as usual.
        """
        self._require_session()
        open_visit = self._visits.get(_visit_key(ctx.ticket))
        if open_visit is not None and open_visit.decided:
            raise CounterError(_("本次办理已有事项作出决定，只能再添加事项"))
        catalog = {i.code: i for i in self.store.catalog()}
        bundle = None
        items: list[wire.ServiceItem] = []
        if bundle_code is not None:
            bundle = next((b for b in self.bundles() if b.code == bundle_code), None)
            if bundle is None:
                raise CounterError(_("“一件事”{code} 不在事项目录中").format(code=bundle_code))
            try:
                items = bundle_items(bundle, catalog)
            except KeyError as exc:
                raise CounterError(
                    _("“{name}”包含的事项 {codes} 不在本机的事项目录中，请先同步事项目录").format(
                        name=bundle.name, codes=exc.args[0]
                    )
                ) from None
        current = ctx.item if ctx.item is not None and ctx.item.code != VISIT_CHECKLIST_CODE else None
        extra = ([current.code] if current is not None else []) + list(item_codes)
        for code in dict.fromkeys(extra):
            if any(i.code == code for i in items):
                continue
            item = catalog.get(code)
            if item is None:
                raise CounterError(_("事项编码 {code} 不在事项目录中").format(code=code))
            items.append(item)
        if not items:
            raise CounterError(_("请选择办理事项"))
        plain = ServiceContext(ticket=ctx.ticket, booking=ctx.booking, item=None, licenses={})
        if len(items) == 1 and bundle is None:
            self._visits.pop(_visit_key(ctx.ticket), None)
            return dataclasses.replace(plain, item=items[0])
        visit = Visit.of(items, bundle)
        # Visits of earlier days are over: their decisions, papers and ratings are stored.
        today = self.today().isoformat()
        self._visits = {k: v for k, v in self._visits.items() if k.startswith(today)}
        self._visits[_visit_key(ctx.ticket)] = visit
        return self._visit_context(plain, visit)

    def add_to_visit(self, ctx: ServiceContext, item_code: str) -> ServiceContext:
        """An item added at the counter: decided after the visit's other items."""
        self._require_session()
        if ctx.visit is None:
            return self.start_visit(ctx, item_codes=[item_code])
        item = self.store.catalog_item(item_code)
        if item is None:
            raise CounterError(_("事项编码 {code} 不在事项目录中").format(code=item_code))
        if item_code in ctx.visit.item_codes:
            raise CounterError(_("“{item}”已在本次办理的事项中").format(item=item.name))
        visit = self._visits.get(_visit_key(ctx.ticket), ctx.visit).with_item(item)
        self._visits[_visit_key(ctx.ticket)] = visit
        return self._visit_context(ctx, visit)

    def remove_from_visit(self, ctx: ServiceContext, item_code: str) -> ServiceContext:
        """Drop an item not decided yet (the citizen will not do it today)."""
        self._require_session()
        if ctx.visit is None or item_code not in ctx.visit.item_codes:
            raise CounterError(_("事项 {code} 不在本次办理的事项中").format(code=item_code))
        visit = self._visits.get(_visit_key(ctx.ticket), ctx.visit)
        if visit.decided_item(item_code) is not None:
            raise CounterError(_("“{item}”已作出决定，不能移除").format(item=visit.item(item_code).name))
        if len(visit.items) == 1:
            raise CounterError(_("至少保留一个办理事项"))
        visit = visit.without_item(item_code)
        if len(visit.items) == 1 and visit.bundle is None and not visit.decided:
            self._visits.pop(_visit_key(ctx.ticket), None)
            return ServiceContext(ticket=ctx.ticket, booking=ctx.booking, item=visit.items[0])
        self._visits[_visit_key(ctx.ticket)] = visit
        return self._visit_context(ctx, visit)

    def open_visit(self, ticket_no: str, day: dt.date | None = None) -> Visit | None:
        """The visit of several items open (or just completed) for a ticket of today at this window."""
        return self._visits.get(f"{(day or self.today()).isoformat()}/{ticket_no}")

    def visit_case_nos(self, case_no: str) -> list[str]:
        """The cases decided together with ``case_no`` in one visit (``case_no`` included), else []."""
        for visit in self._visits.values():
            if case_no in visit.case_nos:
                return visit.case_nos
        return []

    def end_visit(self, ticket: wire.Ticket) -> None:
        """The citizen has left: forget the visit (its decisions and papers are stored)."""
        self._visits.pop(_visit_key(ticket), None)

    def _visit_context(self, ctx: ServiceContext, visit: Visit) -> ServiceContext:
        checklist = visit.checklist_item()
        codes = {m.code for m in checklist.materials}
        licenses = {k: v for k, v in ctx.licenses.items() if k in codes}
        reuse = {k: v for k, v in ctx.reuse.items() if k in codes}
        return ServiceContext(
            ticket=ctx.ticket,
            booking=ctx.booking,
            item=checklist,
            licenses=licenses,
            visit=visit,
            reuse=reuse,
        )

    def _item_context(self, ctx: ServiceContext, visit: Visit, item: wire.ServiceItem) -> ServiceContext:
        """One item of the visit as a context of its own: its materials' licenses, the visit it belongs to."""
        licenses = _as_item_materials(
            ctx.licenses, visit, item.code, lambda m, code: LicenseMatch(code, m.license, m.usable)
        )
        reuse = _as_item_materials(
            ctx.reuse, visit, item.code, lambda o, code: dataclasses.replace(o, material_code=code)
        )
        return ServiceContext(
            ticket=ctx.ticket, booking=ctx.booking, item=item, licenses=licenses, visit=visit, reuse=reuse
        )

    def decide_in_visit(
        self,
        ctx: ServiceContext,
        item_code: str,
        decision: wire.Decision,
        checks: Mapping[str, MaterialCheck | MaterialFinding],
        *,
        applicant: wire.Applicant | None = None,
        notes: str = "",
        signature: Strokes | None = None,
        reasons: list[str] | None = None,
        legal_basis: str = "",
    ) -> VisitStep:
        """Decide one item of a visit from the merged checklist, in the visit's order.

        Each item gets its own case number and its own decision under the usual rules (every
        one of its materials checked, 补正 lists its problems, and so on). When the last item is
        decided, the combined receipt lists them all.
        """
        self._require_session()
        if ctx.visit is None:
            raise CounterError(_("当前办理的不是多个事项"))
        visit = self._visits.get(_visit_key(ctx.ticket), ctx.visit)
        if item_code not in visit.item_codes:
            raise CounterError(_("事项 {code} 不在本次办理的事项中").format(code=item_code))
        if visit.decided_item(item_code) is not None:
            raise CounterError(_("“{item}”已作出决定").format(item=visit.item(item_code).name))
        first = visit.next_item
        assert first is not None
        if first.code != item_code:
            raise CounterError(
                _("请按顺序办理：先对“{first}”作出决定，再办理“{item}”").format(
                    first=first.name, item=visit.item(item_code).name
                )
            )
        merged = {
            code: v if isinstance(v, MaterialFinding) else MaterialFinding(v) for code, v in checks.items()
        }
        item = visit.item(item_code)
        item_ctx = self._item_context(ctx, visit, item)
        findings = visit.findings_for(item_code, merged)
        if decision is wire.Decision.ACCEPT:
            outcome = self.accept(item_ctx, findings, applicant=applicant, notes=notes, signature=signature)
        elif decision is wire.Decision.CORRECT:
            outcome = self.request_correction(item_ctx, findings, applicant=applicant, notes=notes)
        elif decision is wire.Decision.REJECT:
            outcome = self.reject(
                item_ctx,
                reasons=reasons or [],
                legal_basis=legal_basis,
                applicant=applicant,
                checks=findings,
                notes=notes,
            )
        else:
            outcome = self.complete_on_the_spot(
                item_ctx, findings, applicant=applicant, notes=notes, signature=signature
            )
        visit = self._visits[_visit_key(ctx.ticket)]
        receipt = None
        if visit.complete:
            receipt = self.visit_receipt(ctx.ticket, signature=signature, notes=notes)
            visit = self._visits[_visit_key(ctx.ticket)]
        return VisitStep(outcome=outcome, context=self._visit_context(ctx, visit), receipt=receipt)

    def visit_receipt(
        self, ticket: wire.Ticket, *, signature: Strokes | None = None, notes: str = ""
    ) -> PaperOutcome:
        """The combined receipt of a visit: every item with its case number, decision and promised date."""
        session = self._require_session()
        visit = self._visits.get(_visit_key(ticket))
        if visit is None or not visit.decided:
            raise CounterError(_("本次办理还没有作出决定的事项"))
        first = self.store.case(visit.decided[0].case_no)
        if first is None:
            raise CounterError(_("本窗口没有办件 {case_no}").format(case_no=visit.decided[0].case_no))
        now = self.clock()
        hall_name = self.config.printing.hall_name or session.hall_name
        hall = HallInfo(self.hall_code, hall_name, self.window_no)
        doc_id = visit.receipt_doc_id or uuid.uuid4().hex[:20]
        lines = [
            VisitLine(
                position=n,
                item_code=d.item_code,
                item_name=d.item_name,
                department=d.department,
                case_no=d.case_no,
                decision=d.decision,
                promised_date=d.promised_date,
                promised_days=d.promised_days,
                correction_deadline=d.correction_deadline,
            )
            for n, d in enumerate(visit.decided, start=1)
        ]
        checks: dict[str, tuple[MaterialCheck, str]] = {}
        for d in visit.decided:
            case = self.store.case(d.case_no)
            for m in case.materials if case else ():
                checks.setdefault(f"{d.item_code}/{m.code}", (MaterialCheck(m.status), m.note))
        received = decisions.RECEIVED
        materials = []
        for row in visit.materials:
            found = [checks[f"{i}/{m}"] for i, m in row.uses if f"{i}/{m}" in checks]
            if not found or found[0][0] not in received:
                continue
            check, note = found[0]
            materials.append(
                VisitMaterial(
                    name=row.name,
                    check=check,
                    copies=0 if check in decisions.NOT_ON_PAPER else row.copies,
                    used_for=[visit.item(i).name for i in row.item_codes if visit.decided_item(i)],
                    source=note if check in decisions.NOT_ON_PAPER else "",
                )
            )
        promised = [d.promised_date for d in visit.decided if d.promised_date is not None]
        fields = {
            "doc_id": doc_id,
            "kind": PaperKind.VISIT_RECEIPT.value,
            "case_no": visit.decided[0].case_no,
            "case_nos": ",".join(visit.case_nos),
            "item_code": visit.bundle.code if visit.bundle else VISIT_CHECKLIST_CODE,
            "item_name": visit.name + "：" + "、".join(d.item_name for d in visit.decided),
            "decision": ",".join(d.decision.value for d in visit.decided),
            "decided_on": now.date().isoformat(),
            "promised_date": max(promised).isoformat() if promised else "",
            "hall": hall_name,
        }
        sig = sign_fields(self.signing_key, fields) if self.signing_key else ""
        url = f"{self.config.server.url.rstrip('/')}{wire.API_PREFIX}/verify/{doc_id}?s={sig}"
        paper = VisitReceipt(
            doc_id=doc_id,
            hall=hall,
            clerk_name=session.clerk.name,
            clerk_staff_no=session.clerk.staff_no,
            visit_name=visit.name,
            bundle_code=visit.bundle.code if visit.bundle else None,
            applicant_name=first.applicant.name,
            applicant_id_number=first.applicant.id_number,
            applicant_phone=first.applicant.phone,
            ticket_no=ticket.ticket_no,
            booking_code=first.booking_code,
            lines=lines,
            materials=materials,
            issued_at=now,
            verify_url=url,
            notes=notes,
            signature_strokes=signature or [],
        )
        self._visits[_visit_key(ticket)] = visit.with_receipt(doc_id)
        return PaperOutcome(paper=paper, signed_fields=fields, signature=sig)

    # -- priority (绿色通道), taking a number, waiting estimates ---------------------------------

    def mark_priority(self, ticket_no: str, category: wire.TicketCategory, reason: str) -> wire.Ticket:
        """Mark a waiting citizen's ticket with a priority category; the reason is audited, never shown.

        The hall's queue is the server's: marking needs it online.
        """
        session = self._require_session()
        claim = self._claim(category, reason)
        if claim is None:
            raise CounterError(_("请选择优先类别：老年人、残疾人、军人或孕妇"))
        with _platform(_("暂时连不上服务器（离线），不能调整排队顺序；可直接叫号办理。")):
            ticket = self.api.mark_priority(
                wire.PriorityRequest(ticket_no=ticket_no, category=claim.category, reason=claim.reason)
            )
        self.store.upsert_ticket(ticket)
        self._remember_category(ticket)
        self.store.audit(AuditAction.PRIORITY, ticket_no, f"{category.value}: {reason}", self.clock())
        log.info(
            "ticket %s marked %s at window %s by %s",
            ticket_no,
            category.value,
            self.window_no,
            session.clerk.staff_no,
        )
        self.bus.publish(QueueChanged())
        return ticket

    def take_number(
        self,
        *,
        item_codes: Sequence[str] = (),
        bundle_code: str | None = None,
        category: wire.TicketCategory = wire.TicketCategory.ORDINARY,
        reason: str = "",
        phone: str | None = None,
    ) -> QueueTicketSlip:
        """取号 at this counter for a walk-in: the number, and its slip with the category and the wait."""
        self._require_session()
        reason = reason.strip()
        claim = self._claim(category, reason)
        req = wire.WalkInRequest(
            item_code=item_codes[0] if item_codes else None,
            item_codes=list(item_codes),
            bundle_code=bundle_code,
            priority=claim,
            phone=phone or None,
        )
        with _platform(_("暂时连不上服务器（离线），请到取号机或咨询台取号。")):
            ticket = self.api.take_number(req)
        self.store.upsert_ticket(ticket)
        self._remember_category(ticket)
        if category is not wire.TicketCategory.ORDINARY:
            self.store.audit(
                AuditAction.PRIORITY, ticket.ticket_no, f"{category.value}: {reason}", self.clock()
            )
        if bundle_code or len(item_codes) > 1:
            self.store.set_state(
                PLANNED_VISIT_KEY.format(day=ticket.date.isoformat(), ticket=ticket.ticket_no),
                json.dumps({"bundle_code": bundle_code, "item_codes": list(item_codes)}),
            )
        estimate = self.wait_estimate(ticket.ticket_no)
        names = {i.code: i.name for i in self.store.catalog()}
        bundle = next((b for b in self.bundles() if b.code == bundle_code), None) if bundle_code else None
        what = [bundle.name] if bundle else []
        what += [names.get(c, c) for c in item_codes]
        self.bus.publish(QueueChanged())
        hall = self.session.hall_name if self.session else ""
        return QueueTicketSlip(
            ticket_no=ticket.ticket_no,
            hall_name=self.config.printing.hall_name or hall,
            item_name="、".join(what),
            issued_at=ticket.issued_at,
            waiting_ahead=estimate.ahead if estimate and estimate.ahead is not None else 0,
            category=ticket.category,
            estimated_minutes=estimate.minutes if estimate else None,
        )

    @staticmethod
    def _claim(category: wire.TicketCategory, reason: str) -> wire.PriorityClaim | None:
        """The priority claim to send (None for an ordinary citizen); refused without a reason."""
        if category is wire.TicketCategory.ORDINARY:
            return None
        if category is wire.TicketCategory.APPOINTMENT:
            raise CounterError(_("预约类别由预约本身决定，不能手工标记"))
        if not reason.strip():
            raise CounterError(_("请写明优先办理的理由（如：出示残疾人证），仅记录备查，不会显示给群众"))
        return wire.PriorityClaim(category=wire.PriorityCategory(category.value), reason=reason.strip()[:200])

    def wait_estimate(self, ticket_no: str | None = None) -> wire.WaitEstimate | None:
        """The estimated wait from the live queue (None offline: the screen then shows none)."""
        try:
            return self.api.wait_estimate(ticket_no)
        except PlatformError as exc:
            log.info("no waiting estimate: %s", exc.code)
            return None

    # -- e-licenses ---------------------------------------------------------------------

    def licenses(self, ctx: ServiceContext, holder_id: str) -> dict[str, LicenseMatch]:
        """Materials the registry already holds for this applicant; never stored on this counter."""
        self._require_session()
        if ctx.item is None or not any(m.license_types for m in ctx.item.materials):
            return {}
        with _platform(_("暂时连不上电子证照库（离线），请收取纸质材料。")):
            found = self.api.licenses(holder_id, ctx.ticket.ticket_no).licenses
        return match_licenses(ctx.item, found)

    def license_file(self, ctx: ServiceContext, license_no: str) -> bytes:
        self._require_session()
        with _platform(_("暂时连不上电子证照库（离线），请查看纸质材料。")):
            return self.api.license_file(license_no, ctx.ticket.ticket_no)

    # -- earlier submissions (复用既往材料) -----------------------------------------------

    def earlier_materials(self, ctx: ServiceContext, holder_id: str) -> dict[str, ReuseOffer]:
        """This item's materials the applicant already handed in for an earlier case, still usable.

        Offers only: each stands for its material once the citizen agrees (``record_reuse_consent``).
        Never stored on this counter.
        """
        self._require_session()
        if ctx.item is None or not any(m.reuse_days > 0 for m in ctx.item.materials):
            return {}
        with _platform(_("暂时连不上服务器（离线），不能复用既往材料，请收取纸质材料。")):
            found = self.api.earlier_materials(holder_id, ctx.ticket.ticket_no).materials
        return match_earlier(ctx.item, found)

    def record_reuse_consent(
        self, ctx: ServiceContext, offers: Mapping[str, ReuseOffer], agreed: bool
    ) -> ServiceContext:
        """The citizen's answer on the citizen screen: agreed offers may now stand for their materials.

        Audited either way (which earlier cases, never who the citizen is); a refusal leaves paper.
        """
        self._require_session()
        now = self.clock()
        cases = ",".join(sorted({o.earlier.case_no for o in offers.values()}))
        detail = f"{'agreed' if agreed else 'refused'}: {','.join(sorted(offers))} from {cases}"
        self.store.audit(AuditAction.CONSENT, ctx.ticket.ticket_no, detail, now)
        log.info("reuse consent %s for %d materials", "given" if agreed else "refused", len(offers))
        if not agreed:
            return dataclasses.replace(ctx, reuse={k: v for k, v in ctx.reuse.items() if k not in offers})
        reuse = dict(ctx.reuse)
        for code, offer in offers.items():
            reuse[code] = dataclasses.replace(offer, consented_at=now)
        return dataclasses.replace(ctx, reuse=reuse)

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
            if left > warn:
                continue
            status = self.store.back_office_status(c.case_no)
            if status is not None and status.state is not wire.BackOfficeState.FORWARDED:
                # The department has decided: the promise (办结) is kept, whatever the pick-up.
                continue
            kind = "overdue" if c.promised_date < today else "due_soon"
            entry = self._overdue_entry(c, names, kind, c.promised_date, left)
            out.append(dataclasses.replace(entry, stage=self._stage(c.case_no, status)))
        for c in self.store.unreturned_corrections(self.window_no):
            late = c.correction_deadline is not None and c.correction_deadline < today
            days = self._working_days_left(today, c.correction_deadline) if c.correction_deadline else None
            kind = "correction_late" if late else "correction_open"
            out.append(self._overdue_entry(c, names, kind, c.correction_deadline, days))
        return out

    def _stage(self, case_no: str, status: wire.BackOfficeStatus | None) -> str:
        """The case's place in its timeline: still at the window, on its way, or in its department."""
        if status is not None:
            since = status.forwarded_at.astimezone().date()
            days = self._working_days_left(since, self.today())
            return _("在{department}审批中，{date} 转出，已 {n} 个工作日").format(
                department=status.department, date=since.isoformat(), n=max(days, 0)
            )
        forward = self.store.forward_state(case_no)
        if forward is None:
            return ""
        state, error = forward
        if state == "pending":
            return (
                _("材料尚未转出后台：{error}").format(error=error) if error else _("材料上传中，尚未转出后台")
            )
        return _("已转出后台，等待部门接收")

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
        self._check(decisions.check_reused, item, findings, ctx.reuse)
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
        self._check(decisions.check_reused, item, findings, ctx.reuse)
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
        self._check(decisions.check_reused, item, findings, ctx.reuse)
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
        office = self.store.back_office_status(case_no)
        if office is not None and not office.ready_for_pickup:
            # Forwarded to its department (前台综合受理、后台分类审批): nothing to hand over yet.
            raise CounterError(
                _("办件 {case_no} 还在{department}审批中，审批结果回到窗口后才能出件").format(
                    case_no=case_no, department=office.department
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
        if ctx.item.code == VISIT_CHECKLIST_CODE:
            raise CounterError(_("本次办理有多个事项，请逐项作出决定"))
        findings = {
            code: v if isinstance(v, MaterialFinding) else MaterialFinding(v) for code, v in checks.items()
        }
        for code, f in findings.items():
            match = ctx.licenses.get(code)
            if f.check is MaterialCheck.E_LICENSE and match is not None:
                findings[code] = MaterialFinding(f.check, match.source_note())
            offer = ctx.reuse.get(code)
            if f.check is MaterialCheck.REUSED and offer is not None and offer.consented_at is not None:
                findings[code] = MaterialFinding(f.check, offer.source_note(), offer.reused_from())
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

        visit_ref = ctx.visit.ref(item.code) if ctx.visit is not None else None

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
                visit=visit_ref,
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
        if ctx.visit is not None:
            # Before the event goes out: whoever hears of the decision sees the visit as it now is.
            key = _visit_key(ctx.ticket)
            self._visits[key] = self._visits.get(key, ctx.visit).with_decided(
                DecidedItem(
                    item_code=item.code,
                    item_name=item.name,
                    department=item.department,
                    case_no=payload.case_no,
                    decision=payload.decision,
                    promised_date=payload.promised_date,
                    correction_deadline=payload.correction_deadline,
                    promised_days=item.promised_days,
                )
            )
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
        visit_case_nos: Sequence[str] | None = None,
    ) -> None:
        """Store the citizen's rating (or 未评价) with its outbox op; never called by the clerk's window.

        A bad rating keeps its reasons and opens a follow-up due in working days; a rating that
        ends a burst (identical, seconds after the decision, several in a row) is flagged.
        One rating per visit (一次一评): for a visit of several items it is stored against the
        visit's first case, the other cases named with it, so no item is rated twice.
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
            visit_case_nos=[
                c
                for c in (self.visit_case_nos(case_no) if visit_case_nos is None else visit_case_nos)
                if c != case_no
            ],
        )
        if burst:
            log.warning("rating for %s flagged as part of a burst at window %s", case_no, self.window_no)
        self.store.record_rating(payload, now)
        self.on_change()
        self.bus.publish(RatingRecorded(case_no))


def _visit_key(ticket: wire.Ticket) -> str:
    return f"{ticket.date.isoformat()}/{ticket.ticket_no}"
