"""The wire contract between the counter client and the platform server.

Both sides import these pydantic models, so a field renamed here is renamed for
both (and the committed OpenAPI document shows the change). Everything lives
under ``/api/v1``. Errors are always :class:`ErrorBody` with a 4xx/5xx status.

This module must stay light: pydantic and the standard library only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

API_PREFIX = "/api/v1"
WIRE_VERSION = "1"


def _no_nul(value: Any) -> Any:
    # Free-form objects (an op's payload) are checked when parsed into their own model.
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
    elif isinstance(value, list | tuple):
        for v in value:
            _no_nul(v)
    return value


NO_NUL_PATTERN = "^[^\\x00]*$"


def _document_no_nul(schema: dict[str, Any]) -> None:
    """Say in the JSON schema what ``_reject_nul`` enforces, so clients and fuzzers know."""
    for prop in schema.get("properties", {}).values():
        variants = [prop, *prop.get("anyOf", [])]
        variants += [v["items"] for v in variants if v.get("type") == "array" and "items" in v]
        for variant in variants:
            if variant.get("type") == "string" and "pattern" not in variant and "enum" not in variant:
                if variant.get("format") in (None, ""):
                    variant["pattern"] = NO_NUL_PATTERN


class WireModel(BaseModel):
    """Unknown fields are refused: a typo in a payload is an error, not silence.

    NUL characters are refused everywhere: no real input has them, and PostgreSQL
    cannot store them in text, so they would otherwise surface as a server error.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_no_nul)

    @field_validator("*", mode="after")
    @classmethod
    def _reject_nul(cls, value: Any) -> Any:
        return _no_nul(value)


# -- errors -------------------------------------------------------------------


class ErrorBody(WireModel):
    error: str = Field(description="Stable machine-readable code, e.g. 'bad_credentials'")
    message: str = Field(description="Human-readable explanation")
    field: str | None = Field(default=None, description="The offending field, when one is to blame")


# -- auth ---------------------------------------------------------------------


class LoginRequest(WireModel):
    hall_code: str = Field(min_length=1, max_length=32)
    window_no: int = Field(ge=1, le=999)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256, repr=False)
    device_id: str = Field(min_length=1, max_length=64)
    # The second factor, where the hall requires it: the authenticator's 6-digit code, or
    # instead one of the clerk's one-time recovery codes (备用码).
    # (repr=False: a model printed into a log or a traceback never shows a factor.)
    totp_code: str | None = Field(default=None, max_length=16, repr=False)
    recovery_code: str | None = Field(default=None, max_length=32, repr=False)


class ClerkInfo(WireModel):
    id: int
    name: str
    staff_no: str
    photo_url: str | None = None
    role: str = "clerk"


class LoginResponse(WireModel):
    token: str
    expires_at: dt.datetime
    clerk: ClerkInfo
    hall_name: str
    # True when this sign-in took two factors; offline sign-ins then take both as well.
    second_factor: bool = False
    # The clerk's TOTP secret (base32), sent after a two-factor sign-in only, so the counter can
    # check codes offline; it keeps it encrypted under a key derived from the password.
    totp_secret: str | None = Field(default=None, repr=False)
    # After a sign-in with a recovery code: how many unused ones the clerk has left.
    recovery_codes_left: int | None = None


# -- catalog ------------------------------------------------------------------


class Material(WireModel):
    code: str
    name: str
    original_required: bool = True
    copies: int = Field(default=1, ge=0)
    license_types: list[str] = Field(
        default_factory=list, description="E-license types (电子证照类型代码) that satisfy this material"
    )
    reuse_days: int = Field(
        default=0,
        ge=0,
        description="Days a copy submitted in an earlier case stays usable for this material (0: never re-used)",
    )


class ServiceItem(WireModel):
    code: str = Field(description="Unified item code (事项编码)")
    version: int = Field(ge=1)
    name: str
    department: str
    legal_days: int = Field(ge=0, description="Statutory time limit in working days")
    promised_days: int = Field(ge=0, description="Promised completion in working days (承诺时限)")
    instant: bool = Field(default=False, description="即办件: decided on the spot")
    materials: list[Material]
    fee: str = Field(default="不收费")


