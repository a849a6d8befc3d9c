"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from hallserver.db import MIGRATIONS, alembic_config, migrate
from hallserver.models import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == [], f"models and migrations drifted; add a migration: {diff}"


def test_database_is_at_the_single_head(engine: Engine) -> None:
    with engine.connect() as conn:
        heads = ScriptDirectory.from_config(alembic_config(conn)).get_heads()
        current = conn.execute(text("select version_num from alembic_version")).scalars().all()
    assert len(heads) == 1, "migrations branched: merge the heads"
    assert current == heads
    assert MIGRATIONS.joinpath("versions").is_dir()


def test_migrate_again_is_harmless_and_keeps_data(engine: Engine) -> None:
    with engine.connect() as conn:
        before = conn.execute(text("select count(*) from bookings")).scalar_one()
    migrate(engine)
    with engine.connect() as conn:
        after = conn.execute(text("select count(*) from bookings")).scalar_one()
    assert before == after == 48
    assert set(inspect(engine).get_table_names()) >= {t for t in Base.metadata.tables}
