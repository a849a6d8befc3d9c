"""复用既往材料: materials the served applicant handed in for an earlier case, offered again.

A material of a catalog item may be re-used for ``reuse_days`` after the earlier
case was decided (0: never, e.g. application forms). Like the e-license registry,
only the window serving the applicant now may look (``licenses.refusal``), every
look is logged in the license access log with purpose ``reuse``, and only the
facts leave the server: the file stays here and travels with the new case to its
department when the case is forwarded (``attach_reused``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import security
from hallserver.deps import Db, Now, Who
from hallserver.errors import ApiError
from hallserver.licenses import HolderId, TicketNo, refusal
from hallserver.models import Case, CaseMaterial, CatalogItem, LicenseAccess

REUSED = "reused"  # MaterialCheck.REUSED as the case's materials carry it
_DECIDED_WITH_PAPERS = (wire.Decision.ACCEPT.value, wire.Decision.COMPLETE.value)


def _reuse_days(body: dict[str, Any], material_code: str) -> int:
    for m in body.get("materials", []):
        if m.get("code") == material_code:
            return int(m.get("reuse_days") or 0)
    return 0


def _applicant_id(case: Case) -> str:
    applicant = case.body.get("applicant") if isinstance(case.body, dict) else None
    return str((applicant or {}).get("id_number", "")).upper()


def _checked(case: Case) -> dict[str, dict[str, Any]]:
    materials = case.body.get("materials", []) if isinstance(case.body, dict) else []
    return {str(m.get("code")): m for m in materials if isinstance(m, dict)}


def earlier_materials(s: Session, holder_id: str, now: dt.datetime) -> list[wire.EarlierMaterial]:
    """The holder's captured materials of earlier accepted cases still inside their item's reuse_days."""
    today = now.astimezone().date()
    items = {c.code: c.body for c in s.scalars(select(CatalogItem))}
    longest = max(
        (int(m.get("reuse_days") or 0) for body in items.values() for m in body.get("materials", [])),
        default=0,
    )
    if longest <= 0:
        return []
    since = now - dt.timedelta(days=longest + 1)
    # The content column is left alone: only the facts are needed.
    rows = s.execute(
        select(
            Case,
            CaseMaterial.material_code,
            CaseMaterial.name,
            CaseMaterial.sha256,
            CaseMaterial.pages,
        )
        .join(Case, Case.case_no == CaseMaterial.case_no)
        .where(Case.decision.in_(_DECIDED_WITH_PAPERS), Case.decided_at >= since)
        .order_by(Case.decided_at.desc(), CaseMaterial.material_code)
    ).all()
    holder = holder_id.upper()
    out: list[wire.EarlierMaterial] = []
    for case, code, name, sha256, pages in rows:
        if _applicant_id(case) != holder:
            continue
        if _checked(case).get(code, {}).get("status") == REUSED:
            # A copy re-used once already: its first submission is what counts (and is offered itself).
            continue
        body = items.get(case.item_code, {})
        days = _reuse_days(body, code)
        if days <= 0:
            continue
        submitted = case.decided_at
        valid_until = submitted.astimezone().date() + dt.timedelta(days=days)
        if valid_until < today:
            continue
        out.append(
            wire.EarlierMaterial(
                case_no=case.case_no,
                item_code=case.item_code,
                item_name=str(body.get("name", case.item_code)),
                material_code=code,
                material_name=name or code,
                submitted_at=submitted,
                valid_until=valid_until,
                sha256=sha256,
                pages=pages,
            )
        )
    return out


def _log(
    s: Session, who: security.Principal, now: dt.datetime, ticket_no: str, holder_id: str, reason: str
) -> None:
    s.add(
        LicenseAccess(
            at=now,
            clerk_id=who.clerk_id,
            hall_code=who.hall_code,
            window_no=who.window_no,
            ticket_no=ticket_no,
            holder_id=holder_id.upper(),
            license_no="",
            purpose=wire.LicensePurpose.REUSE.value,
            allowed=not reason,
            reason=reason,
        )
    )
    s.commit()
    if reason:
        raise ApiError(403, "not_your_applicant", f"不能查看该申请人的既往材料：{reason}")


def attach_reused(s: Session, case: Case, now: dt.datetime) -> int:
    """Copy each re-used earlier material under the new case, as the department opens it.

    Checked again here, not trusted from the counter: the earlier case must be the same
    applicant's and its file the one the citizen agreed to (same SHA-256).
    """
    attached = 0
    for code, m in _checked(case).items():
        ref = m.get("reused_from")
        if m.get("status") != REUSED or not isinstance(ref, dict):
            continue
        if s.get(CaseMaterial, (case.case_no, code)) is not None:
            continue
        earlier_case = s.get(Case, str(ref.get("case_no", "")))
        earlier = s.get(CaseMaterial, (str(ref.get("case_no", "")), str(ref.get("material_code", ""))))
        if earlier_case is None or earlier is None or earlier.sha256 != ref.get("sha256"):
            raise ApiError(
                409,
                "reused_material_missing",
                f"复用的材料 {code} 在办件 {ref.get('case_no')} 中找不到",
                "materials",
            )
        if _applicant_id(earlier_case) != _applicant_id(case):
            raise ApiError(
                403, "not_your_applicant", f"复用的材料 {code} 不是本办件申请人提交的", "materials"
            )
        s.add(
            CaseMaterial(
                case_no=case.case_no,
                material_code=code,
                name=str(m.get("name") or earlier.name),
                upload_id=earlier.upload_id,
                sha256=earlier.sha256,
                size=earlier.size,
                pages=earlier.pages,
                content=earlier.content,
                received_at=now,
            )
        )
        attached += 1
    return attached


def reused_label(case: Case | None, material_code: str) -> str:
    """For the department's page: where a re-used material came from ('' for a captured one)."""
    if case is None:
        return ""
    m = _checked(case).get(material_code, {})
    ref = m.get("reused_from")
    if m.get("status") != REUSED or not isinstance(ref, dict):
        return ""
    return f"复用既往材料（办件 {ref.get('case_no', '')}）"


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/earlier-materials", response_model=wire.EarlierMaterialsResponse)
    def earlier(
        db: Db, who: Who, now: Now, ticket_no: TicketNo, holder_id: HolderId
    ) -> wire.EarlierMaterialsResponse:
        """The served applicant's earlier submissions still usable (facts only, never the files)."""
        today = now.astimezone().date()
        with db() as s:
            reason = refusal(s, who, ticket_no, holder_id, today)
            _log(s, who, now, ticket_no, holder_id, reason)
            return wire.EarlierMaterialsResponse(materials=earlier_materials(s, holder_id, now))

    return r
