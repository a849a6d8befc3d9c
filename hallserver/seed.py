"""``hallserver seed --demo``: one demo hall with windows, clerks, catalog and today's bookings.

The bookings are generated from a fixed random seed per day, with valid
resident ID numbers (check digits computed, real region codes, plausible birth
dates), so every counter demo sees the same, believable morning.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from hallclient import wire
from hallclient.validation import resident_id_check_digit
from hallserver.changes import record_booking, record_change, record_ticket
from hallserver.demo_catalog import DEMO_BUNDLES, DEMO_CATALOG, SINGLE_ITEMS
from hallserver.department import new_department_account
from hallserver.licenses import demo_licenses
from hallserver.models import (
    Booking,
    CatalogBundle,
    CatalogItem,
    Clerk,
    ELicense,
    Hall,
    Notice,
    Ticket,
    Window,
)
from hallserver.security import hash_password

DEMO_HALL = "DEMO"
DEMO_HALL_NAME = "示范区政务服务中心"
DEMO_PASSWORD = "demo1234"
DEMO_CLERKS = [
    ("clerk1", "王晓燕", "ZW-0107"),
    ("clerk2", "李建国", "ZW-0112"),
    ("clerk3", "陈思远", "ZW-0123"),
]
DEMO_BOOKINGS = 48


def demo_department_accounts() -> list[tuple[str, str, str, str]]:
    """(username, name, staff number, department) of the demo hall's back-office accounts."""
    departments = sorted({item.department for item in DEMO_CATALOG})
    return [
        (f"dept-{n:02d}", f"{department}审批员", f"SP-{n:03d}", department)
        for n, department in enumerate(departments, 1)
    ]


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "志强",
    "建华",
    "晓东",
    "海燕",
    "文博",
    "子涵",
    "雨桐",
    "浩然",
    "思琪",
]
REGIONS = ["110105", "310104", "330106", "330102", "320102", "440305", "510107", "420106", "370102", "610113"]
SLOTS = [
    f"{h:02d}:{m:02d}-{h + (m + 30) // 60:02d}:{(m + 30) % 60:02d}"
    for h in (9, 10, 11, 14, 15, 16)
    for m in (0, 30)
]


@dataclass(frozen=True)
class SeedSummary:
    hall: str
    clerks: int
    items: int
    bookings: int


def resident_id(rng: random.Random, today: dt.date) -> str:
    birth = dt.date(1950, 1, 1) + dt.timedelta(
        days=rng.randrange(0, (dt.date(2004, 12, 31) - dt.date(1950, 1, 1)).days)
    )
    if birth > today:
        birth = today - dt.timedelta(days=20 * 365)
    first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + resident_id_check_digit(first17)


def passed_review(item: wire.ServiceItem, when: dt.datetime) -> wire.PreReview:
    return wire.PreReview(
        result=wire.PreReviewResult.PASSED,
        reviewer_notes="网上预审通过，请携带原件到窗口核验。",
        reviewed_at=when,
        materials=[
            wire.MaterialReview(material_code=m.code, status=wire.MaterialStatus.OK) for m in item.materials
        ],
    )


def correction_review(item: wire.ServiceItem, bad: wire.Material, when: dt.datetime) -> wire.PreReview:
    return wire.PreReview(
        result=wire.PreReviewResult.NEEDS_CORRECTION,
        reviewer_notes=f"“{bad.name}”不清晰或信息不全，请到窗口时补交。",
        reviewed_at=when,
        materials=[
            wire.MaterialReview(
                material_code=m.code,
                status=wire.MaterialStatus.WRONG if m.code == bad.code else wire.MaterialStatus.OK,
                note="扫描件模糊，无法辨认" if m.code == bad.code else "",
            )
            for m in item.materials
        ],
    )


def rejected_review(when: dt.datetime) -> wire.PreReview:
    return wire.PreReview(
        result=wire.PreReviewResult.REJECTED,
        reviewer_notes="申请事项不属于本中心受理范围，建议咨询区级分中心。",
        reviewed_at=when,
        materials=[],
    )


def _pre_review(rng: random.Random, item: wire.ServiceItem, when: dt.datetime) -> wire.PreReview:
    # The demo mix: 12 % not pre-reviewed, 68 % passed, 15 % one material to correct, 5 % rejected.
    roll = rng.random()
    if roll < 0.12:
        return wire.PreReview(result=wire.PreReviewResult.NONE)
    if roll < 0.80:
        return passed_review(item, when)
    if roll < 0.95:
        return correction_review(item, rng.choice(item.materials), when)
    return rejected_review(when)


