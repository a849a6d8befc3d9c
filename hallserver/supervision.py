"""The supervisor's endpoints (大厅负责人, supervisor or admin role): figures, warnings, 整改, bursts.

Everything is scoped to the caller's hall. Ratings are for supervisors only (好差评
rules: the clerk being rated must not see them), so every endpoint here refuses a
clerk with 403. The figures are defined in :mod:`hallserver.stats`.

- ``GET  /supervision/figures``: by hall / window / clerk / item, per day / week / month or in total
- ``GET  /supervision/overdue``, ``GET /supervision/corrections``: 超时预警 and 补正预警, as of today
- ``GET  /supervision/follow-ups``; ``POST …/{case_no}/assign | result | close``
- ``GET  /supervision/bursts``; ``POST …/{case_no}/review``
- ``GET  /supervision/staff``: who a follow-up can be assigned to, and who has a second factor
- ``GET  /supervision/export``: ratings, figures or follow-ups as CSV or xlsx, no citizen identity
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response
from fastapi import Path as PathParam
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import export, security, stats
from hallserver.deps import Db, Now
from hallserver.errors import ApiError
from hallserver.models import BurstReview, Case, Clerk, FollowUp, FollowUpEvent, Rating

MAX_RANGE_DAYS = 400  # a year and a bit: enough for a yearly report, bounded for the server
CASE_NO = r"^[0-9A-Za-z_-]{1,48}$"


def _supervisor(
    db: Db, now: Now, authorization: Annotated[str | None, Header()] = None
) -> security.Principal:
    with db() as s:
        who = security.authenticate(s, authorization, now)[0]
    if who.role not in ("supervisor", "admin"):
        raise ApiError(403, "forbidden", "监管数据（含评价）仅限大厅负责人或管理员查看")
    return who


Supervisor = Annotated[security.Principal, Depends(_supervisor)]
DateFrom = Annotated[dt.date, Query(alias="from", description="First day (the hall's local calendar)")]
DateTo = Annotated[dt.date, Query(alias="to", description="Last day, inclusive")]
OptFrom = Annotated[dt.date | None, Query(alias="from", description="First day, if any")]
OptTo = Annotated[dt.date | None, Query(alias="to", description="Last day, inclusive, if any")]
WindowQ = Annotated[int | None, Query(ge=1, le=999)]
ItemQ = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z_-]+$")]
ClerkQ = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
CaseNo = Annotated[str, PathParam(pattern=CASE_NO)]

ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": wire.ErrorBody} for code in (401, 403, 404, 409, 422)
}


def today_of(now: dt.datetime) -> dt.date:
    """The hall's day: the server's local calendar day (as everywhere on the server)."""
    return now.astimezone().date()


def _check_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise ApiError(422, "invalid_request", "统计区间的结束日期早于开始日期", "to")
    if (end - start).days >= MAX_RANGE_DAYS:
        raise ApiError(422, "invalid_request", f"统计区间最长 {MAX_RANGE_DAYS} 天，请缩短区间", "to")


router = APIRouter(prefix="/supervision", tags=["supervision"], responses=ERRORS)


# -- figures and warnings ----------------------------------------------------------------


@router.get("/figures", response_model=wire.FiguresResponse)
def figures(
    db: Db,
    who: Supervisor,
    now: Now,
    date_from: DateFrom,
    date_to: DateTo,
    by: wire.FigureGroup = wire.FigureGroup.HALL,
    period: wire.FigurePeriod = wire.FigurePeriod.TOTAL,
    window: WindowQ = None,
    item: ItemQ = None,
    clerk: ClerkQ = None,
) -> wire.FiguresResponse:
    """办结率, 好评率, 整改率, waiting times … grouped and per period (definitions: docs/supervision.md)."""
    _check_range(date_from, date_to)
    with db() as s:
        return stats.figures(
            s,
            who.hall_code,
            date_from,
            date_to,
            today=today_of(now),
            by=by,
            period=period,
            filters=stats.Filters(window, item, clerk),
        )


@router.get("/overdue", response_model=wire.WarningsResponse)
def overdue(
    db: Db,
    who: Supervisor,
    now: Now,
    window: WindowQ = None,
    item: ItemQ = None,
    horizon: Annotated[int, Query(ge=0, le=30, description="Warn this many working days ahead")] = (
        stats.DEFAULT_HORIZON_DAYS
    ),
) -> wire.WarningsResponse:
    """超时预警: accepted cases past or near their promised date whose result is not handed over."""
    today = today_of(now)
    with db() as s:
        found = stats.overdue_warnings(
            s, who.hall_code, today, horizon_days=horizon, filters=stats.Filters(window, item)
        )
    return wire.WarningsResponse(as_of=today, warnings=found)


@router.get("/corrections", response_model=wire.WarningsResponse)
def corrections(
    db: Db, who: Supervisor, now: Now, window: WindowQ = None, item: ItemQ = None
) -> wire.WarningsResponse:
    """补正预警: corrections the citizen has not come back with; those past their deadline first."""
    today = today_of(now)
    with db() as s:
        found = stats.correction_warnings(s, who.hall_code, today, filters=stats.Filters(window, item))
    return wire.WarningsResponse(as_of=today, warnings=found)


@router.get("/staff", response_model=wire.StaffResponse)
def staff(db: Db, who: Supervisor, response: Response) -> wire.StaffResponse:
    """The hall's accounts, for assigning follow-ups, filtering by clerk and the admin's 动态口令 tab."""
    # Who still signs in with a password alone is security information: not for shared caches.
    response.headers["Cache-Control"] = "no-store"
    with db() as s:
        rows = s.scalars(select(Clerk).where(Clerk.hall_code == who.hall_code).order_by(Clerk.staff_no)).all()
        return wire.StaffResponse(
            staff=[
                wire.StaffMember(
                    id=c.id,
                    name=c.name,
                    staff_no=c.staff_no,
                    role=c.role,
                    disabled=c.disabled,
                    totp_enrolled_at=c.totp_enrolled_at,
                )
                for c in rows
            ]
        )


# -- follow-ups (整改) ------------------------------------------------------------------------


def _follow_up_infos(
    s: Session, hall: str, today: dt.date, rows: list[tuple[FollowUp, Rating]]
) -> list[wire.FollowUpInfo]:
    clerks = stats.clerk_names(s, hall)
    items = stats.item_names(s)
    case_nos = [f.case_no for f, _ in rows]
    cases: dict[str, tuple[str, int | None]] = {}
    events: dict[str, list[FollowUpEvent]] = {}
    if case_nos:
        cases = {
            no: (item, clerk)
            for no, item, clerk in s.execute(
                select(Case.case_no, Case.item_code, Case.body["clerk_id"].as_integer()).where(
                    Case.case_no.in_(case_nos)
                )
            ).tuples()
        }
        for e in s.scalars(
            select(FollowUpEvent)
            .where(FollowUpEvent.case_no.in_(case_nos))
            .order_by(FollowUpEvent.at, FollowUpEvent.id)
        ):
            events.setdefault(e.case_no, []).append(e)
    out: list[wire.FollowUpInfo] = []
    for f, r in rows:
        item, served_by = cases.get(f.case_no, ("", None))
        history = events.get(f.case_no, [])
        assigned = [e for e in history if e.action == "assign"]
        last = assigned[-1] if assigned else None
        out.append(
            wire.FollowUpInfo(
                case_no=f.case_no,
                window_no=f.window_no,
                item_code=item,
                item_name=items.get(item, ""),
                clerk_name=clerks.get(served_by, "") if served_by is not None else "",
                level=wire.RatingLevel(f.level),
                reasons=[str(x) for x in (r.reasons or [])],
                comment=r.comment or "",
                rated_at=r.rated_at,
                due_date=f.due_date,
                status=f.status,
                overdue=stats.follow_up_overdue(f.status, f.due_date, today),
                assignee_id=last.assignee_id if last else None,
                assignee_name=clerks.get(last.assignee_id, "") if last and last.assignee_id else "",
                assigned_at=last.at if last else None,
                result=f.outcome,
                closed_at=f.closed_at,
                history=[
                    wire.FollowUpStep(
                        action=e.action,
                        at=e.at,
                        by_name=clerks.get(e.actor_id, ""),
                        assignee_name=clerks.get(e.assignee_id, "") if e.assignee_id else "",
                        text=e.text,
                    )
                    for e in history
                ],
            )
        )
    return out


def list_follow_ups(
    s: Session,
    hall: str,
    today: dt.date,
    *,
    status: wire.FollowUpFilter = wire.FollowUpFilter.OPEN,
    start: dt.date | None = None,
    end: dt.date | None = None,
    window: int | None = None,
) -> list[wire.FollowUpInfo]:
    """The hall's follow-ups, most urgent first (earliest due date; none last), by rating day."""
    q = (
        select(FollowUp, Rating)
        .join(Rating, Rating.case_no == FollowUp.case_no)
        .where(FollowUp.hall_code == hall)
    )
    if status is wire.FollowUpFilter.CLOSED:
        q = q.where(FollowUp.status == "closed")
    elif status is not wire.FollowUpFilter.ALL:
        q = q.where(FollowUp.status != "closed")
        if status is wire.FollowUpFilter.OVERDUE:
            q = q.where(FollowUp.due_date < today)
    if start is not None:
        q = q.where(Rating.rated_at >= stats.day_bounds(start, start)[0])
    if end is not None:
        q = q.where(Rating.rated_at < stats.day_bounds(end, end)[1])
    if window is not None:
        q = q.where(FollowUp.window_no == window)
    rows = [(f, r) for f, r in s.execute(q).tuples()]
    rows.sort(key=lambda fr: (fr[0].due_date is None, fr[0].due_date or dt.date.max, fr[1].rated_at))
    return _follow_up_infos(s, hall, today, rows)


