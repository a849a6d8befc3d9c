"""Endpoints of a citizen's visit beyond the call itself: priority, waiting estimate, notices, bundles.

- ``POST /queue/priority``: 绿色通道, a clerk marks a waiting ticket (reason kept, never shown).
- ``GET /queue/estimate``: the estimated wait, for a ticket or for a number taken now.
- ``GET /notices``: the hall's SMS notices, phones masked (supervisor/admin: failures are theirs to see).
- ``POST /notices/result-ready``: a case's result can be collected; the applicant gets an SMS.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import notices, queue, waits
from hallserver.deps import Db, Now, Who
from hallserver.errors import ApiError
from hallserver.models import Case, CatalogBundle, CatalogItem, Notice


def bundles(s: Session) -> list[wire.Bundle]:
    return [
        wire.Bundle.model_validate(row.body)
        for row in s.scalars(select(CatalogBundle).order_by(CatalogBundle.code))
    ]


def kick_notices(app_state: Any) -> None:
    """Deliver what was just recorded, on the dispatcher's thread (the caller's answer does not wait)."""
    notices.dispatcher_of(app_state).kick()


def router() -> APIRouter:
    r = APIRouter()

    @r.post("/queue/priority", response_model=wire.Ticket)
    def priority(req: wire.PriorityRequest, db: Db, who: Who, now: Now) -> wire.Ticket:
        """Mark a waiting ticket elderly, disabled, service member or pregnant (or back to ordinary)."""
        with db() as s:
            t = queue.mark_priority(s, who, req, now.astimezone().date(), now)
            return queue.ticket_wire(s, t)

    @r.get("/queue/estimate", response_model=wire.WaitEstimate)
    def estimate(
        db: Db,
        who: Who,
        now: Now,
        ticket_no: Annotated[str | None, Query(max_length=16, pattern=r"^[0-9A-Za-z-]{1,16}$")] = None,
    ) -> wire.WaitEstimate:
        with db() as s:
            return waits.wait_estimate(s, who.hall_code, now.astimezone().date(), now, ticket_no=ticket_no)

    @r.get("/notices", response_model=wire.NoticesResponse)
    def list_notices(
        db: Db,
        who: Who,
        status: wire.NoticeStatus | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> wire.NoticesResponse:
        if who.role not in ("supervisor", "admin"):
            raise ApiError(403, "forbidden", "短信通知记录仅限大厅负责人或管理员查看")
        with db() as s:
            q = select(Notice).where(Notice.hall_code == who.hall_code)
            if status is not None:
                q = q.where(Notice.status == status.value)
            rows = s.scalars(q.order_by(Notice.id.desc()).limit(limit)).all()
            return wire.NoticesResponse(notices=[notices.to_wire(n) for n in rows])

    @r.post("/notices/result-ready", response_model=wire.NoticeInfo)
    def result_ready(
        req: wire.ResultReadyRequest, request: Request, db: Db, who: Who, now: Now
    ) -> wire.NoticeInfo:
        with db() as s:
            case = s.get(Case, req.case_no)
            if case is None or case.hall_code != who.hall_code:
                raise ApiError(404, "unknown_case", f"办件 {req.case_no} 不在本大厅的记录中", "case_no")
            if case.decision != wire.Decision.ACCEPT.value:
                raise ApiError(409, "no_result", f"办件 {req.case_no} 没有受理，没有待领取的结果", "case_no")
            if case.picked_up_at is not None:
                raise ApiError(409, "picked_up", f"办件 {req.case_no} 的结果已领取", "case_no")
            item = s.get(CatalogItem, case.item_code)
            name = str(item.body.get("name", "")) if item is not None else ""
            notices.result_ready(s, case, now, name)
            s.commit()
            n = s.scalar(
                select(Notice).where(
                    Notice.hall_code == who.hall_code,
                    Notice.kind == wire.NoticeKind.RESULT_READY.value,
                    Notice.ref == case.case_no,
                )
            )
            if n is None:
                raise ApiError(
                    409, "no_phone", f"办件 {req.case_no} 没有申请人的手机号，无法发送短信", "case_no"
                )
            info = notices.to_wire(n)
        kick_notices(request.app.state)
        return info

    return r
