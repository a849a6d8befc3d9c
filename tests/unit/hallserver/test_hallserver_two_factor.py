"""Two-factor sign-in on the server: enrolment by the CLI, password + TOTP code, replayed and
expired codes, one-time recovery codes, the lockout over both factors, the login log.

The demo hall signs in with the password alone (seed.py); these tests switch the hall's
rule on, as every other hall has it, and enrol clerks with the real CLI.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, MovableClock, login_body
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from hallserver import totp
from hallserver.cli import main
from hallserver.db import make_engine, migrate
from hallserver.department import add_department_staff
from hallserver.models import Clerk, Hall, LoginEvent, RecoveryCode
from hallserver.security import MAX_FAILED_LOGINS
from hallserver.seed import DEMO_HALL, DEMO_PASSWORD

STEP = dt.timedelta(seconds=totp.STEP_SECONDS)


def _db(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _login(client: TestClient, **kw: Any) -> Any:
    code = kw.pop("totp_code", None)
    recovery = kw.pop("recovery_code", None)
    body = login_body(**kw)
    if code is not None:
        body["totp_code"] = code
    if recovery is not None:
        body["recovery_code"] = recovery
    return client.post(f"{API}/auth/login", json=body)


def _logout(client: TestClient, token: str) -> None:
    assert client.post(f"{API}/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 200


class Enrolment:
    def __init__(self, output: str) -> None:
        self.output = output
        found = re.search(r"otpauth://\S+", output)
        assert found is not None, output
        self.uri = found.group(0)
        secret = re.search(r"secret=([A-Z2-7]+)", self.uri)
        assert secret is not None
        self.secret = secret.group(1)
        self.recovery_codes = re.findall(r"^  ([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})$", output, re.M)


def enrol(
    engine: Engine, capsys: pytest.CaptureFixture[str], username: str = "clerk1", *extra: str
) -> Enrolment:
    capsys.readouterr()
    assert main(["clerk", "enrol-totp", username, "--hall", DEMO_HALL, "--db", _db(engine), *extra]) == 0
    return Enrolment(capsys.readouterr().out)


@pytest.fixture
def strict_hall(sessions: sessionmaker[Session]) -> None:
    """The demo hall with the rule every other hall has: password and code."""
    with sessions() as s:
        s.execute(update(Hall).where(Hall.code == DEMO_HALL).values(require_second_factor=True))
        s.commit()


def failed_logins(sessions: sessionmaker[Session], username: str = "clerk1") -> int:
    with sessions() as s:
        n = s.scalar(select(Clerk.failed_logins).where(Clerk.username == username))
        assert n is not None
        return n


# -- the policy ---------------------------------------------------------------------------------


def test_the_demo_hall_signs_in_with_the_password_alone(client: TestClient) -> None:
    r = _login(client)
    assert r.status_code == 200, r.text
    assert r.json()["second_factor"] is False and r.json()["totp_secret"] is None


def test_a_new_hall_requires_the_second_factor(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        s.add(Hall(code="NEW", name="新大厅"))
        s.commit()
        assert s.get(Hall, "NEW").require_second_factor is True  # type: ignore[union-attr]


def test_halls_that_exist_before_the_upgrade_require_it_too(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate(engine, "0005")
    with engine.begin() as conn:
        conn.execute(text("insert into halls (code, name, public_key) values ('OLD', '老大厅', '')"))
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(text("select require_second_factor from halls")).scalar_one() in (1, True)
    engine.dispose()


def test_unenrolled_clerk_in_a_strict_hall_is_told_how_to_enrol(
    client: TestClient, strict_hall: None, sessions: sessionmaker[Session]
) -> None:
    r = _login(client)
    assert r.status_code == 403 and r.json()["error"] == "totp_not_enrolled"
    assert "hallserver clerk enrol-totp clerk1" in r.json()["message"]
    assert failed_logins(sessions) == 0  # the password was right


def test_require_totp_switches_the_halls_rule(engine: Engine, sessions: sessionmaker[Session]) -> None:
    assert main(["clerk", "require-totp", "--hall", DEMO_HALL, "--db", _db(engine)]) == 0
    with sessions() as s:
        assert s.get(Hall, DEMO_HALL).require_second_factor is True  # type: ignore[union-attr]
    assert main(["clerk", "require-totp", "--hall", DEMO_HALL, "--off", "--db", _db(engine)]) == 0
    with sessions() as s:
        assert s.get(Hall, DEMO_HALL).require_second_factor is False  # type: ignore[union-attr]
    assert main(["clerk", "require-totp", "--hall", "NOPE", "--db", _db(engine)]) == 2


# -- enrolment ------------------------------------------------------------------------------------


def test_enrolment_prints_uri_qr_and_ten_recovery_codes_and_stores_only_their_hashes(
    engine: Engine, sessions: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    e = enrol(engine, capsys)
    assert e.uri.startswith("otpauth://totp/") and "issuer=" in e.uri and "clerk1%40DEMO" not in e.uri
    assert "clerk1@DEMO" in e.uri
    assert len(e.recovery_codes) == 10 and len(set(e.recovery_codes)) == 10
    assert "▀" in e.output or "▄" in e.output  # the terminal QR code
    with sessions() as s:
        clerk = s.scalar(select(Clerk).where(Clerk.username == "clerk1"))
        assert clerk is not None and clerk.totp_secret == e.secret and clerk.totp_enrolled_at is not None
        hashes = list(s.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.clerk_id == clerk.id)))
    assert len(hashes) == 10 and all(h.startswith("$argon2") for h in hashes)
    assert not any(code in h or code.replace("-", "") in h for code in e.recovery_codes for h in hashes)


def test_the_terminal_qr_code_is_the_uris_qr_code(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    e = enrol(engine, capsys)
    lines = [ln for ln in e.output.splitlines() if ln and set(ln) <= set("█▀▄ ")]
    rows: list[list[bool]] = []  # True: dark (a blank half)
    top = {"█": False, "▀": False, "▄": True, " ": True}
    bottom = {"█": False, "▀": True, "▄": False, " ": True}
    for ln in lines:
        rows.append([top[ch] for ch in ln])
        rows.append([bottom[ch] for ch in ln])
    matrix = totp.qr_matrix(e.uri)
    border = 2
    inner = [row[border : border + len(matrix)] for row in rows[border : border + len(matrix)]]
    assert inner == matrix


def test_png_qr_code_scans_back_to_the_uri_and_is_private(
    engine: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    png = tmp_path / "qr" / "clerk1.png"
    e = enrol(engine, capsys, "clerk1", "--png", str(png))
    assert png.stat().st_mode & 0o777 == 0o600
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip("zbarimg (zbar-tools) is not installed")
    out = subprocess.run([zbarimg, "-q", "--raw", str(png)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == e.uri


def test_enrolling_again_needs_reset_which_replaces_secret_and_codes(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    clock: MovableClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = enrol(engine, capsys)
    assert main(["clerk", "enrol-totp", "clerk1", "--hall", DEMO_HALL, "--db", _db(engine)]) == 2
    assert "--reset" in capsys.readouterr().err
    second = enrol(engine, capsys, "clerk1", "--reset")
    assert second.secret != first.secret
    old = _login(client, totp_code=totp.code_at(first.secret, clock.now))
    assert old.json()["error"] == "totp_invalid"
    assert _login(client, recovery_code=first.recovery_codes[0]).json()["error"] == "recovery_code_invalid"
    assert _login(client, totp_code=totp.code_at(second.secret, clock.now)).status_code == 200


def test_enrolment_of_an_unknown_clerk_or_hall_is_refused(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clerk", "enrol-totp", "nobody", "--db", _db(engine)]) == 2
    assert "nobody" in capsys.readouterr().err
    assert main(["clerk", "enrol-totp", "clerk1", "--hall", "NOPE", "--db", _db(engine)]) == 2


# -- signing in with two factors -----------------------------------------------------------------------


def test_password_alone_is_not_enough_and_does_not_count_as_a_failure(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
) -> None:
    enrol(engine, capsys)
    r = _login(client)
    assert r.status_code == 401
    assert r.json()["error"] == "totp_required" and r.json()["field"] == "totp_code"
    assert "动态口令" in r.json()["message"]
    assert failed_logins(sessions) == 0


def test_password_and_code_sign_in_and_hand_the_secret_to_the_counter(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    clock: MovableClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    e = enrol(engine, capsys)
    r = _login(client, totp_code=totp.code_at(e.secret, clock.now))
    assert r.status_code == 200, r.text
    assert r.json()["second_factor"] is True and r.json()["totp_secret"] == e.secret
    assert (
        client.get(f"{API}/catalog", headers={"Authorization": f"Bearer {r.json()['token']}"}).status_code
        == 200
    )


def test_an_enrolled_clerk_needs_the_code_even_where_the_hall_does_not(
    client: TestClient, engine: Engine, clock: MovableClock, capsys: pytest.CaptureFixture[str]
) -> None:
    e = enrol(engine, capsys)
    assert _login(client).json()["error"] == "totp_required"
    assert _login(client, totp_code=totp.code_at(e.secret, clock.now)).status_code == 200
    # Another clerk of the demo hall still signs in with the password alone.
    assert _login(client, window_no=2, username="clerk2").status_code == 200


def test_wrong_password_with_the_right_code_is_a_wrong_password(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    clock: MovableClock,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
) -> None:
    e = enrol(engine, capsys)
    r = _login(client, password="wrong-password", totp_code=totp.code_at(e.secret, clock.now))
    assert r.status_code == 401 and r.json()["error"] == "bad_credentials"
    assert failed_logins(sessions) == 1
    # The code was not spent by the refused attempt.
    assert _login(client, totp_code=totp.code_at(e.secret, clock.now)).status_code == 200


def test_a_code_is_good_once_however_long_its_window(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    clock: MovableClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    e = enrol(engine, capsys)
    code = totp.code_at(e.secret, clock.now)
    first = _login(client, totp_code=code)
    assert first.status_code == 200
    _logout(client, first.json()["token"])
    again = _login(client, totp_code=code)
    assert again.status_code == 401 and again.json()["error"] == "totp_reused"
    assert again.json()["field"] == "totp_code" and "用过" in again.json()["message"]
    clock.advance(seconds=totp.STEP_SECONDS)  # still inside its window (one step either side)
    assert _login(client, totp_code=code).json()["error"] == "totp_reused"
    # The code of the next step is new.
    assert _login(client, totp_code=totp.code_at(e.secret, clock.now)).status_code == 200


def test_a_code_one_step_old_is_accepted_two_steps_old_is_expired(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    clock: MovableClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    e = enrol(engine, capsys)
    expired = _login(client, totp_code=totp.code_at(e.secret, clock.now - 2 * STEP))
    assert expired.status_code == 401 and expired.json()["error"] == "totp_invalid"
    assert "过期" in expired.json()["message"]
    assert _login(client, totp_code=totp.code_at(e.secret, clock.now - STEP)).status_code == 200


def test_garbage_codes_are_wrong_codes(
    client: TestClient, engine: Engine, strict_hall: None, capsys: pytest.CaptureFixture[str]
) -> None:
    enrol(engine, capsys)
    for code in ("abcdef", "12345", "1234567"):
        assert _login(client, totp_code=code).json()["error"] == "totp_invalid"
    assert _login(client, totp_code="1" * 17).status_code == 422  # longer than the wire allows


def test_wrong_codes_count_with_wrong_passwords_and_lock_the_account(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    clock: MovableClock,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
) -> None:
    e = enrol(engine, capsys)
    wrong = f"{(int(totp.code_at(e.secret, clock.now)) + 1) % 1_000_000:06d}"
    assert _login(client, password="wrong-password").json()["error"] == "bad_credentials"
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert _login(client, totp_code=wrong).json()["error"] == "totp_invalid"
    locked = _login(client, totp_code=totp.code_at(e.secret, clock.now))
    assert locked.status_code == 423 and locked.json()["error"] == "account_locked"
    assert "动态口令" in locked.json()["message"] and "15 分钟" in locked.json()["message"]
    clock.advance(minutes=15)
    assert _login(client, totp_code=totp.code_at(e.secret, clock.now)).status_code == 200
    assert failed_logins(sessions) == 0


def test_recovery_codes_are_single_use(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
) -> None:
    e = enrol(engine, capsys)
    code = e.recovery_codes[0]
    first = _login(client, recovery_code=code.upper().replace("-", " "))  # as read from paper
    assert first.status_code == 200, first.text
    assert first.json()["recovery_codes_left"] == 9 and first.json()["totp_secret"] == e.secret
    _logout(client, first.json()["token"])
    again = _login(client, recovery_code=code)
    assert again.status_code == 401 and again.json()["error"] == "recovery_code_invalid"
    assert again.json()["field"] == "recovery_code" and "只能用一次" in again.json()["message"]
    assert failed_logins(sessions) == 1  # a spent or wrong recovery code is a failure
    assert _login(client, recovery_code=e.recovery_codes[1]).json()["recovery_codes_left"] == 8


def test_a_refused_window_does_not_spend_the_recovery_code(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    clock: MovableClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    e = enrol(engine, capsys)
    held = _login(client, window_no=1, username="clerk1", totp_code=totp.code_at(e.secret, clock.now))
    assert held.status_code == 200
    r = _login(
        client, window_no=1, username="clerk1", device_id="PC-OTHER", recovery_code=e.recovery_codes[0]
    )
    assert r.status_code == 409 and r.json()["error"] == "window_taken"
    _logout(client, held.json()["token"])
    r = _login(
        client, window_no=1, username="clerk1", device_id="PC-OTHER", recovery_code=e.recovery_codes[0]
    )
    assert r.status_code == 200 and r.json()["recovery_codes_left"] == 9


# -- the login log ------------------------------------------------------------------------------------


def test_every_attempt_is_logged_without_passwords_codes_or_secrets(
    client: TestClient,
    engine: Engine,
    strict_hall: None,
    clock: MovableClock,
    sessions: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    e = enrol(engine, capsys)
    code = totp.code_at(e.secret, clock.now)
    _login(client, username="my-password-typed-here", password="whatever-1")
    _login(client, password="wrong-password")
    _login(client)
    _login(client, totp_code="000000" if code != "000000" else "111111")
    ok = _login(client, totp_code=code)
    _logout(client, ok.json()["token"])
    _login(client, recovery_code=e.recovery_codes[0])
    with sessions() as s:
        rows = list(s.scalars(select(LoginEvent).order_by(LoginEvent.id)))
    assert [(r.username, r.outcome, r.factor) for r in rows] == [
        ("clerk1", "totp_enrolled", "enrol"),
        ("", "bad_credentials", "password"),  # not an account: what was typed is not kept
        ("clerk1", "bad_credentials", "password"),
        ("clerk1", "totp_required", "totp"),
        ("clerk1", "totp_invalid", "totp"),
        ("clerk1", "ok", "totp"),
        ("clerk1", "ok", "recovery_code"),
    ]
    assert all(r.hall_code == DEMO_HALL for r in rows)
    assert rows[-1].device_id == "PC-01" and rows[-1].window_no == 1 and rows[-1].clerk_id is not None
    with engine.connect() as conn:
        dump = repr(conn.execute(text("select * from login_log")).all())
    for secret in (e.secret, code, e.recovery_codes[0], DEMO_PASSWORD, "my-password-typed-here"):
        assert secret not in dump
        assert secret not in caplog.text


# -- the department page: the same two factors ----------------------------------------------------


def _dept_sign_in(client: TestClient, **fields: str) -> Any:
    form = {"hall_code": DEMO_HALL, "username": "dept1", "password": "dept-pass-1", **fields}
    return client.post("/dept/login", data=form, follow_redirects=False)


def test_department_page_asks_for_the_second_factor_like_the_counters(
    client: TestClient,
    engine: Engine,
    sessions: sessionmaker[Session],
    strict_hall: None,
    clock: MovableClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with sessions() as s:
        add_department_staff(
            s,
            hall_code=DEMO_HALL,
            username="dept1",
            name="李审批",
            staff_no="D001",
            password="dept-pass-1",
            department="市场监督管理局",
        )
    # Not enrolled yet: the password alone does not open the page, and the page says how to enrol.
    r = _dept_sign_in(client)
    assert r.status_code == 401 and "enrol-totp dept1" in r.text and "hall_dept" not in r.cookies
    e = enrol(engine, capsys, "dept1")
    r = _dept_sign_in(client)
    assert r.status_code == 401 and "动态口令" in r.text and "hall_dept" not in r.cookies
    code = totp.code_at(e.secret, clock.now)
    r = _dept_sign_in(client, totp_code=code)
    assert r.status_code == 303 and r.headers["location"] == "/dept/", r.text
    assert client.get("/dept/").status_code == 200
    client.post("/dept/logout")
    # The same code a second time is a replay.
    r = _dept_sign_in(client, totp_code=code)
    assert r.status_code == 401 and "已经用过" in r.text
    # A recovery code works once.
    assert _dept_sign_in(client, recovery_code=e.recovery_codes[0]).status_code == 303
    client.post("/dept/logout")
    assert _dept_sign_in(client, recovery_code=e.recovery_codes[0]).status_code == 401
    # Wrong codes count towards the lockout shared with the counters.
    # (the reused recovery code was the first failure since the last good sign-in)
    for _ in range(MAX_FAILED_LOGINS - 1):
        _dept_sign_in(client, totp_code="000000" if code != "000000" else "111111")
    clock.advance(seconds=2 * totp.STEP_SECONDS)
    r = _dept_sign_in(client, totp_code=totp.code_at(e.secret, clock.now))
    assert r.status_code == 401 and "锁定" in r.text
    with sessions() as s:
        rows = list(s.scalars(select(LoginEvent).where(LoginEvent.device_id == "department-web")))
    outcomes = [(r.outcome, r.factor) for r in rows]
    assert outcomes[:5] == [
        ("totp_not_enrolled", "password"),
        ("totp_required", "totp"),
        ("ok", "totp"),
        ("totp_reused", "totp"),
        ("ok", "recovery_code"),
    ]
    assert outcomes[-1] == ("account_locked", "password")