def seed_demo(s: Session, today: dt.date, *, public_key: str = "") -> SeedSummary:
    """Create (or re-create) the demo hall. Re-running replaces today's demo bookings and tickets."""
    hall = s.get(Hall, DEMO_HALL)
    if hall is None:
        hall = Hall(code=DEMO_HALL, name=DEMO_HALL_NAME)
        s.add(hall)
    if public_key:
        hall.public_key = public_key
    # The demo hall signs in with the password alone, so `make run` and the tests need no
    # phone; every other hall requires the TOTP second factor (Hall.require_second_factor).
    hall.require_second_factor = False
    for no, name in ((1, "综合受理 1 号窗口"), (2, "综合受理 2 号窗口"), (3, "综合受理 3 号窗口")):
        if s.get(Window, (DEMO_HALL, no)) is None:
            s.add(Window(hall_code=DEMO_HALL, window_no=no, name=name))
    s.flush()
    hashed = hash_password(DEMO_PASSWORD)
    for username, name, staff_no in DEMO_CLERKS:
        clerk = s.query(Clerk).filter_by(hall_code=DEMO_HALL, username=username).one_or_none()
        if clerk is None:
            s.add(
                Clerk(
                    hall_code=DEMO_HALL, username=username, name=name, staff_no=staff_no, password_hash=hashed
                )
            )
    # One back-office account per department of the demo catalog (dept-01 …), for the /dept/ page.
    for username, name, staff_no, department in demo_department_accounts():
        if s.query(Clerk).filter_by(hall_code=DEMO_HALL, username=username).one_or_none() is None:
            new_department_account(
                s,
                hall_code=DEMO_HALL,
                username=username,
                name=name,
                staff_no=staff_no,
                password_hash=hashed,
                department=department,
            )
    for item in DEMO_CATALOG:
        body = item.model_dump(mode="json")
        row = s.get(CatalogItem, item.code)
        if row is None or row.body != body:
            s.merge(CatalogItem(code=item.code, version=item.version, body=body))
            record_change(s, wire.ChangeEntity.CATALOG_ITEM, item.code, body, None)
    # 一件事一次办: bundles of the items above (served with GET /catalog).
    for bundle in DEMO_BUNDLES:
        s.merge(CatalogBundle(code=bundle.code, version=bundle.version, body=bundle.model_dump(mode="json")))

    s.execute(delete(ELicense).where(ELicense.license_no.like(f"%-{today:%Y%m%d}%")))
    # A ticket's visit (priority, items, phone) goes with it (ON DELETE CASCADE); so do the day's SMS.
    s.execute(delete(Notice).where(Notice.hall_code == DEMO_HALL, Notice.day == today))
    s.execute(delete(Ticket).where(Ticket.hall_code == DEMO_HALL, Ticket.date == today))
    s.execute(delete(Booking).where(Booking.hall_code == DEMO_HALL, Booking.date == today))
    rng = random.Random(today.toordinal())
    reviewed = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(16, 30)).astimezone()
    issued = dt.datetime.combine(today, dt.time(8, 45)).astimezone()
    for n in range(DEMO_BOOKINGS):
        # Bookings are for single items (the 一件事 bundles are chosen at the counter), so the
        # demo morning stays the same as the catalog grows.
        item = rng.choice(SINGLE_ITEMS)
        slot = SLOTS[n * len(SLOTS) // DEMO_BOOKINGS]
        applicant = wire.Applicant(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            id_number=resident_id(rng, today),
            phone=f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}",
        )
        booking = Booking(
            code=f"YY{today:%Y%m%d}{n + 1:04d}",
            hall_code=DEMO_HALL,
            date=today,
            slot=slot,
            item_code=item.code,
            applicant=applicant.model_dump(mode="json"),
            pre_review=_pre_review(rng, item, reviewed).model_dump(mode="json"),
            status="booked",
        )
        s.add(booking)
        record_booking(s, booking)
        types = sorted({t for m in item.materials for t in m.license_types})
        s.add_all(demo_licenses(applicant, types, n, today))
        # The demo citizens have all checked in with their booking code: each holds a number.
        hh, mm = (int(x) for x in slot[:5].split(":"))
        ticket = Ticket(
            hall_code=DEMO_HALL,
            date=today,
            ticket_no=f"A{n + 1:03d}",
            booking_code=booking.code,
            item_code=item.code,
            state="waiting",
            issued_at=issued,
            due_at=dt.datetime.combine(today, dt.time(hh, mm)).astimezone(),
        )
        s.add(ticket)
        s.flush()
        record_ticket(s, ticket)
    s.commit()
    return SeedSummary(DEMO_HALL, len(DEMO_CLERKS), len(DEMO_CATALOG), DEMO_BOOKINGS)
