"""back office: chunked uploads of captured materials, department queues, case timelines

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("material_code", sa.String(length=64), nullable=False),
        sa.Column("material_name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("upload_id", name=op.f("pk_uploads")),
    )
    op.create_index(op.f("ix_uploads_case_no"), "uploads", ["case_no"])
    op.create_table(
        "upload_chunks",
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("offset", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["upload_id"], ["uploads.upload_id"], name=op.f("fk_upload_chunks_upload_id_uploads")
        ),
        sa.PrimaryKeyConstraint("upload_id", "offset", name=op.f("pk_upload_chunks")),
    )
    op.create_table(
        "case_materials",
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("material_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_no", "material_code", name=op.f("pk_case_materials")),
    )
    op.create_table(
        "back_office_cases",
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("hall_code", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("remark", sa.Text(), nullable=False),
        sa.Column("result_pdf", sa.LargeBinary(), nullable=True),
        sa.Column("result_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["clerks.id"], name=op.f("fk_back_office_cases_decided_by_clerks")
        ),
        sa.PrimaryKeyConstraint("case_no", name=op.f("pk_back_office_cases")),
    )
    op.create_index(op.f("ix_back_office_cases_department"), "back_office_cases", ["department"])
    op.create_index(op.f("ix_back_office_cases_hall_code"), "back_office_cases", ["hall_code"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_no", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index(op.f("ix_case_events_case_no"), "case_events", ["case_no"])
    op.create_table(
        "department_staff",
        sa.Column("clerk_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["clerk_id"], ["clerks.id"], name=op.f("fk_department_staff_clerk_id_clerks")
        ),
        sa.PrimaryKeyConstraint("clerk_id", name=op.f("pk_department_staff")),
    )


def downgrade() -> None:
    op.drop_table("department_staff")
    op.drop_index(op.f("ix_case_events_case_no"), table_name="case_events")
    op.drop_table("case_events")
    op.drop_index(op.f("ix_back_office_cases_hall_code"), table_name="back_office_cases")
    op.drop_index(op.f("ix_back_office_cases_department"), table_name="back_office_cases")
    op.drop_table("back_office_cases")
    op.drop_table("case_materials")
    op.drop_table("upload_chunks")
    op.drop_index(op.f("ix_uploads_case_no"), table_name="uploads")
    op.drop_table("uploads")
