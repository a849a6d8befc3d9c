"""The hall's shared call queue: call-next claims atomically, walk-ins take a number.

Who is called first (绿色通道): citizens transferred to the window, then the
citizens already due, in the order of the time they came less their category's
head start (:class:`QueuePolicy`). The first category of the hall's precedence
counts as if it had come the maximum wait earlier, each category after it a
little less, ordinary citizens not at all. So among citizens who came at about the
same time the precedence decides, priority still counts when the hall is busy,
and nobody starves: an ordinary citizen who has waited longer than the maximum
wait is called before everyone who came after them. Without a maximum wait
(``max_wait=None``) the precedence is strict.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import notices
from hallserver.changes import record_ticket, ticket_to_wire
from hallserver.errors import ApiError
from hallserver.models import AuthToken, CatalogBundle, CatalogItem, Clerk, Ticket, TicketVisit, Window
from hallserver.security import Principal

MAX_CLAIM_ATTEMPTS = 20
Category = wire.TicketCategory
DEFAULT_PRECEDENCE: tuple[wire.TicketCategory, ...] = (
    Category.DISABLED,
    Category.ELDERLY,
    Category.PREGNANT,
    Category.SERVICE_MEMBER,
    Category.APPOINTMENT,
    Category.ORDINARY,
)
PRIORITY_CATEGORIES = frozenset(DEFAULT_PRECEDENCE) - {Category.ORDINARY, Category.APPOINTMENT}


@dataclass(frozen=True)
class QueuePolicy:
    """The hall's call order: category precedence (first called first), the longest a citizen
    may wait before going ahead of every category (None: no limit), and how many places
    ahead a citizen is texted that their turn is near (0: never)."""

    precedence: tuple[wire.TicketCategory, ...] = DEFAULT_PRECEDENCE
    max_wait: dt.timedelta | None = dt.timedelta(minutes=30)
    approaching: int = 3

    def __post_init__(self) -> None:
        missing = [c for c in Category if c not in self.precedence]
        if missing or len(set(self.precedence)) != len(self.precedence):
            object.__setattr__(
                self, "precedence", tuple(dict.fromkeys([*self.precedence, *DEFAULT_PRECEDENCE]))
            )

    def rank(self, category: wire.TicketCategory) -> int:
        return self.precedence.index(category)

    def head_start(self, category: wire.TicketCategory) -> dt.timedelta:
        """How much earlier than they came a category counts in the queue: the maximum wait for
        the first category, less for each after it, nothing from ordinary on."""
        assert self.max_wait is not None
        ordinary = self.rank(Category.ORDINARY)
        rank = self.rank(category)
        if ordinary == 0 or rank >= ordinary:
            return dt.timedelta(0)
        return self.max_wait * (ordinary - rank) / ordinary

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> QueuePolicy:
        """HALLSERVER_QUEUE_PRECEDENCE (categories, first called first, comma-separated; those left
        out follow in the default order), HALLSERVER_QUEUE_MAX_WAIT_MIN (0: no limit),
        HALLSERVER_NOTICE_AHEAD (places ahead for the "your turn is near" SMS; 0: none)."""
        env = dict(os.environ if env is None else env)
        return _policy(
            env.get("HALLSERVER_QUEUE_PRECEDENCE", ""),
            env.get("HALLSERVER_QUEUE_MAX_WAIT_MIN", "30"),
            env.get("HALLSERVER_NOTICE_AHEAD", "3"),
        )


@lru_cache(maxsize=4)
def _policy(precedence: str, max_wait: str, ahead: str) -> QueuePolicy:
    names = [p.strip() for p in precedence.split(",") if p.strip()]
    try:
        order = tuple(Category(n) for n in names)
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise ValueError(
            f"HALLSERVER_QUEUE_PRECEDENCE: unknown category in {precedence!r}; known: {known}"
        ) from None
    try:
        minutes = float(max_wait)
        places = int(ahead)
    except ValueError:
        raise ValueError(
            "HALLSERVER_QUEUE_MAX_WAIT_MIN and HALLSERVER_NOTICE_AHEAD must be numbers"
        ) from None
    return QueuePolicy(
        precedence=order or DEFAULT_PRECEDENCE,
        max_wait=dt.timedelta(minutes=minutes) if minutes > 0 else None,
        approaching=max(0, places),
    )


def _category_expr() -> ColumnElement[str]:
    """A ticket's category: as marked, else appointment for a booking and ordinary for a walk-in."""
    derived = case(
        (Ticket.booking_code.is_not(None), Category.APPOINTMENT.value), else_=Category.ORDINARY.value
    )
    return func.coalesce(TicketVisit.category, derived)


