"""Captured materials arriving from the counters, and cases forwarded to their back office.

A counter uploads each material's PDF in chunks (``PUT /uploads/{id}`` announces
it, ``PUT /uploads/{id}/chunks/{offset}`` appends, ``POST /uploads/{id}/complete``
assembles it). Every chunk is committed before it is acknowledged, so a counter
killed or cut off mid-file asks ``GET /uploads/{id}`` where to go on and never
sends a byte twice; the assembled file is kept only if its SHA-256 is the one
announced. ``POST /back-office/forward`` then routes the accepted case, with its
materials, to the queue of the department that decides its item (事项的实施部门).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from hallclient import wire
from hallserver import security
from hallserver.changes import record_change
from hallserver.deps import Db, Now, Who
from hallserver.errors import ApiError
from hallserver.models import (
    BackOfficeCase,
    Case,
    CaseEvent,
    CaseMaterial,
    CatalogItem,
    Clerk,
    Upload,
    UploadChunk,
)
from hallserver.reuse import attach_reused

# A chunk per request: well under the body limit, small enough to resend cheaply after a drop.
MAX_CHUNK_BYTES = 1024 * 1024
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": wire.ErrorBody} for code in (401, 403, 404, 409, 413, 422)
}
UploadId = Annotated[uuid.UUID, Path()]


def status_of(u: Upload) -> wire.UploadStatus:
    return wire.UploadStatus(
        upload_id=uuid.UUID(u.upload_id),
        received=u.received,
        size=u.size,
        sha256=u.sha256,
        complete=u.complete,
    )


def _own_upload(s: Session, who: security.Principal, upload_id: uuid.UUID) -> Upload:
    u = s.get(Upload, str(upload_id))
    if u is None or u.hall_code != who.hall_code:
        raise ApiError(404, "unknown_upload", f"没有编号为 {upload_id} 的上传")
    return u


def _check_case_no(who: security.Principal, case_no: str) -> None:
    if not case_no.startswith(f"{who.hall_code}-"):
        raise ApiError(403, "other_hall", f"办件 {case_no} 不属于大厅 {who.hall_code}", "case_no")


def announce(
    s: Session, who: security.Principal, upload_id: uuid.UUID, req: wire.UploadCreateRequest, now: dt.datetime
) -> wire.UploadStatus:
    _check_case_no(who, req.case_no)
    u = s.get(Upload, str(upload_id))
    if u is not None:
        if u.hall_code != who.hall_code:
            raise ApiError(404, "unknown_upload", f"没有编号为 {upload_id} 的上传")
        same = (u.case_no, u.material_code, u.sha256, u.size) == (
            req.case_no,
            req.material_code,
            req.sha256,
            req.size,
        )
        if not same:
            raise ApiError(409, "upload_differs", f"上传 {upload_id} 已登记为另一份文件")
        return status_of(u)
    u = Upload(
        upload_id=str(upload_id),
        hall_code=who.hall_code,
        device_id=who.device_id,
        case_no=req.case_no,
        material_code=req.material_code,
        material_name=req.material_name,
        sha256=req.sha256,
        size=req.size,
        pages=req.pages,
        received=0,
        complete=False,
        created_at=now,
    )
    s.add(u)
    s.commit()
    return status_of(u)


def append_chunk(
    s: Session, who: security.Principal, upload_id: uuid.UUID, offset: int, data: bytes
) -> wire.UploadStatus:
    u = _own_upload(s, who, upload_id)
    if u.complete:
        return status_of(u)
    end = offset + len(data)
    if not data:
        raise ApiError(422, "empty_chunk", "上传的分块是空的")
    if end > u.size:
        raise ApiError(422, "beyond_size", f"分块超出了登记的文件大小（{u.size} 字节）", "offset")
    if end <= u.received:
        # The answer to this chunk was lost and the counter sent it again: already here.
        return status_of(u)
    if offset != u.received:
        raise ApiError(
            409,
            "offset_mismatch",
            f"服务器已收到 {u.received} 字节，分块应从这里开始，而不是 {offset}",
            "offset",
        )
    s.add(UploadChunk(upload_id=u.upload_id, offset=offset, data=data))
    u.received = end
    s.commit()
    return status_of(u)


def complete(
    s: Session, who: security.Principal, upload_id: uuid.UUID, now: dt.datetime
) -> wire.UploadStatus:
    u = _own_upload(s, who, upload_id)
    if u.complete:
        return status_of(u)
    if u.received != u.size:
        raise ApiError(409, "incomplete", f"只收到 {u.received} / {u.size} 字节，文件还没有传完")
    chunks = s.scalars(
        select(UploadChunk).where(UploadChunk.upload_id == u.upload_id).order_by(UploadChunk.offset)
    ).all()
    content = b"".join(c.data for c in chunks)
    digest = hashlib.sha256(content).hexdigest()
    if len(content) != u.size or digest != u.sha256:
        # Start over: a damaged file must never reach the back office.
        s.execute(delete(UploadChunk).where(UploadChunk.upload_id == u.upload_id))
        u.received = 0
        s.commit()
        raise ApiError(
            422,
            "hash_mismatch",
            f"收到的文件校验值 {digest[:16]}… 与登记的 {u.sha256[:16]}… 不一致，已作废，请重新上传",
            "sha256",
        )
    material = s.get(CaseMaterial, (u.case_no, u.material_code))
    if material is None:
        material = CaseMaterial(case_no=u.case_no, material_code=u.material_code)
        s.add(material)
    material.name = u.material_name
    material.upload_id = u.upload_id
    material.sha256 = u.sha256
    material.size = u.size
    material.pages = u.pages
    material.content = content
    material.received_at = now
    s.execute(delete(UploadChunk).where(UploadChunk.upload_id == u.upload_id))
    u.complete = True
    u.completed_at = now
    s.commit()
    return status_of(u)


# -- routing to the back office ----------------------------------------------------------------


def department_of(s: Session, item_code: str) -> str:
    item = s.get(CatalogItem, item_code)
    return str(item.body.get("department", "")) if item is not None else ""


def add_event(
    s: Session, case_no: str, kind: wire.TimelineKind, at: dt.datetime, actor: str = "", note: str = ""
) -> None:
    s.add(CaseEvent(case_no=case_no, kind=kind.value, at=at, actor=actor, note=note))


def back_office_status(b: BackOfficeCase) -> wire.BackOfficeStatus:
    return wire.BackOfficeStatus(
        case_no=b.case_no,
        department=b.department,
        state=wire.BackOfficeState(b.state),
        forwarded_at=b.forwarded_at,
        decided_at=b.decided_at,
        reasons=[str(r) for r in b.reasons or []],
        remark=b.remark,
        result_sha256=b.result_sha256,
        ready_for_pickup=b.state != wire.BackOfficeState.FORWARDED.value,
    )


def publish_status(s: Session, b: BackOfficeCase) -> None:
    """The counters learn of the case's progress through /sync/pull."""
    record_change(
        s,
        wire.ChangeEntity.CASE_STATUS,
        b.case_no,
        back_office_status(b).model_dump(mode="json"),
        b.hall_code,
    )


