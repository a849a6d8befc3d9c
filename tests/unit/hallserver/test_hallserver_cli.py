"""The ``hallserver`` command line: init-db, seed --demo, clerk add/disable/reset-password."""

from __future__ import annotations

import datetime as dt
import io
import stat
from pathlib import Path

import pytest
from hallserver_testkit import DAY
from sqlalchemy import func, inspect, select

from hallclient.signing import public_key_of, sign_fields, verify_fields
from hallserver.cli import main
from hallserver.db import make_engine, session_factory
from hallserver.models import Booking, Clerk, Hall
from hallserver.security import check_password
from hallserver.seed import DEMO_BOOKINGS, DEMO_HALL


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.sqlite"


def _clerk(db: str, username: str) -> Clerk | None:
    engine = make_engine(db)
    try:
        with session_factory(engine)() as s:
            return s.scalar(select(Clerk).where(Clerk.hall_code == DEMO_HALL, Clerk.username == username))
    finally:
        engine.dispose()


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_init_db_creates_the_tables(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init-db", "--db", db]) == 0
    assert "数据库已就绪" in capsys.readouterr().out
    engine = make_engine(db)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"halls", "windows", "clerks", "auth_tokens", "tickets", "bookings", "change_log"} <= names
    # Running it again is harmless.
    assert main(["init-db", "--db", db]) == 0


def test_db_url_may_come_from_the_environment(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HALLSERVER_DB", db)
    assert main(["init-db"]) == 0
    assert "cli.sqlite" in capsys.readouterr().out


def test_seed_demo_writes_a_private_key_readable_only_by_the_owner(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key_file = tmp_path / "keys" / "hall.key"
    assert (
        main(["seed", "--demo", "--db", db, "--date", DAY.isoformat(), "--hall-key-out", str(key_file)]) == 0
    )
    assert "演示大厅 DEMO" in capsys.readouterr().out
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    private = key_file.read_text().strip()

    engine = make_engine(db)
    with session_factory(engine)() as s:
        hall = s.get(Hall, DEMO_HALL)
        assert hall is not None
        assert hall.public_key == public_key_of(private)
        count = s.scalar(select(func.count()).select_from(Booking).where(Booking.date == DAY))
    engine.dispose()
    assert count == DEMO_BOOKINGS
    # The key written out signs what the stored public key verifies.
    fields = {"case_no": "DEMO-1"}
    assert verify_fields(hall.public_key, fields, sign_fields(private, fields))


def test_seed_again_without_a_key_keeps_the_public_key_and_the_bookings(db: str, tmp_path: Path) -> None:
    key_file = tmp_path / "hall.key"
    assert (
        main(["seed", "--demo", "--db", db, "--date", DAY.isoformat(), "--hall-key-out", str(key_file)]) == 0
    )
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    engine = make_engine(db)
    with session_factory(engine)() as s:
        assert s.get(Hall, DEMO_HALL).public_key == public_key_of(key_file.read_text().strip())  # type: ignore[union-attr]
        count = s.scalar(select(func.count()).select_from(Booking))
    engine.dispose()
    assert count == DEMO_BOOKINGS


def test_seed_requires_demo(db: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["seed", "--db", db])
    assert exc.value.code == 2


def test_clerk_add_reads_the_password_from_stdin(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    _stdin(monkeypatch, "s3cret-pass\n")
    args = ["clerk", "add", "--db", db, "--hall", DEMO_HALL, "--username", "clerk9", "--name", "周新"]
    assert main([*args, "--staff-no", "ZW-0199", "--password-stdin"]) == 0
    assert "clerk9" in capsys.readouterr().out
    clerk = _clerk(db, "clerk9")
    assert clerk is not None
    assert (clerk.name, clerk.staff_no, clerk.disabled) == ("周新", "ZW-0199", False)
    assert check_password(clerk.password_hash, "s3cret-pass")
    assert "s3cret-pass" not in clerk.password_hash


def test_clerk_add_for_an_unknown_hall_is_exit_2(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init-db", "--db", db]) == 0
    capsys.readouterr()
    _stdin(monkeypatch, "s3cret-pass\n")
    args = [
        "clerk",
        "add",
        "--db",
        db,
        "--hall",
        "NOPE",
        "--username",
        "x",
        "--name",
        "某人",
        "--staff-no",
        "1",
    ]
    assert main([*args, "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "NOPE" in err
    assert err.startswith("hallserver:")


def test_clerk_add_twice_is_exit_2(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    _stdin(monkeypatch, "s3cret-pass\n")
    args = [
        "clerk",
        "add",
        "--db",
        db,
        "--hall",
        DEMO_HALL,
        "--username",
        "clerk1",
        "--name",
        "重名",
        "--staff-no",
        "1",
    ]
    assert main([*args, "--password-stdin"]) == 2
    assert "clerk1" in capsys.readouterr().err


def test_clerk_add_with_a_short_password_is_exit_2(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    _stdin(monkeypatch, "short\n")
    args = [
        "clerk",
        "add",
        "--db",
        db,
        "--hall",
        DEMO_HALL,
        "--username",
        "clerk9",
        "--name",
        "周新",
        "--staff-no",
        "1",
    ]
    assert main([*args, "--password-stdin"]) == 2
    assert "8" in capsys.readouterr().err
    assert _clerk(db, "clerk9") is None


def test_reset_password_replaces_the_hash_and_lifts_a_lock(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    engine = make_engine(db)
    with session_factory(engine)() as s:
        clerk = s.scalar(select(Clerk).where(Clerk.username == "clerk2"))
        assert clerk is not None
        clerk.failed_logins = 3
        clerk.locked_until = dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
        s.commit()
    engine.dispose()
    _stdin(monkeypatch, "brand-new-pass\n")
    assert (
        main(
            [
                "clerk",
                "reset-password",
                "--db",
                db,
                "--hall",
                DEMO_HALL,
                "--username",
                "clerk2",
                "--password-stdin",
            ]
        )
        == 0
    )
    clerk = _clerk(db, "clerk2")
    assert clerk is not None
    assert check_password(clerk.password_hash, "brand-new-pass")
    assert not check_password(clerk.password_hash, "demo1234")
    assert (clerk.failed_logins, clerk.locked_until) == (0, None)


def test_reset_password_for_an_unknown_clerk_is_exit_2(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    _stdin(monkeypatch, "brand-new-pass\n")
    args = [
        "clerk",
        "reset-password",
        "--db",
        db,
        "--hall",
        DEMO_HALL,
        "--username",
        "ghost",
        "--password-stdin",
    ]
    assert main(args) == 2
    assert "ghost" in capsys.readouterr().err


def test_disable_a_clerk(db: str) -> None:
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    assert main(["clerk", "disable", "--db", db, "--hall", DEMO_HALL, "--username", "clerk3"]) == 0
    clerk = _clerk(db, "clerk3")
    assert clerk is not None and clerk.disabled is True


def test_unopenable_database_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A directory where the database file should be: SQLite cannot open it.
    bad = tmp_path / "dir.sqlite"
    bad.mkdir()
    assert main(["init-db", "--db", f"sqlite:///{bad}"]) == 1
    assert "无法打开数据库" in capsys.readouterr().err
