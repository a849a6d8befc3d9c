"""The FastAPI application: the wire contract's endpoints under /api/v1."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import (
    __version__,
    licenses,
    queue,
    reuse,
    security,
    supervision,
    sync_ops,
    verify_page,
    visits,
)
from hallserver.admin import router as admin_router
from hallserver.changes import booking_to_wire
from hallserver.db import session_factory
from hallserver.department import router as department_router
from hallserver.deps import Clock, Db, Now, Who
from hallserver.errors import ApiError, install_error_handlers
from hallserver.limits import BodySizeLimit
from hallserver.models import Booking, Case, CatalogItem, ChangeLog, Rating
from hallserver.uploads import router as uploads_router

MAX_CURSOR = 2**63 - 1  # change_log.seq is a signed 64-bit integer


def create_app(engine: Engine, *, clock: Clock = security.utcnow) -> FastAPI:
    app = FastAPI(
        title="hallserver",
        version=__version__,
        description="政务服务大厅窗口客户端的参考平台服务端（预约、预审、事项目录、叫号、同步、评价、文书验证）",
    )
    app.state.sessions = session_factory(engine)
    app.state.clock = clock
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit)
    app.include_router(_router(), prefix=wire.API_PREFIX)
    app.include_router(supervision.router, prefix=wire.API_PREFIX)
    app.include_router(admin_router, prefix=wire.API_PREFIX)
    app.include_router(uploads_router(), prefix=wire.API_PREFIX)
    app.include_router(department_router())
    return app


OPENAPI_FILE = FilePath(__file__).with_name("openapi.json")


def openapi_document() -> str:
    """The API's OpenAPI document as committed in hallserver/openapi.json (``make openapi``)."""
    from sqlalchemy import create_engine

    app = create_app(create_engine("sqlite://"))  # never connected: only the routes matter
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def _today(now: dt.datetime) -> dt.date:
    # The hall's day is the server's local calendar day.
    return now.astimezone().date()


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": wire.ErrorBody} for code in (401, 403, 404, 409, 422, 423, 500, 503)
}


