"""counter actions: recall count and transfer note on tickets, window pause, case pick-up

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as t:
        t.add_column(sa.Column("recalls", sa.Integer(), nullable=False, server_default="0"))
        t.add_column(sa.Column("note", sa.String(length=500), nullable=False, server_default=""))
    with op.batch_alter_table("windows") as w:
        w.add_column(sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()))
        w.add_column(sa.Column("pause_reason", sa.String(length=200), nullable=False, server_default=""))
        w.add_column(sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("cases") as c:
        c.add_column(sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True))
        c.add_column(sa.Column("picked_up_by", sa.String(length=100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("cases") as c:
        c.drop_column("picked_up_by")
        c.drop_column("picked_up_at")
    with op.batch_alter_table("windows") as w:
        w.drop_column("paused_at")
        w.drop_column("pause_reason")
        w.drop_column("paused")
    with op.batch_alter_table("tickets") as t:
        t.drop_column("note")
        t.drop_column("recalls")
