"""Helpers shared by the hallserver tests: the test day, a movable clock, request and op builders.

(Fixtures live in conftest.py; plain helpers live here so test modules can import them.)
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from hallclient.signing import sign_fields
from hallserver.seed import DEMO_HALL, DEMO_PASSWORD

# A Monday; the seeded bookings and tickets belong to this day.
DAY = dt.date(2026, 3, 2)
API = "/api/v1"
ITEM = "11330100MB0001001A4000117001"
OTHER_HALL = "EAST"
OTHER_PASSWORD = "east-pass-1"


class MovableClock:
    """What the app calls for "now"; tests move it forward to expire locks and tokens."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


def local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time on the server's local calendar, as an aware UTC datetime."""
    return dt.datetime.combine(day, dt.time(hour, minute)).astimezone().astimezone(dt.UTC)


def login_body(
    window_no: int = 1,
    username: str = "clerk1",
    password: str = DEMO_PASSWORD,
    device_id: str | None = None,
    hall_code: str = DEMO_HALL,
) -> dict[str, Any]:
    return {
        "hall_code": hall_code,
        "window_no": window_no,
        "username": username,
        "password": password,
        "device_id": device_id or f"PC-{window_no:02d}",
    }


@dataclass
class Counter:
    """A logged-in counter: its token, device and window."""

    token: str
    device_id: str
    window_no: int
    login: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def op(kind: str, payload: dict[str, Any], op_id: str | None = None) -> dict[str, Any]:
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "kind": kind,
        "payload": payload,
        "created_at": local(DAY, 10).isoformat(),
    }


def case_no(seq: int, window_no: int = 1) -> str:
    return f"{DEMO_HALL}-{DAY:%Y%m%d}-{window_no}-{seq:04d}"


def booking_code(n: int) -> str:
    return f"YY{DAY:%Y%m%d}{n:04d}"


def case_payload(
    number: str | None = None,
    *,
    booking: str | None = None,
    ticket_no: str | None = None,
    decision: str = "accept",
    window_no: int = 1,
    decided_at: dt.datetime | None = None,
) -> dict[str, Any]:
    return {
        "case_no": number or case_no(1),
        "ticket_no": ticket_no,
        "booking_code": booking,
        "item_code": ITEM,
        "item_version": 3,
        "decision": decision,
        "window_no": window_no,
        "clerk_id": 1,
        "decided_at": (decided_at or local(DAY, 10)).isoformat(),
        "promised_date": "2026-03-03",
        "materials": [{"code": "M001", "name": "申请人居民身份证", "status": "original_seen"}],
        "applicant": {"name": "张伟", "id_number": "11010519491231002X", "phone": "13800138000"},
        "notes": "",
    }


def rating_payload(
    number: str, level: str = "very_satisfied", *, rated_at: dt.datetime | None = None, window_no: int = 1
) -> dict[str, Any]:
    return {
        "case_no": number,
        "window_no": window_no,
        "level": level,
        "reasons": [],
        "comment": "",
        "decided_at": local(DAY, 10).isoformat(),
        "rated_at": (rated_at or local(DAY, 10, 5)).isoformat(),
    }


def doc_fields(number: str | None = None) -> dict[str, str]:
    return {
        "hall_code": DEMO_HALL,
        "hall": "示范区政务服务中心",
        "case_no": number or case_no(1),
        "item_name": "个体工商户设立登记",
        "decision": "accept",
        "decided_on": DAY.isoformat(),
        "promised_date": "2026-03-03",
    }


def document_payload(
    private_key: str,
    doc_id: str = "DOC-0000-0001",
    *,
    fields: dict[str, str] | None = None,
    signed_fields: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A document_printed payload; ``signed_fields`` different from ``fields`` fakes a tampered paper."""
    shown = fields or doc_fields()
    return {
        "doc_id": doc_id,
        "case_no": shown["case_no"],
        "kind": "receipt",
        "sha256": "ab" * 32,
        "fields": shown,
        "signature": sign_fields(private_key, signed_fields or shown),
        "printed_at": local(DAY, 10, 1).isoformat(),
        "reprint_no": 0,
    }
