"""The local store: every clerk action is one transaction with its outbox op.

Callers get wire/domain objects back, never ORM rows, and personal data is
decrypted only on the way out. Methods are meant to be called from one worker
thread (the ui's database runner), but the store is safe from any thread.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel
from pydantic_core import SchemaValidator
from sqlalchemy import bindparam, delete, exc, func, select, text, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from hallclient import wire
from hallclient.audit import GENESIS as GENESIS_HASH
from hallclient.audit import (
    HEAD_KEY,
    AuditAction,
    AuditEntry,
    BrokenLink,
    entry_hash,
    format_head,
    parse_head,
    verify_chain,
)
from hallclient.crypto import FieldCipher
from hallclient.i18n import _
from hallclient.localdb import (
    AuditRow,
    BackOfficeRow,
    BookingRow,
    CaptureRow,
    CaseRow,
    CaseSequenceRow,
    CatalogItemRow,
    DocumentRow,
    FollowUpRow,
    ForwardRow,
    OutboxRow,
    RatingRow,
    SyncStateRow,
    TicketRow,
    open_engine,
)
from hallclient.ratings import RatedService

# What a purged applicant field holds: nothing of the citizen, and recognisably so.
PURGED = b"purged"

# The columns a wire.Booking is built from, in the order _booking_from_columns unpacks them.
_BOOKING_COLUMNS = "code, date, slot, item_code, status, applicant_enc, pre_review"
# Bound parameters per IN (...) query: far below any SQLite's limit (999 before 3.32).
_IN_CHUNK = 500


class AlreadyRated(Exception):
    pass


@dataclass(frozen=True)
class PendingOp:
    row_id: int
    op: wire.Op


@dataclass(frozen=True)
class ConflictView:
    op_id: str
    kind: str
    detail: str
    created_at: dt.datetime


@dataclass(frozen=True)
class CaseView:
    case_no: str
    ticket_no: str | None
    booking_code: str | None
    item_code: str
    decision: wire.Decision
    decided_at: dt.datetime
    promised_date: dt.date | None
    applicant: wire.Applicant
    window_no: int = 0
    item_version: int = 0
    materials: tuple[wire.CheckedMaterial, ...] = ()
    notes: str = ""
    correction_deadline: dt.date | None = None
    picked_up_at: dt.datetime | None = None


@dataclass(frozen=True)
class CaptureInfo:
    """A captured material (its PDF stays encrypted in the store) and how far its upload got."""

    capture_id: str
    subject: str
    case_no: str | None
    material_code: str
    material_name: str
    sha256: str
    pages: int
    size: int
    created_at: dt.datetime
    upload_state: str  # held | pending | uploaded
    sent: int = 0
    last_error: str = ""


class StoreError(Exception):
    """A local write failed; nothing of it was kept, and the message says why in words."""


def format_case_no(hall_code: str, day: dt.date, window_no: int, seq: int) -> str:
    return f"{hall_code}-{day:%Y%m%d}-{window_no:02d}-{seq:04d}"


def _without_nul_check(node: Any) -> Any:
    """A copy of a core schema without WireModel's per-field NUL check (the field's own schema kept)."""
    if isinstance(node, dict):
        check = node.get("function") if node.get("type") == "function-after" else None
        if isinstance(check, dict) and getattr(check.get("function"), "__func__", None) is _NUL_CHECK:
            return _without_nul_check(node["schema"])
        return {k: _without_nul_check(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_nul_check(v) for v in node]
    return node


_NUL_CHECK = getattr(wire.WireModel._reject_nul, "__func__", None)


def _read_validator(model: type[BaseModel]) -> Any:
    """The model's validation for what this store reads back, less WireModel's NUL check.

    That check is a Python call per field, an eighth of the cost of reading a booking
    back, and it guards what enters the wire: PostgreSQL cannot store NUL. What is read
    here was checked when it was written (bookings and case applicants are stored from
    validated wire models; the applicant is AES-GCM ciphertext no one else can have
    made), and whatever the counter sends on is built into a wire model again, which
    checks it then. Every type, enum, date and nested model is still validated by
    pydantic-core, into the same model classes. If pydantic's schemas ever look
    otherwise, this is just the model's own validator.
    """
    try:
        return SchemaValidator(_without_nul_check(model.__pydantic_core_schema__))
    except Exception:  # noqa: BLE001 - any surprise costs speed only
        return model.__pydantic_validator__


_APPLICANT_READER = _read_validator(wire.Applicant)
_PRE_REVIEW_READER = _read_validator(wire.PreReview)
_BOOKING_READER = _read_validator(wire.Booking)


class _Reader:
    """A thread's own read-only connection; a holder because sqlite3 connections take no weakref."""

    __slots__ = ("con", "__weakref__")

    def __init__(self, path: Path) -> None:
        # Autocommit: each SELECT is its own read transaction in WAL mode, so it sees every commit
        # made before it and holds no snapshot (which would stall checkpoints) between calls.
        # check_same_thread=False only so that Store.close() may close it from another thread.
        self.con = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        self.con.execute("PRAGMA query_only = ON")