@dataclass(frozen=True)
class Candidate:
    """A ticket a window may call, with what its place in the queue depends on."""

    id: int
    ticket_no: str
    state: str
    due_at: dt.datetime
    category: wire.TicketCategory


def _candidates(
    s: Session, hall_code: str, today: dt.date, callable_now: ColumnElement[bool]
) -> list[Candidate]:
    rows = s.execute(
        select(Ticket.id, Ticket.ticket_no, Ticket.state, Ticket.due_at, _category_expr())
        .outerjoin(TicketVisit, TicketVisit.ticket_id == Ticket.id)
        .where(Ticket.hall_code == hall_code, Ticket.date == today, callable_now)
    ).all()
    return [Candidate(r[0], r[1], r[2], _aware(r[3]), Category(r[4])) for r in rows]


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def in_call_order(candidates: list[Candidate], now: dt.datetime, policy: QueuePolicy) -> list[Candidate]:
    """Transferred here first; then those due, by their category's head start; bookings not due yet last."""
    now = _aware(now)

    def key(c: Candidate) -> tuple[object, ...]:
        first = (c.state != "transferred", c.due_at > now)
        if policy.max_wait is None:
            return (*first, policy.rank(c.category), c.due_at, c.id)
        return (*first, c.due_at - policy.head_start(c.category), policy.rank(c.category), c.due_at, c.id)

    return sorted(candidates, key=key)


def category_of(s: Session, t: Ticket) -> wire.TicketCategory:
    visit = s.get(TicketVisit, t.id)
    if visit is not None:
        return Category(visit.category)
    return Category.APPOINTMENT if t.booking_code else Category.ORDINARY


def ticket_wire(s: Session, t: Ticket) -> wire.Ticket:
    """The ticket as the counter gets it from the queue endpoints: with its category, never the reason."""
    return ticket_to_wire(t).model_copy(update={"category": category_of(s, t)})


def waiting_order(
    s: Session,
    hall_code: str,
    today: dt.date,
    now: dt.datetime,
    policy: QueuePolicy,
    limit: int | None = None,
) -> list[Candidate]:
    """The tickets waiting in the hall, in the order windows will call them now."""
    ordered = in_call_order(_candidates(s, hall_code, today, Ticket.state == "waiting"), now, policy)
    return ordered if limit is None else ordered[:limit]


# A window tries this many of the first tickets in order before reading the queue again.
CLAIM_TRIES = 5


def call_next(
    s: Session, who: Principal, today: dt.date, now: dt.datetime, policy: QueuePolicy | None = None
) -> Ticket | None:
    """Give the window the citizen due first (see the module's doc for the order).

    A citizen transferred here (or to any window, when moved to another item) has
    already waited once, so is called before the citizens still waiting their turn.
    The claim is a conditional UPDATE (only if still in the state it was read in):
    two windows racing for one ticket cannot both win, on SQLite or PostgreSQL, in
    one process or many; the loser takes the next in line. The SMS notices (called;
    N places away) are recorded in the same transaction and sent later, off the
    counter's request.
    """
    policy = policy or QueuePolicy.from_env()
    for _attempt in range(MAX_CLAIM_ATTEMPTS):
        ordered = in_call_order(
            _candidates(s, who.hall_code, today, _callable_by(who.window_no)), now, policy
        )
        if not ordered:
            s.rollback()
            return None
        for candidate in ordered[:CLAIM_TRIES]:
            claimed = s.execute(
                update(Ticket)
                .where(Ticket.id == candidate.id, Ticket.state == candidate.state)
                .values(state="called", window_no=who.window_no, called_at=now, recalls=0)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                ticket = s.get(Ticket, candidate.id, populate_existing=True)
                assert ticket is not None
                record_ticket(s, ticket)
                _notify_call(s, ticket, today, now, policy)
                s.commit()
                return ticket
            s.rollback()  # another window called that one first: the next in line
    raise ApiError(503, "busy", "叫号繁忙，请稍后再试")


def _notify_call(s: Session, ticket: Ticket, today: dt.date, now: dt.datetime, policy: QueuePolicy) -> None:
    notices.ticket_called(s, ticket, now)
    if policy.approaching > 0:
        upcoming = waiting_order(s, ticket.hall_code, today, now, policy, limit=policy.approaching + 1)
        if len(upcoming) > policy.approaching:
            near = s.get(Ticket, upcoming[policy.approaching].id)
            if near is not None:
                notices.ticket_approaching(s, near, policy.approaching, now)


def _callable_by(window_no: int) -> ColumnElement[bool]:
    transferred_here = and_(
        Ticket.state == "transferred", or_(Ticket.window_no == window_no, Ticket.window_no.is_(None))
    )
    return or_(Ticket.state == "waiting", transferred_here)


def next_walk_in_no(s: Session, hall_code: str, today: dt.date) -> str:
    count = s.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.hall_code == hall_code, Ticket.date == today, Ticket.ticket_no.like("B%"))
    )
    return f"B{(count or 0) + 1:03d}"


