"""Two factors at the counter, online and offline, and the audit log the retention purge keeps.

A real Counter (fake clock) against a live hallserver whose hall requires the second
factor and whose clerk was enrolled with the real `hallserver clerk enrol-totp`.
After an online two-factor sign-in the counter keeps the TOTP secret sealed under a
key from the password; offline, the password and a fresh code are both needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig

from hallclient.audit import AuditAction
from hallclient.config import SecurityConfig
from hallclient.counter import Counter, CounterError
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.sessions import (
    TOTP,
    VERIFIER_KEY,
    SignInGuard,
    SignInRefused,
    open_secret,
    refused_field,
)
from hallclient.store import Store
from hallclient.workdays import WorkCalendar
from hallserver import totp
from hallserver.cli import main as hallserver_main

STEP = dt.timedelta(seconds=totp.STEP_SECONDS)


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclasses.dataclass
class Enrolled:
    secret: str
    recovery_codes: list[str]


def enrol(rig: CounterRig, capsys: pytest.CaptureFixture[str], username: str = DEMO_USER) -> Enrolled:
    db = f"sqlite:///{rig.server.db_path}"
    assert hallserver_main(["clerk", "require-totp", "--hall", "DEMO", "--db", db]) == 0
    capsys.readouterr()
    assert hallserver_main(["clerk", "enrol-totp", username, "--hall", "DEMO", "--db", db]) == 0
    out = capsys.readouterr().out
    secret = re.search(r"secret=([A-Z2-7]+)", out)
    assert secret is not None
    codes = re.findall(r"^  ([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})$", out, re.M)
    return Enrolled(secret.group(1), codes)


def counter_on(rig: CounterRig, clock: FakeClock, **security: int) -> Counter:
    sec = dataclasses.replace(
        rig.config.security,
        **{"max_failed_logins": 3, "lockout_minutes": 15, "offline_login_days": 7, **security},
    )
    config = dataclasses.replace(rig.config, security=sec)
    s = rig.services
    return Counter(config, s.store, s.api, s.bus, WorkCalendar(), clock=clock)


def code_now(e: Enrolled) -> str:
    """What the clerk's phone shows now (the server checks against real time)."""
    return totp.code_at(e.secret, dt.datetime.now(dt.UTC))


def code_at(e: Enrolled, clock: FakeClock) -> str:
    """What the phone shows at the counter's (fake) time: what an offline check expects."""
    return totp.code_at(e.secret, clock.now)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    # The server checks tokens and codes against real time: start the counter's fake clock at now.
    yield FakeClock(dt.datetime.now().replace(microsecond=0))


@pytest.fixture
def enrolled(rig: CounterRig, capsys: pytest.CaptureFixture[str]) -> Enrolled:
    return enrol(rig, capsys)


def sign_in_online_then_go_offline(rig: CounterRig, counter: Counter, e: Enrolled, clock: FakeClock) -> str:
    # The counter's clock at the phone's time now: the code's step is the one it spends.
    clock.now = dt.datetime.now()
    code = code_at(e, clock)
    session = counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code)
    assert session.online
    counter.logout()
    rig.server.stop()
    return code


# -- online ----------------------------------------------------------------------------------------


