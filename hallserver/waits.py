"""How long a citizen can expect to wait: the live queue and today's recent handling times.

The estimate is deliberately simple, so a hall can explain it: the citizens who will
be called first (in the queue's real order, priority included), times the recent
average handling time per ticket, shared among the windows open now. Half a
handling time is added for the citizens being served when the ticket was taken.
``tests/unit/hallserver/test_hallserver_notices.py`` replays a day and states its error.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import queue
from hallserver.models import Case, Ticket

# Until a few tickets were handled today, the hall's usual time per ticket.
DEFAULT_HANDLE_MINUTES = 8.0
RECENT_TICKETS = 20
MIN_SAMPLES = 3


def estimate_minutes(ahead: int, windows: int, handle_minutes: float) -> int:
    """Minutes until a ticket with ``ahead`` citizens before it is called."""
    return max(0, math.ceil(handle_minutes * (ahead + 0.5) / max(1, windows)))


def recent_handle_minutes(
    s: Session, hall_code: str, today: dt.date, *, recent: int = RECENT_TICKETS
) -> float:
    """The mean time from the call to the ticket's last decision, over today's last ``recent`` tickets."""
    last_decision = func.max(Case.decided_at)
    rows = s.execute(
        select(Ticket.called_at, last_decision)
        .join(Case, (Case.hall_code == Ticket.hall_code) & (Case.ticket_no == Ticket.ticket_no))
        .where(
            Ticket.hall_code == hall_code,
            Ticket.date == today,
            Ticket.called_at.is_not(None),
            Case.decided_at >= Ticket.called_at,
        )
        .group_by(Ticket.id, Ticket.called_at)
        .order_by(last_decision.desc())
        .limit(recent)
    ).all()
    samples = [(_utc(done) - _utc(called)).total_seconds() / 60 for called, done in rows if called and done]
    if len(samples) < MIN_SAMPLES:
        return DEFAULT_HANDLE_MINUTES
    return sum(samples) / len(samples)


def _utc(t: dt.datetime) -> dt.datetime:
    # SQLite hands back the aggregate as text-parsed naive UTC; the column type is not applied to max().
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t)
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t


def open_windows(s: Session, hall_code: str, now: dt.datetime) -> int:
    return sum(1 for w in queue.windows(s, hall_code, now).windows if w.open and not w.paused)


def wait_estimate(
    s: Session,
    hall_code: str,
    today: dt.date,
    now: dt.datetime,
    *,
    ticket_no: str | None = None,
    policy: queue.QueuePolicy | None = None,
    windows_open: int | None = None,
) -> wire.WaitEstimate:
    """The estimate for one waiting ticket, or (without ``ticket_no``) for a number taken now."""
    policy = policy or queue.QueuePolicy.from_env()
    order = queue.waiting_order(s, hall_code, today, now, policy)
    windows = open_windows(s, hall_code, now) if windows_open is None else windows_open
    handle = recent_handle_minutes(s, hall_code, today)
    ahead: int | None = len(order)
    category = None
    if ticket_no is not None:
        ahead = next((i for i, t in enumerate(order) if t.ticket_no == ticket_no), None)
        if ahead is not None:
            category = order[ahead].category
    return wire.WaitEstimate(
        as_of=now,
        waiting=len(order),
        ahead=ahead,
        minutes=estimate_minutes(ahead, windows, handle) if ahead is not None else None,
        windows_open=windows,
        handle_minutes=round(handle, 1),
        category=category,
    )
