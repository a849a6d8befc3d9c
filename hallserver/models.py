"""The platform's tables (SQLAlchemy 2 typed ORM; SQLite and PostgreSQL alike)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[dt.datetime]):
    """An instant, stored as UTC and always read back timezone-aware (UTC).

    SQLite keeps no UTC offset: a plain ``DateTime(timezone=True)`` stores the wall
    clock of whatever offset the value carried (a counter's +08:00, the server's
    local zone) and reads it back naive. Normalising to UTC on the way in makes
    stored values, SQL comparisons and ORDER BY mean the same instant everywhere;
    on PostgreSQL (timestamptz) it changes nothing. Naive values are taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}
    # Named constraints, so migrations can alter them on PostgreSQL and in SQLite batch mode.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Hall(Base):
    __tablename__ = "halls"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Ed25519 public key (url-safe base64) that checks the signatures on printed documents.
    public_key: Mapped[str] = mapped_column(String(64), default="")
    # 等保 level 3 asks for two authentication techniques: clerks sign in with password and a
    # TOTP code. On unless switched off; the DEMO hall (hallserver/seed.py) switches it off.
    require_second_factor: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class Window(Base):
    """A counter window; held by one device at a time."""

    __tablename__ = "windows"

    hall_code: Mapped[str] = mapped_column(ForeignKey("halls.code"), primary_key=True)
    window_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    device_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # 暂停服务: other windows must not transfer citizens here while it is paused.
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    pause_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    paused_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class Clerk(Base):
    __tablename__ = "clerks"
    __table_args__ = (UniqueConstraint("hall_code", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hall_code: Mapped[str] = mapped_column(ForeignKey("halls.code"))
    username: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    staff_no: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16), default="clerk")
    photo_url: Mapped[str | None] = mapped_column(String(500), default=None)
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    # The TOTP (RFC 6238) secret, base32; None until `hallserver clerk enrol-totp`.
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    # The last time-step whose code was accepted: a code is good once, however long its window.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    totp_enrolled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class AuthToken(Base):
    __tablename__ = "auth_tokens"

    # Only the SHA-256 of a token is stored: a copy of the database does not log anyone in.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("clerks.id"))
    hall_code: Mapped[str] = mapped_column(String(32))
    window_no: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class RecoveryCode(Base):
    """A clerk's one-time recovery code (备用码) for when the phone is not at hand; argon2-hashed."""

    __tablename__ = "clerk_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("clerks.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class LoginEvent(Base):
    """Every sign-in attempt and second-factor enrolment, kept like the other access logs.

    Only insert, never update or delete (docs/security.md: at least 180 days, 网络安全法 §21).
    ``username`` is set only when it names an account, so a password typed into the user
    name field is never stored; codes and secrets are never stored.
    """

    __tablename__ = "login_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    hall_code: Mapped[str] = mapped_column(String(32))
    window_no: Mapped[int] = mapped_column(Integer)
    device_id: Mapped[str] = mapped_column(String(64))
    clerk_id: Mapped[int | None] = mapped_column(Integer, default=None)
    username: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # "ok", or the error code the client got (bad_credentials, totp_invalid, account_locked, ...)
    outcome: Mapped[str] = mapped_column(String(32))
    # password | totp | recovery_code | enrol
    factor: Mapped[str] = mapped_column(String(16), default="", server_default="")