def test_online_password_alone_asks_for_the_code_without_counting_a_failure(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    with pytest.raises(CounterError, match="6 位动态口令") as err:
        counter.login(DEMO_USER, DEMO_PASSWORD)
    assert refused_field(err.value) == TOTP
    assert counter.session is None
    # Not a failure: three more tries are still there for a wrong code.
    with pytest.raises(CounterError, match="还可以再试 2 次"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=wrong(code_now(enrolled)))


def test_online_two_factor_sign_in_caches_the_secret_sealed_under_the_password(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    session = counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code_now(enrolled))
    assert session.online and session.clerk.staff_no == "ZW-0107" and session.warnings == ()
    record = json.loads(rig.services.store.get_state(f"{VERIFIER_KEY}/{DEMO_USER}"))
    assert record["second_factor"] is True and record["totp"]["kdf"] == "argon2id"
    assert open_secret(record["totp"], DEMO_PASSWORD, DEMO_USER) == enrolled.secret
    assert open_secret(record["totp"], "demo12345", DEMO_USER) is None
    assert open_secret(record["totp"], DEMO_PASSWORD, "clerk2") is None  # bound to the account


def test_the_raw_store_never_holds_the_secret_in_the_clear(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code_now(enrolled))
    store = rig.services.store
    variants = {enrolled.secret, enrolled.secret.lower()}
    with sqlite3.connect(store.path) as db:
        for (table,) in db.execute("select name from sqlite_master where type = 'table'"):
            for row in db.execute(f'select * from "{table}"'):  # noqa: S608 - names from the schema
                assert not any(v in str(row) for v in variants), table
    for suffix in ("", "-wal"):
        path = Path(f"{store.path}{suffix}")
        if path.exists():
            raw = path.read_bytes()
            assert not any(v.encode() in raw for v in variants), path.name
            assert DEMO_PASSWORD.encode() not in raw


def test_online_wrong_and_reused_codes_are_told_apart_and_count(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    code = code_now(enrolled)
    with pytest.raises(CounterError, match=r"动态口令不对或已过期.*还可以再试 2 次") as err:
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=wrong(code))
    assert refused_field(err.value) == TOTP
    counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code)
    counter.logout()
    with pytest.raises(CounterError, match=r"已经用过.*还可以再试 2 次"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code)
    with pytest.raises(CounterError, match=r"用户名或密码错误（还可以再试 1 次）") as err:
        counter.login(DEMO_USER, "wrong-password", totp_code=code)
    assert refused_field(err.value) == "password"
    with pytest.raises(CounterError, match="锁定至"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=wrong(code))
    failed = [e.detail for e in rig.services.store.audit_entries() if e.action == AuditAction.LOGIN_FAILED]
    assert failed == ["totp_invalid", "totp_reused", "bad_credentials", "totp_invalid"]


def test_online_recovery_code_signs_in_once_and_says_how_many_are_left(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    session = counter.login(DEMO_USER, DEMO_PASSWORD, recovery_code=enrolled.recovery_codes[0])
    (warning,) = session.warnings
    assert "还剩 9 个" in warning
    counter.logout()
    with pytest.raises(CounterError, match="备用码不对或已经用过") as err:
        counter.login(DEMO_USER, DEMO_PASSWORD, recovery_code=enrolled.recovery_codes[0])
    assert refused_field(err.value) == "recovery_code"


def test_a_clerk_of_a_strict_hall_not_yet_enrolled_is_told_to_ask_for_it(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    with pytest.raises(CounterError, match="enrol-totp clerk2"):
        counter.login("clerk2", DEMO_PASSWORD, totp_code="123456")


# -- offline ---------------------------------------------------------------------------------------


def test_offline_sign_in_needs_password_and_a_fresh_code(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    online_code = sign_in_online_then_go_offline(rig, counter, enrolled, clock)

    with pytest.raises(CounterError, match="6 位动态口令") as err:
        counter.login(DEMO_USER, DEMO_PASSWORD)
    assert refused_field(err.value) == TOTP
    # The code used online a moment ago is spent here too.
    with pytest.raises(CounterError, match="已经用过"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=online_code)
    clock.advance(seconds=totp.STEP_SECONDS)
    fresh = code_at(enrolled, clock)
    session = counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=fresh)
    assert not session.online and session.clerk.staff_no == "ZW-0107"
    counter.logout()
    with pytest.raises(CounterError, match="已经用过"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=fresh)
    logins = [
        (e.action, e.detail) for e in rig.services.store.audit_entries() if e.action.startswith("login")
    ]
    assert logins[-3:] == [
        (AuditAction.LOGIN_FAILED, "offline"),
        (AuditAction.LOGIN, "offline"),
        (AuditAction.LOGIN_FAILED, "offline"),
    ]


def test_offline_one_factor_alone_never_signs_in(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock, max_failed_logins=10)
    sign_in_online_then_go_offline(rig, counter, enrolled, clock)
    clock.advance(minutes=1)
    code = code_at(enrolled, clock)
    for password, kw in (
        (DEMO_PASSWORD, {}),
        (DEMO_PASSWORD, {"totp_code": ""}),
        ("wrong-password", {"totp_code": code}),
        (DEMO_PASSWORD, {"recovery_code": enrolled.recovery_codes[0]}),
    ):
        with pytest.raises(CounterError):
            counter.login(DEMO_USER, password, **kw)
        assert counter.session is None
    assert not counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code).online


def test_offline_expired_and_wrong_codes_are_refused_with_the_clock_hint(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    sign_in_online_then_go_offline(rig, counter, enrolled, clock)
    clock.advance(minutes=5)
    expired = totp.code_at(enrolled.secret, clock.now - 2 * STEP)
    with pytest.raises(CounterError) as err:
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=expired)
    message = str(err.value)
    assert "动态口令不对或已过期" in message and "还可以再试 2 次" in message
    assert f"本机现在是 {clock.now:%H:%M:%S}" in message  # a clock off the phone's shows here
    # One step old is within the window.
    one_old = totp.code_at(enrolled.secret, clock.now - STEP)
    assert not counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=one_old).online


