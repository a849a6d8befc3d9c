"""Plain domain types shared by the core, printing and ui (no Qt, no ORM)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class MaterialCheck(StrEnum):
    """What the clerk found for one material at the counter."""

    ORIGINAL_SEEN = "original_seen"
    COPY_TAKEN = "copy_taken"
    MISSING = "missing"
    WRONG = "wrong"
    E_LICENSE = "e_license"  # 由电子证照提供: the registry holds it, no paper asked for
    REUSED = "reused"  # 复用既往材料: the citizen agreed to re-use what an earlier case received


@dataclass(frozen=True)
class ReceivedMaterial:
    name: str
    check: MaterialCheck
    copies: int = 1
    source: str = ""  # for an e-license its type and number, for a re-used one its case: on the receipt


@dataclass(frozen=True)
class HallInfo:
    code: str
    name: str
    window_no: int
    address: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ReceiptData:
    """Everything the 受理通知书 prints. Personal fields are raw; printing masks them."""

    doc_id: str
    case_no: str
    hall: HallInfo
    clerk_name: str
    clerk_staff_no: str
    item_code: str
    item_version: int
    item_name: str
    department: str
    applicant_name: str
    applicant_id_number: str
    applicant_phone: str
    materials: list[ReceivedMaterial]
    accepted_at: dt.datetime
    promised_date: dt.date
    promised_days: int
    verify_url: str
    booking_code: str | None = None
    notes: str = ""
    signature_strokes: list[list[tuple[float, float]]] = field(default_factory=list)
