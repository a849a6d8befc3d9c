"""What each paper a decision produces says: plain data, no Qt, no reportlab.

The counter builds these from a decision (``hallclient.counter``); ``printing``
renders them. Personal fields are raw here; printing masks them on paper.
The 受理通知书 keeps its own type, :class:`hallclient.domain.ReceiptData`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from hallclient.domain import HallInfo, MaterialCheck, ReceiptData, ReceivedMaterial


class PaperKind(StrEnum):
    RECEIPT = "receipt"  # 受理通知书
    CORRECTION = "correction"  # 一次性补正告知书
    REJECTION = "rejection"  # 不予受理通知书
    APPROVAL = "approval"  # 准予许可决定书 / the item's result paper (即办件)
    PICKUP = "pickup"  # 出件 pick-up slip
    TICKET = "ticket"  # 排队号票


Strokes = list[list[tuple[float, float]]]


@dataclass(frozen=True)
class CaseHeader:
    """The facts every case paper states."""

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
    decided_at: dt.datetime
    verify_url: str
    booking_code: str | None = None
    notes: str = ""
    signature_strokes: Strokes = field(default_factory=list)


@dataclass(frozen=True)
class MaterialProblem:
    """One material the citizen must bring (again): missing, or present but wrong."""

    name: str
    check: MaterialCheck  # MISSING or WRONG
    what_is_wrong: str = ""  # the clerk's explanation; required for WRONG
    original_required: bool = True
    copies: int = 1


@dataclass(frozen=True)
class CorrectionNotice:
    """一次性补正告知书 (行政许可法 §32 I(4)): every problem at once, so one more visit is enough."""

    header: CaseHeader
    problems: list[MaterialProblem]
    received: list[ReceivedMaterial]  # what was fine and is kept on file
    bring_to: str  # where to bring the materials: hall, address, window
    deadline: dt.date | None  # 补正期限 (None: no deadline set)
    kind: PaperKind = PaperKind.CORRECTION


@dataclass(frozen=True)
class RejectionNotice:
    """不予受理通知书 (行政许可法 §32 I(2)/(3)) with the citizen's remedies."""

    header: CaseHeader
    reasons: list[str]
    legal_basis: str
    reconsideration_body: str  # 行政复议机关, from config
    court: str  # 人民法院 for 行政诉讼, from config
    reconsideration_days: int = 60
    lawsuit_months: int = 6
    kind: PaperKind = PaperKind.REJECTION


@dataclass(frozen=True)
class ApprovalDecision:
    """准予许可决定书, or the item's result paper, for an item decided on the spot (即办件)."""

    header: CaseHeader
    title: str  # e.g. 准予行政许可决定书
    result_text: str  # what is granted
    materials: list[ReceivedMaterial]
    valid_until: dt.date | None = None
    kind: PaperKind = PaperKind.APPROVAL


@dataclass(frozen=True)
class PickupSlip:
    """出件: the result handed over at the counter, and to whom."""

    header: CaseHeader
    result_name: str  # the paper or license handed over
    picked_up_at: dt.datetime
    picked_up_by: str  # the person collecting (the applicant or an agent)
    promised_date: dt.date | None = None
    kind: PaperKind = PaperKind.PICKUP


@dataclass(frozen=True)
class QueueTicketSlip:
    """排队号票 handed to a walk-in (or printed for a booking) when the number is taken."""

    ticket_no: str
    hall_name: str
    item_name: str
    issued_at: dt.datetime
    waiting_ahead: int
    booking_code: str | None = None
    slot: str = ""
    kind: PaperKind = PaperKind.TICKET


CasePaper = CorrectionNotice | RejectionNotice | ApprovalDecision | PickupSlip
Paper = ReceiptData | CasePaper | QueueTicketSlip


def paper_kind(paper: Paper) -> PaperKind:
    return PaperKind.RECEIPT if isinstance(paper, ReceiptData) else paper.kind
