"""Engine and sessions: SQLite by default, PostgreSQL in production."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig


def default_db_url() -> str:
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("hallserver", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'hallserver.sqlite'}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: SQL errors in the log must not carry citizens' data.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_size=pool_size(), max_overflow=0)


def pool_size(env: dict[str, str] | None = None) -> int:
    """PostgreSQL connections of the server: HALLSERVER_DB_POOL, by default 4 per CPU core (at least 4).

    Not one per uvicorn worker thread (40): the server is one Python process, and
    more transactions at once than its cores can run only wait inside PostgreSQL
    while holding their row locks and the change-log lock, so every writer waits
    longer. Seen in the 200-window load test on 2 cores: with 40 connections the
    server fell into answering nothing within 5 s (863 of 1,491 requests timed
    out); with 8, none did. A request beyond the pool waits for a connection
    (up to 30 s) holding nothing. No request holds two connections at once
    (see hallserver/deps.py), so a small pool cannot deadlock.
    """
    raw = (os.environ if env is None else env).get("HALLSERVER_DB_POOL", "")
    if raw.strip():
        try:
            return max(1, int(raw))
        except ValueError:
            raise ValueError(f"HALLSERVER_DB_POOL must be a number of connections, not {raw!r}") from None
    return max(4, 4 * (os.cpu_count() or 1))


MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (an empty database included); safe to run again."""
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def create_schema(engine: Engine) -> None:
    migrate(engine)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def begin_write(s: Session) -> None:
    """Open the session's transaction as a writer: on SQLite, take the write lock now.

    pysqlite starts a transaction only at the first INSERT/UPDATE, so reads before
    it run outside any transaction. A transaction that reads, holds a snapshot and
    writes later (a push applying a batch) must not start deferred: when another
    connection commits in between, SQLite refuses the upgrade at once with
    "database is locked" instead of waiting. BEGIN IMMEDIATE waits (the busy
    timeout) for the lock up front and keeps it to the commit; SQLite has one
    writer at a time anyway. Call it before the transaction's first statement.
    PostgreSQL needs nothing: its rows are locked as they are written.
    """
    if s.get_bind().dialect.name == "sqlite":
        s.execute(text("BEGIN IMMEDIATE"))