class MaterialUse(WireModel):
    """One item's material that a bundle's shared paper stands for."""

    item_code: str
    material_code: str


class SharedMaterial(WireModel):
    """A paper several items of a bundle ask for: asked for once, checked once, used for all."""

    code: str = Field(description="The paper's code within the bundle")
    name: str
    original_required: bool = True
    copies: int = Field(default=1, ge=0, description="Copies kept: the most any of its items asks for")
    used_by: list[MaterialUse] = Field(min_length=2)


class Bundle(WireModel):
    """一件事一次办: several items (事项) a citizen does in one visit at one window."""

    code: str
    version: int = Field(ge=1)
    name: str = Field(description="e.g. 开办企业")
    description: str = ""
    items: list[str] = Field(min_length=2, description="Item codes in the order they are decided")
    shared_materials: list[SharedMaterial] = Field(default_factory=list)


class CatalogResponse(WireModel):
    items: list[ServiceItem]
    bundles: list[Bundle] = Field(default_factory=list, description="一件事 bundles of these items")


# -- bookings and pre-reviews ---------------------------------------------------


class PreReviewResult(StrEnum):
    PASSED = "passed"
    NEEDS_CORRECTION = "needs_correction"
    REJECTED = "rejected"
    NONE = "none"


class MaterialStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    WRONG = "wrong"
    NOT_REVIEWED = "not_reviewed"


class MaterialReview(WireModel):
    material_code: str
    status: MaterialStatus
    note: str = ""


class PreReview(WireModel):
    result: PreReviewResult
    reviewer_notes: str = ""
    reviewed_at: dt.datetime | None = None
    materials: list[MaterialReview] = Field(default_factory=list)


class Applicant(WireModel):
    name: str
    id_number: str
    phone: str


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    SERVED = "served"


class Booking(WireModel):
    code: str = Field(description="Booking code printed on the booking slip")
    hall_code: str
    date: dt.date
    slot: str = Field(description="Time slot, 'HH:MM-HH:MM'")
    item_code: str
    applicant: Applicant
    pre_review: PreReview
    status: BookingStatus = BookingStatus.BOOKED


class BookingsResponse(WireModel):
    bookings: list[Booking]


# -- queue --------------------------------------------------------------------


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    PARKED = "parked"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    DONE = "done"


class TicketCategory(StrEnum):
    """Who is called first (绿色通道); the reason a clerk gave is never part of the ticket."""

    ORDINARY = "ordinary"  # 普通
    ELDERLY = "elderly"  # 65 周岁以上老年人
    DISABLED = "disabled"  # 残疾人
    SERVICE_MEMBER = "service_member"  # 军人（含退役军人、军属）
    PREGNANT = "pregnant"  # 孕妇
    APPOINTMENT = "appointment"  # 预约


class PriorityCategory(StrEnum):
    """The categories a clerk may mark a waiting citizen with (a subset of TicketCategory)."""

    ELDERLY = "elderly"
    DISABLED = "disabled"
    SERVICE_MEMBER = "service_member"
    PREGNANT = "pregnant"


# A reason with at least one character that is not a space (and, as everywhere, no NUL).
REASON_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


class PriorityClaim(WireModel):
    """Why a citizen goes ahead: the category, and the reason (audited by the hall, never shown)."""

    category: PriorityCategory
    reason: str = Field(min_length=1, max_length=200, pattern=REASON_PATTERN)


class Ticket(WireModel):
    ticket_no: str
    hall_code: str
    date: dt.date
    booking_code: str | None = None
    item_code: str | None = None
    state: TicketState
    window_no: int | None = None
    issued_at: dt.datetime
    called_at: dt.datetime | None = None
    recalls: int = Field(default=0, ge=0, description="How often the number was called again (重呼)")
    note: str = Field(default="", max_length=500, description="The transferring clerk's note (转移说明)")
    category: TicketCategory | None = Field(
        default=None, description="Priority category; None where not stated (change-log entries)"
    )


class CallNextRequest(WireModel):
    window_no: int = Field(ge=1, le=999)


class CallNextResponse(WireModel):
    ticket: Ticket | None = Field(description="None when nobody is waiting")


