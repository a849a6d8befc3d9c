"""The hall's shared call queue: call-next claims atomically, walk-ins take a number."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver.changes import record_ticket
from hallserver.errors import ApiError
from hallserver.models import AuthToken, CatalogItem, Clerk, Ticket, Window
from hallserver.security import Principal

MAX_CLAIM_ATTEMPTS = 20


def call_next(s: Session, who: Principal, today: dt.date, now: dt.datetime) -> Ticket | None:
    """Give the window the citizen due first: those transferred to it before the queue.

    A citizen transferred here (or to any window, when moved to another item) has
    already waited once, so is called before the citizens still waiting their turn.
    The claim is a conditional UPDATE (only if still in the state it was read in):
    two windows racing for one ticket cannot both win, on SQLite or PostgreSQL, in
    one process or many.
    """
    for _attempt in range(MAX_CLAIM_ATTEMPTS):
        row = s.execute(
            select(Ticket.id, Ticket.state)
            .where(Ticket.hall_code == who.hall_code, Ticket.date == today, _callable_by(who.window_no))
            .order_by((Ticket.state != "transferred"), Ticket.due_at, Ticket.id)
            .limit(1)
            # PostgreSQL: windows calling at once pick different rows instead of queueing on
            # the first one's row lock (SQLite has one writer and ignores this).
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            if _anyone_waiting(s, who.hall_code, today, who.window_no):  # all mid-claim by other windows
                s.rollback()
                continue
            return None
        candidate, state = row
        claimed = s.execute(
            update(Ticket)
            .where(Ticket.id == candidate, Ticket.state == state)
            .values(state="called", window_no=who.window_no, called_at=now, recalls=0)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            ticket = s.get(Ticket, candidate, populate_existing=True)
            assert ticket is not None
            record_ticket(s, ticket)
            s.commit()
            return ticket
        s.rollback()
    raise ApiError(503, "busy", "叫号繁忙，请稍后再试")


def _callable_by(window_no: int) -> ColumnElement[bool]:
    transferred_here = and_(
        Ticket.state == "transferred", or_(Ticket.window_no == window_no, Ticket.window_no.is_(None))
    )
    return or_(Ticket.state == "waiting", transferred_here)


def _anyone_waiting(s: Session, hall_code: str, today: dt.date, window_no: int) -> bool:
    return (
        s.scalar(
            select(Ticket.id)
            .where(Ticket.hall_code == hall_code, Ticket.date == today, _callable_by(window_no))
            .limit(1)
        )
        is not None
    )


def next_walk_in_no(s: Session, hall_code: str, today: dt.date) -> str:
    count = s.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.hall_code == hall_code, Ticket.date == today, Ticket.ticket_no.like("B%"))
    )
    return f"B{(count or 0) + 1:03d}"


def walk_in(s: Session, who: Principal, item_code: str | None, today: dt.date, now: dt.datetime) -> Ticket:
    if item_code is not None and s.get(CatalogItem, item_code) is None:
        raise ApiError(404, "unknown_item", f"事项编码 {item_code} 不在事项目录中", "item_code")
    for _attempt in range(MAX_CLAIM_ATTEMPTS):
        ticket = Ticket(
            hall_code=who.hall_code,
            date=today,
            ticket_no=next_walk_in_no(s, who.hall_code, today),
            item_code=item_code,
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
        record_ticket(s, ticket)
        s.commit()
        return ticket
    raise ApiError(503, "busy", "取号繁忙，请稍后再试")


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
