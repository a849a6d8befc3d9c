"""The back office's page (后台分类审批): a department's queue, the materials, the decision.

Server-rendered HTML under ``/dept/``, not a mode of the desktop client: the
department's staff sit in their own bureau on ordinary office PCs, with no
document camera, no citizen screen, no counter printer and no counter install;
a browser and one address is all they need, and a PDF opens where they already
read PDFs. Signed in with a ``department`` account (its department is in
``department_staff``); the session is an ordinary bearer token kept in an
HttpOnly, SameSite=Strict cookie, so another site can neither read it nor post
with it.

Deciding records approved / not approved with reasons, and the result paper
(准予许可决定书 or the like, a PDF); the case's timeline gets ``decided`` and
``ready``, and a ``case_status`` change tells the counter through /sync/pull
that the result waits there for pick-up (出件).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import security
from hallserver.deps import Db, Now
from hallserver.errors import ApiError
from hallserver.models import (
    AuthToken,
    BackOfficeCase,
    Case,
    CaseMaterial,
    CatalogItem,
    Clerk,
    DepartmentStaff,
    Hall,
)
from hallserver.reuse import reused_label
from hallserver.uploads import add_event, publish_status

ROLE = "department"
COOKIE = "hall_dept"
DEVICE = "department-web"
CaseNo = Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,48}$")]


class DecisionError(Exception):
    """The decision cannot be recorded; the message says why, for the page."""


@dataclass(frozen=True)
class Staff:
    clerk_id: int
    name: str
    hall_code: str
    department: str


def add_department_staff(
    s: Session, *, hall_code: str, username: str, name: str, staff_no: str, password: str, department: str
) -> Clerk:
    """A back-office account for one department of the hall (what ``clerk add`` is for the counters)."""
    clerk = new_department_account(
        s,
        hall_code=hall_code,
        username=username,
        name=name,
        staff_no=staff_no,
        password_hash=security.hash_password(password),
        department=department,
    )
    s.commit()
    return clerk


def new_department_account(
    s: Session,
    *,
    hall_code: str,
    username: str,
    name: str,
    staff_no: str,
    password_hash: str,
    department: str,
) -> Clerk:
    """The account and its department, in the caller's transaction (the demo seed adds several)."""
    clerk = Clerk(
        hall_code=hall_code,
        username=username,
        name=name,
        staff_no=staff_no,
        role=ROLE,
        password_hash=password_hash,
    )
    s.add(clerk)
    s.flush()
    s.add(DepartmentStaff(clerk_id=clerk.id, department=department))
    return clerk


# -- what the page does, without HTTP -----------------------------------------------------------


def sign_in(
    s: Session,
    hall_code: str,
    username: str,
    factors: security.Factors,
    now: dt.datetime,
) -> str:
    """A session token for a department account, or DecisionError with the reason in words.

    The same factors, lockout and login log as a counter's sign-in: a back-office
    account decides cases and opens citizens' materials, so one factor is never enough
    where the hall requires two (等保 level 3 identification).
    """
    attempt = security.Attempt()
    try:
        token = _sign_in(s, hall_code, username, factors, now, attempt)
    except ApiError as exc:
        s.rollback()  # the failure count is committed already
        security.log_attempt(s, hall_code, 0, DEVICE, now, attempt, exc.code)
        s.commit()
        raise DecisionError(exc.message) from None
    security.log_attempt(s, hall_code, 0, DEVICE, now, attempt, "ok")
    s.commit()
    return token


def _sign_in(
    s: Session,
    hall_code: str,
    username: str,
    factors: security.Factors,
    now: dt.datetime,
    attempt: security.Attempt,
) -> str:
    hall = s.get(Hall, hall_code)
    clerk = s.scalar(select(Clerk).where(Clerk.hall_code == hall_code, Clerk.username == username))
    if hall is None or clerk is None:
        # Same answer as a wrong password: do not tell a stranger which halls or accounts exist.
        raise ApiError(401, "bad_credentials", security.BAD_CREDENTIALS, "password")
    security.verify_factors(s, hall, clerk, factors, now, attempt)
    if clerk.role != ROLE or s.get(DepartmentStaff, clerk.id) is None:
        raise ApiError(403, "not_department", "该账号不是后台审批账号", None)
    token = secrets.token_urlsafe(32)
    s.add(
        AuthToken(
            token_hash=security.token_digest(token),
            clerk_id=clerk.id,
            hall_code=hall_code,
            window_no=0,
            device_id=DEVICE,
            expires_at=now + security.TOKEN_LIFETIME,
        )
    )
    return token


