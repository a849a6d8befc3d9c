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
    exc,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hallclient.i18n import _

# PRAGMA user_version of a file this client writes. Files from version 1 (before
# versioning) report 0 but have tables; each step below upgrades one version.
SCHEMA_VERSION = 6
MIGRATIONS: dict[int, list[str]] = {
    2: [
        # How often an op was offered to the server, and the last reason it was not taken:
        # what IT staff need to see when one op stays pending for days.
        "ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT ''",
    ],
    3: [
        # A 不满意 / 非常不满意 rating opens a follow-up (整改) with a deadline in working days.
        "CREATE TABLE follow_ups ("
        " case_no VARCHAR(64) NOT NULL,"
        " level VARCHAR(32) NOT NULL,"
        " due_date DATE NOT NULL,"
        " status VARCHAR(16) NOT NULL,"
        " created_at DATETIME NOT NULL,"
        " PRIMARY KEY (case_no),"
        " FOREIGN KEY(case_no) REFERENCES ratings (case_no))",
        "CREATE INDEX ix_follow_ups_due_date ON follow_ups (due_date)",
    ],
    4: [
        # 重呼 count and the transfer note travel with the ticket.
        "ALTER TABLE tickets ADD COLUMN recalls INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tickets ADD COLUMN note TEXT NOT NULL DEFAULT ''",
        # Find a case by the applicant's ID number (出件, returned corrections) without decrypting
        # every case; the deadline tells the overdue panel which corrections are late; pick-up closes.
        "ALTER TABLE cases ADD COLUMN id_index VARCHAR(64) NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN correction_deadline DATE",
        "ALTER TABLE cases ADD COLUMN picked_up_at DATETIME",
        "CREATE INDEX ix_cases_id_index ON cases (id_index)",
    ],
    5: [
        # The hash-chained audit log (hallclient/audit.py).
        "CREATE TABLE audit_log ("
        " id INTEGER NOT NULL,"
        " at VARCHAR(32) NOT NULL,"
        " actor VARCHAR(64) NOT NULL,"
        " action VARCHAR(32) NOT NULL,"
        " subject VARCHAR(64) NOT NULL,"
        " detail TEXT NOT NULL,"
        " prev_hash VARCHAR(64) NOT NULL,"
        " hash VARCHAR(64) NOT NULL,"
        " PRIMARY KEY (id))",
        # Retention runs from the server's acknowledgement of the case's own op.
        "ALTER TABLE cases ADD COLUMN op_id VARCHAR(36)",
        "ALTER TABLE cases ADD COLUMN acked_at DATETIME",
        "CREATE INDEX ix_cases_op_id ON cases (op_id)",
    ],
    6: [
        # Captured paper materials (one encrypted PDF each) on their way to the back office, the
        # cases to forward once their materials are up, and the back office's answers.
        # IF NOT EXISTS: a file rebuilt from an older one by create_all already has them.
        "CREATE TABLE IF NOT EXISTS captures ("
        " id VARCHAR(36) NOT NULL,"
        " subject VARCHAR(64) NOT NULL,"
        " case_no VARCHAR(40),"
        " material_code VARCHAR(64) NOT NULL,"
        " material_name VARCHAR(200) NOT NULL,"
        " sha256 VARCHAR(64) NOT NULL,"
        " pages INTEGER NOT NULL,"
        " size INTEGER NOT NULL,"
        " pdf_enc BLOB NOT NULL,"
        " created_at DATETIME NOT NULL,"
        " upload_state VARCHAR(16) NOT NULL,"
        " sent INTEGER NOT NULL,"
        " attempts INTEGER NOT NULL,"
        " last_error TEXT NOT NULL,"
        " uploaded_at DATETIME,"
        " PRIMARY KEY (id),"
        " CONSTRAINT uq_captures_subject_material UNIQUE (subject, material_code))",
        "CREATE INDEX IF NOT EXISTS ix_captures_case_no ON captures (case_no)",
        "CREATE INDEX IF NOT EXISTS ix_captures_upload_state ON captures (upload_state)",
        "CREATE TABLE IF NOT EXISTS forwards ("
        " case_no VARCHAR(40) NOT NULL,"
        " state VARCHAR(16) NOT NULL,"
        " attempts INTEGER NOT NULL,"
        " last_error TEXT NOT NULL,"
        " created_at DATETIME NOT NULL,"
        " forwarded_at DATETIME,"
        " PRIMARY KEY (case_no))",
        "CREATE TABLE IF NOT EXISTS back_office ("
        " case_no VARCHAR(40) NOT NULL,"
        " department VARCHAR(100) NOT NULL,"
        " state VARCHAR(16) NOT NULL,"
        " body TEXT NOT NULL,"
        " ready_for_pickup BOOLEAN NOT NULL,"
        " updated_at DATETIME NOT NULL,"
        " PRIMARY KEY (case_no))",
    ],
}


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
    recalls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")


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
    id_index: Mapped[str] = mapped_column(String(64), default="", server_default="", index=True)
    correction_deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    picked_up_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    op_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    acked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class RatingRow(Base):
    """Written only by the citizen screen's code path; the clerk window never reads it."""

    __tablename__ = "ratings"
    case_no: Mapped[str] = mapped_column(ForeignKey("cases.case_no"), primary_key=True)
    level: Mapped[str] = mapped_column(String(32))
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class FollowUpRow(Base):
    """整改: a bad rating's follow-up, due a number of working days after the rating."""

    __tablename__ = "follow_ups"
    case_no: Mapped[str] = mapped_column(String(64), ForeignKey("ratings.case_no"), primary_key=True)
    level: Mapped[str] = mapped_column(String(32))
    due_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


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
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")


