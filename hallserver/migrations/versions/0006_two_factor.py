"""two-factor sign-in: the hall's policy, clerks' TOTP secrets, recovery codes, the login log

Halls that exist when this runs require the second factor (server default TRUE): after
the upgrade their clerks need `hallserver clerk enrol-totp` before they can sign in, or
the hall's administrator switches the rule off for the changeover with
`hallserver clerk require-totp --hall CODE --off` (docs/security.md).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("halls") as h:
        h.add_column(
            sa.Column("require_second_factor", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("clerks") as c:
        c.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        c.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        c.add_column(sa.Column("totp_enrolled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "clerk_recovery_codes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clerk_id"], ["clerks.id"], name=op.f("fk_clerk_recovery_codes_clerk_id_clerks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clerk_recovery_codes")),
    )
    op.create_index(op.f("ix_clerk_recovery_codes_clerk_id"), "clerk_recovery_codes", ["clerk_id"])
    op.create_table(
        "login_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("window_no", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("clerk_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), server_default="", nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("factor", sa.String(length=16), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_log")),
    )
    op.create_index(op.f("ix_login_log_at"), "login_log", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_log_at"), table_name="login_log")
    op.drop_table("login_log")
    op.drop_index(op.f("ix_clerk_recovery_codes_clerk_id"), table_name="clerk_recovery_codes")
    op.drop_table("clerk_recovery_codes")
    with op.batch_alter_table("clerks") as c:
        c.drop_column("totp_enrolled_at")
        c.drop_column("totp_last_step")
        c.drop_column("totp_secret")
    with op.batch_alter_table("halls") as h:
        h.drop_column("require_second_factor")