class WalkInRequest(WireModel):
    item_code: str | None = None
    item_codes: list[str] = Field(
        default_factory=list, max_length=20, description="Several items for one visit (一件事)"
    )
    bundle_code: str | None = Field(default=None, max_length=64)
    priority: PriorityClaim | None = Field(default=None, description="绿色通道: the category and why")
    phone: str | None = Field(
        default=None, pattern=r"^1[3-9]\d{9}$", description="For SMS notices (called, result ready)"
    )


class WindowInfo(WireModel):
    window_no: int
    name: str = ""
    open: bool = Field(description="A clerk is signed in at this window now")
    paused: bool = Field(default=False, description="暂停服务")
    pause_reason: str = ""
    clerk_name: str = ""


class WindowsResponse(WireModel):
    windows: list[WindowInfo]


# -- e-licenses (电子证照) ---------------------------------------------------------


class LicenseStatus(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ELicense(WireModel):
    """One e-license of the applicant being served: its facts, never its file."""

    license_no: str
    type_code: str = Field(description="Unified e-license type code")
    type_name: str
    holder_name: str
    issuer: str
    issued_on: dt.date
    valid_until: dt.date | None = Field(description="None: valid without end date")
    status: LicenseStatus


class ELicensesResponse(WireModel):
    licenses: list[ELicense]


class LicensePurpose(StrEnum):
    LIST = "list"  # finding which materials the registry already holds
    VIEW = "view"  # the clerk opened the license to look at it
    REUSE = "reuse"  # finding materials the applicant submitted in earlier cases


class EarlierMaterial(WireModel):
    """A material the served applicant submitted in an earlier case, still usable: its facts, never its file."""

    case_no: str
    item_code: str
    item_name: str
    material_code: str
    material_name: str
    submitted_at: dt.datetime
    valid_until: dt.date = Field(description="Last day it may be re-used (the earlier item's reuse_days)")
    sha256: str
    pages: int


class EarlierMaterialsResponse(WireModel):
    materials: list[EarlierMaterial]


# -- sync ---------------------------------------------------------------------


class OpKind(StrEnum):
    TICKET_STATE = "ticket_state"
    CASE_DECIDED = "case_decided"
    RATING_GIVEN = "rating_given"
    DOCUMENT_PRINTED = "document_printed"
    WINDOW_STATE = "window_state"
    CASE_PICKED_UP = "case_picked_up"


class Decision(StrEnum):
    ACCEPT = "accept"  # 受理
    CORRECT = "correct"  # 补正
    REJECT = "reject"  # 不予受理
    COMPLETE = "complete"  # 办结 (即办件)


class ReusedFrom(WireModel):
    """复用既往材料: which earlier submission stands for this material, and when the citizen agreed.

    Dates are ISO strings: the counter's store keeps materials as plain JSON.
    """

    case_no: str = Field(min_length=1, max_length=48)
    material_code: str = Field(min_length=1, max_length=64)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    submitted_on: str = Field(default="", max_length=10, description="ISO date of the earlier submission")
    consented_at: str = Field(max_length=40, description="ISO time the citizen agreed on the citizen screen")


class CheckedMaterial(WireModel):
    code: str
    name: str
    status: str = Field(description="original_seen | copy_taken | missing | wrong | e_license | reused")
    note: str = Field(default="", max_length=500, description="What is wrong with it (for 补正)")
    reused_from: ReusedFrom | None = Field(default=None, description="status reused: the earlier submission")


class CaseDecidedPayload(WireModel):
    case_no: str
    ticket_no: str | None
    booking_code: str | None
    item_code: str
    item_version: int
    decision: Decision
    window_no: int
    clerk_id: int
    decided_at: dt.datetime
    promised_date: dt.date | None
    materials: list[CheckedMaterial]
    applicant: Applicant
    notes: str = ""
    reasons: list[str] = Field(default_factory=list, description="不予受理: the reasons given")
    legal_basis: str = Field(default="", description="不予受理: the legal basis cited")
    correction_deadline: dt.date | None = Field(default=None, description="补正: bring the materials by")
    visit: VisitRef | None = Field(default=None, description="The visit (一件事) this case was decided in")


class RatingLevel(StrEnum):
    """The national 好差评 five-level scale, plus the explicit absence of a rating."""

    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    BASIC = "basically_satisfied"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 非常不满意
    NOT_RATED = "not_rated"  # 未评价


class RatingPayload(WireModel):
    case_no: str
    window_no: int
    level: RatingLevel
    reasons: list[str] = Field(default_factory=list)
    comment: str = ""
    decided_at: dt.datetime
    rated_at: dt.datetime
    follow_up_due: dt.date | None = Field(
        default=None, description="不满意/非常不满意: the follow-up (整改) is due by this date"
    )
    burst: bool = Field(
        default=False,
        description="Identical ratings given seconds after the decision, several in a row: for the supervisor",
    )
    visit_case_nos: list[str] = Field(
        default_factory=list,
        description="One rating per visit: the visit's other cases, rated together with case_no (its first)",
    )


class TicketStatePayload(WireModel):
    ticket_no: str
    state: TicketState
    window_no: int = Field(description="The window acting on the ticket")
    at: dt.datetime
    recalls: int = Field(default=0, ge=0, description="重呼: the number of calls after the first")
    to_window: int | None = Field(default=None, ge=1, le=999, description="转移: the window it goes to")
    to_item: str | None = Field(default=None, description="转移: the item it goes to")
    note: str = Field(default="", max_length=500)


class WindowStatePayload(WireModel):
    """暂停服务 and its end: the hall sees which windows serve, and why one does not."""

    window_no: int = Field(ge=1, le=999)
    paused: bool
    reason: str = Field(default="", max_length=200)
    at: dt.datetime


class CasePickedUpPayload(WireModel):
    """出件: the result of a case handed over at the counter."""

    case_no: str
    window_no: int
    picked_up_at: dt.datetime
    picked_up_by: str = Field(max_length=100, description="Who collected it (the applicant or an agent)")


class DocumentPrintedPayload(WireModel):
    """A printed document registered with the platform, so its QR code can be verified."""

    doc_id: str = Field(min_length=8, max_length=64)
    case_no: str
    kind: str = Field(description="receipt | correction | rejection | approval | pickup")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    fields: dict[str, str] = Field(description="The canonical fields the signature covers")
    signature: str
    printed_at: dt.datetime
    reprint_no: int = Field(default=0, ge=0)


class Op(WireModel):
    op_id: uuid.UUID
    kind: OpKind
    payload: dict[str, Any]
    created_at: dt.datetime


class PushRequest(WireModel):
    device_id: str = Field(min_length=1, max_length=64)
    ops: list[Op] = Field(max_length=500)


class OpStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    REJECTED = "rejected"


class OpResult(WireModel):
    op_id: uuid.UUID
    status: OpStatus
    detail: str = ""


class PushResponse(WireModel):
    results: list[OpResult]


class ChangeEntity(StrEnum):
    BOOKING = "booking"
    CATALOG_ITEM = "catalog_item"
    TICKET = "ticket"
    CASE_STATUS = "case_status"  # the back office's progress on a case (BackOfficeStatus)


class Change(WireModel):
    seq: int
    entity: ChangeEntity
    key: str
    data: dict[str, Any]


class PullResponse(WireModel):
    changes: list[Change]
    next_cursor: int = Field(description="Pass back as ?cursor= to get what came after")
    has_more: bool


# -- misc ---------------------------------------------------------------------


class StatsResponse(WireModel):
    hall_code: str
    date_from: dt.date
    date_to: dt.date
    window_no: int | None
    decisions: dict[str, int] = Field(description="Cases per decision (accept, correct, reject, complete)")
    ratings: dict[str, int] = Field(description="Ratings per level, not_rated included; no citizen identity")


class HealthResponse(WireModel):
    status: str
    version: str
    time: dt.datetime


# -- supervision --
# The supervisor's view of the hall (supervisor/admin only). Every figure is defined in
# hallserver/stats.py and docs/supervision.md; rates are fractions (0.952), None when
# their denominator is zero, durations are seconds.


class FigurePeriod(StrEnum):
    TOTAL = "total"  # one row per group for the whole range
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday, named by their Monday
    MONTH = "month"  # named by the 1st


class FigureGroup(StrEnum):
    HALL = "hall"
    WINDOW = "window"
    CLERK = "clerk"
    ITEM = "item"


class Figures(WireModel):
    """One group's figures for one period (or the whole range)."""

    period_start: dt.date | None = Field(default=None, description="First day of the period; None for total")
    window_no: int | None = None
    clerk_id: int | None = None
    clerk_name: str = ""
    item_code: str | None = None
    item_name: str = ""
    tickets_served: int = Field(default=0, description="Tickets that reached 'done'")
    no_shows: int = Field(default=0, description="Tickets closed as 过号")
    waits_measured: int = Field(default=0, description="Called tickets whose waiting time is measured")
    wait_avg_s: float | None = None
    wait_p90_s: float | None = Field(default=None, description="90th percentile, nearest rank")
    handled_measured: int = Field(default=0, description="Tickets with a call and a decision")
    handle_avg_s: float | None = Field(default=None, description="From the call to the decision")
    accepted: int = 0
    corrected: int = 0
    rejected: int = 0
    completed: int = Field(default=0, description="即办件 decided 办结 on the spot")
    due: int = Field(default=0, description="Cases whose promised date fell in the period and is settled")
    completed_on_time: int = 0
    overdue: int = Field(default=0, description="Due but completed late or not at all")
    completion_rate: float | None = Field(default=None, description="办结率 = completed_on_time / due")
    corrections_not_returned: int = Field(default=0, description="补正 decisions with no later case")
    ratings: dict[str, int] = Field(default_factory=dict, description="Per level, not_rated included")
    rated: int = Field(default=0, description="Ratings with a level (未评价 excluded)")
    not_rated: int = 0
    not_rated_share: float | None = Field(default=None, description="未评价 / all rating records")
    good_rate: float | None = Field(default=None, description="好评率 = (非常满意+满意+基本满意) / rated")
    bad: int = Field(default=0, description="差评: 不满意 + 非常不满意")
    bursts: int = Field(default=0, description="Ratings flagged as part of a burst")
    follow_ups: int = 0
    follow_ups_open: int = Field(default=0, description="Not closed (overdue ones included)")
    follow_ups_overdue: int = Field(default=0, description="Not closed and past their due date")
    follow_ups_closed: int = 0
    rectification_rate: float | None = Field(default=None, description="整改率 = closed / follow-ups")


class FiguresResponse(WireModel):
    hall_code: str
    date_from: dt.date
    date_to: dt.date
    as_of: dt.date = Field(
        description="The hall's day the figures were computed on (overdue is relative to it)"
    )
    by: FigureGroup
    period: FigurePeriod
    window_no: int | None = None
    item_code: str | None = None
    clerk_id: int | None = None
    rows: list[Figures]
    total: Figures = Field(description="The whole range for the same filters")


class WarningKind(StrEnum):
    OVERDUE = "overdue"  # 超时: past the promised date, result not handed over
    DUE_SOON = "due_soon"  # promised date within the warning horizon
    CORRECTION_OPEN = "correction_open"  # 补正 not returned yet
    CORRECTION_LATE = "correction_late"  # 补正 not returned, deadline passed


class CaseWarning(WireModel):
    case_no: str
    kind: WarningKind
    window_no: int
    item_code: str
    item_name: str = ""
    clerk_id: int | None = None
    clerk_name: str = ""
    decided_at: dt.datetime
    date: dt.date | None = Field(description="The promised date, or the correction deadline")
    working_days_left: int | None = Field(description="Negative when past; None without a date")
    applicant: str = Field(description="The applicant's name, masked (张*)")


class WarningsResponse(WireModel):
    as_of: dt.date
    warnings: list[CaseWarning]


class FollowUpFilter(StrEnum):
    OPEN = "open"  # not closed, overdue included
    OVERDUE = "overdue"
    CLOSED = "closed"
    ALL = "all"


class FollowUpStep(WireModel):
    action: str = Field(description="assign | result | close")
    at: dt.datetime
    by_name: str
    assignee_name: str = ""
    text: str = ""


class FollowUpInfo(WireModel):
    """A 整改 follow-up as the supervisor handles it; the rating names the case, never the citizen."""

    case_no: str
    window_no: int
    item_code: str = ""
    item_name: str = ""
    clerk_name: str = Field(default="", description="Who served the citizen")
    level: RatingLevel
    reasons: list[str] = Field(default_factory=list)
    comment: str = ""
    rated_at: dt.datetime
    due_date: dt.date | None
    status: str = Field(description="open | closed")
    overdue: bool
    assignee_id: int | None = None
    assignee_name: str = ""
    assigned_at: dt.datetime | None = None
    result: str = Field(default="", description="What the hall did (整改结果)")
    closed_at: dt.datetime | None = None
    history: list[FollowUpStep] = Field(default_factory=list)


class FollowUpsResponse(WireModel):
    as_of: dt.date
    follow_ups: list[FollowUpInfo]


class AssignFollowUpRequest(WireModel):
    assignee_id: int = Field(ge=1)
    note: str = Field(default="", max_length=500)


class FollowUpResultRequest(WireModel):
    result: str = Field(min_length=1, max_length=2000)


class CloseFollowUpRequest(WireModel):
    note: str = Field(default="", max_length=500)


class BurstVerdict(StrEnum):
    GENUINE = "genuine"  # the citizens really rated
    SUSPICIOUS = "suspicious"  # looks like someone else tapped the screen


class BurstReviewInfo(WireModel):
    verdict: BurstVerdict
    note: str = ""
    reviewer_name: str
    reviewed_at: dt.datetime


class BurstRating(WireModel):
    case_no: str
    window_no: int
    item_code: str = ""
    item_name: str = ""
    clerk_name: str = ""
    level: RatingLevel
    decided_at: dt.datetime
    rated_at: dt.datetime
    seconds_after: float = Field(description="From the decision to the rating")
    review: BurstReviewInfo | None = None


class BurstsResponse(WireModel):
    bursts: list[BurstRating]


class BurstReviewRequest(WireModel):
    verdict: BurstVerdict
    note: str = Field(default="", max_length=500)


class StaffMember(WireModel):
    id: int
    name: str
    staff_no: str
    role: str
    disabled: bool = False
    # When the account's authenticator (动态口令) was bound; None: password only.
    totp_enrolled_at: dt.datetime | None = None


class StaffResponse(WireModel):
    staff: list[StaffMember]


# -- second-factor enrolment by the hall's admin ------------------------------------------


class TotpEnrolRequest(WireModel):
    # Replace an existing enrolment (a lost or new phone): the old secret and codes stop working.
    reset: bool = False


class TotpEnrolment(WireModel):
    """Shown once to the admin and never retrievable again: only hashes of the codes are kept."""

    clerk_id: int
    uri: str = Field(repr=False, description="otpauth:// URI, the QR code's content")
    secret: str = Field(repr=False, description="Base32, for typing into the app by hand")
    recovery_codes: list[str] = Field(repr=False, description="Ten one-time recovery codes")
    enrolled_at: dt.datetime
    replaced: bool = Field(description="An earlier secret and its recovery codes were voided")


class ExportWhat(StrEnum):
    RATINGS = "ratings"  # one row per rating, no citizen identity
    FIGURES = "figures"  # the figures table as requested
    FOLLOW_UPS = "follow_ups"  # 整改 follow-ups, no citizen identity


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ExportFile(WireModel):
    """A spreadsheet made by the server, base64 inside JSON so every answer keeps the contract's shape."""

    filename: str
    media_type: str
    rows: int = Field(ge=0)
    content_base64: str


# -- captured materials and the back office (前台综合受理、后台分类审批) ------------------------

SHA256_PATTERN = r"^[0-9a-f]{64}$"
MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # one material's PDF; a 50-page A4 material is about 15 MB
UPLOAD_CHUNK_BYTES = 256 * 1024  # what a counter sends per request; the server takes up to 1 MiB


class UploadCreateRequest(WireModel):
    """Announce a captured material's PDF; the id is the counter's, so announcing again is harmless."""

    case_no: str = Field(min_length=1, max_length=48)
    material_code: str = Field(min_length=1, max_length=64)
    material_name: str = Field(default="", max_length=200)
    sha256: str = Field(pattern=SHA256_PATTERN, description="SHA-256 of the whole file, lower-case hex")
    size: int = Field(ge=1, le=MAX_UPLOAD_BYTES)
    pages: int = Field(ge=1, le=1000)
    media_type: str = Field(default="application/pdf", pattern=r"^application/pdf$")


class UploadStatus(WireModel):
    """How much of an upload the server holds: the next chunk starts at ``received``."""

    upload_id: uuid.UUID
    received: int = Field(ge=0)
    size: int
    sha256: str
    complete: bool = Field(description="Assembled and its SHA-256 checked")


class ForwardedMaterial(WireModel):
    material_code: str = Field(min_length=1, max_length=64)
    upload_id: uuid.UUID


class ForwardRequest(WireModel):
    """Send an accepted case with its captured materials to its department's back-office queue."""

    case_no: str = Field(min_length=1, max_length=48)
    materials: list[ForwardedMaterial] = Field(default_factory=list, max_length=200)


class BackOfficeState(StrEnum):
    FORWARDED = "forwarded"  # in the department's queue
    APPROVED = "approved"  # 准予许可: result paper ready at the window
    NOT_APPROVED = "not_approved"  # 不予许可: the decision with reasons ready at the window


class BackOfficeStatus(WireModel):
    """A case's state in the back office; also the data of a ``case_status`` change."""

    case_no: str
    department: str
    state: BackOfficeState
    forwarded_at: dt.datetime
    decided_at: dt.datetime | None = None
    reasons: list[str] = Field(default_factory=list, description="不予许可: the reasons given")
    remark: str = ""
    result_sha256: str = Field(default="", description="SHA-256 of the result paper's PDF ('' when none)")
    ready_for_pickup: bool = False


class TimelineKind(StrEnum):
    ACCEPTED = "accepted"  # 窗口受理
    FORWARDED = "forwarded"  # 流转至后台
    DECIDED = "decided"  # 后台审批
    READY = "ready"  # 待取件
    PICKED_UP = "picked_up"  # 已出件


class TimelineEvent(WireModel):
    kind: TimelineKind
    at: dt.datetime
    actor: str = ""
    note: str = ""


class CaseTimeline(WireModel):
    case_no: str
    item_code: str
    department: str
    events: list[TimelineEvent]


# -- visits: several items at one window, priority, notices, waiting estimates -----------------


class VisitRef(WireModel):
    """Where a case stands in its visit: the bundle (if any), the items in decision order."""

    bundle_code: str | None = None
    item_codes: list[str] = Field(min_length=1)
    position: int = Field(ge=1, description="1-based position of this case's item")


class PriorityRequest(PriorityClaim):
    """绿色通道: a clerk marks a waiting ticket with a priority category, giving the reason."""

    ticket_no: str = Field(min_length=1, max_length=16)


class WaitEstimate(WireModel):
    """How long a citizen can expect to wait, from the live queue and recent handling times."""

    as_of: dt.datetime
    waiting: int = Field(ge=0, description="Tickets waiting in the hall now")
    ahead: int | None = Field(default=None, description="Tickets called before this one (with ticket_no)")
    minutes: int | None = Field(default=None, description="Estimated wait in minutes; None when unknown")
    windows_open: int = Field(ge=0)
    handle_minutes: float = Field(description="Recent average handling time per ticket")
    category: TicketCategory | None = None


class NoticeKind(StrEnum):
    CALLED = "called"  # 您的号已叫到
    APPROACHING = "approaching"  # 前面还有 N 位
    RESULT_READY = "result_ready"  # 办理结果可领取


class NoticeStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry


class NoticeInfo(WireModel):
    """An SMS notice as the hall sees it: the phone masked, the attempts and the last error."""

    id: int
    kind: NoticeKind
    ref: str = Field(description="The ticket number, or the case number for result_ready")
    phone: str = Field(description="Masked: 138****5678")
    text: str
    status: NoticeStatus
    attempts: int
    last_error: str = ""
    created_at: dt.datetime
    sent_at: dt.datetime | None = None


class NoticesResponse(WireModel):
    notices: list[NoticeInfo]


class ResultReadyRequest(WireModel):
    case_no: str = Field(min_length=1, max_length=48)
