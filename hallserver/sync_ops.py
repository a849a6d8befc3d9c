"""Applying the ops counters push: idempotent by op id, facts from the counter win.

A push (up to a few hundred ops) is applied in one transaction: each op inside
its own savepoint, so an op that is rejected or conflicts rolls back alone,
and its AppliedOp row (the answer a re-sent op gets again, as a duplicate with
the same detail) is written in the same transaction as the ops' effects. One
commit per push instead of one per op: on SQLite that is one fsync per batch,
with ``synchronous=FULL`` kept. A crash therefore leaves every op either fully
applied and recorded, or not at all; a crash before the commit loses the whole
batch, which the counter never saw answered and so sends again, and then each
op is applied as if new.

When the batch cannot be committed as a whole (another request applied one of
its ops at the same moment, a database error), it is rolled back and applied
again op by op, each op in its own transaction as before: the racing op is
then answered as the duplicate it is.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import event, insert, select, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hallclient import wire
from hallserver.changes import DeferredChanges, record_booking, record_ticket
from hallserver.db import begin_write
from hallserver.models import AppliedOp, Booking, Case, CatalogItem, Document, Rating, Ticket, Window
from hallserver.security import Principal

log = logging.getLogger(__name__)


class Conflict(Exception):
    """The op was not applied because it collides with what the server has."""


class Rejected(Exception):
    """The op can never be applied (unknown ticket, another hall's case)."""


# An applier gets the op's validated payload and returns None, or a conflict to
# report about data it nevertheless kept.
Applier = Callable[[Session, "Principal", Any, dt.datetime], str | None]

_TICKETS = "hallserver.sync_ops.tickets"
_ABSENT = "hallserver.sync_ops.absent"
_ADDED = "hallserver.sync_ops.added"


def push(
    sessions: sessionmaker[Session], who: Principal, req: wire.PushRequest, now: dt.datetime
) -> wire.PushResponse:
    if req.device_id != who.device_id:
        # A device pushes only its own outbox; anything else is a misconfigured counter.
        return wire.PushResponse(
            results=[
                wire.OpResult(
                    op_id=op.op_id,
                    status=wire.OpStatus.REJECTED,
                    detail=f"设备编号 {req.device_id} 与登录设备 {who.device_id} 不一致",
                )
                for op in req.ops
            ]
        )
    try:
        results = _apply_batch(sessions, who, req.ops, now)
    except DBAPIError as exc:
        if not _worth_op_by_op(exc):
            raise
        # Nothing of the batch was kept: the ops are applied one transaction each.
        log.warning(
            "push of %d ops from %s applied op by op: %s", len(req.ops), who.device_id, type(exc).__name__
        )
        results = [_apply_one(sessions, who, op, now) for op in req.ops]
    return wire.PushResponse(results=results)


# PostgreSQL's serialization failure and deadlock: the other transaction went on, this one may retry.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def _worth_op_by_op(exc: DBAPIError) -> bool:
    """A batch that collided with another request (the same op applied at once, a deadlock).

    Anything else ("database is locked" after the busy timeout, a lost connection)
    would fail op by op just the same, each after its own wait: it is raised.
    """
    if isinstance(exc, IntegrityError):
        return True
    return getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


@dataclass
class _Parsed:
    op: wire.Op
    payload: wire.WireModel | None = None
    invalid: str = ""  # why the payload was refused, when it was


@dataclass
class _Outcome:
    status: wire.OpStatus
    detail: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)


def _parse(op: wire.Op) -> _Parsed:
    try:
        return _Parsed(op, PAYLOADS[op.kind].model_validate(op.payload))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        return _Parsed(op, invalid=f"{op.kind.value} 的内容不符合约定：{where}：{err.get('msg', '')}")


