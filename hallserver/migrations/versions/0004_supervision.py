"""supervision: the steps of each 整改 follow-up, and supervisors' reviews of rating bursts

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_up_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_no"], ["follow_ups.case_no"], name=op.f("fk_follow_up_events_case_no_follow_ups")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["clerks.id"], name=op.f("fk_follow_up_events_actor_id_clerks")
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["clerks.id"], name=op.f("fk_follow_up_events_assignee_id_clerks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_events")),
    )
    with op.batch_alter_table("follow_up_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_events_case_no"), ["case_no"], unique=False)

    op.create_table(
        "burst_reviews",
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_no"], ["ratings.case_no"], name=op.f("fk_burst_reviews_case_no_ratings")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["clerks.id"], name=op.f("fk_burst_reviews_reviewer_id_clerks")
        ),
        sa.PrimaryKeyConstraint("case_no", name=op.f("pk_burst_reviews")),
    )


def downgrade() -> None:
    op.drop_table("burst_reviews")
    with op.batch_alter_table("follow_up_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_events_case_no"))
    op.drop_table("follow_up_events")
