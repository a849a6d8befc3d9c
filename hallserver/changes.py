"""The change log behind ``/sync/pull``, and the wire form of stored rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver.models import Booking, ChangeLog, Ticket

# Any constant works: it names the lock that orders writers of change_log on PostgreSQL.
_CHANGE_LOG_LOCK = 0x4A11C4A9
_DEFERRED = "hallserver.changes.deferred"


class DeferredChanges:
    """Changes recorded during a batch, written in one statement when it ends (``write``).

    A push applies up to a few hundred ops in one transaction. Writing their change
    log rows at the end costs one INSERT instead of one per change, and on
    PostgreSQL takes the change-log lock once, last: the batch then locks rows
    first and the change log after, in the same order as every other writer
    (call-next), so the two cannot wait on each other. ``mark``/``undo_to`` drop
    the changes of an op whose savepoint was rolled back.
    """

    def __init__(self, s: Session) -> None:
        self._s = s
        self._rows: list[dict[str, Any]] = []
        s.info[_DEFERRED] = self

    def add(self, row: dict[str, Any]) -> None:
        self._rows.append(row)

    def mark(self) -> int:
        return len(self._rows)

    def undo_to(self, mark: int) -> None:
        del self._rows[mark:]

    def write(self) -> None:
        """Append the changes in the order recorded; the caller commits."""
        self.close()
        if self._rows:
            _lock_change_log(self._s)
            self._s.execute(insert(ChangeLog), self._rows)
            self._rows = []

    def close(self) -> None:
        """Back to writing each change at once (also when the batch is abandoned)."""
        if self._s.info.get(_DEFERRED) is self:
            del self._s.info[_DEFERRED]


def _lock_change_log(s: Session) -> None:
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHANGE_LOG_LOCK})


def record_change(
    s: Session, entity: wire.ChangeEntity, key: str, data: dict[str, Any], hall: str | None
) -> None:
    """Append a change in the caller's transaction, so the row and its change commit together.

    Pull hands out changes by ``seq > cursor``, so a change must never become
    visible after a higher seq was already handed out. SQLite has one writer at a
    time anyway; on PostgreSQL two transactions could commit their sequence values
    out of order, so writers of the change log take a transaction-scoped advisory
    lock first (released at commit), which makes seq order commit order.
    Inside a batch (``DeferredChanges``) the change is kept and written at its end.
    """
    deferred: DeferredChanges | None = s.info.get(_DEFERRED)
    if deferred is not None:
        deferred.add({"hall_code": hall, "entity": entity.value, "key": key, "data": data})
        return
    _lock_change_log(s)
    s.add(ChangeLog(hall_code=hall, entity=entity.value, key=key, data=data))


def booking_to_wire(b: Booking) -> wire.Booking:
    return wire.Booking(
        code=b.code,
        hall_code=b.hall_code,
        date=b.date,
        slot=b.slot,
        item_code=b.item_code,
        applicant=wire.Applicant.model_validate(b.applicant),
        pre_review=wire.PreReview.model_validate(b.pre_review),
        status=wire.BookingStatus(b.status),
    )


def ticket_to_wire(t: Ticket) -> wire.Ticket:
    return wire.Ticket(
        ticket_no=t.ticket_no,
        hall_code=t.hall_code,
        date=t.date,
        booking_code=t.booking_code,
        item_code=t.item_code,
        state=wire.TicketState(t.state),
        window_no=t.window_no,
        issued_at=t.issued_at,
        called_at=t.called_at,
        recalls=t.recalls or 0,
        note=t.note or "",
    )


def record_ticket(s: Session, t: Ticket) -> None:
    record_change(
        s,
        wire.ChangeEntity.TICKET,
        f"{t.date}/{t.ticket_no}",
        ticket_to_wire(t).model_dump(mode="json"),
        t.hall_code,
    )


def record_booking(s: Session, b: Booking) -> None:
    record_change(
        s, wire.ChangeEntity.BOOKING, b.code, booking_to_wire(b).model_dump(mode="json"), b.hall_code
    )