class CaseSequenceRow(Base):
    __tablename__ = "case_sequences"
    hall_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    window_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class AuditRow(Base):
    """Append-only; each row's hash covers the previous row's (hallclient/audit.py)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(32), doc="local time, ISO 8601, exactly as hashed")
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


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
    # Deleted or purged personal data is overwritten, not left in free pages of the file.
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


class LocalStoreError(Exception):
    """The local file cannot be used; the message says which file and what to do."""


def open_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    try:
        _upgrade(engine, path)
    except exc.DatabaseError as err:
        engine.dispose()
        raise LocalStoreError(
            _("本机数据文件 {path} 无法打开（{reason}）。请不要删除它，联系信息技术人员处理。").format(
                path=path, reason=str(err.orig).strip() or type(err.orig).__name__
            )
        ) from None
    return engine


def _upgrade(engine: Engine, path: Path) -> None:
    with engine.begin() as conn:
        version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        has_tables = bool(
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master WHERE type = 'table'").scalar()
        )
    if version > SCHEMA_VERSION:
        raise LocalStoreError(
            _(
                "本机数据文件 {path} 由更新版本的客户端写入（版本 {found}，本程序支持 {supported}），请升级客户端。"
            ).format(path=path, found=version, supported=SCHEMA_VERSION)
        )
    if not has_tables:
        Base.metadata.create_all(engine)
        _set_version(engine, SCHEMA_VERSION)
        return
    version = version or 1
    if version == SCHEMA_VERSION:
        return
    _backup(engine, path, version)
    _migrate(path, version)


def _migrate(path: Path, version: int) -> None:
    """All steps in one explicit transaction: a crash mid-upgrade leaves the old schema.

    Done on a plain sqlite3 connection in autocommit mode with an explicit BEGIN,
    because pysqlite would otherwise run DDL outside any transaction.
    """
    import sqlite3

    con = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target]:
                    con.execute(statement)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    except sqlite3.DatabaseError as err:
        raise LocalStoreError(
            _("本机数据文件 {path} 升级失败（{reason}），原文件未改动。").format(path=path, reason=err)
        ) from None
    finally:
        con.close()


def _set_version(engine: Engine, version: int) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")


def _backup(engine: Engine, path: Path, version: int) -> None:
    """Keep a consistent copy of the file as it was before an upgrade (SQLite's backup API)."""
    import sqlite3

    target = path.with_name(f"{path.name}.v{version}.bak")
    raw = engine.raw_connection()
    try:
        dst = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(dst)  # type: ignore[union-attr]
        finally:
            dst.close()
    finally:
        raw.close()


# -- version 6: captured materials and the back office -----------------------------------------


class CaptureRow(Base):
    """One material's PDF captured at the counter, AES-GCM encrypted, and its upload progress.

    ``subject`` is the service the material was captured for (the ticket or booking) before
    the case number exists; ``case_no`` is set when the case is accepted. Upload states:
    ``held`` (no accepted case yet), ``pending``, ``uploaded``.
    """

    __tablename__ = "captures"
    __table_args__ = (UniqueConstraint("subject", "material_code", name="uq_captures_subject_material"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64))
    case_no: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    material_code: Mapped[str] = mapped_column(String(64))
    material_name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    pdf_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    upload_state: Mapped[str] = mapped_column(String(16), default="held", index=True)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    uploaded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class ForwardRow(Base):
    """An accepted case to send to its back office once all its captured materials are up."""

    __tablename__ = "forwards"
    case_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    forwarded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class BackOfficeRow(Base):
    """The back office's latest word on a case (wire.BackOfficeStatus as JSON), from /sync/pull."""

    __tablename__ = "back_office"
    case_no: Mapped[str] = mapped_column(String(40), primary_key=True)
    department: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    ready_for_pickup: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