class CatalogItem(Base):
    __tablename__ = "catalog_items"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class Booking(Base):
    __tablename__ = "bookings"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    hall_code: Mapped[str] = mapped_column(ForeignKey("halls.code"), index=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    slot: Mapped[str] = mapped_column(String(16))
    item_code: Mapped[str] = mapped_column(String(64))
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON)
    pre_review: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="booked")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("hall_code", "date", "ticket_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hall_code: Mapped[str] = mapped_column(ForeignKey("halls.code"))
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    ticket_no: Mapped[str] = mapped_column(String(16))
    booking_code: Mapped[str | None] = mapped_column(String(32), default=None)
    item_code: Mapped[str | None] = mapped_column(String(64), default=None)
    state: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    window_no: Mapped[int | None] = mapped_column(Integer, default=None)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    # When the citizen is due: the booked slot's start, or the time a walk-in took the number.
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    called_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    recalls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")


class Case(Base):
    __tablename__ = "cases"

    case_no: Mapped[str] = mapped_column(String(48), primary_key=True)
    hall_code: Mapped[str] = mapped_column(String(32), index=True)
    window_no: Mapped[int] = mapped_column(Integer)
    booking_code: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    ticket_no: Mapped[str | None] = mapped_column(String(16), default=None)
    item_code: Mapped[str] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    device_id: Mapped[str] = mapped_column(String(64))
    picked_up_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    picked_up_by: Mapped[str] = mapped_column(String(100), default="", server_default="")


class Document(Base):
    __tablename__ = "documents"

    doc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_no: Mapped[str] = mapped_column(String(48), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature: Mapped[str] = mapped_column(String(128))
    printed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    reprint_no: Mapped[int] = mapped_column(Integer, default=0)


class Rating(Base):
    """A citizen's rating. It names the case, never the citizen: exports stay anonymous."""

    __tablename__ = "ratings"

    case_no: Mapped[str] = mapped_column(String(48), primary_key=True)
    hall_code: Mapped[str] = mapped_column(String(32), index=True)
    window_no: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(24))
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    rated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    # Part of a burst of identical ratings given seconds after the decision (hallclient.ratings):
    # kept, as every rating is, but for the supervisor to look at.
    burst: Mapped[bool] = mapped_column(Boolean, default=False)


class FollowUp(Base):
    """整改: what a 不满意/非常不满意 rating obliges the hall to do, by a date in working days.

    Like the rating it names the case, never the citizen.
    """

    __tablename__ = "follow_ups"

    case_no: Mapped[str] = mapped_column(ForeignKey("ratings.case_no"), primary_key=True)
    hall_code: Mapped[str] = mapped_column(String(32), index=True)
    window_no: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(24))
    # The counter computes it with the hall's holiday calendar; None only from a counter that sent none.
    due_date: Mapped[dt.date | None] = mapped_column(Date, default=None, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    # What the hall did about it, written when it is closed.
    outcome: Mapped[str] = mapped_column(Text, default="")


class AppliedOp(Base):
    """Every op a device pushed, by its id: re-sending an op returns the first answer."""

    __tablename__ = "applied_ops"

    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class ChangeLog(Base):
    """What pull hands out: every change to a booking, catalog item or ticket, in order."""

    __tablename__ = "change_log"

    # 64-bit on PostgreSQL (a busy province outgrows 2^31 changes); SQLite's INTEGER
    # PRIMARY KEY is already 64-bit and must stay spelled INTEGER to autoincrement.
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    # None: a change for every hall (the catalog).
    hall_code: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    entity: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


# -- supervision ------------------------------------------------------------------------------


class FollowUpEvent(Base):
    """One step of a 整改 follow-up, kept for good: assigned to someone, result written, closed.

    The follow-up row holds the current state (``status``, ``outcome``, ``closed_at``);
    these rows say who did what and when, and the latest ``assign`` names the assignee.
    """

    __tablename__ = "follow_up_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("follow_ups.case_no"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # assign | result | close
    actor_id: Mapped[int] = mapped_column(ForeignKey("clerks.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"), default=None)
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class BurstReview(Base):
    """A supervisor's verdict on a rating flagged as part of a burst (genuine or suspicious)."""

    __tablename__ = "burst_reviews"

    case_no: Mapped[str] = mapped_column(ForeignKey("ratings.case_no"), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16))  # genuine | suspicious
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("clerks.id"))
    reviewed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


# -- e-licenses (电子证照) ----------------------------------------------------------------------


class ELicense(Base):
    """The e-license registry (电子证照库): licenses the government already issued.

    ``holder_id`` is the resident ID number of the person the license belongs to
    (for an individual business's 营业执照, its operator); ``uscc`` is set for
    licenses of an organisation.
    """

    __tablename__ = "e_licenses"

    license_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    type_code: Mapped[str] = mapped_column(String(32), index=True)
    holder_id: Mapped[str] = mapped_column(String(32), index=True)
    holder_name: Mapped[str] = mapped_column(String(100))
    uscc: Mapped[str] = mapped_column(String(18), default="", server_default="")
    issuer: Mapped[str] = mapped_column(String(200))
    issued_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    file: Mapped[bytes] = mapped_column(LargeBinary)
    file_type: Mapped[str] = mapped_column(String(32), default="application/pdf")


