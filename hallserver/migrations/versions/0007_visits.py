"""visits: 一件事 bundles in the catalog, a ticket's priority and items, SMS notices

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_bundles",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_catalog_bundles")),
    )
    op.create_table(
        "ticket_visits",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("priority_reason", sa.String(length=200), server_default="", nullable=False),
        sa.Column("priority_by", sa.Integer(), nullable=True),
        sa.Column("priority_window", sa.Integer(), nullable=True),
        sa.Column("priority_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("bundle_code", sa.String(length=64), nullable=True),
        sa.Column("item_codes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_ticket_visits_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_ticket_visits")),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=48), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint(
            "hall_code", "day", "kind", "ref", name=op.f("uq_notices_hall_code_day_kind_ref")
        ),
    )
    op.create_index(op.f("ix_notices_hall_code"), "notices", ["hall_code"])
    op.create_index(op.f("ix_notices_status"), "notices", ["status"])
    op.create_index(op.f("ix_notices_next_attempt_at"), "notices", ["next_attempt_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_notices_next_attempt_at"), table_name="notices")
    op.drop_index(op.f("ix_notices_status"), table_name="notices")
    op.drop_index(op.f("ix_notices_hall_code"), table_name="notices")
    op.drop_table("notices")
    op.drop_table("ticket_visits")
    op.drop_table("catalog_bundles")