def walk_in(
    s: Session,
    who: Principal,
    item_code: str | None,
    today: dt.date,
    now: dt.datetime,
    req: wire.WalkInRequest | None = None,
) -> Ticket:
    """取号: a number for a walk-in, with its items (一件事), priority category and phone when given."""
    req = req or wire.WalkInRequest(item_code=item_code)
    codes = list(dict.fromkeys([*([item_code] if item_code else []), *req.item_codes]))
    if req.bundle_code is not None:
        bundle = s.get(CatalogBundle, req.bundle_code)
        if bundle is None:
            raise ApiError(404, "unknown_bundle", f"一件事 {req.bundle_code} 不在事项目录中", "bundle_code")
        codes = list(dict.fromkeys([*bundle.body.get("items", []), *codes]))
    for code in codes:
        if s.get(CatalogItem, code) is None:
            raise ApiError(404, "unknown_item", f"事项编码 {code} 不在事项目录中", "item_code")
    claim = req.priority
    extras = bool(req.phone or req.bundle_code or len(codes) > 1 or claim is not None)
    for _attempt in range(MAX_CLAIM_ATTEMPTS):
        ticket = Ticket(
            hall_code=who.hall_code,
            date=today,
            ticket_no=next_walk_in_no(s, who.hall_code, today),
            item_code=codes[0] if codes else None,
            state="waiting",
            issued_at=now,
            due_at=now,
        )
        s.add(ticket)
        try:
            s.flush()
        except IntegrityError:  # the unique number was taken by a concurrent walk-in: take the next
            s.rollback()
            continue
        if extras:
            s.add(
                TicketVisit(
                    ticket_id=ticket.id,
                    category=claim.category.value if claim else Category.ORDINARY.value,
                    priority_reason=claim.reason.strip() if claim else "",
                    priority_by=who.clerk_id if claim else None,
                    priority_window=who.window_no if claim else None,
                    priority_at=now if claim else None,
                    phone=req.phone,
                    bundle_code=req.bundle_code,
                    item_codes=codes,
                )
            )
        record_ticket(s, ticket)
        s.commit()
        return ticket
    raise ApiError(503, "busy", "取号繁忙，请稍后再试")


def mark_priority(
    s: Session, who: Principal, req: wire.PriorityRequest, today: dt.date, now: dt.datetime
) -> Ticket:
    """绿色通道: a waiting citizen's ticket gets a priority category; the reason is kept for audit only."""
    t = s.scalar(
        select(Ticket).where(
            Ticket.hall_code == who.hall_code, Ticket.date == today, Ticket.ticket_no == req.ticket_no
        )
    )
    if t is None:
        raise ApiError(404, "unknown_ticket", f"今天没有 {req.ticket_no} 号", "ticket_no")
    if t.state not in ("waiting", "transferred", "parked"):
        raise ApiError(409, "not_waiting", f"{req.ticket_no} 号已叫号或办结，不需要再标记优先", "ticket_no")
    visit = s.get(TicketVisit, t.id)
    if visit is None:
        visit = TicketVisit(ticket_id=t.id, item_codes=[t.item_code] if t.item_code else [])
        s.add(visit)
    visit.category = req.category.value
    visit.priority_reason = req.reason.strip()
    visit.priority_by = who.clerk_id
    visit.priority_window = who.window_no
    visit.priority_at = now
    s.commit()
    return t


def windows(s: Session, hall_code: str, now: dt.datetime) -> wire.WindowsResponse:
    staffed = {
        window_no: name
        for window_no, name in s.execute(
            select(AuthToken.window_no, Clerk.name)
            .join(Clerk, Clerk.id == AuthToken.clerk_id)
            .join(
                Window,
                and_(
                    Window.hall_code == AuthToken.hall_code,
                    Window.window_no == AuthToken.window_no,
                    Window.device_id == AuthToken.device_id,
                ),
            )
            .where(AuthToken.hall_code == hall_code, AuthToken.expires_at > now, AuthToken.revoked.is_(False))
        ).tuples()
    }
    rows = s.scalars(select(Window).where(Window.hall_code == hall_code).order_by(Window.window_no))
    return wire.WindowsResponse(
        windows=[
            wire.WindowInfo(
                window_no=w.window_no,
                name=w.name,
                open=w.window_no in staffed,
                paused=w.paused,
                pause_reason=w.pause_reason,
                clerk_name=staffed.get(w.window_no, ""),
            )
            for w in rows
        ]
    )