def _apply_batch(
    sessions: sessionmaker[Session], who: Principal, ops: list[wire.Op], now: dt.datetime
) -> list[wire.OpResult]:
    parsed = [_parse(op) for op in ops]
    answers: dict[str, wire.OpResult] = {}
    applied: list[dict[str, Any]] = []
    logged: list[tuple[str, wire.OpStatus]] = []
    with sessions() as s:
        begin_write(s)  # the answers read below stay true until the commit
        seen = _seen(s, [str(op.op_id) for op in ops])
        s.info[_TICKETS] = _preload_tickets(s, who.hall_code, parsed)
        s.info[_ABSENT] = _absent_keys(s, parsed)
        s.info[_ADDED] = {}
        event.listen(s, "pending_to_persistent", _keep_added)
        changes = DeferredChanges(s)
        try:
            results = []
            for item in parsed:
                op_id = str(item.op.op_id)
                earlier = answers.get(op_id)
                if earlier is not None or op_id in seen:
                    detail = earlier.detail if earlier is not None else seen[op_id]
                    results.append(
                        wire.OpResult(op_id=item.op.op_id, status=wire.OpStatus.DUPLICATE, detail=detail)
                    )
                    continue
                status, detail = _apply_in_savepoint(s, who, item, now, changes)
                answer = wire.OpResult(op_id=item.op.op_id, status=status, detail=detail)
                answers[op_id] = answer
                results.append(answer)
                applied.append(
                    {
                        "op_id": op_id,
                        "device_id": who.device_id,
                        "kind": item.op.kind.value,
                        "status": status.value,
                        "detail": detail,
                        "received_at": now,
                    }
                )
                if status is not wire.OpStatus.APPLIED:
                    logged.append((op_id, status))
            changes.write()
            if applied:
                s.execute(insert(AppliedOp), applied)
            s.commit()
        finally:
            changes.close()
            s.info.pop(_TICKETS, None)
            s.info.pop(_ABSENT, None)
            s.info.pop(_ADDED, None)
            event.remove(s, "pending_to_persistent", _keep_added)
    for op_id, status in logged:
        log.info("op %s from %s: %s", op_id, who.device_id, status.value)
    return results


def _apply_in_savepoint(
    s: Session, who: Principal, item: _Parsed, now: dt.datetime, changes: DeferredChanges
) -> tuple[wire.OpStatus, str]:
    if item.payload is None:
        return wire.OpStatus.REJECTED, item.invalid
    mark = changes.mark()
    savepoint = s.begin_nested()
    try:
        kept_conflict = APPLY[item.op.kind](s, who, item.payload, now)
        savepoint.commit()
    except (Rejected, Conflict) as exc:
        savepoint.rollback()
        changes.undo_to(mark)
        status = wire.OpStatus.REJECTED if isinstance(exc, Rejected) else wire.OpStatus.CONFLICT
        return status, str(exc)
    if kept_conflict:
        return wire.OpStatus.CONFLICT, kept_conflict
    return wire.OpStatus.APPLIED, ""


def _seen(s: Session, op_ids: list[str]) -> dict[str, str]:
    """The ops of this batch applied before: op id -> the detail they were answered with."""
    return {
        op_id: detail
        for op_id, detail in s.execute(
            select(AppliedOp.op_id, AppliedOp.detail).where(AppliedOp.op_id.in_(set(op_ids)))
        ).tuples()
    }


def _preload_tickets(
    s: Session, hall: str, parsed: Iterable[_Parsed]
) -> dict[tuple[dt.date, str], Ticket | None]:
    """The batch's tickets in one query (a counter's ops touch each ticket two or three times)."""
    keys: set[tuple[dt.date, str]] = set()
    for item in parsed:
        p = item.payload
        if isinstance(p, wire.TicketStatePayload):
            keys.add((p.at.astimezone().date(), p.ticket_no))
        elif isinstance(p, wire.CaseDecidedPayload) and p.ticket_no:
            keys.add((p.decided_at.astimezone().date(), p.ticket_no))
    found: dict[tuple[dt.date, str], Ticket | None] = dict.fromkeys(keys)
    if keys:
        rows = s.scalars(
            select(Ticket).where(Ticket.hall_code == hall, tuple_(Ticket.date, Ticket.ticket_no).in_(keys))
        )
        for t in rows:
            found[(t.date, t.ticket_no)] = t
    return found


_Keyed = type[Case] | type[Rating] | type[Document]
_M = TypeVar("_M", Case, Rating, Document)


def _absent_keys(s: Session, parsed: Iterable[_Parsed]) -> dict[_Keyed, set[str]]:
    """The cases, ratings and documents the batch names that the database did not hold when it began.

    A lookup of a row that is not there costs a query each; most ops add a new case,
    rating or document, so the batch asks once per table instead.
    """
    wanted: dict[_Keyed, set[str]] = {Case: set(), Rating: set(), Document: set()}
    for item in parsed:
        p = item.payload
        if isinstance(p, wire.CaseDecidedPayload | wire.CasePickedUpPayload):
            wanted[Case].add(p.case_no)
        elif isinstance(p, wire.RatingPayload):
            wanted[Rating].add(p.case_no)
        elif isinstance(p, wire.DocumentPrintedPayload):
            wanted[Document].add(p.doc_id)
    columns = {Case: Case.case_no, Rating: Rating.case_no, Document: Document.doc_id}
    absent: dict[_Keyed, set[str]] = {}
    for model, keys in wanted.items():
        if keys:
            column = columns[model]
            absent[model] = keys - set(s.scalars(select(column).where(column.in_(keys))))
    return absent


