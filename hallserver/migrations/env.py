"""Alembic environment: run by ``hallserver init-db`` (and by ``alembic`` for developers).

The connection comes from :func:`hallserver.db.migrate`, so the same URL handling
(SQLite pragmas, hidden parameters) applies to migrations as to the server.
"""

from __future__ import annotations

from alembic import context

from hallserver.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `hallserver init-db` (hallserver.db.migrate)")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