def staff_of(s: Session, token: str | None, now: dt.datetime) -> Staff | None:
    if not token:
        return None
    row = s.get(AuthToken, security.token_digest(token))
    if row is None or row.revoked or row.expires_at <= now or row.device_id != DEVICE:
        return None
    clerk = s.get(Clerk, row.clerk_id)
    member = s.get(DepartmentStaff, row.clerk_id)
    if clerk is None or clerk.disabled or clerk.role != ROLE or member is None:
        return None
    return Staff(clerk.id, clerk.name, clerk.hall_code, member.department)


def queue(s: Session, staff: Staff, *, decided: bool) -> list[BackOfficeCase]:
    query = select(BackOfficeCase).where(
        BackOfficeCase.hall_code == staff.hall_code, BackOfficeCase.department == staff.department
    )
    if decided:
        query = query.where(BackOfficeCase.state != wire.BackOfficeState.FORWARDED.value).order_by(
            BackOfficeCase.decided_at.desc()
        )
    else:
        query = query.where(BackOfficeCase.state == wire.BackOfficeState.FORWARDED.value).order_by(
            BackOfficeCase.forwarded_at
        )
    return list(s.scalars(query).all())


def own_case(s: Session, staff: Staff, case_no: str) -> BackOfficeCase:
    b = s.get(BackOfficeCase, case_no)
    if b is None or b.hall_code != staff.hall_code or b.department != staff.department:
        raise DecisionError(f"办件 {case_no} 不在{staff.department}的审批队列中")
    return b


def decide(
    s: Session,
    staff: Staff,
    case_no: str,
    *,
    approved: bool,
    reasons: Sequence[str],
    remark: str,
    result_pdf: bytes | None,
    now: dt.datetime,
) -> wire.BackOfficeStatus:
    b = own_case(s, staff, case_no)
    if b.state != wire.BackOfficeState.FORWARDED.value:
        raise DecisionError(f"办件 {case_no} 已于 {_local(b.decided_at)} 审批过")
    reasons = [r.strip() for r in reasons if r.strip()]
    if not approved and not reasons:
        raise DecisionError("不予许可必须写明理由")
    if approved and not result_pdf:
        raise DecisionError("准予许可须上传结果文书（PDF）")
    if result_pdf is not None and not result_pdf.startswith(b"%PDF-"):
        raise DecisionError("结果文书必须是 PDF 文件")
    b.state = (wire.BackOfficeState.APPROVED if approved else wire.BackOfficeState.NOT_APPROVED).value
    b.decided_at = now
    b.decided_by = staff.clerk_id
    b.reasons = list(reasons)
    b.remark = remark.strip()
    b.result_pdf = result_pdf or None
    b.result_sha256 = hashlib.sha256(result_pdf).hexdigest() if result_pdf else ""
    verdict = "准予许可" if approved else "不予许可：" + "；".join(reasons)
    add_event(s, case_no, wire.TimelineKind.DECIDED, now, f"{staff.department} {staff.name}", verdict)
    add_event(s, case_no, wire.TimelineKind.READY, now, staff.department, "结果送回受理窗口待取件")
    publish_status(s, b)
    s.commit()
    from hallserver.uploads import back_office_status

    return back_office_status(b)


# -- the page -----------------------------------------------------------------------------------

_STATES = {"forwarded": "待审批", "approved": "准予许可", "not_approved": "不予许可"}
_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","Droid Sans Fallback",sans-serif;margin:0;
 background:#f4f6f8;color:#1b1f23;font-size:16px}