def _keep_added(s: Session, instance: object) -> None:
    """Hold on to the cases, ratings and documents the batch adds, for ``_get``.

    The session's identity map holds rows weakly: a case added by one op is gone
    from it once nothing else refers to it, and a later op of the same batch (its
    pick-up) would then not find it.
    """
    if isinstance(instance, Case | Rating | Document):
        s.info[_ADDED][s.identity_key(instance=instance)] = instance


def _get(s: Session, model: type[_M], key: str) -> _M | None:
    absent: dict[_Keyed, set[str]] | None = s.info.get(_ABSENT)
    if absent is not None and key in absent.get(model, ()):
        # Not in the database when the batch began: only an earlier op of the batch can have
        # added it, and only if that op's savepoint was kept (a rolled-back one expunges it).
        found = s.info[_ADDED].get(s.identity_key(model, key))
        return found if isinstance(found, model) and found in s else None
    return s.get(model, key)


def _apply_one(
    sessions: sessionmaker[Session], who: Principal, op: wire.Op, now: dt.datetime
) -> wire.OpResult:
    op_id = str(op.op_id)
    item = _parse(op)
    with sessions() as s:
        seen = s.get(AppliedOp, op_id)
        if seen is not None:
            return wire.OpResult(op_id=op.op_id, status=wire.OpStatus.DUPLICATE, detail=seen.detail)
        status, detail = wire.OpStatus.APPLIED, ""
        if item.payload is None:
            status, detail = wire.OpStatus.REJECTED, item.invalid
        else:
            try:
                kept_conflict = APPLY[op.kind](s, who, item.payload, now)
                if kept_conflict:
                    status, detail = wire.OpStatus.CONFLICT, kept_conflict
            except Rejected as exc:
                s.rollback()
                status, detail = wire.OpStatus.REJECTED, str(exc)
            except Conflict as exc:
                s.rollback()
                status, detail = wire.OpStatus.CONFLICT, str(exc)
        s.add(
            AppliedOp(
                op_id=op_id,
                device_id=who.device_id,
                kind=op.kind.value,
                status=status.value,
                detail=detail,
                received_at=now,
            )
        )
        try:
            s.commit()
        except IntegrityError:
            # The same op arrived twice at once (a retry racing the original): the first one answers.
            s.rollback()
            seen = s.get(AppliedOp, op_id)
            assert seen is not None
            return wire.OpResult(op_id=op.op_id, status=wire.OpStatus.DUPLICATE, detail=seen.detail)
    if status is not wire.OpStatus.APPLIED:
        log.info("op %s from %s: %s", op_id, who.device_id, status.value)
    return wire.OpResult(op_id=op.op_id, status=status, detail=detail)


def _ticket(s: Session, hall: str, day: dt.date, ticket_no: str) -> Ticket | None:
    batch: dict[tuple[dt.date, str], Ticket | None] | None = s.info.get(_TICKETS)
    if batch is not None and (day, ticket_no) in batch:
        return batch[(day, ticket_no)]
    return s.scalar(
        select(Ticket).where(Ticket.hall_code == hall, Ticket.date == day, Ticket.ticket_no == ticket_no)
    )


def _ticket_state(s: Session, who: Principal, p: wire.TicketStatePayload, now: dt.datetime) -> str | None:
    day = p.at.astimezone().date()
    t = _ticket(s, who.hall_code, day, p.ticket_no)
    if t is None:
        raise Rejected(f"{day} 没有 {p.ticket_no} 号")
    if t.state == "done" and t.window_no not in (None, p.window_no) and p.state is not wire.TicketState.DONE:
        raise Conflict(f"{p.ticket_no} 号已由 {t.window_no} 号窗口办结，本窗口的叫号未生效")
    if (
        t.state in ("called", "serving")
        and t.window_no not in (None, p.window_no)
        and p.state
        in (
            wire.TicketState.CALLED,
            wire.TicketState.SERVING,
        )
    ):
        raise Conflict(f"{p.ticket_no} 号同时被 {t.window_no} 号窗口叫到，请与该窗口确认")
    kept_conflict = None
    t.state = p.state.value
    t.window_no = p.window_no
    if p.state is wire.TicketState.CALLED:
        if p.recalls == 0:
            t.called_at = p.at
        t.recalls = p.recalls
    elif p.state is wire.TicketState.PARKED:
        t.note = p.note
    elif p.state is wire.TicketState.TRANSFERRED:
        kept_conflict = _transfer(s, who, t, p)
    record_ticket(s, t)
    return kept_conflict


