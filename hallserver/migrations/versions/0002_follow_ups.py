"""follow-ups (整改) opened by bad ratings, and the burst flag on ratings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        # Ratings stored before the rule existed were not flagged.
        batch_op.add_column(sa.Column("burst", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "follow_ups",
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_no"], ["ratings.case_no"], name=op.f("fk_follow_ups_case_no_ratings")),
        sa.PrimaryKeyConstraint("case_no", name=op.f("pk_follow_ups")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_due_date"), ["due_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_hall_code"), ["hall_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_ups_hall_code"))
        batch_op.drop_index(batch_op.f("ix_follow_ups_due_date"))

    op.drop_table("follow_ups")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_column("burst")