@router.get("/follow-ups", response_model=wire.FollowUpsResponse)
def follow_ups(
    db: Db,
    who: Supervisor,
    now: Now,
    status: wire.FollowUpFilter = wire.FollowUpFilter.OPEN,
    date_from: OptFrom = None,
    date_to: OptTo = None,
    window: WindowQ = None,
) -> wire.FollowUpsResponse:
    """整改 follow-ups opened by 不满意/非常不满意 ratings: open (default), overdue, closed or all."""
    if date_from is not None and date_to is not None and date_to < date_from:
        raise ApiError(422, "invalid_request", "结束日期早于开始日期", "to")
    today = today_of(now)
    with db() as s:
        found = list_follow_ups(
            s, who.hall_code, today, status=status, start=date_from, end=date_to, window=window
        )
    return wire.FollowUpsResponse(as_of=today, follow_ups=found)


def _open_follow_up(s: Session, hall: str, case_no: str) -> FollowUp:
    f = s.get(FollowUp, case_no)
    if f is None or f.hall_code != hall:
        raise ApiError(404, "not_found", f"没有办件 {case_no} 的整改任务")
    if f.status == "closed":
        raise ApiError(409, "closed", f"办件 {case_no} 的整改任务已关闭，不能再修改")
    return f


def _one(s: Session, hall: str, today: dt.date, case_no: str) -> wire.FollowUpInfo:
    row = s.execute(
        select(FollowUp, Rating)
        .join(Rating, Rating.case_no == FollowUp.case_no)
        .where(FollowUp.case_no == case_no)
    ).one()
    return _follow_up_infos(s, hall, today, [(row[0], row[1])])[0]


