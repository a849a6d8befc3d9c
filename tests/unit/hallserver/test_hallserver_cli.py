"""The ``hallserver`` command line: init-db, seed --demo/--bookings, clerk add/disable/reset-password."""

from __future__ import annotations

import datetime as dt
import io
import stat
from pathlib import Path

import pytest
from hallserver_testkit import DAY
from sqlalchemy import func, inspect, select

from hallclient import wire
from hallclient.signing import public_key_of, sign_fields, verify_fields
from hallclient.validation import resident_id_check_digit, validate_name, validate_resident_id
from hallserver.bigdata import code_prefix, seed_bookings
from hallserver.cli import main
from hallserver.db import create_schema, make_engine, session_factory
from hallserver.demo_catalog import DEMO_CATALOG
from hallserver.models import Booking, ChangeLog, Clerk, Hall
from hallserver.security import check_password
from hallserver.seed import DEMO_BOOKINGS, DEMO_HALL, SLOTS


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


def test_seed_requires_demo_or_bookings(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "--demo" in err and "--bookings" in err


def test_seed_hall_key_out_needs_demo(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = tmp_path / "hall.key"
    assert main(["seed", "--db", db, "--bookings", "10", "--hall-key-out", str(key_file)]) == 2
    assert "--hall-key-out" in capsys.readouterr().err
    assert not key_file.exists()


def test_seed_hall_is_for_bulk_bookings_only(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--db", db, "--demo", "--hall", "EAST"]) == 2
    assert "--hall" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["2026/03/02", "20260302", "2026-02-30", "tomorrow"])
def test_seed_date_must_be_iso(db: str, bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["seed", "--demo", "--db", db, "--date", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--date" in err and "YYYY-MM-DD" in err and bad in err


def test_seed_bookings_must_be_a_count(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["seed", "--db", db, "--bookings", "-5"])
    assert exc.value.code == 2
    assert "--bookings" in capsys.readouterr().err


def _bulk(db: str, day: dt.date = DAY) -> list[Booking]:
    engine = make_engine(db)
    try:
        with session_factory(engine)() as s:
            prefix = code_prefix(DEMO_HALL, day)
            return list(s.scalars(select(Booking).where(Booking.code.startswith(prefix))).all())
    finally:
        engine.dispose()


def _change_log_size(db: str) -> int:
    engine = make_engine(db)
    try:
        with session_factory(engine)() as s:
            return s.scalar(select(func.count()).select_from(ChangeLog)) or 0
    finally:
        engine.dispose()


def test_seed_demo_and_bulk_bookings(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--db", db, "--demo", "--date", DAY.isoformat()]) == 0
    changes_after_demo = _change_log_size(db)
    capsys.readouterr()

    assert main(["seed", "--db", db, "--demo", "--bookings", "5000", "--date", DAY.isoformat()]) == 0
    out, err = capsys.readouterr()
    assert "演示大厅 DEMO" in out and "5000 个批量预约" in out and "条/秒" in out
    assert "已写入 5000/5000 个预约" in err  # progress (every 100k, and at the end) goes to stderr

    bulk = _bulk(db)
    assert len(bulk) == 5000
    assert len({b.code for b in bulk}) == 5000
    catalog = {item.code for item in DEMO_CATALOG}
    for b in bulk:
        assert (b.hall_code, b.date, b.status) == (DEMO_HALL, DAY, "booked")
        assert b.item_code in catalog
        assert b.slot in SLOTS
        applicant = wire.Applicant.model_validate(b.applicant)
        number = applicant.id_number
        assert number[17] == resident_id_check_digit(number[:17])
        assert validate_resident_id(number, today=DAY) == number
        assert validate_name(applicant.name) == applicant.name
        assert len(applicant.phone) == 11 and applicant.phone.startswith("1")
        wire.PreReview.model_validate(b.pre_review)
    # Spread over the day's slots, with the demo's mix of pre-review results.
    assert {b.slot for b in bulk} == set(SLOTS)
    results = {b.pre_review["result"] for b in bulk}
    assert results == {"none", "passed", "needs_correction", "rejected"}
    assert len({b.applicant["id_number"] for b in bulk}) > 4900

    # Bulk data writes no change_log rows (counters would have to pull them all);
    # re-running the demo re-records only its own bookings and tickets (the catalog is unchanged).
    assert _change_log_size(db) == changes_after_demo + 2 * DEMO_BOOKINGS
    engine = make_engine(db)
    with session_factory(engine)() as s:
        demo = s.scalar(select(func.count()).select_from(Booking).where(~Booking.code.startswith("BK-")))
    engine.dispose()
    assert demo == DEMO_BOOKINGS


def test_bulk_bookings_write_no_change_log(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--db", db, "--demo", "--date", DAY.isoformat()]) == 0
    before = _change_log_size(db)
    other_day = DAY + dt.timedelta(days=1)
    assert main(["seed", "--db", db, "--bookings", "1200", "--date", other_day.isoformat()]) == 0
    assert _change_log_size(db) == before
    assert len(_bulk(db, other_day)) == 1200
    # Re-running replaces that day's bulk bookings instead of failing on duplicate codes.
    assert main(["seed", "--db", db, "--bookings", "700", "--date", other_day.isoformat()]) == 0
    assert len(_bulk(db, other_day)) == 700
    assert "替换了原有的 1200 个" in capsys.readouterr().out
    assert _change_log_size(db) == before


def test_bulk_bookings_are_reproducible(tmp_path: Path) -> None:
    ids = []
    for name in ("a", "b"):
        db = f"sqlite:///{tmp_path}/{name}.sqlite"
        assert main(["seed", "--db", db, "--demo", "--bookings", "300", "--date", DAY.isoformat()]) == 0
        ids.append(sorted((b.code, b.applicant["id_number"]) for b in _bulk(db)))
    assert ids[0] == ids[1]


def test_bulk_progress_is_reported_every_so_often(db: str) -> None:
    assert main(["seed", "--db", db, "--demo", "--date", DAY.isoformat()]) == 0
    engine = make_engine(db)
    seen: list[tuple[int, int]] = []
    try:
        summary = seed_bookings(
            engine,
            DEMO_HALL,
            DAY,
            2500,
            chunk=400,
            progress=lambda done, total, _s: seen.append((done, total)),
            progress_every=1000,
        )
    finally:
        engine.dispose()
    assert summary.bookings == 2500 and summary.rows_per_second > 0
    assert seen == [(1200, 2500), (2000, 2500), (2500, 2500)]


def test_bulk_bookings_for_an_unknown_hall_is_exit_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--db", db, "--demo", "--date", DAY.isoformat()]) == 0
    capsys.readouterr()
    assert main(["seed", "--db", db, "--bookings", "10", "--hall", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


def test_bulk_bookings_without_a_catalog_is_exit_2(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    engine = make_engine(db)
    create_schema(engine)
    with session_factory(engine)() as s:
        s.add(Hall(code="EMPTY", name="空大厅"))
        s.commit()
    engine.dispose()
    assert main(["seed", "--db", db, "--bookings", "10", "--hall", "EMPTY"]) == 2
    assert "事项目录" in capsys.readouterr().err


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
    assert clerk.role == "clerk"


@pytest.mark.parametrize("role", ["clerk", "supervisor", "admin"])
def test_clerk_add_with_a_role(db: str, role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    _stdin(monkeypatch, "s3cret-pass\n")
    args = ["clerk", "add", "--db", db, "--hall", DEMO_HALL, "--username", f"u-{role}", "--name", "周新"]
    assert main([*args, "--staff-no", "ZW-0199", "--role", role, "--password-stdin"]) == 0
    clerk = _clerk(db, f"u-{role}")
    assert clerk is not None and clerk.role == role


def test_clerk_add_with_a_department_makes_a_back_office_account(
    db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hallserver.models import DepartmentStaff

    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    _stdin(monkeypatch, "dept-pass-2026\n")
    args = ["clerk", "add", "--db", db, "--hall", DEMO_HALL, "--username", "scjg1", "--name", "吴审批"]
    assert main([*args, "--staff-no", "SCJG-01", "--department", "市场监督管理局", "--password-stdin"]) == 0
    clerk = _clerk(db, "scjg1")
    assert clerk is not None and clerk.role == "department"
    assert check_password(clerk.password_hash, "dept-pass-2026")
    engine = make_engine(db)
    try:
        with session_factory(engine)() as s:
            staff = s.scalar(select(DepartmentStaff).where(DepartmentStaff.clerk_id == clerk.id))
            assert staff is not None and staff.department == "市场监督管理局"
    finally:
        engine.dispose()


def test_clerk_add_with_an_unknown_role_is_an_argparse_error(
    db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["seed", "--demo", "--db", db, "--date", DAY.isoformat()]) == 0
    _stdin(monkeypatch, "s3cret-pass\n")
    args = ["clerk", "add", "--db", db, "--hall", DEMO_HALL, "--username", "boss", "--name", "周新"]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--staff-no", "1", "--role", "root", "--password-stdin"])
    assert exc.value.code == 2
    assert "--role" in capsys.readouterr().err
    assert _clerk(db, "boss") is None


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


def test_a_typo_in_the_pool_size_is_said_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("HALLSERVER_DB_POOL", "lots")
    assert main(["init-db", "--db", f"sqlite:///{tmp_path / 'x.sqlite'}"]) == 2
    assert "HALLSERVER_DB_POOL must be a number of connections, not 'lots'" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite").exists()