def _router() -> APIRouter:
    r = APIRouter(responses=ERRORS)

    @r.get("/health", response_model=wire.HealthResponse)
    def health(db: Db, now: Now) -> wire.HealthResponse:
        with db() as s:
            s.execute(select(1))
        return wire.HealthResponse(status="ok", version=__version__, time=now)

    @r.post("/auth/login", response_model=wire.LoginResponse)
    def login(req: wire.LoginRequest, db: Db, now: Now) -> wire.LoginResponse:
        with db() as s:
            return security.login(s, req, now)

    @r.post("/auth/logout", response_model=wire.HealthResponse)
    def logout(
        db: Db, now: Now, authorization: Annotated[str | None, Header()] = None
    ) -> wire.HealthResponse:
        with db() as s:
            who, token = security.authenticate(s, authorization, now)
            security.logout(s, who, token)
        return wire.HealthResponse(status="logged_out", version=__version__, time=now)

    @r.get("/catalog", response_model=wire.CatalogResponse)
    def catalog(db: Db, who: Who) -> wire.CatalogResponse:
        with db() as s:
            bodies = [row.body for row in s.scalars(select(CatalogItem).order_by(CatalogItem.code))]
            bundles = visits.bundles(s)
        return wire.CatalogResponse(
            items=[wire.ServiceItem.model_validate(b) for b in bodies], bundles=bundles
        )

    @r.get("/bookings", response_model=wire.BookingsResponse)
    def bookings(db: Db, who: Who, date: dt.date) -> wire.BookingsResponse:
        with db() as s:
            rows = s.scalars(
                select(Booking)
                .where(Booking.hall_code == who.hall_code, Booking.date == date)
                .order_by(Booking.slot, Booking.code)
            ).all()
            return wire.BookingsResponse(bookings=[booking_to_wire(b) for b in rows])

    @r.post("/queue/call-next", response_model=wire.CallNextResponse)
    def call_next(
        req: wire.CallNextRequest, request: Request, db: Db, who: Who, now: Now
    ) -> wire.CallNextResponse:
        if req.window_no != who.window_no:
            raise ApiError(
                403,
                "wrong_window",
                f"本机登录的是 {who.window_no} 号窗口，不能为 {req.window_no} 号窗口叫号",
                "window_no",
            )
        with db() as s:
            ticket = queue.call_next(s, who, _today(now), now)
            answer = wire.CallNextResponse(ticket=queue.ticket_wire(s, ticket) if ticket else None)
        if ticket is not None:
            visits.kick_notices(request.app.state)  # SMS sent later, never holding up the call
        return answer

    @r.post("/queue/walk-in", response_model=wire.Ticket)
    def walk_in(req: wire.WalkInRequest, db: Db, who: Who, now: Now) -> wire.Ticket:
        with db() as s:
            return queue.ticket_wire(s, queue.walk_in(s, who, req.item_code, _today(now), now, req))

    @r.get("/windows", response_model=wire.WindowsResponse)
    def windows(db: Db, who: Who, now: Now) -> wire.WindowsResponse:
        """The hall's windows: which are staffed now and which paused, for 转移 at the counter."""
        with db() as s:
            return queue.windows(s, who.hall_code, now)

    @r.post("/sync/push", response_model=wire.PushResponse)
    def push(req: wire.PushRequest, db: Db, who: Who, now: Now) -> wire.PushResponse:
        return sync_ops.push(db, who, req, now)

    @r.get(
        "/sync/pull",
        response_model=None,
        response_class=Response,
        responses={200: {"model": wire.PullResponse, "description": "Changes after the cursor"}},
    )
    def pull(
        db: Db,
        who: Who,
        cursor: Annotated[int, Query(ge=0, le=MAX_CURSOR)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    ) -> Response:
        with db() as s:
            rows = s.execute(
                select(ChangeLog.seq, ChangeLog.entity, ChangeLog.key, ChangeLog.data)
                .where(
                    ChangeLog.seq > cursor,
                    (ChangeLog.hall_code == who.hall_code) | ChangeLog.hall_code.is_(None),
                )
                .order_by(ChangeLog.seq)
                .limit(limit + 1)
            ).all()
            page = rows[:limit]
            # Skipped sequence numbers belong to other halls: the cursor may jump over them.
            next_cursor = page[-1].seq if page else _latest_seq(s, cursor)
        # The hottest endpoint (every window, every few seconds, hundreds of changes):
        # the rows were validated when written, so they are serialised directly instead
        # of being rebuilt as models and validated twice more. The shape is PullResponse's.
        body = {
            "changes": [{"seq": c.seq, "entity": c.entity, "key": c.key, "data": c.data} for c in page],
            "next_cursor": next_cursor,
            "has_more": len(rows) > limit,
        }
        return Response(
            json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json"
        )

    @r.get("/verify/{doc_id}", response_class=HTMLResponse, include_in_schema=True)
    def verify(
        doc_id: Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$")],
        db: Db,
        sig: Annotated[str, Query(alias="s", pattern=r"^[0-9A-Za-z_-]{0,128}$")] = "",
    ) -> HTMLResponse:
        with db() as s:
            status, html = verify_page.render(s, doc_id, sig)
        return HTMLResponse(html, status_code=status)

    @r.get("/stats", response_model=wire.StatsResponse)
    def stats(
        db: Db,
        who: Who,
        date_from: Annotated[dt.date, Query(alias="from")],
        date_to: Annotated[dt.date, Query(alias="to")],
        window: int | None = None,
    ) -> wire.StatsResponse:
        # Ratings are for supervisors: the clerk being rated must not see them (好差评 rules).
        if who.role not in ("supervisor", "admin"):
            raise ApiError(403, "forbidden", "统计数据（含评价）仅限大厅负责人或管理员查看")
        if date_to < date_from:
            raise ApiError(422, "invalid_request", "统计区间的结束日期早于开始日期", "to")
        with db() as s:
            return _stats(s, who.hall_code, date_from, date_to, window)

    # 电子证照: only for the applicant the calling window is serving (hallserver/licenses.py).
    r.include_router(licenses.router())
    # 复用既往材料: the same rule, for materials the applicant handed in for earlier cases.
    r.include_router(reuse.router())
    # Priority, waiting estimates and SMS notices of a visit (hallserver/visits.py).
    r.include_router(visits.router())
    return r


def _latest_seq(s: Session, cursor: int) -> int:
    latest = s.scalar(select(func.max(ChangeLog.seq)))
    return max(cursor, latest or 0)


def _stats(s: Session, hall: str, start: dt.date, end: dt.date, window: int | None) -> wire.StatsResponse:
    lo = dt.datetime.combine(start, dt.time.min).astimezone()
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).astimezone()
    cases = select(Case.decision, func.count()).where(
        Case.hall_code == hall, Case.decided_at >= lo, Case.decided_at < hi
    )
    ratings = select(Rating.level, func.count()).where(
        Rating.hall_code == hall, Rating.rated_at >= lo, Rating.rated_at < hi
    )
    if window is not None:
        cases = cases.where(Case.window_no == window)
        ratings = ratings.where(Rating.window_no == window)
    decisions = {str(k): int(v) for k, v in s.execute(cases.group_by(Case.decision)).tuples()}
    levels = {str(k): int(v) for k, v in s.execute(ratings.group_by(Rating.level)).tuples()}
    return wire.StatsResponse(
        hall_code=hall, date_from=start, date_to=end, window_no=window, decisions=decisions, ratings=levels
    )
