"""append-only logs: the login log and the e-license access log refuse edits, and deletes younger than 180 days

Revision ID: 0009
Revises: 0008

网络安全法 §21 asks that logs be kept at least six months, and 等保 level 3 that they be
protected from edit. "Insert-only in the code" protected them from our own bugs only;
these triggers make the database itself refuse an UPDATE of a log row, a DELETE of a row
younger than 180 days, and (PostgreSQL) a TRUNCATE, whoever connects. The archiving job
(``hallserver logs prune``) deletes only older rows, after writing them to an archive.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

LOGS = ("login_log", "license_access_log")
# The legal floor, in the database; a hall may keep longer (the job's --keep-days), never shorter.
FLOOR_DAYS = 180


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION hall_log_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'TRUNCATE' THEN
                RAISE EXCEPTION '% is an append-only log: it cannot be truncated', TG_TABLE_NAME;
              END IF;
              IF TG_OP = 'UPDATE' THEN
                RAISE EXCEPTION '% is an append-only log: row % cannot be changed', TG_TABLE_NAME, OLD.id;
              END IF;
              IF OLD.at > now() - interval '{FLOOR_DAYS} days' THEN
                RAISE EXCEPTION '% keeps every row at least {FLOOR_DAYS} days: row % is from %',
                  TG_TABLE_NAME, OLD.id, OLD.at;
              END IF;
              RETURN OLD;
            END $$
            """
        )
        for table in LOGS:
            op.execute(
                f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION hall_log_guard()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION hall_log_guard()"
            )
        return
    for table in LOGS:
        # SQLite keeps UtcDateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, which compares as text
        # with datetime('now', ...), also UTC.
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is an append-only log: rows cannot be changed'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_keep_{FLOOR_DAYS}_days BEFORE DELETE ON {table} "
            f"WHEN OLD.at > datetime('now', '-{FLOOR_DAYS} days') "
            f"BEGIN SELECT RAISE(ABORT, '{table} keeps every row at least {FLOOR_DAYS} days'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in LOGS:
            op.execute(f"DROP TRIGGER {table}_guard ON {table}")
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION hall_log_guard()")
        return
    for table in LOGS:
        op.execute(f"DROP TRIGGER {table}_no_update")
        op.execute(f"DROP TRIGGER {table}_keep_{FLOOR_DAYS}_days")
