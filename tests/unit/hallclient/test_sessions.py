"""Clerk sign-in: the lockout, the cached argon2 verifier for offline sign-in, and unlock.

SignInGuard on a real SQLite store with a fake clock; then a real Counter (same
fake clock) against a live hallserver, whose wrong-password answers count too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig

from hallclient import wire
from hallclient.audit import AuditAction
from hallclient.config import SecurityConfig
from hallclient.counter import Counter, CounterError
from hallclient.crypto import FieldCipher, load_or_create_key
from hallclient.sessions import VERIFIER_KEY, SignInGuard, SignInRefused
from hallclient.store import Store
from hallclient.workdays import WorkCalendar

T0 = dt.datetime(2026, 11, 24, 9, 30, 0)
CLERK = wire.ClerkInfo(id=1, name="王晓燕", staff_no="ZW-0107")
PASSWORD = "demo1234"


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data" / "counter.sqlite", FieldCipher(load_or_create_key(tmp_path / "device.key")))
    yield s
    s.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def guard_for(store: Store, clock: FakeClock, **security: int) -> SignInGuard:
    config = SecurityConfig(
        **{"max_failed_logins": 3, "lockout_minutes": 15, "offline_login_days": 7, **security}
    )
    return SignInGuard(store, config, clock)


# -- the lockout ----------------------------------------------------------------------------


def test_wrong_passwords_count_down_then_lock_until_a_stated_time(store: Store, clock: FakeClock) -> None:
    guard = guard_for(store, clock)
    assert "还可以再试 2 次" in guard.failed("clerk1")
    clock.advance(minutes=1)
    assert "还可以再试 1 次" in guard.failed("clerk1")
    clock.advance(minutes=1)
    locked = guard.failed("clerk1")  # 09:32 + 15 minutes
    assert "已连续输错 3 次" in locked and "锁定至 09:47" in locked
    with pytest.raises(SignInRefused, match="锁定至 09:47"):
        guard.check_not_locked("clerk1")
    # Another account on the same counter is not affected.
    guard.check_not_locked("clerk2")


def test_the_lock_expires_after_lockout_minutes(store: Store, clock: FakeClock) -> None:
    guard = guard_for(store, clock)
    for _ in range(3):
        guard.failed("clerk1")
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(SignInRefused, match="锁定至 09:45"):
        guard.check_not_locked("clerk1")
    clock.advance(seconds=1)
    guard.check_not_locked("clerk1")
    # After the lock ran out a wrong password starts a fresh series.
    assert "还可以再试 2 次" in guard.failed("clerk1")


def test_a_success_resets_the_count(store: Store, clock: FakeClock) -> None:
    guard = guard_for(store, clock)
    guard.failed("clerk1")
    guard.failed("clerk1")
    guard.succeeded("clerk1")
    assert "还可以再试 2 次" in guard.failed("clerk1")


def test_the_lockout_survives_a_restart(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    guard = guard_for(store, clock)
    for _ in range(3):
        guard.failed("clerk1")
    store.close()
    again = Store(store.path, FieldCipher(load_or_create_key(tmp_path / "device.key")))
    try:
        with pytest.raises(SignInRefused, match="锁定至"):
            guard_for(again, clock).check_not_locked("clerk1")
    finally:
        again.close()


def test_max_failed_logins_of_one_locks_at_the_first_mistake(store: Store, clock: FakeClock) -> None:
    guard = guard_for(store, clock, max_failed_logins=1, lockout_minutes=60)
    assert "锁定至 10:30" in guard.failed("clerk1")


# -- the cached verifier ----------------------------------------------------------------------


def test_the_verifier_is_argon2_and_never_the_password(store: Store, clock: FakeClock) -> None:
    guard_for(store, clock).remember("clerk1", PASSWORD, CLERK, "示范区政务服务中心")
    raw = store.get_state(f"{VERIFIER_KEY}/clerk1")
    assert PASSWORD not in raw and '"$argon2' in raw
    with sqlite3.connect(store.path) as db:
        assert not any(PASSWORD in str(r) for r in db.execute("SELECT * FROM sync_state"))


def test_offline_sign_in_within_offline_login_days(store: Store, clock: FakeClock) -> None:
    guard = guard_for(store, clock)
    guard.remember("clerk1", PASSWORD, CLERK, "示范区政务服务中心")
    clock.advance(days=7)  # exactly the limit still counts
    cached = guard.verify("clerk1", PASSWORD, why_offline="无法连接服务器")
    assert cached.clerk == CLERK and cached.hall_name == "示范区政务服务中心"


def test_offline_sign_in_is_refused_after_offline_login_days(store: Store, clock: FakeClock) -> None:
    guard = guard_for(store, clock)
    guard.remember("clerk1", PASSWORD, CLERK, "大厅")
    clock.advance(days=7, minutes=1)
    with pytest.raises(SignInRefused, match="超过 7 天") as err:
        guard.verify("clerk1", PASSWORD, why_offline="无法连接服务器")
    assert str(err.value).startswith("无法连接服务器。")
    # An unlock of a session already open is not an offline sign-in: the age does not matter.
    assert guard.verify("clerk1", PASSWORD).clerk == CLERK


def test_offline_login_days_zero_forbids_offline_sign_in(store: Store, clock: FakeClock) -> None:
    guard = guard_for(store, clock, offline_login_days=0)
    guard.remember("clerk1", PASSWORD, CLERK, "大厅")
    with pytest.raises(SignInRefused, match="超过 0 天"):
        guard.verify("clerk1", PASSWORD, why_offline="无法连接服务器")


def test_offline_sign_in_of_an_account_never_seen_online_is_refused(store: Store, clock: FakeClock) -> None:
    guard = guard_for(store, clock)
    with pytest.raises(SignInRefused, match="先在本机在线登录过一次"):
        guard.verify("clerk1", PASSWORD, why_offline="无法连接服务器")
    guard.remember("clerk1", PASSWORD, CLERK, "大厅")
    with pytest.raises(SignInRefused, match="先在本机在线登录过一次"):
        guard.verify("clerk2", PASSWORD, why_offline="无法连接服务器")


def test_offline_wrong_passwords_count_down_and_lock_even_the_right_one_out(
    store: Store, clock: FakeClock
) -> None:
    guard = guard_for(store, clock)
    guard.remember("clerk1", PASSWORD, CLERK, "大厅")
    why = "无法连接服务器"
    with pytest.raises(SignInRefused, match="还可以再试 2 次"):
        guard.verify("clerk1", "guess-1", why_offline=why)
    with pytest.raises(SignInRefused, match="还可以再试 1 次"):
        guard.verify("clerk1", "guess-2", why_offline=why)
    with pytest.raises(SignInRefused, match="锁定至 09:45"):
        guard.verify("clerk1", "guess-3", why_offline=why)
    with pytest.raises(SignInRefused, match="锁定至 09:45"):
        guard.verify("clerk1", PASSWORD, why_offline=why)
    clock.advance(minutes=15)
    assert guard.verify("clerk1", PASSWORD, why_offline=why).clerk == CLERK


# -- a real Counter against a real server, on the fake clock ------------------------------------------


def counter_on(rig: CounterRig, clock: FakeClock, **security: int) -> Counter:
    sec = dataclasses.replace(
        rig.config.security,
        **{"max_failed_logins": 3, "lockout_minutes": 15, "offline_login_days": 7, **security},
    )
    config = dataclasses.replace(rig.config, security=sec)
    s = rig.services
    return Counter(config, s.store, s.api, s.bus, WorkCalendar(), clock=clock)


def server_failed_logins(rig: CounterRig, username: str) -> int:
    with sqlite3.connect(rig.server.db_path) as db:
        (n,) = db.execute("SELECT failed_logins FROM clerks WHERE username = ?", (username,)).fetchone()
        return int(n)


@pytest.fixture
def now_clock() -> FakeClock:
    # The server checks its tokens against real time: start the counter's fake clock at now.
    return FakeClock(dt.datetime.now().replace(microsecond=0))


def test_online_wrong_passwords_answered_by_the_server_lock_the_account_here(
    rig: CounterRig, now_clock: FakeClock
) -> None:
    counter = counter_on(rig, now_clock)
    messages = []
    for n in range(3):
        with pytest.raises(CounterError) as err:
            counter.login(DEMO_USER, f"wrong-{n}")
        messages.append(str(err.value))
    assert "还可以再试 2 次" in messages[0] and "还可以再试 1 次" in messages[1]
    until = now_clock.now + dt.timedelta(minutes=15)
    assert f"锁定至 {until:%H:%M}" in messages[2]
    assert server_failed_logins(rig, DEMO_USER) == 3

    # Locked here: the right password is refused without asking the server.
    with pytest.raises(CounterError, match=f"锁定至 {until:%H:%M}"):
        counter.login(DEMO_USER, DEMO_PASSWORD)
    assert server_failed_logins(rig, DEMO_USER) == 3
    now_clock.advance(minutes=14)
    with pytest.raises(CounterError, match="锁定至"):
        counter.login(DEMO_USER, DEMO_PASSWORD)

    now_clock.advance(minutes=1)
    assert counter.login(DEMO_USER, DEMO_PASSWORD).online
    assert server_failed_logins(rig, DEMO_USER) == 0
    failed = [e for e in rig.services.store.audit_entries() if e.action == AuditAction.LOGIN_FAILED]
    assert [(e.subject, e.detail) for e in failed] == [(DEMO_USER, "bad_credentials")] * 3


def test_online_and_offline_wrong_passwords_count_together(rig: CounterRig, now_clock: FakeClock) -> None:
    counter = counter_on(rig, now_clock)
    counter.login(DEMO_USER, DEMO_PASSWORD)
    counter.logout()
    for n in range(2):
        with pytest.raises(CounterError, match="用户名或密码错误"):
            counter.login(DEMO_USER, f"wrong-{n}")
    rig.server.stop()
    with pytest.raises(CounterError, match="锁定至"):
        counter.login(DEMO_USER, "wrong-offline")
    with pytest.raises(CounterError, match="锁定至"):
        counter.login(DEMO_USER, DEMO_PASSWORD)
    now_clock.advance(minutes=15)
    session = counter.login(DEMO_USER, DEMO_PASSWORD)
    assert not session.online and session.clerk.staff_no == "ZW-0107"


def test_offline_sign_in_works_within_offline_login_days_and_not_after(
    rig: CounterRig, now_clock: FakeClock
) -> None:
    counter = counter_on(rig, now_clock, offline_login_days=3)
    online = counter.login(DEMO_USER, DEMO_PASSWORD)
    assert online.online
    counter.logout()
    rig.server.stop()

    now_clock.advance(days=2, hours=23)
    session = counter.login(DEMO_USER, DEMO_PASSWORD)
    assert not session.online and session.clerk == online.clerk and session.hall_name == online.hall_name
    counter.logout()

    now_clock.advance(hours=1, minutes=1)
    with pytest.raises(CounterError) as err:
        counter.login(DEMO_USER, DEMO_PASSWORD)
    assert "无法连接服务器" in str(err.value) and "超过 3 天" in str(err.value)
    assert counter.session is None
    logins = [
        (e.action, e.detail) for e in rig.services.store.audit_entries() if e.action.startswith("login")
    ]
    assert logins == [
        (AuditAction.LOGIN, "online"),
        (AuditAction.LOGIN, "offline"),
        (AuditAction.LOGIN_FAILED, "offline"),
    ]


def test_offline_sign_in_of_a_clerk_never_seen_online_is_refused(
    rig: CounterRig, now_clock: FakeClock
) -> None:
    counter = counter_on(rig, now_clock)
    counter.login(DEMO_USER, DEMO_PASSWORD)
    counter.logout()
    rig.server.stop()
    with pytest.raises(CounterError, match="先在本机在线登录过一次"):
        counter.login("clerk2", DEMO_PASSWORD)
    assert counter.session is None


def test_unlock_needs_the_signed_in_clerks_password(rig: CounterRig, now_clock: FakeClock) -> None:
    counter = counter_on(rig, now_clock)
    counter.login(DEMO_USER, DEMO_PASSWORD)
    counter.lock()
    with pytest.raises(CounterError, match="还可以再试 2 次"):
        counter.unlock("demo12345")
    with pytest.raises(CounterError, match="还可以再试 1 次"):
        counter.unlock("")
    counter.unlock(DEMO_PASSWORD)
    # The right password reset the series.
    counter.lock()
    with pytest.raises(CounterError, match="还可以再试 2 次"):
        counter.unlock("wrong")
    counter.unlock(DEMO_PASSWORD)
    actions = [e.action for e in rig.services.store.audit_entries()]
    assert actions == [
        AuditAction.LOGIN,
        AuditAction.LOCK,
        AuditAction.LOGIN_FAILED,
        AuditAction.LOGIN_FAILED,
        AuditAction.UNLOCK,
        AuditAction.LOCK,
        AuditAction.LOGIN_FAILED,
        AuditAction.UNLOCK,
    ]


def test_wrong_unlocks_lock_the_account_until_lockout_minutes(rig: CounterRig, now_clock: FakeClock) -> None:
    counter = counter_on(rig, now_clock)
    counter.login(DEMO_USER, DEMO_PASSWORD)
    counter.lock()
    for n in range(2):
        with pytest.raises(CounterError, match="还可以再试"):
            counter.unlock(f"wrong-{n}")
    with pytest.raises(CounterError, match="锁定至"):
        counter.unlock("wrong-2")
    with pytest.raises(CounterError, match="锁定至"):
        counter.unlock(DEMO_PASSWORD)
    # Signing in again afresh does not get round the lock either.
    with pytest.raises(CounterError, match="锁定至"):
        counter.login(DEMO_USER, DEMO_PASSWORD)
    now_clock.advance(minutes=15)
    counter.unlock(DEMO_PASSWORD)


def test_unlock_without_a_session_is_refused(rig: CounterRig, now_clock: FakeClock) -> None:
    counter = counter_on(rig, now_clock)
    with pytest.raises(CounterError, match="请先登录"):
        counter.unlock(DEMO_PASSWORD)
    with pytest.raises(CounterError, match="请先登录"):
        counter.lock()
