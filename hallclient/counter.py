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

from hallclient import wire
from hallclient.api import PlatformClient, PlatformError, Unreachable
from hallclient.config import Config
from hallclient.domain import HallInfo, MaterialCheck, ReceiptData, ReceivedMaterial
from hallclient.events import CaseDecided, EventBus, QueueChanged, RatingRecorded, TicketCalled
from hallclient.i18n import _
from hallclient.signing import sign_fields
from hallclient.store import Store
from hallclient.workdays import CalendarMissing, WorkCalendar

log = logging.getLogger(__name__)

OFFLINE_VERIFIER_KEY = "offline_verifier"


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


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue panel."""

    ticket: wire.Ticket
    slot: str
    item_name: str


@dataclass(frozen=True)
class DecisionOutcome:
    payload: wire.CaseDecidedPayload
    receipt: ReceiptData
    signed_fields: dict[str, str]
    signature: str
    warnings: list[str] = field(default_factory=list)


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

    @property
    def hall_code(self) -> str:
        return self.config.counter.hall_code

    @property
    def window_no(self) -> int:
        return self.config.counter.window_no

    def today(self) -> dt.date:
        return self.clock().date()

    # -- sign in -------------------------------------------------------------------

    def login(self, username: str, password: str) -> ClerkSession:
        req = wire.LoginRequest(
            hall_code=self.hall_code,
            window_no=self.window_no,
            username=username,
            password=password,
            device_id=self.config.counter.device_id,
        )
        try:
            resp = self.api.login(req)
        except Unreachable as exc:
            return self._offline_login(username, password, exc)
        except PlatformError as exc:
            raise CounterError(exc.message) from None
        self._remember_verifier(username, password, resp)
        self.session = ClerkSession(
            clerk=resp.clerk, hall_name=resp.hall_name, online=True, warnings=self._clock_warnings()
        )
        return self.session

    def _clock_warnings(self) -> tuple[str, ...]:
        try:
            server_time = self.api.health().time
        except PlatformError:
            return ()
        local = self.clock().astimezone()
        skew = local - server_time
        if abs(skew) <= MAX_CLOCK_SKEW:
            return ()
        minutes = round(abs(skew).total_seconds() / 60)
        log.warning("clock skew of %s against the platform", skew)
        return (
            _(
                "本机时间比服务器{direction} {minutes} 分钟，办件编号和通知书上的时间会不准确，请联系信息技术人员校准时间。"
            ).format(direction=_("快") if skew > dt.timedelta(0) else _("慢"), minutes=minutes),
        )

    def _remember_verifier(self, username: str, password: str, resp: wire.LoginResponse) -> None:
        from argon2 import PasswordHasher

        record = {
            "username": username,
            "hash": PasswordHasher().hash(password),
            "clerk": resp.clerk.model_dump(),
            "hall_name": resp.hall_name,
            "at": self.clock().isoformat(),
        }
        self.store.set_state(OFFLINE_VERIFIER_KEY, json.dumps(record, ensure_ascii=False))

    def _offline_login(self, username: str, password: str, cause: Unreachable) -> ClerkSession:
        from argon2 import PasswordHasher
        from argon2.exceptions import VerificationError

        raw = self.store.get_state(OFFLINE_VERIFIER_KEY)
        record = json.loads(raw) if raw else None
        if not record or record.get("username") != username:
            raise CounterError(
                _("{cause}。离线登录需要此账号先在本机在线登录过一次。").format(cause=cause.message)
            )
        try:
            PasswordHasher().verify(record["hash"], password)
        except VerificationError:
            raise CounterError(_("用户名或密码错误")) from None
        self.session = ClerkSession(
            clerk=wire.ClerkInfo.model_validate(record["clerk"]), hall_name=record["hall_name"], online=False
        )
        return self.session

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
            item_code = booking.item_code if booking else t.item_code
            rows.append(
                QueueRow(
                    ticket=t, slot=booking.slot if booking else "", item_name=names.get(item_code or "", "")
                )
            )
        return rows

    def call_next(self) -> wire.Ticket | None:
        """Claim the next citizen: from the server when online, else from the local cache."""
        self._require_session()
        try:
            resp = self.api.call_next(self.window_no)
        except Unreachable:
            ticket = self.store.next_waiting_ticket(self.today(), self.hall_code)
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
        item_code = booking.item_code if booking else ticket.item_code
        item = self.store.catalog_item(item_code) if item_code else None
        return ServiceContext(ticket=ticket, booking=booking, item=item)

    # -- decisions ---------------------------------------------------------------

    def accept(
        self,
        ctx: ServiceContext,
        checks: Mapping[str, MaterialCheck],
        *,
        applicant: wire.Applicant | None = None,
        notes: str = "",
    ) -> DecisionOutcome:
        """受理: record the decision and build the receipt (行政许可法 §32 I(5))."""
        session = self._require_session()
        item = ctx.item
        if item is None:
            raise CounterError(_("没有选择办理事项"))
        applicant = applicant or (ctx.booking.applicant if ctx.booking else None)
        if applicant is None:
            raise CounterError(_("缺少申请人信息"))
        missing = [
            m.name
            for m in item.materials
            if checks.get(m.code) in (None, MaterialCheck.MISSING, MaterialCheck.WRONG)
        ]
        if missing:
            raise CounterError(
                _("以下材料缺失或不符合要求，不能受理，请改为一次性告知补正：{names}").format(
                    names="、".join(missing)
                )
            )
        now = self.clock()
        promised, warnings = self.promised_date(now.date(), item.promised_days)
        materials = [
            wire.CheckedMaterial(code=m.code, name=m.name, status=checks[m.code].value)
            for m in item.materials
        ]

        def payload_for(case_no: str) -> wire.CaseDecidedPayload:
            return wire.CaseDecidedPayload(
                case_no=case_no,
                ticket_no=ctx.ticket.ticket_no,
                booking_code=ctx.booking.code if ctx.booking else None,
                item_code=item.code,
                item_version=item.version,
                decision=wire.Decision.ACCEPT,
                window_no=self.window_no,
                clerk_id=session.clerk.id,
                decided_at=now.astimezone(),
                promised_date=promised,
                materials=materials,
                applicant=applicant,
                notes=notes,
            )

        payload = self.store.record_decision(
            hall_code=self.hall_code,
            day=now.date(),
            payload_for=payload_for,
            now=now,
            window_no=self.window_no,
            ticket_no=ctx.ticket.ticket_no,
        )
        outcome = self._receipt(payload, item, session, now)
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

    def _receipt(
        self, p: wire.CaseDecidedPayload, item: wire.ServiceItem, session: ClerkSession, now: dt.datetime
    ) -> DecisionOutcome:
        doc_id = uuid.uuid4().hex[:20]
        hall_name = self.config.printing.hall_name or session.hall_name
        fields = self.document_fields(doc_id, "receipt", p, item.name, hall_name)
        signature = sign_fields(self.signing_key, fields) if self.signing_key else ""
        verify_url = f"{self.config.server.url.rstrip('/')}{wire.API_PREFIX}/verify/{doc_id}?s={signature}"
        assert p.promised_date is not None
        receipt = ReceiptData(
            doc_id=doc_id,
            case_no=p.case_no,
            hall=HallInfo(code=self.hall_code, name=hall_name, window_no=self.window_no),
            clerk_name=session.clerk.name,
            clerk_staff_no=session.clerk.staff_no,
            item_code=item.code,
            item_version=item.version,
            item_name=item.name,
            department=item.department,
            applicant_name=p.applicant.name,
            applicant_id_number=p.applicant.id_number,
            applicant_phone=p.applicant.phone,
            materials=[
                ReceivedMaterial(
                    name=m.name,
                    check=MaterialCheck(m.status),
                    copies=next((x.copies for x in item.materials if x.code == m.code), 1),
                )
                for m in p.materials
            ],
            accepted_at=now,
            promised_date=p.promised_date,
            promised_days=item.promised_days,
            verify_url=verify_url,
            booking_code=p.booking_code,
            notes=p.notes,
        )
        return DecisionOutcome(payload=p, receipt=receipt, signed_fields=fields, signature=signature)

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

    def archive_document(self, outcome: DecisionOutcome, pdf: bytes, *, reprint_no: int = 0) -> Path:
        """Keep the printed PDF with its SHA-256 and register it with the server through the outbox."""
        receipt = outcome.receipt
        sha = hashlib.sha256(pdf).hexdigest()
        folder = self.config.data_dir / "documents" / receipt.case_no
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{receipt.doc_id}-{reprint_no}.pdf"
        path.write_bytes(pdf)
        self.store.record_document(
            doc_id=receipt.doc_id,
            case_no=receipt.case_no,
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