def test_offline_recovery_codes_are_refused_they_are_spent_on_the_server(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    sign_in_online_then_go_offline(rig, counter, enrolled, clock)
    with pytest.raises(CounterError, match="备用码只能在联网时使用") as err:
        counter.login(DEMO_USER, DEMO_PASSWORD, recovery_code=enrolled.recovery_codes[0])
    assert refused_field(err.value) == TOTP


def test_offline_wrong_codes_and_passwords_lock_the_account_together(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    sign_in_online_then_go_offline(rig, counter, enrolled, clock)
    clock.advance(minutes=1)
    code = code_at(enrolled, clock)
    with pytest.raises(CounterError, match="还可以再试 2 次"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=wrong(code))
    with pytest.raises(CounterError, match="用户名或密码错误（还可以再试 1 次）"):
        counter.login(DEMO_USER, "wrong-password", totp_code=code)
    until = clock.now + dt.timedelta(minutes=15)
    with pytest.raises(CounterError, match=f"锁定至 {until:%H:%M}"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=wrong(code))
    with pytest.raises(CounterError, match="密码或动态口令连续输错次数过多"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code)
    clock.advance(minutes=15)
    assert not counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code_at(enrolled, clock)).online


def test_a_counter_that_cached_no_secret_cannot_sign_a_two_factor_clerk_in_offline(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    sign_in_online_then_go_offline(rig, counter, enrolled, clock)
    store = rig.services.store
    record = json.loads(store.get_state(f"{VERIFIER_KEY}/{DEMO_USER}"))
    record["totp"] = None  # as if the record were tampered with: the rule still holds
    store.set_state(f"{VERIFIER_KEY}/{DEMO_USER}", json.dumps(record))
    with pytest.raises(CounterError, match="没有保存此账号的动态口令密钥"):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code_at(enrolled, clock))


def test_unlock_of_a_two_factor_session_takes_the_password_with_the_lockout(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled
) -> None:
    counter = counter_on(rig, clock)
    counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code_now(enrolled))
    counter.lock()
    with pytest.raises(CounterError, match="还可以再试 2 次"):
        counter.unlock("wrong-password")
    counter.unlock(DEMO_PASSWORD)


# -- the guard on its own ---------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data" / "counter.sqlite", FieldCipher(load_or_create_key(tmp_path / "device.key")))
    yield s
    s.close()


