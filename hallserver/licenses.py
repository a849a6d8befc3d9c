"""The e-license registry (电子证照库) as the counter sees it: only the served applicant's licenses.

A counter may look up licenses only for the citizen its window is serving now:
the ticket must be called or served at the calling window today, and for a
booked ticket the holder must be the booking's applicant. Every look, allowed
or refused, is logged with clerk, window, ticket and purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver import security
from hallserver.deps import Db, Now, Who
from hallserver.errors import ApiError
from hallserver.models import Booking, ELicense, LicenseAccess, Ticket

# The license types of the demo registry, each with its type code. The codes follow the shape
# of the national e-license catalogue (a department prefix and a number); they are demo values.
LICENSE_TYPES: dict[str, str] = {
    "DZZZ-GA-001": "居民身份证",
    "DZZZ-GA-002": "居民户口簿",
    "DZZZ-SCJG-001": "营业执照",
    "DZZZ-MZ-001": "结婚证",
    "DZZZ-ZRZY-001": "不动产权证书",
    "DZZZ-GA-003": "机动车驾驶证",
    "DZZZ-WSJK-001": "出生医学证明",
    "DZZZ-RS-001": "社会保障卡",
    "DZZZ-SCJG-002": "食品经营许可证",
}
ID_CARD, HOUSEHOLD, BUSINESS, MARRIAGE, PROPERTY, DRIVING, BIRTH, SOCIAL, FOOD = LICENSE_TYPES


def status_of(lic: ELicense, today: dt.date) -> wire.LicenseStatus:
    if lic.revoked:
        return wire.LicenseStatus.REVOKED
    if lic.valid_until is not None and lic.valid_until < today:
        return wire.LicenseStatus.EXPIRED
    return wire.LicenseStatus.VALID


def to_wire(lic: ELicense, today: dt.date) -> wire.ELicense:
    return wire.ELicense(
        license_no=lic.license_no,
        type_code=lic.type_code,
        type_name=LICENSE_TYPES.get(lic.type_code, lic.type_code),
        holder_name=lic.holder_name,
        issuer=lic.issuer,
        issued_on=lic.issued_on,
        valid_until=lic.valid_until,
        status=status_of(lic, today),
    )


def refusal(s: Session, who: security.Principal, ticket_no: str, holder_id: str, today: dt.date) -> str:
    """Why this window may not see this holder's licenses now ('' when it may)."""
    ticket = s.scalar(
        select(Ticket).where(
            Ticket.hall_code == who.hall_code, Ticket.date == today, Ticket.ticket_no == ticket_no
        )
    )
    if ticket is None:
        return f"今天没有 {ticket_no} 号"
    if ticket.state not in ("called", "serving") or ticket.window_no != who.window_no:
        return f"{ticket_no} 号不在 {who.window_no} 号窗口办理中"
    if ticket.booking_code:
        booking = s.get(Booking, ticket.booking_code)
        if booking is not None and booking.applicant.get("id_number", "").upper() != holder_id.upper():
            return f"所查证照的持有人不是 {ticket_no} 号的申请人"
    return ""


def _log(
    s: Session,
    who: security.Principal,
    now: dt.datetime,
    ticket_no: str,
    holder_id: str,
    purpose: wire.LicensePurpose,
    reason: str,
    license_no: str = "",
) -> None:
    s.add(
        LicenseAccess(
            at=now,
            clerk_id=who.clerk_id,
            hall_code=who.hall_code,
            window_no=who.window_no,
            ticket_no=ticket_no,
            holder_id=holder_id,
            license_no=license_no,
            purpose=purpose.value,
            allowed=not reason,
            reason=reason,
        )
    )
    s.commit()
    if reason:
        raise ApiError(403, "not_your_applicant", f"不能查看该电子证照：{reason}")