@router.post("/follow-ups/{case_no}/assign", response_model=wire.FollowUpInfo)
def assign_follow_up(
    case_no: CaseNo, req: wire.AssignFollowUpRequest, db: Db, who: Supervisor, now: Now
) -> wire.FollowUpInfo:
    """Give the follow-up to a member of the hall's staff (again: the latest assignment counts)."""
    with db() as s:
        _open_follow_up(s, who.hall_code, case_no)
        assignee = s.get(Clerk, req.assignee_id)
        if assignee is None or assignee.hall_code != who.hall_code:
            raise ApiError(404, "unknown_clerk", "本大厅没有这个工作人员", "assignee_id")
        if assignee.disabled:
            raise ApiError(
                409, "account_disabled", f"{assignee.name} 的账号已停用，不能接收整改任务", "assignee_id"
            )
        s.add(
            FollowUpEvent(
                case_no=case_no,
                action="assign",
                actor_id=who.clerk_id,
                assignee_id=assignee.id,
                text=req.note,
                at=now,
            )
        )
        s.commit()
        return _one(s, who.hall_code, today_of(now), case_no)


@router.post("/follow-ups/{case_no}/result", response_model=wire.FollowUpInfo)
def follow_up_result(
    case_no: CaseNo, req: wire.FollowUpResultRequest, db: Db, who: Supervisor, now: Now
) -> wire.FollowUpInfo:
    """Write (or rewrite) what the hall did about the rating: the 整改 result."""
    text = req.result.strip()
    if not text:
        raise ApiError(422, "invalid_request", "整改结果不能为空", "result")
    with db() as s:
        f = _open_follow_up(s, who.hall_code, case_no)
        f.outcome = text
        s.add(FollowUpEvent(case_no=case_no, action="result", actor_id=who.clerk_id, text=text, at=now))
        s.commit()
        return _one(s, who.hall_code, today_of(now), case_no)