def _transfer(s: Session, who: Principal, t: Ticket, p: wire.TicketStatePayload) -> str | None:
    """转移: the ticket now waits for the target window (or, moved to another item, for any window)."""
    if p.to_item is not None:
        if s.get(CatalogItem, p.to_item) is None:
            raise Rejected(f"{p.ticket_no} 号转入的事项 {p.to_item} 不在事项目录中")
        t.item_code = p.to_item
    t.window_no = p.to_window
    t.note = p.note
    if p.to_window is None:
        return None
    target = s.get(Window, (who.hall_code, p.to_window))
    if target is None:
        raise Rejected(f"{p.ticket_no} 号转入的 {p.to_window} 号窗口不存在")
    # The counter's move is a fact; a target that closed meanwhile is for a person to sort out.
    if target.paused:
        return (
            f"{p.ticket_no} 号转入的 {p.to_window} 号窗口已暂停服务（{target.pause_reason}），请安排其他窗口"
        )
    return None


def _window_state(s: Session, who: Principal, p: wire.WindowStatePayload, now: dt.datetime) -> str | None:
    if p.window_no != who.window_no:
        raise Rejected(f"本机登录的是 {who.window_no} 号窗口，不能暂停或恢复 {p.window_no} 号窗口")
    window = s.get(Window, (who.hall_code, p.window_no))
    if window is None:
        raise Rejected(f"{p.window_no} 号窗口不存在")
    if window.paused_at is not None and window.paused_at > p.at:
        return None  # an older change arriving late must not undo a newer one
    window.paused = p.paused
    window.pause_reason = p.reason if p.paused else ""
    window.paused_at = p.at
    return None


def _case_picked_up(s: Session, who: Principal, p: wire.CasePickedUpPayload, now: dt.datetime) -> str | None:
    case = _get(s, Case, p.case_no)
    if case is None or case.hall_code != who.hall_code:
        raise Rejected(f"办件 {p.case_no} 不在大厅 {who.hall_code} 的记录中")
    if case.picked_up_at is not None:
        raise Conflict(f"办件 {p.case_no} 的结果已于 {case.picked_up_at:%Y-%m-%d %H:%M} 领取过")
    case.picked_up_at = p.picked_up_at
    case.picked_up_by = p.picked_up_by
    return None


def _case_decided(s: Session, who: Principal, p: wire.CaseDecidedPayload, now: dt.datetime) -> str | None:
    if not p.case_no.startswith(f"{who.hall_code}-"):
        raise Rejected(f"办件编号 {p.case_no} 不属于大厅 {who.hall_code}")
    if _get(s, Case, p.case_no) is not None:
        raise Conflict(f"办件编号 {p.case_no} 已被另一次上传使用")
    served_twice = ""
    if p.booking_code:
        earlier = s.scalar(
            select(Case)
            .where(
                Case.hall_code == who.hall_code,
                Case.booking_code == p.booking_code,
                Case.decision != "correct",
            )
            .limit(1)
        )
        if earlier is not None and p.decision is not wire.Decision.CORRECT:
            served_twice = f"预约 {p.booking_code} 已由 {earlier.window_no} 号窗口办理（{earlier.case_no}）"
    # The decision is a fact made at the counter: it is kept even when it collides,
    # and the collision is reported so a person sorts it out.
    s.add(
        Case(
            case_no=p.case_no,
            hall_code=who.hall_code,
            window_no=p.window_no,
            booking_code=p.booking_code,
            ticket_no=p.ticket_no,
            item_code=p.item_code,
            decision=p.decision.value,
            decided_at=p.decided_at,
            body=p.model_dump(mode="json"),
            device_id=who.device_id,
        )
    )
    cancelled = ""
    if p.booking_code:
        b = s.get(Booking, p.booking_code)
        # Only this hall's bookings: a mistyped code must not mark another hall's citizen served.
        if b is not None and b.hall_code == who.hall_code:
            if b.status == "cancelled":
                # Cancelled online while the counter was offline: the decision stands, a person checks.
                cancelled = f"预约 {p.booking_code} 已在网上取消，但窗口仍作出了办理决定（{p.case_no}）"
            elif b.status != "served" and p.decision is not wire.Decision.CORRECT:
                b.status = "served"
                record_booking(s, b)
    if p.ticket_no:
        t = _ticket(s, who.hall_code, p.decided_at.astimezone().date(), p.ticket_no)
        if t is not None and t.state != "done":
            t.state = "done"
            t.window_no = p.window_no
            record_ticket(s, t)
    return "；".join(x for x in (served_twice, cancelled) if x) or None