def forward(
    s: Session, who: security.Principal, req: wire.ForwardRequest, now: dt.datetime
) -> wire.BackOfficeStatus:
    _check_case_no(who, req.case_no)
    case = s.get(Case, req.case_no)
    if case is None:
        # The counter's case op has not arrived yet (it travels through /sync/push): try again later.
        raise ApiError(409, "case_not_synced", f"服务器还没有收到办件 {req.case_no}，稍后再转", "case_no")
    if case.hall_code != who.hall_code:
        raise ApiError(403, "other_hall", f"办件 {req.case_no} 不属于大厅 {who.hall_code}", "case_no")
    if case.decision != wire.Decision.ACCEPT.value:
        raise ApiError(
            422, "not_accepted", f"办件 {req.case_no} 没有受理（{case.decision}），无须转后台", "case_no"
        )
    for m in req.materials:
        u = s.get(Upload, str(m.upload_id))
        if u is None or u.case_no != req.case_no or u.material_code != m.material_code or not u.complete:
            raise ApiError(409, "material_missing", f"材料 {m.material_code} 还没有完整上传", "materials")
    department = department_of(s, case.item_code)
    if not department:
        raise ApiError(422, "no_department", f"事项 {case.item_code} 没有登记实施部门", "case_no")
    b = s.get(BackOfficeCase, req.case_no)
    if b is None:
        # Materials the citizen agreed to re-use from an earlier case travel like captured ones.
        reused = attach_reused(s, case, now)
        b = BackOfficeCase(
            case_no=case.case_no,
            hall_code=case.hall_code,
            item_code=case.item_code,
            department=department,
            state=wire.BackOfficeState.FORWARDED.value,
            forwarded_at=now,
            reasons=[],
            remark="",
            result_sha256="",
        )
        s.add(b)
        clerk = s.get(Clerk, who.clerk_id)
        at_window = f"{case.window_no} 号窗口"
        add_event(s, case.case_no, wire.TimelineKind.ACCEPTED, case.decided_at, at_window)
        add_event(
            s,
            case.case_no,
            wire.TimelineKind.FORWARDED,
            now,
            clerk.name if clerk else at_window,
            f"{department}（{len(req.materials) + reused} 份材料）",
        )
        publish_status(s, b)
    s.commit()
    return back_office_status(b)