@router.post("/follow-ups/{case_no}/close", response_model=wire.FollowUpInfo)
def close_follow_up(
    case_no: CaseNo, req: wire.CloseFollowUpRequest, db: Db, who: Supervisor, now: Now
) -> wire.FollowUpInfo:
    """Close the follow-up; only once its result is written (a closed task says what was done)."""
    with db() as s:
        f = _open_follow_up(s, who.hall_code, case_no)
        if not f.outcome.strip():
            raise ApiError(409, "no_result", "请先填写整改结果，再关闭整改任务", "result")
        f.status = "closed"
        f.closed_at = now
        s.add(FollowUpEvent(case_no=case_no, action="close", actor_id=who.clerk_id, text=req.note, at=now))
        s.commit()
        return _one(s, who.hall_code, today_of(now), case_no)


# -- bursts ---------------------------------------------------------------------------------


def _bursts(
    s: Session,
    hall: str,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    window: int | None = None,
    unreviewed: bool = False,
    case_no: str | None = None,
) -> list[wire.BurstRating]:
    q = (
        select(Rating, Case.item_code, Case.body["clerk_id"].as_integer(), BurstReview)
        .outerjoin(Case, Case.case_no == Rating.case_no)
        .outerjoin(BurstReview, BurstReview.case_no == Rating.case_no)
        .where(Rating.hall_code == hall, Rating.burst.is_(True))
        .order_by(Rating.window_no, Rating.rated_at, Rating.case_no)
    )
    if start is not None:
        q = q.where(Rating.rated_at >= stats.day_bounds(start, start)[0])
    if end is not None:
        q = q.where(Rating.rated_at < stats.day_bounds(end, end)[1])
    if window is not None:
        q = q.where(Rating.window_no == window)
    if unreviewed:
        q = q.where(BurstReview.case_no.is_(None))
    if case_no is not None:
        q = q.where(Rating.case_no == case_no)
    clerks = stats.clerk_names(s, hall)
    items = stats.item_names(s)
    out = []
    for r, item, clerk, review in s.execute(q).tuples():
        out.append(
            wire.BurstRating(
                case_no=r.case_no,
                window_no=r.window_no,
                item_code=item or "",
                item_name=items.get(item, "") if item else "",
                clerk_name=clerks.get(clerk, "") if clerk is not None else "",
                level=wire.RatingLevel(r.level),
                decided_at=r.decided_at,
                rated_at=r.rated_at,
                seconds_after=max(0.0, (r.rated_at - r.decided_at).total_seconds()),
                review=(
                    wire.BurstReviewInfo(
                        verdict=wire.BurstVerdict(review.verdict),
                        note=review.note,
                        reviewer_name=clerks.get(review.reviewer_id, ""),
                        reviewed_at=review.reviewed_at,
                    )
                    if review is not None
                    else None
                ),
            )
        )
    return out