def test_a_password_only_record_still_signs_in_offline_with_the_password(store: Store) -> None:
    """The demo hall (no second factor): the offline sign-in is what it always was."""
    from hallclient import wire

    clock = FakeClock(dt.datetime(2026, 11, 24, 9, 30))
    guard = SignInGuard(store, SecurityConfig(), clock)
    guard.remember(DEMO_USER, DEMO_PASSWORD, wire.ClerkInfo(id=1, name="王晓燕", staff_no="ZW-0107"), "大厅")
    assert guard.verify(DEMO_USER, DEMO_PASSWORD, why_offline="无法连接服务器").clerk.id == 1


def test_sign_in_refused_carries_its_field() -> None:
    err = SignInRefused("x", TOTP)
    try:
        raise CounterError("x") from err
    except CounterError as exc:
        assert refused_field(exc) == TOTP
    assert refused_field(ValueError()) is None


# -- clock skew -------------------------------------------------------------------------------------


class OffsetClock(FakeClock):
    """The real time, off by a fixed amount (the sign-in itself takes a while)."""

    def __init__(self, offset: dt.timedelta) -> None:
        super().__init__(dt.datetime.now())
        self.offset = offset

    def __call__(self) -> dt.datetime:
        return dt.datetime.now() + self.offset


def test_a_clock_off_by_more_than_the_code_window_is_reported_with_the_fix(
    rig: CounterRig, enrolled: Enrolled
) -> None:
    skewed = OffsetClock(dt.timedelta(seconds=50))
    counter = counter_on(rig, skewed)
    (warning,) = counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code_now(enrolled)).warnings
    assert re.search(r"快 (49|50|51) 秒", warning)
    assert "30 秒" in warning and "timedatectl set-ntp true" in warning and "立即同步" in warning
    counter.logout()
    # Where the hall does not require the second factor, 50 seconds bother nobody.
    db = f"sqlite:///{rig.server.db_path}"
    assert hallserver_main(["clerk", "require-totp", "--hall", "DEMO", "--off", "--db", db]) == 0
    assert counter.login("clerk2", DEMO_PASSWORD).warnings == ()


def test_a_clock_minutes_off_says_both_what_breaks(rig: CounterRig, enrolled: Enrolled) -> None:
    skewed = OffsetClock(-dt.timedelta(minutes=30))
    counter = counter_on(rig, skewed)
    (warning,) = counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code_now(enrolled)).warnings
    assert "慢 30 分钟" in warning and "校准时间" in warning and "动态口令" in warning


# -- no codes or secrets in any log, and the audit log outlives the purge ------------------------------


def test_no_password_code_or_secret_reaches_a_log(
    rig: CounterRig, clock: FakeClock, enrolled: Enrolled, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    counter = counter_on(rig, clock)
    clock.now = dt.datetime.now()
    code = code_at(enrolled, clock)
    with pytest.raises(CounterError):
        counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=wrong(code))
    counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=code)
    counter.logout()
    rig.server.stop()
    clock.advance(seconds=totp.STEP_SECONDS)
    offline = code_at(enrolled, clock)
    counter.login(DEMO_USER, DEMO_PASSWORD, totp_code=offline)
    entries = " ".join(f"{e.subject} {e.detail}" for e in rig.services.store.audit_entries())
    for secret in (enrolled.secret, code, wrong(code), offline, DEMO_PASSWORD, *enrolled.recovery_codes):
        assert secret not in caplog.text
        assert secret not in entries


def test_the_retention_purge_keeps_every_audit_row(rig: CounterRig, clock: FakeClock) -> None:
    """网络安全法 §21: logs are kept at least six months; the personal-data purge never touches them."""
    s = rig.services
    counter = counter_on(rig, clock)
    counter.login(DEMO_USER, DEMO_PASSWORD)
    counter.refresh()
    before = s.store.audit_entries()
    assert before and s.store.verify_audit() is None
    later = clock.now + dt.timedelta(days=400)
    assert s.store.purge_personal_data(later, retention_days=1) > 0  # the bookings went
    after = s.store.audit_entries()
    assert after[: len(before)] == before
    assert [e.action for e in after[len(before) :]] == [AuditAction.PURGE]
    assert s.store.verify_audit() is None
