"""Log retention (网络安全法 §21, 等保 level 3): the database keeps the login log and the
e-license access log append-only for 180 days; the archiving job moves only older rows
out, into verifiable archives, with citizens' ID numbers masked; the request log rotates.
On SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import logging.handlers
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from hallserver.cli import main
from hallserver.log_retention import FLOOR_DAYS, RetentionError, prune, request_log_handler
from hallserver.models import LicenseAccess, LoginEvent
from hallserver.seed import DEMO_HALL

HOLDER = "110101199003071234"
AGES = (400, 200, FLOOR_DAYS + 1, FLOOR_DAYS - 1, 30, 0)  # days before now


def _now() -> dt.datetime:
    # The database's own clock guards the rows, so these tests use the real time, not a test clock.
    return dt.datetime.now(dt.UTC)


def _fill(sessions: sessionmaker[Session], now: dt.datetime) -> None:
    with sessions() as s:
        for age in AGES:
            at = now - dt.timedelta(days=age)
            s.add(
                LoginEvent(
                    at=at,
                    hall_code=DEMO_HALL,
                    window_no=1,
                    device_id="PC-01",
                    clerk_id=1,
                    username="clerk1",
                    outcome="ok",
                    factor=f"age{age}",
                )
            )
            s.add(
                LicenseAccess(
                    at=at,
                    clerk_id=1,
                    hall_code=DEMO_HALL,
                    window_no=1,
                    ticket_no=f"A{age:03d}",
                    holder_id=HOLDER,
                    license_no="L-1",
                    purpose="list",
                    allowed=True,
                    reason="",
                )
            )
        s.commit()


def _ages_left(sessions: sessionmaker[Session]) -> tuple[list[str], list[str]]:
    with sessions() as s:
        logins = list(s.scalars(select(LoginEvent.factor).where(LoginEvent.factor.like("age%"))))
        accesses = list(s.scalars(select(LicenseAccess.ticket_no).order_by(LicenseAccess.id)))
    return sorted(logins), sorted(accesses)


def _db(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


# -- the database guards the logs ---------------------------------------------------------------


def test_the_database_refuses_to_change_a_log_row(engine: Engine, sessions: sessionmaker[Session]) -> None:
    _fill(sessions, _now())
    for statement in (
        update(LoginEvent).values(outcome="forged"),
        update(LicenseAccess).values(allowed=False),
    ):
        with sessions() as s, pytest.raises(DBAPIError, match="append-only"):
            s.execute(statement)
            s.commit()
    with sessions() as s:
        assert s.scalar(select(func.count()).where(LoginEvent.outcome == "forged")) == 0


def test_the_database_refuses_to_delete_rows_younger_than_180_days(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    _fill(sessions, _now())
    before = _ages_left(sessions)
    for model in (LoginEvent, LicenseAccess):
        with sessions() as s, pytest.raises(DBAPIError, match="180 days"):
            s.execute(delete(model))
            s.commit()
    assert _ages_left(sessions) == before
    # Rows past the floor may go (the archiving job's work).
    with sessions() as s:
        s.execute(delete(LoginEvent).where(LoginEvent.at < _now() - dt.timedelta(days=FLOOR_DAYS + 0.5)))
        s.commit()
    assert _ages_left(sessions)[0] == sorted(f"age{a}" for a in AGES if a <= FLOOR_DAYS)


def test_postgresql_refuses_truncate(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's; SQLite's DELETE without WHERE is guarded row by row")
    with engine.connect() as conn, pytest.raises(DBAPIError, match="cannot be truncated"):
        conn.execute(text("TRUNCATE login_log"))


# -- the archiving job --------------------------------------------------------------------------


def test_prune_archives_what_is_older_than_the_retention_and_deletes_nothing_younger(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    now = _now()
    _fill(sessions, now)
    done = prune(sessions, FLOOR_DAYS, tmp_path / "archive", now)
    kept = sorted(f"age{a}" for a in AGES if a < FLOOR_DAYS)
    assert _ages_left(sessions) == (kept, sorted(f"A{a:03d}" for a in AGES if a < FLOOR_DAYS))
    assert {a.table: a.rows for a in done} == {"login_log": 3, "license_access_log": 3}
    for a in done:
        # The archive verifies against its SHA-256 file, and holds exactly the rows that went.
        digest, name = (a.path.parent / (a.path.name + ".sha256")).read_text(encoding="utf-8").split()
        assert name == a.path.name and digest == a.sha256 == hashlib.sha256(a.path.read_bytes()).hexdigest()
        with gzip.open(a.path, "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        assert len(rows) == 3
        assert all(dt.datetime.fromisoformat(r["at"]) < now - dt.timedelta(days=FLOOR_DAYS) for r in rows)
        if a.table == "license_access_log":
            assert {r["holder_id"] for r in rows} == {"110101********1234"}
            assert sorted(r["ticket_no"] for r in rows) == ["A181", "A200", "A400"]
        assert HOLDER not in gzip.decompress(a.path.read_bytes()).decode("utf-8")
    # Run again: nothing more is old enough.
    assert prune(sessions, FLOOR_DAYS, tmp_path / "archive", now) == []


def test_a_longer_retention_keeps_more(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    now = _now()
    _fill(sessions, now)
    done = prune(sessions, 365, tmp_path / "archive", now)
    assert {a.table: a.rows for a in done} == {"login_log": 1, "license_access_log": 1}
    assert _ages_left(sessions)[0] == sorted(f"age{a}" for a in AGES if a < 365)


def test_retention_below_180_days_is_refused(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _fill(sessions, _now())
    with pytest.raises(RetentionError, match="至少保存六个月"):
        prune(sessions, FLOOR_DAYS - 1, tmp_path / "archive", _now())
    assert len(_ages_left(sessions)[0]) == len(AGES)


def test_an_archive_that_cannot_be_written_deletes_nothing(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _fill(sessions, _now())
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the archive directory should be")
    with pytest.raises(RetentionError, match="not-a-directory"):
        prune(sessions, FLOOR_DAYS, blocked, _now())
    assert len(_ages_left(sessions)[0]) == len(AGES)


def test_cli_prune_and_export(
    engine: Engine, sessions: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(sessions, _now())
    with pytest.raises(SystemExit):
        main(["logs", "prune", "--keep-days", "170", "--archive", str(tmp_path), "--db", _db(engine)])
    assert "少于 180 天" in capsys.readouterr().err
    assert main(["logs", "prune", "--archive", str(tmp_path / "a"), "--db", _db(engine)]) == 0
    assert "login_log：3 行已归档" in capsys.readouterr().out
    out = tmp_path / "access.jsonl"
    assert main(["logs", "export", "license_access_log", "--out", str(out), "--db", _db(engine)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["ticket_no"] for r in rows) == sorted(f"A{a:03d}" for a in AGES if a < FLOOR_DAYS)
    assert HOLDER not in out.read_text(encoding="utf-8")
    today = dt.date.today().isoformat()
    recent = tmp_path / "recent.jsonl"
    args = ["logs", "export", "login_log", "--from", today, "--to", today, "--out", str(recent)]
    assert main([*args, "--db", _db(engine)]) == 0
    assert [json.loads(line)["factor"] for line in recent.read_text(encoding="utf-8").splitlines()] == [
        "age0"
    ]


# -- the request log ------------------------------------------------------------------------------


def test_request_log_is_written_masked_and_rotates_by_day(tmp_path: Path, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the request log does not depend on the database")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    log = tmp_path / "logs" / "requests.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hallserver",
            "serve",
            "--port",
            str(port),
            "--db",
            f"sqlite:///{tmp_path / 'server.sqlite'}",
            "--request-log",
            str(log),
            "--log-retention-days",
            "200",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/api/v1/health", timeout=2)
                break
            except requests.ConnectionError:
                assert server.poll() is None, server.communicate()[1].decode()
                assert time.monotonic() < deadline, "hallserver did not start"
                time.sleep(0.2)
        requests.get(f"{url}/api/v1/health", params={"q": HOLDER, "phone": "13812345678"}, timeout=5)
        deadline = time.monotonic() + 10
        while "13812345678" not in log.read_text(encoding="utf-8") and "q=" not in log.read_text(
            encoding="utf-8"
        ):
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=30)
    written = log.read_text(encoding="utf-8")
    assert "GET /api/v1/health" in written
    assert HOLDER not in written and "110101********1234" in written
    assert "13812345678" not in written and "138****5678" in written


def test_request_log_retention_below_180_days_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--request-log", str(tmp_path / "r.log"), "--log-retention-days", "90"])
    assert "少于 180 天" in capsys.readouterr().err
    with pytest.raises(RetentionError):
        request_log_handler(tmp_path / "r.log", 90)


def test_request_log_keeps_exactly_the_retention_in_daily_files(tmp_path: Path) -> None:
    log = tmp_path / "requests.log"
    handler = request_log_handler(log, FLOOR_DAYS)
    try:
        assert isinstance(handler, logging.handlers.TimedRotatingFileHandler)
        assert handler.when == "MIDNIGHT" and handler.utc
        # A year of earlier days' files, as rotation names them; the next rotation keeps the newest 180.
        today = dt.date.today()
        for age in range(1, 366):
            (tmp_path / f"requests.log.{today - dt.timedelta(days=age):%Y-%m-%d}").write_text("x")
        handler.emit(logging.makeLogRecord({"msg": "GET /api/v1/health 200"}))
        handler.doRollover()
    finally:
        handler.close()
    rotated = sorted(p.name for p in tmp_path.glob("requests.log.*"))
    assert len(rotated) == FLOOR_DAYS
    oldest_kept = today - dt.timedelta(days=FLOOR_DAYS - 1)
    assert rotated[0] == f"requests.log.{oldest_kept:%Y-%m-%d}"