class LicenseAccess(Base):
    """Every look into the registry from a counter, allowed or refused: who, for which case, why."""

    __tablename__ = "license_access_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    clerk_id: Mapped[int] = mapped_column(Integer)
    hall_code: Mapped[str] = mapped_column(String(32))
    window_no: Mapped[int] = mapped_column(Integer)
    ticket_no: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(String(32))
    license_no: Mapped[str] = mapped_column(String(64), default="", server_default="")
    purpose: Mapped[str] = mapped_column(String(16))
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200), default="", server_default="")


# -- captured materials and the back office (前台综合受理、后台分类审批) ------------------------


class Upload(Base):
    """A captured material's PDF on its way from a counter, in chunks, until its SHA-256 checks."""

    __tablename__ = "uploads"

    upload_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    hall_code: Mapped[str] = mapped_column(String(32))
    device_id: Mapped[str] = mapped_column(String(64))
    case_no: Mapped[str] = mapped_column(String(48), index=True)
    material_code: Mapped[str] = mapped_column(String(64))
    material_name: Mapped[str] = mapped_column(String(200), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)


class UploadChunk(Base):
    """One received chunk, committed before it is acknowledged; gone once the file is assembled."""

    __tablename__ = "upload_chunks"

    upload_id: Mapped[str] = mapped_column(ForeignKey("uploads.upload_id"), primary_key=True)
    offset: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CaseMaterial(Base):
    """A material of a case as the back office opens it: one PDF whose hash the server checked."""

    __tablename__ = "case_materials"

    case_no: Mapped[str] = mapped_column(String(48), primary_key=True)
    material_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    upload_id: Mapped[str] = mapped_column(String(36))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())


class BackOfficeCase(Base):
    """An accepted case in its department's queue (routed by the item's department)."""

    __tablename__ = "back_office_cases"

    case_no: Mapped[str] = mapped_column(String(48), primary_key=True)
    hall_code: Mapped[str] = mapped_column(String(32), index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(100), index=True)
    state: Mapped[str] = mapped_column(String(16), default="forwarded")
    forwarded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("clerks.id"), default=None)
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    remark: Mapped[str] = mapped_column(Text, default="")
    result_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    result_sha256: Mapped[str] = mapped_column(String(64), default="")


class CaseEvent(Base):
    """The case's timeline: accepted, forwarded, decided, ready, picked up, each with its time."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_no: Mapped[str] = mapped_column(String(48), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class DepartmentStaff(Base):
    """A back-office account (role ``department``) and the department whose queue it works."""

    __tablename__ = "department_staff"

    clerk_id: Mapped[int] = mapped_column(ForeignKey("clerks.id"), primary_key=True)
    department: Mapped[str] = mapped_column(String(100))


# -- visits: 一件事 bundles, priority (绿色通道), SMS notices --------------------------------------


class CatalogBundle(Base):
    """一件事一次办: a bundle of catalog items done in one visit (its body is ``wire.Bundle``)."""

    __tablename__ = "catalog_bundles"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class TicketVisit(Base):
    """What the hall knows of a ticket's visit beyond the ticket row, which every counter pulls.

    The priority category orders the queue; the reason the clerk gave, who marked it and
    when stay here (audited), never on the ticket the citizen screen shows. The phone is
    where SMS notices go for a walk-in (a booking's notices use the booking's phone).
    """

    __tablename__ = "ticket_visits"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), default="ordinary")
    priority_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    priority_by: Mapped[int | None] = mapped_column(Integer, default=None)
    priority_window: Mapped[int | None] = mapped_column(Integer, default=None)
    priority_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    bundle_code: Mapped[str | None] = mapped_column(String(64), default=None)
    item_codes: Mapped[list[Any]] = mapped_column(JSON, default=list)


class Notice(Base):
    """An SMS notice to a citizen's phone: recorded with the event, delivered later, retried.

    One per kind and reference a day (a recall does not text the citizen twice).
    """

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("hall_code", "day", "kind", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hall_code: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # called | approaching | result_ready
    ref: Mapped[str] = mapped_column(String(48))  # ticket number, or case number
    phone: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime(), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime(), default=None)
