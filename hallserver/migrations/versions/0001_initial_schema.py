"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 09:29:51.304144
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applied_ops",
        sa.Column("op_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("op_id", name=op.f("pk_applied_ops")),
    )
    op.create_table(
        "cases",
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("booking_code", sa.String(length=32), nullable=True),
        sa.Column("ticket_no", sa.String(length=16), nullable=True),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("case_no", name=op.f("pk_cases")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cases_booking_code"), ["booking_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_decided_at"), ["decided_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_hall_code"), ["hall_code"], unique=False)

    op.create_table(
        "catalog_items",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_items")),
    )
    op.create_table(
        "change_log",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("hall_code", sa.String(length=32), nullable=True),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_change_log")),
    )
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_change_log_hall_code"), ["hall_code"], unique=False)

    op.create_table(
        "documents",
        sa.Column("doc_id", sa.String(length=64), nullable=False),
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("printed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reprint_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("doc_id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_case_no"), ["case_no"], unique=False)

    op.create_table(
        "halls",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_halls")),
    )
    op.create_table(
        "ratings",
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_no", name=op.f("pk_ratings")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ratings_hall_code"), ["hall_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_rated_at"), ["rated_at"], unique=False)

    op.create_table(
        "bookings",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(length=16), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("applicant", sa.JSON(), nullable=False),
        sa.Column("pre_review", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["hall_code"], ["halls.code"], name=op.f("fk_bookings_hall_code_halls")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_bookings")),
    )
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookings_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_bookings_hall_code"), ["hall_code"], unique=False)

    op.create_table(
        "clerks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("staff_no", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("photo_url", sa.String(length=500), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hall_code"], ["halls.code"], name=op.f("fk_clerks_hall_code_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clerks")),
        sa.UniqueConstraint("hall_code", "username", name=op.f("uq_clerks_hall_code_username")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("ticket_no", sa.String(length=16), nullable=False),
        sa.Column("booking_code", sa.String(length=32), nullable=True),
        sa.Column("item_code", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hall_code"], ["halls.code"], name=op.f("fk_tickets_hall_code_halls")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "hall_code", "date", "ticket_no", name=op.f("uq_tickets_hall_code_date_ticket_no")
        ),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_date"), ["date"], unique=False)
        batch_op.create_index(batch_op.f("ix_tickets_state"), ["state"], unique=False)

    op.create_table(
        "windows",
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["hall_code"], ["halls.code"], name=op.f("fk_windows_hall_code_halls")),
        sa.PrimaryKeyConstraint("hall_code", "window_no", name=op.f("pk_windows")),
    )
    op.create_table(
        "auth_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["clerk_id"], ["clerks.id"], name=op.f("fk_auth_tokens_clerk_id_clerks")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_auth_tokens")),
    )


def downgrade() -> None:
    op.drop_table("auth_tokens")
    op.drop_table("windows")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_state"))
        batch_op.drop_index(batch_op.f("ix_tickets_date"))

    op.drop_table("tickets")
    op.drop_table("clerks")
    with op.batch_alter_table("bookings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bookings_hall_code"))
        batch_op.drop_index(batch_op.f("ix_bookings_date"))

    op.drop_table("bookings")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_rated_at"))
        batch_op.drop_index(batch_op.f("ix_ratings_hall_code"))

    op.drop_table("ratings")
    op.drop_table("halls")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_case_no"))

    op.drop_table("documents")
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_log_hall_code"))

    op.drop_table("change_log")
    op.drop_table("catalog_items")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_hall_code"))
        batch_op.drop_index(batch_op.f("ix_cases_decided_at"))
        batch_op.drop_index(batch_op.f("ix_cases_booking_code"))

    op.drop_table("cases")
    op.drop_table("applied_ops")