TicketNo = Annotated[str, Query(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z-]+$")]
HolderId = Annotated[str, Query(min_length=15, max_length=18, pattern=r"^[0-9A-Za-z]+$")]


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/licenses", response_model=wire.ELicensesResponse)
    def licenses(
        db: Db, who: Who, now: Now, ticket_no: TicketNo, holder_id: HolderId
    ) -> wire.ELicensesResponse:
        """The served applicant's licenses (facts only; the file is fetched one by one)."""
        today = now.astimezone().date()
        with db() as s:
            reason = refusal(s, who, ticket_no, holder_id, today)
            _log(s, who, now, ticket_no, holder_id, wire.LicensePurpose.LIST, reason)
            rows = s.scalars(
                select(ELicense).where(ELicense.holder_id == holder_id.upper()).order_by(ELicense.type_code)
            ).all()
            return wire.ELicensesResponse(licenses=[to_wire(x, today) for x in rows])

    @r.get(
        "/licenses/{license_no}/file",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}, "description": "The license file"}},
    )
    def license_file(
        db: Db,
        who: Who,
        now: Now,
        license_no: Annotated[str, Path(pattern=r"^[0-9A-Za-z_-]{1,64}$")],
        ticket_no: TicketNo,
    ) -> Response:
        today = now.astimezone().date()
        with db() as s:
            lic = s.get(ELicense, license_no)
            if lic is None:
                raise ApiError(404, "unknown_license", f"电子证照 {license_no} 不存在")
            reason = refusal(s, who, ticket_no, lic.holder_id, today)
            _log(s, who, now, ticket_no, lic.holder_id, wire.LicensePurpose.VIEW, reason, license_no)
            if not lic.file:
                lic.file = facsimile(lic)
                s.commit()
            return Response(lic.file, media_type=lic.file_type, headers={"Cache-Control": "no-store"})

    return r


# -- demo registry ---------------------------------------------------------------------------------

ISSUERS = {
    ID_CARD: "示范市公安局示范区分局",
    HOUSEHOLD: "示范市公安局示范区分局城关派出所",
    BUSINESS: "示范市示范区市场监督管理局",
    MARRIAGE: "示范市示范区民政局",
    PROPERTY: "示范市自然资源和规划局",
    DRIVING: "示范市公安局交通警察支队",
    BIRTH: "示范市妇幼保健院",
    SOCIAL: "示范市人力资源和社会保障局",
    FOOD: "示范市示范区市场监督管理局",
}


def demo_licenses(applicant: wire.Applicant, types: list[str], n: int, today: dt.date) -> list[ELicense]:
    """The registry's licenses for one demo citizen: mostly valid, some expired or revoked on purpose."""
    out = []
    for k, type_code in enumerate([ID_CARD, *[t for t in types if t != ID_CARD]]):
        issued = today - dt.timedelta(days=400 + 37 * n + 11 * k)
        valid_until: dt.date | None = issued + dt.timedelta(days=365 * 20)
        if type_code in (BUSINESS, MARRIAGE, PROPERTY, BIRTH, HOUSEHOLD):
            valid_until = None  # valid without end date
        if n % 11 == 4 and type_code == ID_CARD:
            valid_until = today - dt.timedelta(days=30)  # an ID card that ran out last month
        out.append(
            ELicense(
                license_no=f"{type_code}-{today:%Y%m%d}{n:03d}{k}",
                type_code=type_code,
                holder_id=applicant.id_number.upper(),
                holder_name=applicant.name,
                uscc="",
                issuer=ISSUERS[type_code],
                issued_on=issued,
                valid_until=valid_until,
                revoked=(n % 9 == 7 and type_code != ID_CARD),  # e.g. a 营业执照 revoked (吊销)
                file=b"",  # rendered on first view: see facsimile()
                file_type="application/pdf",
            )
        )
    return out


def facsimile(lic: ELicense) -> bytes:
    """The demo registry's copy of a license: a one-page PDF with its facts (real registries hold scans)."""
    import io

    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.pdfgen.canvas import Canvas

    from printing.fonts import draw_text, register_fonts

    register_fonts()
    buf = io.BytesIO()
    width, height = landscape(A5)
    c = Canvas(buf, pagesize=(width, height))
    c.setTitle(LICENSE_TYPES.get(lic.type_code, lic.type_code))
    c.setStrokeColorRGB(0.7, 0.1, 0.1)
    c.setLineWidth(3)
    c.rect(18, 18, width - 36, height - 36)
    draw_text(c, width / 2, height - 70, LICENSE_TYPES.get(lic.type_code, lic.type_code), 26, align="center")
    lines = [
        f"证照编号：{lic.license_no}",
        f"持证人：{lic.holder_name}",
        f"证件号码：{lic.holder_id}",
        f"发证机关：{lic.issuer}",
        f"发证日期：{lic.issued_on:%Y年%m月%d日}",
        f"有效期至：{lic.valid_until:%Y年%m月%d日}" if lic.valid_until else "有效期至：长期",
    ]
    y = height - 120
    for line in lines:
        draw_text(c, 60, y, line, 13)
        y -= 26
    draw_text(c, 60, 36, "电子证照（演示数据）", 9)
    c.showPage()
    c.save()
    return buf.getvalue()
