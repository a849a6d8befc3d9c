"""The counter's local SQLite file: ORM models and how the file is opened.

One file per device, WAL mode, so the sync worker can read while the clerk's
actions write. Personal fields are stored only as AES-GCM ciphertext (``*_enc``)
and, for ID numbers, an HMAC blind index.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 1


class Base(DeclarativeBase):
    pass


class CatalogItemRow(Base):
    __tablename__ = "catalog_items"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, doc="ServiceItem as JSON")


class BookingRow(Base):
    __tablename__ = "bookings"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    slot: Mapped[str] = mapped_column(String(16))
    item_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    applicant_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_index: Mapped[str] = mapped_column(String(64), index=True)
    pre_review: Mapped[str] = mapped_column(Text, doc="PreReview as JSON")


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("date", "ticket_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    date: Mapped[dt.date] = mapped_column(Date, index=True)
    ticket_no: Mapped[str] = mapped_column(String(16))
    booking_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    item_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    window_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime)
    called_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    local_only: Mapped[bool] = mapped_column(default=False, doc="issued offline at this counter")


class CaseRow(Base):
    __tablename__ = "cases"
    case_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    ticket_no: Mapped[str | None] = mapped_column(String(16), nullable=True)
    booking_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    item_code: Mapped[str] = mapped_column(String(64))
    item_version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(16))
    window_no: Mapped[int] = mapped_column(Integer)
    clerk_id: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime)
    promised_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    materials: Mapped[str] = mapped_column(Text)
    applicant_enc: Mapped[bytes] = mapped_column(LargeBinary)
    notes: Mapped[str] = mapped_column(Text, default="")


class RatingRow(Base):
    """Written only by the citizen screen's code path; the clerk window never reads it."""

    __tablename__ = "ratings"
    case_no: Mapped[str] = mapped_column(ForeignKey("cases.case_no"), primary_key=True)
    level: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class DocumentRow(Base):
    __tablename__ = "documents"
    doc_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_no: Mapped[str] = mapped_column(ForeignKey("cases.case_no"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Text)
    fields: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    reprint_no: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload_enc: Mapped[bytes] = mapped_column(LargeBinary, doc="the op payload JSON, encrypted")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[str] = mapped_column(Text, default="")
    acked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    conflict_acknowledged: Mapped[bool] = mapped_column(default=False)


class CaseSequenceRow(Base):
    __tablename__ = "case_sequences"
    hall_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    window_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class SyncStateRow(Base):
    __tablename__ = "sync_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")  # a committed decision must survive a power cut
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def open_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    return engine