def timeline(s: Session, case_no: str) -> wire.CaseTimeline:
    """The case's history; the picked-up step comes from the counter's 出件 op on the case itself."""
    case = s.get(Case, case_no)
    b = s.get(BackOfficeCase, case_no)
    events = [
        wire.TimelineEvent(kind=wire.TimelineKind(e.kind), at=e.at, actor=e.actor, note=e.note)
        for e in s.scalars(
            select(CaseEvent).where(CaseEvent.case_no == case_no).order_by(CaseEvent.at, CaseEvent.id)
        )
    ]
    if case is not None:
        if not any(e.kind is wire.TimelineKind.ACCEPTED for e in events) and case.decision == "accept":
            events.insert(
                0,
                wire.TimelineEvent(
                    kind=wire.TimelineKind.ACCEPTED, at=case.decided_at, actor=f"{case.window_no} 号窗口"
                ),
            )
        if case.picked_up_at is not None:
            events.append(
                wire.TimelineEvent(
                    kind=wire.TimelineKind.PICKED_UP, at=case.picked_up_at, actor=case.picked_up_by or ""
                )
            )
    return wire.CaseTimeline(
        case_no=case_no,
        item_code=case.item_code if case else (b.item_code if b else ""),
        department=b.department if b else "",
        events=events,
    )


def _run(db: sessionmaker[Session], fn, *args):  # type: ignore[no-untyped-def]
    with db() as s:
        return fn(s, *args)


def router() -> APIRouter:
    r = APIRouter(responses=ERRORS)

    @r.put("/uploads/{upload_id}", response_model=wire.UploadStatus)
    def announce_upload(
        upload_id: UploadId, req: wire.UploadCreateRequest, db: Db, who: Who, now: Now
    ) -> wire.UploadStatus:
        with db() as s:
            return announce(s, who, upload_id, req, now)

    @r.get("/uploads/{upload_id}", response_model=wire.UploadStatus)
    def upload_status(upload_id: UploadId, db: Db, who: Who) -> wire.UploadStatus:
        with db() as s:
            return status_of(_own_upload(s, who, upload_id))

    @r.put(
        "/uploads/{upload_id}/chunks/{offset}",
        response_model=wire.UploadStatus,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def upload_chunk(
        upload_id: UploadId,
        offset: Annotated[int, Path(ge=0, le=wire.MAX_UPLOAD_BYTES)],
        request: Request,
        db: Db,
        who: Who,
    ) -> wire.UploadStatus:
        data = b""
        async for part in request.stream():
            data += part
            if len(data) > MAX_CHUNK_BYTES:
                raise ApiError(413, "chunk_too_large", f"分块超过 {MAX_CHUNK_BYTES // 1024} KB 上限")
        result: wire.UploadStatus = await run_in_threadpool(
            _run, db, append_chunk, who, upload_id, offset, data
        )
        return result

    @r.post("/uploads/{upload_id}/complete", response_model=wire.UploadStatus)
    def complete_upload(upload_id: UploadId, db: Db, who: Who, now: Now) -> wire.UploadStatus:
        with db() as s:
            return complete(s, who, upload_id, now)

    @r.post("/back-office/forward", response_model=wire.BackOfficeStatus)
    def forward_case(req: wire.ForwardRequest, db: Db, who: Who, now: Now) -> wire.BackOfficeStatus:
        with db() as s:
            return forward(s, who, req, now)

    @r.get("/cases/{case_no}/timeline", response_model=wire.CaseTimeline)
    def case_timeline(
        case_no: Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,48}$")], db: Db, who: Who
    ) -> wire.CaseTimeline:
        _check_case_no(who, case_no)
        with db() as s:
            return timeline(s, case_no)

    @r.get(
        "/back-office/cases/{case_no}/result",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}, "description": "The result paper"}},
    )
    def result_paper(
        case_no: Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,48}$")], db: Db, who: Who
    ) -> Response:
        _check_case_no(who, case_no)
        with db() as s:
            b = s.get(BackOfficeCase, case_no)
            if b is None or b.hall_code != who.hall_code or b.result_pdf is None:
                raise ApiError(404, "no_result", f"办件 {case_no} 还没有结果文书")
            return Response(b.result_pdf, media_type="application/pdf")

    return r
