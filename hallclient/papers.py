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
from hallclient.wire import Decision, TicketCategory


class PaperKind(StrEnum):
    RECEIPT = "receipt"  # 受理通知书
    CORRECTION = "correction"  # 一次性补正告知书
    REJECTION = "rejection"  # 不予受理通知书
    APPROVAL = "approval"  # 准予许可决定书 / the item's result paper (即办件)
    PICKUP = "pickup"  # 出件 pick-up slip
    TICKET = "ticket"  # 排队号票
    VISIT_RECEIPT = "visit_receipt"  # 一件事一次办回执: every item of one visit


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
    # Printed as its label (老年人优先 …), never with the reason a clerk gave.
    category: TicketCategory | None = None
    estimated_minutes: int | None = None  # from the live queue; None when not known (offline)
    kind: PaperKind = PaperKind.TICKET


@dataclass(frozen=True)
class VisitLine:
    """One item of a visit on the combined receipt: its own case number and outcome."""

    position: int
    item_code: str
    item_name: str
    department: str
    case_no: str
    decision: Decision
    promised_date: dt.date | None = None  # 受理: promised completion; 办结: today
    promised_days: int = 0
    correction_deadline: dt.date | None = None  # 补正: bring the materials by


@dataclass(frozen=True)
class VisitMaterial:
    """A paper received once in the visit, and the items it was used for."""

    name: str
    check: MaterialCheck
    copies: int = 1
    used_for: list[str] = field(default_factory=list)
    source: str = ""  # an e-license: its type and number


@dataclass(frozen=True)
class VisitReceipt:
    """一件事一次办回执: one paper for every item decided in one visit at one window."""

    doc_id: str
    hall: HallInfo
    clerk_name: str
    clerk_staff_no: str
    visit_name: str  # the bundle's name (开办企业), or "3 个事项"
    bundle_code: str | None
    applicant_name: str
    applicant_id_number: str
    applicant_phone: str
    ticket_no: str
    booking_code: str | None
    lines: list[VisitLine]
    materials: list[VisitMaterial]
    issued_at: dt.datetime
    verify_url: str
    notes: str = ""
    signature_strokes: Strokes = field(default_factory=list)
    kind: PaperKind = PaperKind.VISIT_RECEIPT

    @property
    def case_no(self) -> str:
        """The visit's first case: where the paper is filed and what its barcode carries."""
        return self.lines[0].case_no if self.lines else ""


CasePaper = CorrectionNotice | RejectionNotice | ApprovalDecision | PickupSlip
Paper = ReceiptData | CasePaper | QueueTicketSlip | VisitReceipt


def paper_kind(paper: Paper) -> PaperKind:
    return PaperKind.RECEIPT if isinstance(paper, ReceiptData) else paper.kind