class Store:
    def __init__(self, path: Path, cipher: FieldCipher) -> None:
        self.path = path
        self._cipher = cipher
        self._engine = open_engine(path)
        self._session = sessionmaker(self._engine, expire_on_commit=False)
        # Who acts at this counter now (the signed-in clerk's staff number), for the audit log.
        self.actor = ""
        self._audit_key = cipher.derive("audit chain")
        # The booking lookups run on the counter's hot path (a scan at the window, the queue view):
        # an ORM session and ORM rows per call cost 20x the query itself, so they read through one
        # plain sqlite3 connection per thread instead. A thread's connection goes with the thread
        # (the thread-local drops it); the weak set lets close() reach those still alive.
        self._local = threading.local()
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._readers_lock = threading.Lock()

    def close(self) -> None:
        with self._readers_lock:
            readers = list(self._readers)
            self._readers = weakref.WeakSet()
            # Like the engine after dispose(), the store still works afterwards: on new connections.
            self._local = threading.local()
        for r in readers:
            r.con.close()
        self._engine.dispose()

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Rows of one SELECT on this thread's reader; fetchall ends the statement and its snapshot."""
        local = self._local
        reader: _Reader | None = getattr(local, "reader", None)
        if reader is None:
            reader = _Reader(self.path)
            with self._readers_lock:
                self._readers.add(reader)
            local.reader = reader
        return reader.con.execute(sql, params).fetchall()

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction that holds SQLite's write lock from its first statement.

        pysqlite begins a transaction only at the first INSERT/UPDATE, so a method that
        reads and then writes (allocate a case number, upsert a ticket) could interleave
        with another thread doing the same and both act on the same stale read. The
        no-op UPDATE takes the lock first; other writers wait (busy_timeout) instead.
        """
        try:
            with self._session.begin() as s:
                s.execute(text("UPDATE case_sequences SET last_seq = last_seq WHERE 0"))
                yield s
        except exc.OperationalError as err:
            raise StoreError(self._describe(err)) from None

    def _describe(self, err: exc.OperationalError) -> str:
        reason = str(err.orig).lower()
        if "full" in reason:
            return _(
                "本机磁盘已满，刚才的操作没有保存（{path}）。请清理磁盘后重试；已保存的办件不受影响。"
            ).format(path=self.path)
        if "locked" in reason or "busy" in reason:
            return _("本机数据文件正被其他程序占用，刚才的操作没有保存，请稍后重试（是否开了两个客户端？）。")
        if "readonly" in reason or "read-only" in reason:
            return _("本机数据文件 {path} 是只读的，刚才的操作没有保存。请联系信息技术人员。").format(
                path=self.path
            )
        return _("本机数据文件写入失败（{reason}），刚才的操作没有保存。").format(reason=err.orig)

    # -- helpers --------------------------------------------------------------

    def _enc_json(self, data: Any) -> bytes:
        return self._cipher.encrypt(json.dumps(data, ensure_ascii=False, default=str))

    def _applicant(self, blob: bytes) -> wire.Applicant:
        if blob == PURGED:
            return wire.Applicant(name=_("（已按期清除）"), id_number="", phone="")
        return cast(wire.Applicant, _APPLICANT_READER.validate_json(self._cipher.decrypt(blob)))

    def _add_op(self, s: Session, kind: wire.OpKind, payload: dict[str, Any], now: dt.datetime) -> str:
        op_id = str(uuid.uuid4())
        s.add(OutboxRow(op_id=op_id, kind=kind.value, payload_enc=self._enc_json(payload), created_at=now))
        return op_id

    # -- audit log ------------------------------------------------------------

    def _audit(self, s: Session, action: AuditAction, subject: str, detail: str, now: dt.datetime) -> None:
        """Append to the chain inside the caller's write transaction (which holds the write lock)."""
        last = s.scalar(select(AuditRow).order_by(AuditRow.id.desc()).limit(1))
        prev_hash = last.hash if last else GENESIS_HASH
        at = _naive(now).isoformat()
        digest = entry_hash(
            self._audit_key,
            prev_hash,
            dt.datetime.fromisoformat(at),
            self.actor,
            action.value,
            subject,
            detail,
        )
        row = AuditRow(
            at=at,
            actor=self.actor,
            action=action.value,
            subject=subject,
            detail=detail,
            prev_hash=prev_hash,
            hash=digest,
        )
        s.add(row)
        s.flush()
        s.merge(SyncStateRow(key=HEAD_KEY, value=format_head(row.id, digest)))

    def audit(self, action: AuditAction, subject: str, detail: str, now: dt.datetime) -> None:
        with self._write() as s:
            self._audit(s, action, subject, detail, now)

    def audit_entries(self) -> list[AuditEntry]:
        with self._session() as s:
            rows = s.scalars(select(AuditRow).order_by(AuditRow.id)).all()
            return [
                AuditEntry(
                    id=r.id,
                    at=dt.datetime.fromisoformat(r.at),
                    actor=r.actor,
                    action=r.action,
                    subject=r.subject,
                    detail=r.detail,
                    prev_hash=r.prev_hash,
                    hash=r.hash,
                )
                for r in rows
            ]

    def verify_audit(self) -> BrokenLink | None:
        return verify_chain(self.audit_entries(), parse_head(self.get_state(HEAD_KEY)), self._audit_key)

    # -- sync state -----------------------------------------------------------

    def get_state(self, key: str, default: str = "") -> str:
        with self._session() as s:
            row = s.get(SyncStateRow, key)
            return row.value if row else default

    def set_state(self, key: str, value: str) -> None:
        with self._write() as s:
            s.merge(SyncStateRow(key=key, value=value))

    # -- catalog and bookings (the server wins) --------------------------------

    def upsert_catalog(self, items: Sequence[wire.ServiceItem]) -> None:
        with self._write() as s:
            for item in items:
                s.merge(
                    CatalogItemRow(
                        code=item.code, version=item.version, name=item.name, body=item.model_dump_json()
                    )
                )

    def catalog(self) -> list[wire.ServiceItem]:
        with self._session() as s:
            rows = s.scalars(select(CatalogItemRow).order_by(CatalogItemRow.code)).all()
            return [wire.ServiceItem.model_validate_json(r.body) for r in rows]

    def catalog_item(self, code: str) -> wire.ServiceItem | None:
        with self._session() as s:
            row = s.get(CatalogItemRow, code)
            return wire.ServiceItem.model_validate_json(row.body) if row else None

    def upsert_bookings(self, bookings: Sequence[wire.Booking]) -> None:
        with self._write() as s:
            for b in bookings:
                s.merge(
                    BookingRow(
                        code=b.code,
                        date=b.date,
                        slot=b.slot,
                        item_code=b.item_code,
                        status=b.status.value,
                        applicant_enc=self._cipher.encrypt(b.applicant.model_dump_json()),
                        id_index=self._cipher.blind_index(b.applicant.id_number),
                        pre_review=b.pre_review.model_dump_json(),
                    )
                )

    def _booking_from_columns(self, row: Sequence[Any], hall_code: str) -> wire.Booking:
        """A booking from its raw columns (``_BOOKING_COLUMNS``), validated as the wire model.

        Validated on the way out (see _read_validator for the one check left out) although
        upsert_bookings stored a validated Booking: the file may hold rows an older client
        wrote or a failing disk mangled, and model_construct would hand on whatever is
        there unchecked; nor is it faster, as it builds the nested models in Python.
        The date is ISO text, as SQLAlchemy's Date wrote it.
        """
        code, date, slot, item_code, status, applicant_enc, pre_review = row
        booking = _BOOKING_READER.validate_python(
            {
                "code": code,
                "hall_code": hall_code,
                "date": date,
                "slot": slot,
                "item_code": item_code,
                "applicant": self._applicant(applicant_enc),
                "pre_review": _PRE_REVIEW_READER.validate_json(pre_review),
                "status": status,
            }
        )
        return cast(wire.Booking, booking)

    def booking(self, code: str, hall_code: str) -> wire.Booking | None:
        rows = self._read(f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE code = ?", (code,))
        return self._booking_from_columns(rows[0], hall_code) if rows else None

    def bookings_by_code(self, codes: Iterable[str], hall_code: str) -> dict[str, wire.Booking]:
        """The stored bookings among ``codes`` (unknown codes are left out), by code, in one query
        per 500 codes: for lists such as the queue, which would otherwise ask once per ticket."""
        wanted = list(dict.fromkeys(codes))
        found: dict[str, wire.Booking] = {}
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for row in self._read(f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE code IN ({marks})", chunk):
                found[row[0]] = self._booking_from_columns(row, hall_code)
        return found

    def bookings_between(self, first: dt.date, last: dt.date, hall_code: str) -> list[wire.Booking]:
        """Bookings of a few days, decrypted: the only way to search names, which are never indexed."""
        rows = self._read(
            f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE date >= ? AND date <= ? ORDER BY date, slot",
            (first.isoformat(), last.isoformat()),
        )
        return [self._booking_from_columns(r, hall_code) for r in rows]

    def find_bookings_by_id_number(self, id_number: str, hall_code: str) -> list[wire.Booking]:
        rows = self._read(
            f"SELECT {_BOOKING_COLUMNS} FROM bookings WHERE id_index = ?",
            (self._cipher.blind_index(id_number),),
        )
        return [self._booking_from_columns(r, hall_code) for r in rows]

    # -- tickets -----------------------------------------------------------------

    def upsert_ticket(self, t: wire.Ticket) -> None:
        with self._write() as s:
            self._merge_ticket(s, t)

    @staticmethod
    def _merge_ticket(s: Session, t: wire.Ticket) -> None:
        row = s.scalar(select(TicketRow).where(TicketRow.date == t.date, TicketRow.ticket_no == t.ticket_no))
        if row is None:
            row = TicketRow(date=t.date, ticket_no=t.ticket_no)
            s.add(row)
        row.booking_code = t.booking_code
        row.item_code = t.item_code
        row.state = t.state.value
        row.window_no = t.window_no
        row.issued_at = _naive(t.issued_at)
        row.called_at = _naive(t.called_at) if t.called_at else None
        row.recalls = t.recalls
        row.note = t.note

    def upsert_tickets(self, tickets: Sequence[wire.Ticket]) -> None:
        with self._write() as s:
            for t in tickets:
                self._merge_ticket(s, t)

    def tickets(self, day: dt.date, hall_code: str) -> list[wire.Ticket]:
        with self._session() as s:
            rows = s.scalars(
                select(TicketRow).where(TicketRow.date == day).order_by(TicketRow.ticket_no)
            ).all()
            return [_ticket_from_row(r, hall_code) for r in rows]

    def next_waiting_ticket(self, day: dt.date, hall_code: str, window_no: int) -> wire.Ticket | None:
        """The offline stand-in for the server's claim: citizens transferred here first, then
        booked tickets, then walk-ins."""
        transferred_here = (TicketRow.state == "transferred") & (
            (TicketRow.window_no == window_no) | TicketRow.window_no.is_(None)
        )
        with self._session() as s:
            row = s.scalar(
                select(TicketRow)
                .where(TicketRow.date == day, (TicketRow.state == "waiting") | transferred_here)
                .order_by(
                    TicketRow.state != "transferred", TicketRow.booking_code.is_(None), TicketRow.ticket_no
                )
                .limit(1)
            )
            return _ticket_from_row(row, hall_code) if row else None

    def set_ticket_state(
        self,
        day: dt.date,
        ticket_no: str,
        state: wire.TicketState,
        window_no: int,
        now: dt.datetime,
        *,
        recalls: int = 0,
        to_window: int | None = None,
        to_item: str | None = None,
        note: str = "",
    ) -> None:
        """Change a ticket's state locally and queue the change for the server, in one transaction.

        A transfer leaves the ticket waiting for its target window (None: any window)
        with the item it was moved to, as the server will have it.
        """
        with self._write() as s:
            values: dict[str, Any] = {"state": state.value, "window_no": window_no, "recalls": recalls}
            if state is wire.TicketState.CALLED and recalls == 0:
                values["called_at"] = now
            if state is wire.TicketState.TRANSFERRED:
                values.update(window_no=to_window, note=note)
                if to_item is not None:
                    values["item_code"] = to_item
            elif state is wire.TicketState.PARKED:
                values["note"] = note
            s.execute(
                update(TicketRow)
                .where(TicketRow.date == day, TicketRow.ticket_no == ticket_no)
                .values(**values)
            )
            payload = wire.TicketStatePayload(
                ticket_no=ticket_no,
                state=state,
                window_no=window_no,
                at=_aware(now),
                recalls=recalls,
                to_window=to_window,
                to_item=to_item,
                note=note,
            )
            self._add_op(s, wire.OpKind.TICKET_STATE, payload.model_dump(mode="json"), now)
            target = f" → {to_window or '*'}" if state is wire.TicketState.TRANSFERRED else ""
            self._audit(s, AuditAction.TICKET, ticket_no, f"{state.value}{target}", now)

    def record_window_state(self, window_no: int, paused: bool, reason: str, now: dt.datetime) -> None:
        """暂停服务 / 恢复服务: remembered across restarts, and reported to the hall."""
        with self._write() as s:
            state = {"paused": paused, "reason": reason, "at": _aware(now).isoformat()}
            s.merge(
                SyncStateRow(key=f"window_state/{window_no}", value=json.dumps(state, ensure_ascii=False))
            )
            payload = wire.WindowStatePayload(
                window_no=window_no, paused=paused, reason=reason, at=_aware(now)
            )
            self._add_op(s, wire.OpKind.WINDOW_STATE, payload.model_dump(mode="json"), now)
            self._audit(
                s, AuditAction.WINDOW, str(window_no), f"paused: {reason}" if paused else "resumed", now
            )

    def window_state(self, window_no: int) -> tuple[bool, str]:
        raw = self.get_state(f"window_state/{window_no}")
        if not raw:
            return False, ""
        state = json.loads(raw)
        return bool(state["paused"]), str(state["reason"])

    # -- decisions ---------------------------------------------------------------

    def record_decision(
        self,
        *,
        hall_code: str,
        day: dt.date,
        payload_for: Any,
        now: dt.datetime,
        window_no: int,
        ticket_no: str | None,
    ) -> wire.CaseDecidedPayload:
        """Allocate the case number and write the case, its ticket state and the outbox op atomically.

        ``payload_for(case_no)`` builds the payload once the number is known. The
        number is final: it is committed with the case, so a crash before the
        commit leaves neither, and nothing was printed with it yet.
        """
        with self._write() as s:
            seq_row = s.get(CaseSequenceRow, (hall_code, day, window_no))
            if seq_row is None:
                seq_row = CaseSequenceRow(hall_code=hall_code, day=day, window_no=window_no, last_seq=0)
                s.add(seq_row)
            seq_row.last_seq += 1
            case_no = format_case_no(hall_code, day, window_no, seq_row.last_seq)
            p: wire.CaseDecidedPayload = payload_for(case_no)
            s.add(
                CaseRow(
                    case_no=case_no,
                    ticket_no=p.ticket_no,
                    booking_code=p.booking_code,
                    item_code=p.item_code,
                    item_version=p.item_version,
                    decision=p.decision.value,
                    window_no=p.window_no,
                    clerk_id=p.clerk_id,
                    decided_at=now,
                    promised_date=p.promised_date,
                    materials=json.dumps([m.model_dump() for m in p.materials], ensure_ascii=False),
                    applicant_enc=self._cipher.encrypt(p.applicant.model_dump_json()),
                    notes=p.notes,
                    id_index=self._cipher.blind_index(p.applicant.id_number),
                    correction_deadline=p.correction_deadline,
                )
            )
            if ticket_no is not None:
                s.execute(
                    update(TicketRow)
                    .where(TicketRow.date == day, TicketRow.ticket_no == ticket_no)
                    .values(state=wire.TicketState.DONE.value)
                )
            # A correction leaves the booking open: the citizen comes back with the papers on it.
            if p.booking_code and p.decision is not wire.Decision.CORRECT:
                s.execute(
                    update(BookingRow)
                    .where(BookingRow.code == p.booking_code)
                    .values(status=wire.BookingStatus.SERVED.value)
                )
            op_id = self._add_op(s, wire.OpKind.CASE_DECIDED, p.model_dump(mode="json"), now)
            s.execute(update(CaseRow).where(CaseRow.case_no == case_no).values(op_id=op_id))
            self._audit(s, AuditAction.DECISION, case_no, p.decision.value, now)
            return p

    def case(self, case_no: str) -> CaseView | None:
        with self._session() as s:
            row = s.get(CaseRow, case_no)
            return self._case_view(row) if row else None

    def _case_view(self, row: CaseRow) -> CaseView:
        return CaseView(
            case_no=row.case_no,
            ticket_no=row.ticket_no,
            booking_code=row.booking_code,
            item_code=row.item_code,
            decision=wire.Decision(row.decision),
            decided_at=row.decided_at,
            promised_date=row.promised_date,
            applicant=self._applicant(row.applicant_enc),
            window_no=row.window_no,
            item_version=row.item_version,
            materials=tuple(wire.CheckedMaterial.model_validate(m) for m in json.loads(row.materials)),
            notes=row.notes,
            correction_deadline=row.correction_deadline,
            picked_up_at=row.picked_up_at,
        )

    def cases_by_id_number(self, id_number: str) -> list[CaseView]:
        with self._session() as s:
            rows = s.scalars(
                select(CaseRow)
                .where(CaseRow.id_index == self._cipher.blind_index(id_number))
                .order_by(CaseRow.decided_at.desc())
            ).all()
            return [self._case_view(r) for r in rows]

    def awaiting_pickup(self, window_no: int, decisions: Sequence[wire.Decision]) -> list[CaseView]:
        """This window's cases whose result has not been handed over yet, oldest promise first."""
        with self._session() as s:
            rows = s.scalars(
                select(CaseRow)
                .where(
                    CaseRow.window_no == window_no,
                    CaseRow.decision.in_([d.value for d in decisions]),
                    CaseRow.picked_up_at.is_(None),
                )
                .order_by(CaseRow.promised_date, CaseRow.case_no)
            ).all()
            return [self._case_view(r) for r in rows]

    def unreturned_corrections(self, window_no: int) -> list[CaseView]:
        """补正 cases of this window with no later decision for the same citizen and item."""
        correction = aliased(CaseRow)
        returned = (
            select(CaseRow.case_no)
            .where(
                CaseRow.id_index != "",  # cases from before the index existed match nobody
                CaseRow.id_index == correction.id_index,
                CaseRow.item_code == correction.item_code,
                CaseRow.decided_at > correction.decided_at,
            )
            .exists()
        )
        with self._session() as s:
            rows = s.scalars(
                select(correction)
                .where(correction.window_no == window_no, correction.decision == "correct", ~returned)
                .order_by(correction.correction_deadline, correction.case_no)
            ).all()
            return [self._case_view(r) for r in rows]

    def record_pickup(self, case_no: str, window_no: int, picked_up_by: str, now: dt.datetime) -> None:
        """出件: the result handed over, recorded once, with its op for the server."""
        with self._write() as s:
            done = s.execute(
                update(CaseRow)
                .where(CaseRow.case_no == case_no, CaseRow.picked_up_at.is_(None))
                .values(picked_up_at=_naive(now))
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise StoreError(_("办件 {case_no} 不存在或结果已领取").format(case_no=case_no))
            payload = wire.CasePickedUpPayload(
                case_no=case_no, window_no=window_no, picked_up_at=_aware(now), picked_up_by=picked_up_by
            )
            self._add_op(s, wire.OpKind.CASE_PICKED_UP, payload.model_dump(mode="json"), now)
            self._audit(s, AuditAction.PICKUP, case_no, "picked up", now)

    def record_document(
        self,
        *,
        doc_id: str,
        case_no: str,
        kind: str,
        sha256: str,
        path: Path,
        fields: dict[str, str],
        signature: str,
        reprint_no: int,
        now: dt.datetime,
    ) -> None:
        """Archive a printed document; a reprint (补打) keeps the row and records its count and latest file."""
        with self._write() as s:
            row = s.get(DocumentRow, doc_id)
            if row is None:
                s.add(
                    DocumentRow(
                        doc_id=doc_id,
                        case_no=case_no,
                        kind=kind,
                        sha256=sha256,
                        path=str(path),
                        fields=json.dumps(fields, ensure_ascii=False),
                        signature=signature,
                        reprint_no=reprint_no,
                        created_at=now,
                    )
                )
            else:
                if reprint_no <= row.reprint_no:
                    raise StoreError(
                        _("文书 {doc_id} 已补打到第 {n} 次").format(doc_id=doc_id, n=row.reprint_no)
                    )
                row.sha256, row.path, row.reprint_no = sha256, str(path), reprint_no
            payload = wire.DocumentPrintedPayload(
                doc_id=doc_id,
                case_no=case_no,
                kind=kind,
                sha256=sha256,
                fields=fields,
                signature=signature,
                printed_at=_aware(now),
                reprint_no=reprint_no,
            )
            self._add_op(s, wire.OpKind.DOCUMENT_PRINTED, payload.model_dump(mode="json"), now)
            action = AuditAction.REPRINT if reprint_no else AuditAction.PRINT
            self._audit(s, action, doc_id, f"{kind} {case_no} #{reprint_no} sha256={sha256[:16]}", now)

    def reprint_count(self, doc_id: str) -> int:
        with self._session() as s:
            row = s.get(DocumentRow, doc_id)
            return row.reprint_no if row else 0

    def documents_of(self, case_no: str) -> list[tuple[str, str, Path]]:
        with self._session() as s:
            rows = s.scalars(
                select(DocumentRow).where(DocumentRow.case_no == case_no).order_by(DocumentRow.created_at)
            ).all()
            return [(r.doc_id, r.kind, Path(r.path)) for r in rows]

    # -- ratings (citizen screen only) -------------------------------------------

    def record_rating(
        self, payload: wire.RatingPayload, now: dt.datetime, *, follow_up_due: dt.date | None = None
    ) -> None:
        """The rating, its outbox op and (for a bad rating) the follow-up, in one transaction.

        The follow-up's due date travels in the payload too, so the server opens the same 整改.
        """
        if follow_up_due is None:
            follow_up_due = payload.follow_up_due
        with self._write() as s:
            if s.get(RatingRow, payload.case_no) is not None:
                raise AlreadyRated(payload.case_no)
            s.add(
                RatingRow(
                    case_no=payload.case_no,
                    level=payload.level.value,
                    reasons=json.dumps(payload.reasons, ensure_ascii=False),
                    comment=payload.comment,
                    rated_at=now,
                )
            )
            if follow_up_due is not None:
                s.flush()  # the rating row first: the follow-up refers to it
                s.add(
                    FollowUpRow(
                        case_no=payload.case_no,
                        level=payload.level.value,
                        due_date=follow_up_due,
                        status="open",
                        created_at=now,
                    )
                )
            self._add_op(s, wire.OpKind.RATING_GIVEN, payload.model_dump(mode="json"), now)

    def open_follow_ups(self) -> list[tuple[str, str, dt.date]]:
        """(case no, level, due date) of every follow-up not yet closed, soonest first."""
        with self._session() as s:
            rows = s.execute(
                select(FollowUpRow.case_no, FollowUpRow.level, FollowUpRow.due_date)
                .where(FollowUpRow.status == "open")
                .order_by(FollowUpRow.due_date, FollowUpRow.case_no)
            ).all()
            return [(r[0], r[1], r[2]) for r in rows]

    def has_rating(self, case_no: str) -> bool:
        with self._session() as s:
            return s.get(RatingRow, case_no) is not None

    def recent_ratings(self, limit: int) -> list[RatedService]:
        """This window's last ``limit`` ratings with their decision times, oldest first (burst rule)."""
        with self._session() as s:
            rows = s.execute(
                select(RatingRow.level, CaseRow.decided_at, RatingRow.rated_at)
                .join(CaseRow, CaseRow.case_no == RatingRow.case_no)
                .order_by(RatingRow.rated_at.desc(), RatingRow.case_no.desc())
                .limit(limit)
            ).all()
        return [RatedService(wire.RatingLevel(r[0]), r[1], r[2]) for r in reversed(rows)]

    # -- outbox ------------------------------------------------------------------

    def pending_ops(self, limit: int) -> list[PendingOp]:
        with self._session() as s:
            rows = s.scalars(
                select(OutboxRow).where(OutboxRow.status == "pending").order_by(OutboxRow.id).limit(limit)
            ).all()
            out = []
            for r in rows:
                payload = json.loads(self._cipher.decrypt(r.payload_enc))
                out.append(
                    PendingOp(
                        r.id,
                        wire.Op(
                            op_id=uuid.UUID(r.op_id),
                            kind=wire.OpKind(r.kind),
                            payload=payload,
                            created_at=_aware(r.created_at),
                        ),
                    )
                )
            return out

    def pending_count(self) -> int:
        with self._session() as s:
            return int(
                s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.status == "pending"))
                or 0
            )

    def apply_results(self, results: Sequence[wire.OpResult], now: dt.datetime) -> None:
        """Record the server's answers: one executemany for the ops, one UPDATE per 500 for the cases.

        Per op, as before: its outbox row takes the status, detail and acked_at (the last
        answer wins if an op is answered twice); its case gets acked_at only if it had none.
        """
        if not results:
            return
        outbox = OutboxRow.metadata.tables[OutboxRow.__tablename__]
        cases = CaseRow.metadata.tables[CaseRow.__tablename__]
        # On the Table, not the mapped class: a list of parameter sets then runs as one Core
        # executemany instead of the ORM's bulk update by primary key.
        answer = (
            update(outbox)
            .where(outbox.c.op_id == bindparam("b_op_id"))
            .values(status=bindparam("b_status"), detail=bindparam("b_detail"), acked_at=now)
        )
        params = [
            {"b_op_id": str(r.op_id), "b_status": r.status.value, "b_detail": r.detail} for r in results
        ]
        op_ids = list(dict.fromkeys(p["b_op_id"] for p in params))
        with self._write() as s:
            s.execute(answer, params)
            # Retention counts from the server's answer about the case, not from the decision.
            for start in range(0, len(op_ids), _IN_CHUNK):
                s.execute(
                    update(cases)
                    .where(cases.c.op_id.in_(op_ids[start : start + _IN_CHUNK]), cases.c.acked_at.is_(None))
                    .values(acked_at=now)
                )

    def record_attempt(self, row_ids: Sequence[int], error: str) -> None:
        """Count a failed offer of these ops to the server, keeping the reason in words."""
        with self._write() as s:
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(list(row_ids)), OutboxRow.status == "pending")
                .values(attempts=OutboxRow.attempts + 1, last_error=error[:500])
            )

    def purge_personal_data(self, now: dt.datetime, retention_days: int) -> int:
        """Drop citizens' personal data the server acknowledged more than ``retention_days`` ago.

        Ops are sent in order, so everything decided before the oldest op still
        waiting was answered by the server; nothing unsent is ever purged. Cases
        keep their number, item and decision (the audit log refers to them);
        bookings, acknowledged ops and the citizen's data in cases go.
        Returns how many records were cleared.
        """
        cutoff = _naive(now) - dt.timedelta(days=retention_days)
        with self._write() as s:
            cases = s.execute(
                update(CaseRow)
                .where(CaseRow.acked_at < cutoff, CaseRow.applicant_enc != PURGED)
                .values(applicant_enc=PURGED, id_index="")
            ).rowcount  # type: ignore[attr-defined]
            ops = s.execute(
                delete(OutboxRow).where(
                    OutboxRow.status != "pending",
                    OutboxRow.acked_at < cutoff,
                    # A conflict or a refusal stays until a clerk has looked at it, however old.
                    OutboxRow.status.notin_(("conflict", "rejected")) | OutboxRow.conflict_acknowledged,
                )
            ).rowcount  # type: ignore[attr-defined]
            bookings = s.execute(delete(BookingRow).where(BookingRow.date < cutoff.date())).rowcount  # type: ignore[attr-defined]
            total = int(cases) + int(ops) + int(bookings)
            if total:
                self._audit(s, AuditAction.PURGE, "", f"cases={cases} ops={ops} bookings={bookings}", now)
        if total:
            # The old pages would otherwise stay readable in the WAL file until the next checkpoint.
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return total

    def oldest_pending(self) -> tuple[dt.datetime, int] | None:
        """When the oldest unsent op was made, and how often it has been offered."""
        with self._session() as s:
            row = s.execute(
                select(OutboxRow.created_at, OutboxRow.attempts)
                .where(OutboxRow.status == "pending")
                .order_by(OutboxRow.id)
                .limit(1)
            ).first()
            return (row[0], int(row[1])) if row else None

    def unacknowledged_conflicts(self) -> list[ConflictView]:
        with self._session() as s:
            rows = s.scalars(
                select(OutboxRow)
                .where(
                    OutboxRow.status.in_(("conflict", "rejected")), OutboxRow.conflict_acknowledged.is_(False)
                )
                .order_by(OutboxRow.id)
            ).all()
            return [ConflictView(r.op_id, r.kind, r.detail, r.created_at) for r in rows]

    def acknowledge_conflict(self, op_id: str, now: dt.datetime | None = None) -> None:
        with self._write() as s:
            s.execute(update(OutboxRow).where(OutboxRow.op_id == op_id).values(conflict_acknowledged=True))
            self._audit(s, AuditAction.CONFLICT_ACK, op_id, "", now or dt.datetime.now())

    # -- captured materials and the back office (version 6) ------------------------------------

    def _material_aead(self) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if getattr(self, "_material_aead_cache", None) is None:
            self._material_aead_cache = AESGCM(self._cipher.derive("captured materials"))
        return self._material_aead_cache

    def _seal_pdf(self, capture_id: str, pdf: bytes) -> bytes:
        import secrets

        nonce = secrets.token_bytes(12)
        # The row's id is bound in: a blob copied onto another row does not decrypt.
        sealed: bytes = self._material_aead().encrypt(nonce, pdf, capture_id.encode("ascii"))
        return b"m1:" + nonce + sealed

    def _open_pdf(self, capture_id: str, blob: bytes) -> bytes:
        if blob == PURGED:
            raise StoreError(_("该材料的扫描件已按期清除"))
        if not blob.startswith(b"m1:"):
            raise StoreError(_("材料扫描件的格式无法识别"))
        body = blob[3:]
        pdf: bytes = self._material_aead().decrypt(body[:12], body[12:], capture_id.encode("ascii"))
        return pdf

    @staticmethod
    def _capture_info(r: CaptureRow) -> CaptureInfo:
        return CaptureInfo(
            capture_id=r.id,
            subject=r.subject,
            case_no=r.case_no,
            material_code=r.material_code,
            material_name=r.material_name,
            sha256=r.sha256,
            pages=r.pages,
            size=r.size,
            created_at=r.created_at,
            upload_state=r.upload_state,
            sent=r.sent,
            last_error=r.last_error,
        )

    def save_capture(
        self,
        *,
        subject: str,
        material_code: str,
        material_name: str,
        pdf: bytes,
        sha256: str,
        pages: int,
        now: dt.datetime,
    ) -> CaptureInfo:
        """Keep a material's PDF (encrypted); capturing the same material again replaces it,
        unless its case already went to the back office."""
        capture_id = str(uuid.uuid4())
        with self._write() as s:
            old = s.scalar(
                select(CaptureRow).where(
                    CaptureRow.subject == subject, CaptureRow.material_code == material_code
                )
            )
            case_no = None
            if old is not None:
                case_no = old.case_no
                s.delete(old)
                s.flush()
            else:
                case_no = s.scalar(
                    select(CaptureRow.case_no).where(
                        CaptureRow.subject == subject, CaptureRow.case_no.is_not(None)
                    )
                )
            if case_no is not None:
                fwd = s.get(ForwardRow, case_no)
                if fwd is not None and fwd.state == "done":
                    raise StoreError(_("办件 {case_no} 已转后台审批，不能再更换材料").format(case_no=case_no))
            row = CaptureRow(
                id=capture_id,
                subject=subject,
                case_no=case_no,
                material_code=material_code,
                material_name=material_name,
                sha256=sha256,
                pages=pages,
                size=len(pdf),
                pdf_enc=self._seal_pdf(capture_id, pdf),
                created_at=_naive(now),
                upload_state="pending" if case_no else "held",
                sent=0,
                attempts=0,
                last_error="",
            )
            s.add(row)
            return self._capture_info(row)

    def captures_of(self, subject: str | None = None, *, case_no: str | None = None) -> list[CaptureInfo]:
        """The materials captured for a service (ticket/booking subject) or an accepted case."""
        query = select(CaptureRow)
        if subject is not None:
            query = query.where(CaptureRow.subject == subject)
        if case_no is not None:
            query = query.where(CaptureRow.case_no == case_no)
        with self._session() as s:
            rows = s.scalars(query.order_by(CaptureRow.material_code)).all()
            return [self._capture_info(r) for r in rows]

    def captured_materials(self, subject: str) -> dict[str, CaptureInfo]:
        """Which materials of this service are captured: material code -> what was captured."""
        return {c.material_code: c for c in self.captures_of(subject)}

    def capture_pdf(self, capture_id: str) -> bytes:
        with self._session() as s:
            row = s.get(CaptureRow, capture_id)
            if row is None:
                raise StoreError(_("没有这份材料扫描件"))
            return self._open_pdf(row.id, row.pdf_enc)

    def delete_capture(self, subject: str, material_code: str) -> bool:
        with self._write() as s:
            row = s.scalar(
                select(CaptureRow).where(
                    CaptureRow.subject == subject, CaptureRow.material_code == material_code
                )
            )
            if row is None or row.upload_state != "held":
                return False
            s.delete(row)
            return True

    def queue_forward(self, subject: str, case_no: str, now: dt.datetime) -> int:
        """受理之后: attach the service's captures to the case and queue the case for its back office.

        One transaction; returns how many materials go with it. Idempotent.
        """
        with self._write() as s:
            n = s.execute(
                update(CaptureRow)
                .where(CaptureRow.subject == subject, CaptureRow.case_no.is_(None))
                .values(case_no=case_no, upload_state="pending")
            ).rowcount  # type: ignore[attr-defined]
            if s.get(ForwardRow, case_no) is None:
                s.add(
                    ForwardRow(
                        case_no=case_no, state="pending", attempts=0, last_error="", created_at=_naive(now)
                    )
                )
            return int(n)

    def pending_uploads(self, limit: int = 20) -> list[CaptureInfo]:
        with self._session() as s:
            rows = s.scalars(
                select(CaptureRow)
                .where(CaptureRow.upload_state == "pending")
                .order_by(CaptureRow.created_at, CaptureRow.id)
                .limit(limit)
            ).all()
            return [self._capture_info(r) for r in rows]

    def record_upload_progress(self, capture_id: str, sent: int) -> None:
        with self._write() as s:
            s.execute(update(CaptureRow).where(CaptureRow.id == capture_id).values(sent=sent))

    def record_upload_failure(self, capture_id: str, error: str) -> None:
        with self._write() as s:
            s.execute(
                update(CaptureRow)
                .where(CaptureRow.id == capture_id)
                .values(attempts=CaptureRow.attempts + 1, last_error=error[:500])
            )

    def mark_uploaded(self, capture_id: str, now: dt.datetime) -> None:
        with self._write() as s:
            s.execute(
                update(CaptureRow)
                .where(CaptureRow.id == capture_id)
                .values(upload_state="uploaded", sent=CaptureRow.size, last_error="", uploaded_at=_naive(now))
            )

    def forwards_due(self) -> list[tuple[str, list[CaptureInfo]]]:
        """Cases to forward whose captured materials are all on the server, with those materials."""
        with self._session() as s:
            cases = s.scalars(
                select(ForwardRow.case_no)
                .where(ForwardRow.state == "pending")
                .order_by(ForwardRow.created_at)
            ).all()
            out = []
            for case_no in cases:
                rows = s.scalars(select(CaptureRow).where(CaptureRow.case_no == case_no)).all()
                if all(r.upload_state == "uploaded" for r in rows):
                    out.append((case_no, [self._capture_info(r) for r in rows]))
            return out

    def mark_forwarded(self, case_no: str, now: dt.datetime) -> None:
        with self._write() as s:
            s.execute(
                update(ForwardRow)
                .where(ForwardRow.case_no == case_no)
                .values(state="done", last_error="", forwarded_at=_naive(now))
            )

    def record_forward_failure(self, case_no: str, error: str) -> None:
        with self._write() as s:
            s.execute(
                update(ForwardRow)
                .where(ForwardRow.case_no == case_no)
                .values(attempts=ForwardRow.attempts + 1, last_error=error[:500])
            )

    def forward_state(self, case_no: str) -> tuple[str, str] | None:
        """('pending' | 'done', last error) of a case queued for its back office, or None."""
        with self._session() as s:
            row = s.get(ForwardRow, case_no)
            return (row.state, row.last_error) if row else None

    def uploads_waiting(self) -> tuple[int, int]:
        """(materials not yet uploaded, cases not yet forwarded): for the status bar."""
        with self._session() as s:
            materials = s.scalar(
                select(func.count()).select_from(CaptureRow).where(CaptureRow.upload_state == "pending")
            )
            forwards = s.scalar(
                select(func.count()).select_from(ForwardRow).where(ForwardRow.state == "pending")
            )
            return int(materials or 0), int(forwards or 0)

    def apply_back_office(self, statuses: Sequence[wire.BackOfficeStatus], now: dt.datetime) -> None:
        """The back office's word on cases, from /sync/pull: the server wins, latest change last."""
        with self._write() as s:
            for st in statuses:
                s.merge(
                    BackOfficeRow(
                        case_no=st.case_no,
                        department=st.department,
                        state=st.state.value,
                        body=st.model_dump_json(),
                        ready_for_pickup=st.ready_for_pickup,
                        updated_at=_naive(now),
                    )
                )

    def back_office_status(self, case_no: str) -> wire.BackOfficeStatus | None:
        with self._session() as s:
            row = s.get(BackOfficeRow, case_no)
            return wire.BackOfficeStatus.model_validate_json(row.body) if row else None

    def ready_for_pickup(self, window_no: int | None = None) -> list[tuple[CaseView, wire.BackOfficeStatus]]:
        """Cases the back office decided whose result waits at the window (待取件), oldest first."""
        with self._session() as s:
            query = (
                select(CaseRow, BackOfficeRow)
                .join(BackOfficeRow, BackOfficeRow.case_no == CaseRow.case_no)
                .where(BackOfficeRow.ready_for_pickup.is_(True), CaseRow.picked_up_at.is_(None))
                .order_by(BackOfficeRow.updated_at, CaseRow.case_no)
            )
            if window_no is not None:
                query = query.where(CaseRow.window_no == window_no)
            rows = s.execute(query).all()
            return [(self._case_view(c), wire.BackOfficeStatus.model_validate_json(b.body)) for c, b in rows]

    def purge_captures(self, now: dt.datetime, retention_days: int) -> int:
        """Clear captured PDFs uploaded more than ``retention_days`` ago; the server keeps the case's copy."""
        cutoff = _naive(now) - dt.timedelta(days=retention_days)
        with self._write() as s:
            n = s.execute(
                update(CaptureRow)
                .where(
                    CaptureRow.upload_state == "uploaded",
                    CaptureRow.uploaded_at < cutoff,
                    CaptureRow.pdf_enc != PURGED,
                )
                .values(pdf_enc=PURGED)
            ).rowcount  # type: ignore[attr-defined]
        return int(n)


def _naive(t: dt.datetime) -> dt.datetime:
    """Local wall-clock time without tzinfo, as stored in the local file."""
    return t.astimezone().replace(tzinfo=None) if t.tzinfo else t


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.astimezone()


def _ticket_from_row(r: TicketRow, hall_code: str) -> wire.Ticket:
    return wire.Ticket(
        ticket_no=r.ticket_no,
        hall_code=hall_code,
        date=r.date,
        booking_code=r.booking_code,
        item_code=r.item_code,
        state=wire.TicketState(r.state),
        window_no=r.window_no,
        issued_at=_aware(r.issued_at),
        called_at=_aware(r.called_at) if r.called_at else None,
        recalls=r.recalls or 0,
        note=r.note or "",
    )