def _rating_given(s: Session, who: Principal, p: wire.RatingPayload, now: dt.datetime) -> str | None:
    if not p.case_no.startswith(f"{who.hall_code}-"):
        # Ratings are keyed by case number: another hall's rating would block the real one.
        raise Rejected(f"办件编号 {p.case_no} 不属于大厅 {who.hall_code}")
    if _get(s, Rating, p.case_no) is not None:
        raise Conflict(f"办件 {p.case_no} 已有评价，一次服务只能评价一次")
    from hallclient import ratings
    from hallserver.models import FollowUp

    # The counter flags a burst from its own history; the server checks again with what it
    # holds for that window, and flags the whole run so the supervisor sees it together.
    earlier = s.scalars(
        select(Rating)
        .where(
            Rating.hall_code == who.hall_code,
            Rating.window_no == p.window_no,
            Rating.rated_at <= p.rated_at,
        )
        .order_by(Rating.rated_at.desc(), Rating.case_no.desc())
        .limit(ratings.BURST_RUN - 1)
    ).all()[::-1]
    history = [ratings.RatedService(wire.RatingLevel(r.level), r.decided_at, r.rated_at) for r in earlier]
    burst = ratings.is_burst([*history, ratings.RatedService(p.level, p.decided_at, p.rated_at)])
    if burst:
        for r in earlier:
            r.burst = True
    s.add(
        Rating(
            case_no=p.case_no,
            hall_code=who.hall_code,
            window_no=p.window_no,
            level=p.level.value,
            reasons=p.reasons,
            comment=p.comment,
            decided_at=p.decided_at,
            rated_at=p.rated_at,
            burst=p.burst or burst,
        )
    )
    if ratings.needs_follow_up(p.level):
        s.flush()  # the rating first: the follow-up refers to it
        s.add(
            FollowUp(
                case_no=p.case_no,
                hall_code=who.hall_code,
                window_no=p.window_no,
                level=p.level.value,
                due_date=p.follow_up_due,
                status="open",
                created_at=now,
                outcome="",
            )
        )
    return None


def _document_printed(
    s: Session, who: Principal, p: wire.DocumentPrintedPayload, now: dt.datetime
) -> str | None:
    existing = _get(s, Document, p.doc_id)
    if existing is not None:
        if existing.fields != p.fields or existing.signature != p.signature:
            raise Conflict(f"文书 {p.doc_id} 已登记，内容不同")
        existing.reprint_no = max(existing.reprint_no, p.reprint_no)
        return None
    s.add(
        Document(
            doc_id=p.doc_id,
            case_no=p.case_no,
            kind=p.kind,
            sha256=p.sha256,
            fields=p.fields,
            signature=p.signature,
            printed_at=p.printed_at,
            reprint_no=p.reprint_no,
        )
    )
    return None


PAYLOADS: dict[wire.OpKind, type[wire.WireModel]] = {
    wire.OpKind.TICKET_STATE: wire.TicketStatePayload,
    wire.OpKind.CASE_DECIDED: wire.CaseDecidedPayload,
    wire.OpKind.RATING_GIVEN: wire.RatingPayload,
    wire.OpKind.DOCUMENT_PRINTED: wire.DocumentPrintedPayload,
    wire.OpKind.WINDOW_STATE: wire.WindowStatePayload,
    wire.OpKind.CASE_PICKED_UP: wire.CasePickedUpPayload,
}

APPLY: dict[wire.OpKind, Applier] = {
    wire.OpKind.TICKET_STATE: _ticket_state,
    wire.OpKind.CASE_DECIDED: _case_decided,
    wire.OpKind.RATING_GIVEN: _rating_given,
    wire.OpKind.DOCUMENT_PRINTED: _document_printed,
    wire.OpKind.WINDOW_STATE: _window_state,
    wire.OpKind.CASE_PICKED_UP: _case_picked_up,
}