@router.get("/bursts", response_model=wire.BurstsResponse)
def bursts(
    db: Db,
    who: Supervisor,
    date_from: OptFrom = None,
    date_to: OptTo = None,
    window: WindowQ = None,
    unreviewed: Annotated[bool, Query(description="Only those no one has reviewed yet")] = False,
) -> wire.BurstsResponse:
    """Ratings flagged as part of a burst (identical, seconds after the decision), to review."""
    with db() as s:
        found = _bursts(s, who.hall_code, start=date_from, end=date_to, window=window, unreviewed=unreviewed)
    return wire.BurstsResponse(bursts=found)


@router.post("/bursts/{case_no}/review", response_model=wire.BurstRating)
def review_burst(
    case_no: CaseNo, req: wire.BurstReviewRequest, db: Db, who: Supervisor, now: Now
) -> wire.BurstRating:
    """Record the verdict on one flagged rating (a later review replaces an earlier one).

    The rating itself is never changed or dropped: the verdict sits beside it.
    """
    with db() as s:
        r = s.get(Rating, case_no)
        if r is None or r.hall_code != who.hall_code or not r.burst:
            raise ApiError(404, "not_found", f"办件 {case_no} 没有被标记为集中评价的评价")
        review = s.get(BurstReview, case_no)
        if review is None:
            review = BurstReview(case_no=case_no)
            s.add(review)
        review.verdict = req.verdict.value
        review.note = req.note
        review.reviewer_id = who.clerk_id
        review.reviewed_at = now
        s.commit()
        return _bursts(s, who.hall_code, case_no=case_no)[0]


# -- export ---------------------------------------------------------------------------------

MEDIA_TYPES = {
    wire.ExportFormat.CSV: "text/csv; charset=utf-8",
    wire.ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _render(table: export.Table, fmt: wire.ExportFormat) -> tuple[bytes, int]:
    if fmt is wire.ExportFormat.CSV:
        text = io.StringIO(newline="")
        n = export.write_csv(table, text)
        return ("\ufeff" + text.getvalue()).encode("utf-8"), n  # the BOM Excel needs
    with tempfile.TemporaryDirectory(prefix="hallserver-export-") as tmp:
        path = Path(tmp) / "export.xlsx"
        n = export.write_xlsx(table, path)
        return path.read_bytes(), n


@router.get("/export", response_model=wire.ExportFile)
def export_file(
    db: Db,
    who: Supervisor,
    now: Now,
    what: wire.ExportWhat,
    date_from: DateFrom,
    date_to: DateTo,
    format: wire.ExportFormat = wire.ExportFormat.CSV,
    by: wire.FigureGroup = wire.FigureGroup.WINDOW,
    period: wire.FigurePeriod = wire.FigurePeriod.TOTAL,
    window: WindowQ = None,
    item: ItemQ = None,
) -> wire.ExportFile:
    """A spreadsheet of this hall's ratings, figures or follow-ups; never any citizen identity."""
    _check_range(date_from, date_to)
    today = today_of(now)
    with db() as s:
        if what is wire.ExportWhat.RATINGS:
            table = export.ratings_table(s, date_from, date_to, who.hall_code, window=window, item=item)
        elif what is wire.ExportWhat.FOLLOW_UPS:
            table = export.follow_ups_table(
                list_follow_ups(
                    s,
                    who.hall_code,
                    today,
                    status=wire.FollowUpFilter.ALL,
                    start=date_from,
                    end=date_to,
                    window=window,
                )
            )
        else:
            table = export.figures_table(
                stats.figures(
                    s,
                    who.hall_code,
                    date_from,
                    date_to,
                    today=today,
                    by=by,
                    period=period,
                    filters=stats.Filters(window, item),
                )
            )
        content, n = _render(table, format)
    name = f"{who.hall_code}-{what.value}-{date_from:%Y%m%d}-{date_to:%Y%m%d}.{format.value}"
    return wire.ExportFile(
        filename=name,
        media_type=MEDIA_TYPES[format],
        rows=n,
        content_base64=base64.b64encode(content).decode("ascii"),
    )
