"""e-licenses: the registry (电子证照库) and the log of every access to it from a counter

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "e_licenses",
        sa.Column("license_no", sa.String(length=64), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("holder_id", sa.String(length=32), nullable=False),
        sa.Column("holder_name", sa.String(length=100), nullable=False),
        sa.Column("uscc", sa.String(length=18), server_default="", nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("revoked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("file", sa.LargeBinary(), nullable=False),
        sa.Column("file_type", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("license_no", name=op.f("pk_e_licenses")),
    )
    op.create_index(op.f("ix_e_licenses_holder_id"), "e_licenses", ["holder_id"])
    op.create_index(op.f("ix_e_licenses_type_code"), "e_licenses", ["type_code"])
    op.create_table(
        "license_access_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("ticket_no", sa.String(length=16), nullable=False),
        sa.Column("holder_id", sa.String(length=32), nullable=False),
        sa.Column("license_no", sa.String(length=64), server_default="", nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_access_log")),
    )
    op.create_index(op.f("ix_license_access_log_at"), "license_access_log", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_license_access_log_at"), table_name="license_access_log")
    op.drop_table("license_access_log")
    op.drop_index(op.f("ix_e_licenses_type_code"), table_name="e_licenses")
    op.drop_index(op.f("ix_e_licenses_holder_id"), table_name="e_licenses")
    op.drop_table("e_licenses")
