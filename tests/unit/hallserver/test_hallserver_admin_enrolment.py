"""Second-factor enrolment from the admin side: ``POST /admin/clerks/{id}/totp`` and the staff list.

The hall's admin (clerk3 made ``admin``) binds clerk1's authenticator from the window,
then clerk1 signs in with a code of the returned secret and with a recovery code once.
Supervisors and clerks are refused, other halls' accounts are not found, a second
enrolment needs ``reset``, which voids the old phone and codes. The CLI shares the
procedure (hallserver.enrolment), its tests are in test_hallserver_two_factor.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, OTHER_HALL, OTHER_PASSWORD, Counter, MovableClock
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from test_hallserver_two_factor import _login, _logout, enrol, strict_hall  # noqa: F401

from hallclient import wire
from hallserver import totp
from hallserver.models import Clerk, LoginEvent, RecoveryCode
from hallserver.seed import DEMO_HALL

ADMIN_DEVICE = "ADMIN-PC"
LoginFn = Callable[..., Counter]


def _make(sessions: sessionmaker[Session], username: str, role: str) -> int:
    with sessions() as s:
        s.execute(update(Clerk).where(Clerk.username == username).values(role=role))
        s.commit()
        clerk_id = s.scalar(select(Clerk.id).where(Clerk.username == username))
        assert clerk_id is not None
        return clerk_id


def clerk_id(sessions: sessionmaker[Session], username: str, hall: str = DEMO_HALL) -> int:
    with sessions() as s:
        found = s.scalar(select(Clerk.id).where(Clerk.username == username, Clerk.hall_code == hall))
        assert found is not None
        return found


@pytest.fixture
def admin(sessions: sessionmaker[Session], login: LoginFn) -> Counter:
    """clerk3 made the hall's admin, signed in at window 3 from the admin's PC."""
    _make(sessions, "clerk3", "admin")
    return login(window_no=3, username="clerk3", device_id=ADMIN_DEVICE)


def post_enrol(client: TestClient, who: Counter, target: int, *, reset: bool = False) -> Any:
    return client.post(f"{API}/admin/clerks/{target}/totp", json={"reset": reset}, headers=who.headers)


def test_admin_enrols_a_clerk_who_then_signs_in_with_code_and_recovery_code(
    client: TestClient,
    admin: Counter,
    strict_hall: None,  # noqa: F811
    clock: MovableClock,
    sessions: sessionmaker[Session],
) -> None:
    target = clerk_id(sessions, "clerk1")
    r = post_enrol(client, admin, target)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    got = wire.TotpEnrolment.model_validate(r.json())
    assert got.clerk_id == target and got.replaced is False
    assert got.uri.startswith("otpauth://totp/") and f"secret={got.secret}" in got.uri
    assert "clerk1@DEMO" in got.uri
    assert len(got.recovery_codes) == 10 and len(set(got.recovery_codes)) == 10
    # Nothing in the database gives the codes back: only argon2 hashes.
    with sessions() as s:
        hashes = list(s.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.clerk_id == target)))
    assert len(hashes) == 10 and all(h.startswith("$argon2") for h in hashes)
    assert not any(c in h or c.replace("-", "") in h for c in got.recovery_codes for h in hashes)
    # The secret is not in what the repr of the answer would put into a log.
    assert got.secret not in repr(got) and got.recovery_codes[0] not in repr(got)

    ok = _login(client, totp_code=totp.code_at(got.secret, clock.now))
    assert ok.status_code == 200, ok.text
    assert ok.json()["second_factor"] is True
    _logout(client, ok.json()["token"])
    first = _login(client, recovery_code=got.recovery_codes[0])
    assert first.status_code == 200 and first.json()["recovery_codes_left"] == 9
    _logout(client, first.json()["token"])
    again = _login(client, recovery_code=got.recovery_codes[0])
    assert again.status_code == 401 and again.json()["error"] == "recovery_code_invalid"


def test_the_staff_list_says_who_has_a_second_factor_and_is_not_cached(
    client: TestClient, admin: Counter, clock: MovableClock, sessions: sessionmaker[Session]
) -> None:
    before = client.get(f"{API}/supervision/staff", headers=admin.headers)
    assert before.status_code == 200 and before.headers["cache-control"] == "no-store"
    assert all(m["totp_enrolled_at"] is None for m in before.json()["staff"])
    assert post_enrol(client, admin, clerk_id(sessions, "clerk2")).status_code == 200
    after = wire.StaffResponse.model_validate(
        client.get(f"{API}/supervision/staff", headers=admin.headers).json()
    )
    enrolled = {m.staff_no: m.totp_enrolled_at for m in after.staff}
    assert enrolled["ZW-0112"] == clock.now
    assert enrolled["ZW-0107"] is None and enrolled["ZW-0123"] is None


@pytest.mark.parametrize("role", ["supervisor", "clerk"])
def test_supervisors_and_clerks_may_not_enrol(
    client: TestClient, sessions: sessionmaker[Session], login: LoginFn, role: str
) -> None:
    _make(sessions, "clerk3", role)
    who = login(window_no=3, username="clerk3")
    r = post_enrol(client, who, clerk_id(sessions, "clerk1"))
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert "管理员" in r.json()["message"]
    with sessions() as s:
        assert s.scalar(select(Clerk.totp_secret).where(Clerk.username == "clerk1")) is None


def test_without_a_token_it_is_401(client: TestClient, sessions: sessionmaker[Session]) -> None:
    r = client.post(f"{API}/admin/clerks/{clerk_id(sessions, 'clerk1')}/totp", json={"reset": False})
    assert r.status_code == 401


def test_unknown_clerks_and_other_halls_clerks_are_not_found(
    client: TestClient,
    admin: Counter,
    other_hall: str,
    sessions: sessionmaker[Session],
    login: LoginFn,
) -> None:
    unknown = post_enrol(client, admin, 999_999)
    assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
    east1 = clerk_id(sessions, "east1", OTHER_HALL)
    foreign = post_enrol(client, admin, east1)
    assert foreign.status_code == 404 and foreign.json() == unknown.json()
    # The other way round too: the other hall's admin cannot reach the demo hall's clerks.
    _make(sessions, "east1", "admin")
    east_admin = login(window_no=1, username="east1", password=OTHER_PASSWORD, hall_code=OTHER_HALL)
    assert post_enrol(client, east_admin, clerk_id(sessions, "clerk1")).status_code == 404
    with sessions() as s:
        assert list(s.scalars(select(Clerk.totp_secret).where(Clerk.totp_secret.is_not(None)))) == []


def test_invalid_ids_and_bodies_are_422(client: TestClient, admin: Counter) -> None:
    assert post_enrol(client, admin, 0).status_code == 422
    r = client.post(f"{API}/admin/clerks/1/totp", json={"reset": "maybe"}, headers=admin.headers)
    assert r.status_code == 422
    r = client.post(f"{API}/admin/clerks/1/totp", json={"reset": True, "x": 1}, headers=admin.headers)
    assert r.status_code == 422


def test_already_enrolled_needs_reset_which_voids_the_old_secret_and_codes(
    client: TestClient,
    admin: Counter,
    strict_hall: None,  # noqa: F811
    clock: MovableClock,
    sessions: sessionmaker[Session],
) -> None:
    target = clerk_id(sessions, "clerk1")
    first = wire.TotpEnrolment.model_validate(post_enrol(client, admin, target).json())
    twice = post_enrol(client, admin, target)
    assert twice.status_code == 409 and twice.json()["error"] == "totp_already_enrolled"
    assert "重新绑定" in twice.json()["message"] and twice.json()["field"] == "reset"
    # The refused second click changed nothing: the first phone still works.
    with sessions() as s:
        assert s.scalar(select(Clerk.totp_secret).where(Clerk.id == target)) == first.secret

    r = post_enrol(client, admin, target, reset=True)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    second = wire.TotpEnrolment.model_validate(r.json())
    assert second.replaced is True and second.secret != first.secret
    assert not set(second.recovery_codes) & set(first.recovery_codes)
    old = _login(client, totp_code=totp.code_at(first.secret, clock.now))
    assert old.json()["error"] == "totp_invalid"
    assert _login(client, recovery_code=first.recovery_codes[0]).json()["error"] == "recovery_code_invalid"
    assert _login(client, totp_code=totp.code_at(second.secret, clock.now)).status_code == 200


def test_reset_of_a_clerk_without_a_second_factor_is_a_plain_enrolment(
    client: TestClient, admin: Counter, sessions: sessionmaker[Session]
) -> None:
    r = post_enrol(client, admin, clerk_id(sessions, "clerk2"), reset=True)
    assert r.status_code == 200 and r.json()["replaced"] is False


def test_the_admin_may_enrol_themself_and_a_cli_enrolment_is_reset_from_the_window(
    client: TestClient,
    admin: Counter,
    engine: Engine,
    sessions: sessionmaker[Session],
    clock: MovableClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    own = post_enrol(client, admin, clerk_id(sessions, "clerk3"))
    assert own.status_code == 200
    by_cli = enrol(engine, capsys, "clerk2")
    assert post_enrol(client, admin, clerk_id(sessions, "clerk2")).status_code == 409
    r = post_enrol(client, admin, clerk_id(sessions, "clerk2"), reset=True)
    assert r.status_code == 200 and r.json()["secret"] != by_cli.secret


def test_every_enrolment_is_in_the_login_log_with_the_admins_device_and_no_secrets(
    client: TestClient,
    admin: Counter,
    engine: Engine,
    sessions: sessionmaker[Session],
) -> None:
    target = clerk_id(sessions, "clerk1")
    first = post_enrol(client, admin, target).json()
    post_enrol(client, admin, target)  # refused: 409, not an enrolment
    second = post_enrol(client, admin, target, reset=True).json()
    with sessions() as s:
        rows = list(s.scalars(select(LoginEvent).where(LoginEvent.factor == "enrol").order_by(LoginEvent.id)))
    assert [(r.clerk_id, r.username, r.outcome) for r in rows] == [
        (target, "clerk1", "totp_enrolled"),
        (target, "clerk1", "totp_reset"),
    ]
    assert all((r.hall_code, r.window_no, r.device_id) == (DEMO_HALL, 3, ADMIN_DEVICE) for r in rows)
    with engine.connect() as conn:
        dump = repr(conn.execute(text("select * from login_log")).all())
    for body in (first, second):
        for secret in (body["secret"], *body["recovery_codes"]):
            assert secret not in dump
