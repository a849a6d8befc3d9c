"""An upgraded client opens the local file of an older one without losing anything."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from hallclient import localdb, wire
from hallclient.crypto import FieldCipher
from hallclient.localdb import SCHEMA_VERSION, LocalStoreError
from hallclient.store import Store

KEY = bytes(range(32))


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def make_v1_file(path: Path) -> str:
    """A file exactly as version 1 wrote it: no user_version, outbox without the new columns."""
    store = Store(path, FieldCipher(KEY))
    store.set_ticket_state(
        dt.date(2026, 11, 25), "A001", wire.TicketState.CALLED, 1, dt.datetime(2026, 11, 25, 9)
    )
    (op,) = store.pending_ops(10)
    store.close()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TABLE follow_ups")
    con.execute("ALTER TABLE outbox DROP COLUMN attempts")
    con.execute("ALTER TABLE outbox DROP COLUMN last_error")
    # Version 4's columns.
    con.execute("ALTER TABLE tickets DROP COLUMN recalls")
    con.execute("ALTER TABLE tickets DROP COLUMN note")
    con.execute("DROP INDEX ix_cases_id_index")
    for column in ("id_index", "correction_deadline", "picked_up_at"):
        con.execute(f"ALTER TABLE cases DROP COLUMN {column}")
    con.execute("DROP TABLE audit_log")  # version 5
    con.execute("DROP INDEX ix_cases_op_id")
    for column in ("op_id", "acked_at"):
        con.execute(f"ALTER TABLE cases DROP COLUMN {column}")
    con.execute("PRAGMA user_version = 0")
    con.close()
    return str(op.op.op_id)


def test_a_new_file_starts_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "counter.sqlite"
    Store(path, FieldCipher(KEY)).close()
    assert user_version(path) == SCHEMA_VERSION
    assert {"attempts", "last_error"} <= columns(path, "outbox")


def test_a_version_1_file_is_upgraded_in_place_with_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "counter.sqlite"
    op_id = make_v1_file(path)
    assert "attempts" not in columns(path, "outbox")

    store = Store(path, FieldCipher(KEY))
    pending = store.pending_ops(10)
    store.close()
    assert [str(p.op.op_id) for p in pending] == [op_id]  # the queued op survived, still pending
    assert user_version(path) == SCHEMA_VERSION
    assert {"attempts", "last_error"} <= columns(path, "outbox")
    backup = tmp_path / "counter.sqlite.v1.bak"
    assert backup.exists() and "attempts" not in columns(backup, "outbox")
    with sqlite3.connect(backup) as db:
        assert db.execute("SELECT op_id FROM outbox").fetchall() == [(op_id,)]
    # Opening again is a no-op.
    Store(path, FieldCipher(KEY)).close()
    assert user_version(path) == SCHEMA_VERSION


def test_a_failed_upgrade_leaves_the_old_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "counter.sqlite"
    make_v1_file(path)
    broken = {
        **localdb.MIGRATIONS,
        3: [*localdb.MIGRATIONS[3], "ALTER TABLE no_such_table ADD COLUMN x INTEGER"],
    }
    monkeypatch.setattr(localdb, "MIGRATIONS", broken)
    with pytest.raises(LocalStoreError, match="升级失败") as err:
        Store(path, FieldCipher(KEY))
    assert str(path) in str(err.value)
    assert user_version(path) == 0
    assert "attempts" not in columns(path, "outbox")  # the earlier steps were rolled back too
    assert columns(path, "follow_ups") == set()


def test_a_file_from_a_newer_client_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "counter.sqlite"
    Store(path, FieldCipher(KEY)).close()
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(LocalStoreError, match="更新版本的客户端") as err:
        Store(path, FieldCipher(KEY))
    assert str(path) in str(err.value) and str(SCHEMA_VERSION + 5) in str(err.value)


def test_a_corrupted_file_gets_a_message_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "counter.sqlite"
    path.write_bytes(b"this is not a database, it was overwritten by something" * 100)
    with pytest.raises(LocalStoreError, match="无法打开") as err:
        Store(path, FieldCipher(KEY))
    assert str(path) in str(err.value)
    assert path.read_bytes().startswith(b"this is not a database")  # evidence kept for IT


def schema(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as db:
        tables = [
            r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        return {
            t: [(c[1], c[2].upper(), c[3], c[5]) for c in db.execute(f"PRAGMA table_info({t})")]
            for t in tables
        }


def test_an_upgraded_file_has_exactly_the_schema_of_a_new_one(tmp_path: Path) -> None:
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    make_v1_file(old)
    Store(old, FieldCipher(KEY)).close()
    Store(new, FieldCipher(KEY)).close()
    upgraded, fresh = schema(old), schema(new)
    assert upgraded.keys() == fresh.keys()
    for table in fresh:
        # Same columns, types, nullability and keys; column order may differ after ALTER TABLE.
        assert sorted(upgraded[table]) == sorted(fresh[table]), table
