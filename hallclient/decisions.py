"""The legal side of a decision: what each one requires and the paper it produces.

行政许可法 §32: an application is accepted (受理), or the citizen is told at once
and in one go what to correct (一次性告知补正), or it is not accepted with the
reasons and the citizen's remedies (不予受理). Items decided on the spot (即办件)
end with the approval itself. These rules are checked here, before anything is
saved, so a refused decision leaves nothing half-written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from hallclient import wire
from hallclient.domain import HallInfo, MaterialCheck, ReceivedMaterial
from hallclient.elicenses import LicenseMatch
from hallclient.i18n import N_, _
from hallclient.papers import CaseHeader, MaterialProblem
from hallclient.reuse import ReuseOffer


class DecisionRefused(ValueError):
    """A decision that the law or the form does not allow as given; the message says what to fix."""


# Reasons a clerk picks for 不予受理; the written reason adds what the list cannot say.
REJECTION_REASONS: tuple[str, ...] = (
    N_("申请事项依法不需要取得行政许可"),
    N_("申请事项不属于本行政机关职权范围"),
    N_("申请人不具备申请资格"),
    N_("申请事项属于法律、法规禁止的范围"),
    N_("同一事项已在办理中或已办结，不得重复申请"),
)
# 行政许可法 §32 I(1)/(2) are the reasons the law names itself.
DEFAULT_LEGAL_BASIS = N_("《中华人民共和国行政许可法》第三十二条第一款")


@dataclass(frozen=True)
class MaterialFinding:
    """What the clerk recorded for one material: the check and, for a wrong one, what is wrong."""

    check: MaterialCheck
    note: str = ""
    # REUSED: the earlier submission the citizen agreed to, kept with the case.
    reused_from: wire.ReusedFrom | None = None


Findings = Mapping[str, MaterialFinding]
# Provided at the counter (§32 counts them as submitted); the last two without a paper.
NOT_ON_PAPER = (MaterialCheck.E_LICENSE, MaterialCheck.REUSED)
RECEIVED = (MaterialCheck.ORIGINAL_SEEN, MaterialCheck.COPY_TAKEN, *NOT_ON_PAPER)


def findings_from_checks(checks: Mapping[str, MaterialCheck]) -> dict[str, MaterialFinding]:
    return {code: MaterialFinding(check) for code, check in checks.items()}


def require_all_checked(item: wire.ServiceItem, findings: Findings) -> None:
    unchecked = [m.name for m in item.materials if m.code not in findings]
    if unchecked:
        raise DecisionRefused(_("请先核验每一份材料，尚未核验：{names}").format(names="、".join(unchecked)))


def problems_of(item: wire.ServiceItem, findings: Findings) -> list[MaterialProblem]:
    return [
        MaterialProblem(
            name=m.name,
            check=findings[m.code].check,
            what_is_wrong=findings[m.code].note.strip(),
            original_required=m.original_required,
            copies=m.copies,
        )
        for m in item.materials
        if m.code in findings and findings[m.code].check in (MaterialCheck.MISSING, MaterialCheck.WRONG)
    ]


def check_accept(item: wire.ServiceItem, findings: Findings) -> None:
    require_all_checked(item, findings)
    problems = problems_of(item, findings)
    if problems:
        raise DecisionRefused(
            _("以下材料缺失或不符合要求，不能受理，请改为一次性告知补正：{names}").format(
                names="、".join(p.name for p in problems)
            )
        )


def check_correction(item: wire.ServiceItem, findings: Findings) -> list[MaterialProblem]:
    """Every material must have been looked at, so the notice lists every problem at once."""
    require_all_checked(item, findings)
    problems = problems_of(item, findings)
    if not problems:
        raise DecisionRefused(_("补正告知书至少要列出一份缺失或不符合要求的材料；材料齐全时请受理。"))
    unexplained = [p.name for p in problems if p.check is MaterialCheck.WRONG and not p.what_is_wrong]
    if unexplained:
        raise DecisionRefused(
            _("请写明以下材料哪里不符合要求，群众才能一次改对：{names}").format(names="、".join(unexplained))
        )
    return problems


def check_e_licenses(
    item: wire.ServiceItem, findings: Findings, licenses: Mapping[str, LicenseMatch]
) -> None:
    """由电子证照提供 only where the registry holds a valid license of a type the material accepts."""
    names = {m.code: m.name for m in item.materials}
    unsupported = [
        names.get(code, code)
        for code, f in findings.items()
        if f.check is MaterialCheck.E_LICENSE and not (code in licenses and licenses[code].usable)
    ]
    if unsupported:
        raise DecisionRefused(
            _("以下材料没有有效的电子证照，请核验纸质材料：{names}").format(names="、".join(unsupported))
        )


def check_reused(item: wire.ServiceItem, findings: Findings, offers: Mapping[str, ReuseOffer]) -> None:
    """复用既往材料 only where an earlier submission was offered and the citizen agreed to it."""
    names = {m.code: m.name for m in item.materials}
    unsupported = [
        names.get(code, code)
        for code, f in findings.items()
        if f.check is MaterialCheck.REUSED and not (code in offers and offers[code].consented_at is not None)
    ]
    if unsupported:
        raise DecisionRefused(
            _("以下材料没有经群众同意复用的既往材料，请核验纸质材料：{names}").format(
                names="、".join(unsupported)
            )
        )


def check_rejection(reasons: list[str], legal_basis: str) -> list[str]:
    cleaned = [r.strip() for r in reasons if r.strip()]
    if not cleaned:
        raise DecisionRefused(_("不予受理必须写明理由：请勾选或填写至少一条理由。"))
    if not legal_basis.strip():
        raise DecisionRefused(_("不予受理必须写明法律依据。"))
    return cleaned


def check_instant(item: wire.ServiceItem, findings: Findings) -> None:
    if not item.instant:
        raise DecisionRefused(
            _("“{item}”不是即办件，不能当场办结；材料齐全请受理，并告知承诺办结日期。").format(item=item.name)
        )
    check_accept(item, findings)


def checked_materials(item: wire.ServiceItem, findings: Findings) -> list[wire.CheckedMaterial]:
    return [
        wire.CheckedMaterial(
            code=m.code,
            name=m.name,
            status=findings[m.code].check.value,
            note=findings[m.code].note.strip(),
            reused_from=findings[m.code].reused_from
            if findings[m.code].check is MaterialCheck.REUSED
            else None,
        )
        for m in item.materials
        if m.code in findings
    ]


def received_materials(item: wire.ServiceItem, p: wire.CaseDecidedPayload) -> list[ReceivedMaterial]:
    copies = {m.code: m.copies for m in item.materials}
    return [
        ReceivedMaterial(
            name=m.name,
            check=MaterialCheck(m.status),
            # No paper copy is kept of what the registry or an earlier case supplies.
            copies=0 if m.status in NOT_ON_PAPER else copies.get(m.code, 1),
            source=m.note if m.status in NOT_ON_PAPER else "",
        )
        for m in p.materials
        if MaterialCheck(m.status) in RECEIVED
    ]


def case_header(
    *,
    doc_id: str,
    p: wire.CaseDecidedPayload,
    item: wire.ServiceItem,
    hall: HallInfo,
    clerk: wire.ClerkInfo,
    decided_at: dt.datetime,
    verify_url: str,
    signature_strokes: list[list[tuple[float, float]]] | None = None,
) -> CaseHeader:
    return CaseHeader(
        doc_id=doc_id,
        case_no=p.case_no,
        hall=hall,
        clerk_name=clerk.name,
        clerk_staff_no=clerk.staff_no,
        item_code=item.code,
        item_version=item.version,
        item_name=item.name,
        department=item.department,
        applicant_name=p.applicant.name,
        applicant_id_number=p.applicant.id_number,
        applicant_phone=p.applicant.phone,
        decided_at=decided_at,
        verify_url=verify_url,
        booking_code=p.booking_code,
        notes=p.notes,
        signature_strokes=signature_strokes or [],
    )


def approval_text(applicant_name: str, item_name: str) -> str:
    # The decision's legal wording is data on the paper, kept in Chinese whatever the clerk's
    # language (printing translates the paper's labels, not the hall's decision).
    return (
        f"经审查，申请人{applicant_name}提出的“{item_name}”申请，申请材料齐全、符合法定形式，"
        "符合法定条件、标准。根据《中华人民共和国行政许可法》第三十四条第二款、第三十八条第一款的规定，"
        "决定准予行政许可。"
    )