header{background:#0b4f8a;color:#fff;padding:12px 24px;display:flex;justify-content:space-between;align-items:center}
header a,header button{color:#fff}
main{padding:16px 24px;max-width:1100px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d0d7de;padding:8px;text-align:left;vertical-align:top}
th{background:#eaeef2}
.error{background:#ffebe9;border:1px solid #cf222e;padding:8px;margin:8px 0}
.ok{background:#dafbe1;border:1px solid #1a7f37;padding:8px;margin:8px 0}
fieldset{background:#fff;border:1px solid #d0d7de;margin:12px 0}
textarea{width:100%;min-height:5em;font-size:16px}
button{font-size:16px;padding:6px 16px}
nav a{margin-right:16px}
"""


def _local(t: dt.datetime | None) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M") if t else ""


def _page(title: str, body: str, staff: Staff | None = None) -> str:
    e = html.escape
    who = ""
    if staff is not None:
        who = (
            f'<span id="who">{e(staff.department)} · {e(staff.name)}</span> '
            '<form method="post" action="/dept/logout" style="display:inline">'
            '<button type="submit" id="logout">退出</button></form>'
        )
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>"
        f"<header><strong>后台审批 · {e(title)}</strong><div>{who}</div></header>"
        f"<main>{body}</main></body></html>"
    )


def _login_page(error: str = "", hall_code: str = "") -> str:
    e = html.escape
    err = f'<p class="error" id="error">{e(error)}</p>' if error else ""
    return _page(
        "登录",
        f"{err}<form method='post' action='/dept/login'>"
        f"<p><label>大厅编码 <input name='hall_code' id='hall_code' value='{e(hall_code)}' required></label></p>"
        "<p><label>用户名 <input name='username' id='username' required autocomplete='username'></label></p>"
        "<p><label>密码 <input name='password' id='password' type='password' required"
        " autocomplete='current-password'></label></p>"
        "<p><label>动态口令 <input name='totp_code' id='totp_code' inputmode='numeric'"
        " autocomplete='one-time-code' maxlength='8' placeholder='6 位数字'></label></p>"
        "<details><summary>手机不在身边？用备用码登录</summary>"
        "<p><label>备用码 <input name='recovery_code' id='recovery_code' autocomplete='off'"
        " placeholder='xxxx-xxxx-xxxx'></label></p></details>"
        "<p><button type='submit' id='sign-in'>登录</button></p></form>",
    )


def _item_name(s: Session, code: str) -> str:
    item = s.get(CatalogItem, code)
    return str(item.body.get("name", code)) if item else code


def _queue_page(s: Session, staff: Staff, decided: bool) -> str:
    e = html.escape
    rows = []
    for b in queue(s, staff, decided=decided):
        case = s.get(Case, b.case_no)
        promised = str(case.body.get("promised_date") or "") if case else ""
        count = len(
            s.scalars(select(CaseMaterial.material_code).where(CaseMaterial.case_no == b.case_no)).all()
        )
        rows.append(
            f"<tr><td><a class='case' href='/dept/cases/{quote(b.case_no)}'>{e(b.case_no)}</a></td>"
            f"<td>{e(_item_name(s, b.item_code))}</td><td>{_local(b.forwarded_at)}</td>"
            f"<td>{e(promised)}</td><td>{count}</td><td>{e(_STATES.get(b.state, b.state))}</td></tr>"
        )
    table = (
        "<table id='queue'><tr><th>办件编号</th><th>事项</th><th>转入时间</th><th>承诺办结</th>"
        "<th>材料</th><th>状态</th></tr>" + "".join(rows) + "</table>"
        if rows
        else "<p id='empty'>没有办件。</p>"
    )
    nav = "<nav><a href='/dept/' id='pending'>待审批</a><a href='/dept/?decided=1' id='decided'>已审批</a></nav>"
    return _page("已审批" if decided else "待审批", nav + table, staff)


def _reused_note(case: Case | None, material_code: str) -> str:
    label = reused_label(case, material_code)
    return f" <span class='reused'>{html.escape(label)}</span>" if label else ""


def _case_page(s: Session, staff: Staff, b: BackOfficeCase, message: str = "", error: str = "") -> str:
    e = html.escape
    case = s.get(Case, b.case_no)
    body = case.body if case else {}
    applicant = body.get("applicant", {}) if isinstance(body, dict) else {}
    materials = s.scalars(
        select(CaseMaterial).where(CaseMaterial.case_no == b.case_no).order_by(CaseMaterial.material_code)
    ).all()
    hall = s.get(Hall, b.hall_code)
    parts = []
    if message:
        parts.append(f"<p class='ok' id='message'>{e(message)}</p>")
    if error:
        parts.append(f"<p class='error' id='error'>{e(error)}</p>")
    parts.append(
        "<table id='facts'>"
        f"<tr><th>办件编号</th><td id='case-no'>{e(b.case_no)}</td></tr>"
        f"<tr><th>事项</th><td>{e(_item_name(s, b.item_code))}（{e(b.item_code)}）</td></tr>"
        f"<tr><th>受理窗口</th><td>{e(hall.name if hall else b.hall_code)} {case.window_no if case else ''} 号窗口，"
        f"{_local(case.decided_at if case else None)}</td></tr>"
        f"<tr><th>申请人</th><td>{e(str(applicant.get('name', '')))}　{e(str(applicant.get('id_number', '')))}"
        f"　{e(str(applicant.get('phone', '')))}</td></tr>"
        f"<tr><th>承诺办结</th><td>{e(str(body.get('promised_date') or ''))}</td></tr>"
        f"<tr><th>状态</th><td id='state'>{e(_STATES.get(b.state, b.state))}</td></tr></table>"
    )
    items = "".join(
        f"<tr><td>{e(m.material_code)}</td><td><a class='material' target='_blank' "
        f"href='/dept/cases/{quote(b.case_no)}/materials/{quote(m.material_code)}'>{e(m.name or m.material_code)}</a>"
        f"{_reused_note(case, m.material_code)}</td><td>{m.pages}</td><td>{m.size // 1024} KB</td><td><code>{m.sha256[:16]}…</code> 已校验</td></tr>"
        for m in materials
    )
    parts.append(
        "<h3>材料</h3><table id='materials'><tr><th>编码</th><th>材料</th><th>页数</th><th>大小</th>"
        "<th>SHA-256</th></tr>" + (items or "<tr><td colspan='5'>窗口没有采集材料</td></tr>") + "</table>"
    )
    if b.state == wire.BackOfficeState.FORWARDED.value:
        parts.append(
            f"<form method='post' action='/dept/cases/{quote(b.case_no)}/decision' enctype='multipart/form-data'"
            " id='decision-form'><fieldset><legend>审批决定</legend>"
            "<p><label><input type='radio' name='verdict' value='approved' id='approve' required> 准予许可</label>"
            "　<label><input type='radio' name='verdict' value='not_approved' id='not-approve'> 不予许可</label></p>"
            "<p><label>不予许可的理由（每行一条）<textarea name='reasons' id='reasons'></textarea></label></p>"
            "<p><label>备注 <textarea name='remark' id='remark'></textarea></label></p>"
            "<p><label>结果文书（PDF，准予许可时必传） <input type='file' name='result' id='result'"
            " accept='application/pdf'></label></p>"
            "<p><button type='submit' id='submit'>提交审批决定</button></p></fieldset></form>"
        )
    else:
        reasons = "".join(f"<li>{e(str(r))}</li>" for r in b.reasons or [])
        result = (
            f"<a id='result-paper' href='/dept/cases/{quote(b.case_no)}/result'>结果文书</a>"
            if b.result_pdf
            else ""
        )
        parts.append(
            f"<h3>审批决定</h3><p id='verdict'>{e(_STATES.get(b.state, b.state))}，{_local(b.decided_at)}</p>"
            f"<ul id='reasons-given'>{reasons}</ul><p>{e(b.remark)}</p><p>{result}</p>"
        )
    parts.append("<p><a href='/dept/' id='back'>返回待审批</a></p>")
    return _page(f"办件 {b.case_no}", "".join(parts), staff)


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """name -> (file name, bytes) of a multipart/form-data body (the standard library's MIME parser)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, tuple[str, bytes]] = {}
    if not message.is_multipart():
        return fields
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = (part.get_filename() or "", payload if isinstance(payload, bytes) else b"")
    return fields


def _same_origin(request: Request) -> bool:
    """A form posted from another site is refused (the cookie is SameSite=Strict as well)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.split("://", 1)[-1] == request.headers.get("host", "")


def router() -> APIRouter:
    r = APIRouter(prefix="/dept", include_in_schema=False)

    def _staff(request: Request, s: Session, now: dt.datetime) -> Staff | None:
        return staff_of(s, request.cookies.get(COOKIE), now)

    def _to_login() -> RedirectResponse:
        return RedirectResponse("/dept/login", status_code=303)

    @r.get("/login", response_class=HTMLResponse)
    def login_form() -> HTMLResponse:
        return HTMLResponse(_login_page())

    @r.post("/login", response_class=HTMLResponse)
    async def login(request: Request, db: Db, now: Now) -> Response:
        if not _same_origin(request):
            return HTMLResponse(_login_page("请从本系统的登录页登录"), status_code=403)
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        hall, user = form.get("hall_code", ""), form.get("username", "")
        factors = security.Factors(
            password=form.get("password", ""),
            totp_code=form.get("totp_code") or None,
            recovery_code=form.get("recovery_code") or None,
        )

        def work() -> str:
            with db() as s:
                return sign_in(s, hall, user, factors, now)

        try:
            token = await run_in_threadpool(work)
        except DecisionError as exc:
            return HTMLResponse(_login_page(str(exc), hall), status_code=401)
        resp = RedirectResponse("/dept/", status_code=303)
        resp.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path="/dept",
            max_age=int(security.TOKEN_LIFETIME.total_seconds()),
            secure=request.url.scheme == "https",
        )
        return resp

    @r.post("/logout")
    def logout(request: Request, db: Db) -> Response:
        token = request.cookies.get(COOKIE)
        if token:
            with db() as s:
                row = s.get(AuthToken, security.token_digest(token))
                if row is not None:
                    row.revoked = True
                    s.commit()
        resp = _to_login()
        resp.delete_cookie(COOKIE, path="/dept")
        return resp

    @r.get("/", response_class=HTMLResponse)
    def index(request: Request, db: Db, now: Now, decided: int = 0) -> Response:
        with db() as s:
            staff = _staff(request, s, now)
            if staff is None:
                return _to_login()
            return HTMLResponse(_queue_page(s, staff, bool(decided)))

    @r.get("/cases/{case_no}", response_class=HTMLResponse)
    def case_page(case_no: CaseNo, request: Request, db: Db, now: Now, done: int = 0) -> Response:
        with db() as s:
            staff = _staff(request, s, now)
            if staff is None:
                return _to_login()
            try:
                b = own_case(s, staff, case_no)
            except DecisionError as exc:
                return HTMLResponse(
                    _page("未找到", f"<p class='error'>{html.escape(str(exc))}</p>", staff), 404
                )
            return HTMLResponse(
                _case_page(s, staff, b, "审批决定已提交，结果已送回受理窗口待取件" if done else "")
            )

    @r.get("/cases/{case_no}/materials/{code}")
    def material(
        case_no: CaseNo,
        code: Annotated[str, Path(pattern=r"^[0-9A-Za-z_.-]{1,64}$")],
        request: Request,
        db: Db,
        now: Now,
    ) -> Response:
        with db() as s:
            staff = _staff(request, s, now)
            if staff is None:
                return _to_login()
            try:
                own_case(s, staff, case_no)
            except DecisionError as exc:
                return HTMLResponse(_page("未找到", html.escape(str(exc)), staff), 404)
            m = s.get(CaseMaterial, (case_no, code))
            if m is None:
                return HTMLResponse(_page("未找到", "没有这份材料", staff), 404)
            return Response(
                m.content,
                media_type="application/pdf",
                headers={
                    "Content-Disposition": f"inline; filename={quote(case_no)}-{quote(code)}.pdf",
                    "Cache-Control": "no-store",
                },
            )

    @r.get("/cases/{case_no}/result")
    def result(case_no: CaseNo, request: Request, db: Db, now: Now) -> Response:
        with db() as s:
            staff = _staff(request, s, now)
            if staff is None:
                return _to_login()
            try:
                b = own_case(s, staff, case_no)
            except DecisionError as exc:
                return HTMLResponse(_page("未找到", html.escape(str(exc)), staff), 404)
            if b.result_pdf is None:
                return HTMLResponse(_page("未找到", "没有结果文书", staff), 404)
            return Response(b.result_pdf, media_type="application/pdf", headers={"Cache-Control": "no-store"})

    @r.post("/cases/{case_no}/decision", response_class=HTMLResponse)
    async def decision(case_no: CaseNo, request: Request, db: Db, now: Now) -> Response:
        if not _same_origin(request):
            return HTMLResponse(_page("拒绝", "请从本系统的页面提交"), status_code=403)
        content_type, body = request.headers.get("content-type", ""), await request.body()
        if content_type.startswith("application/x-www-form-urlencoded"):
            fields = {k: ("", v[0].encode()) for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        else:
            fields = _multipart(content_type, body)

        def text(name: str) -> str:
            return fields.get(name, ("", b""))[1].decode("utf-8", "replace")

        verdict = text("verdict")
        upload = fields.get("result", ("", b""))[1]

        def work() -> Response:
            with db() as s:
                staff = _staff(request, s, now)
                if staff is None:
                    return _to_login()
                try:
                    own_case(s, staff, case_no)
                    if verdict not in ("approved", "not_approved"):
                        raise DecisionError("请选择准予许可或不予许可")
                    decide(
                        s,
                        staff,
                        case_no,
                        approved=verdict == "approved",
                        reasons=text("reasons").splitlines(),
                        remark=text("remark"),
                        result_pdf=upload or None,
                        now=now,
                    )
                except DecisionError as exc:
                    s.rollback()
                    again = s.get(BackOfficeCase, case_no)
                    if (
                        again is None
                        or again.department != staff.department
                        or again.hall_code != staff.hall_code
                    ):
                        return HTMLResponse(_page("未找到", html.escape(str(exc)), staff), 404)
                    return HTMLResponse(_case_page(s, staff, again, error=str(exc)), status_code=422)
            return RedirectResponse(f"/dept/cases/{quote(case_no)}?done=1", status_code=303)

        return await run_in_threadpool(work)

    return r
