"""Health, login, lockout, disabled accounts, one device per window, bearer tokens."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, MovableClock, login_body
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from hallserver import __version__
from hallserver.models import AuthToken, Clerk, Window
from hallserver.security import LOCKOUT, MAX_FAILED_LOGINS, TOKEN_LIFETIME, token_digest
from hallserver.seed import DEMO_HALL, DEMO_HALL_NAME


def _login(client: TestClient, **kw: Any) -> Any:
    return client.post(f"{API}/auth/login", json=login_body(**kw))


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_health_needs_no_login_and_reports_version_and_clock(client: TestClient, clock: MovableClock) -> None:
    r = client.get(f"{API}/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["time"].startswith(clock.now.strftime("%Y-%m-%dT%H:%M"))


def test_login_success_returns_token_clerk_and_hall(client: TestClient, clock: MovableClock) -> None:
    r = _login(client, window_no=2, username="clerk2")
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["token"]) >= 32
    assert body["hall_name"] == DEMO_HALL_NAME
    assert body["clerk"]["name"] == "李建国"
    assert body["clerk"]["staff_no"] == "ZW-0112"
    assert body["clerk"]["role"] == "clerk"
    assert isinstance(body["clerk"]["id"], int)
    # The token works right away.
    assert client.get(f"{API}/catalog", headers=_bearer(body["token"])).status_code == 200


def test_only_the_token_digest_is_stored(client: TestClient, sessions: sessionmaker[Session]) -> None:
    token = _login(client).json()["token"]
    with sessions() as s:
        hashes = s.scalars(select(AuthToken.token_hash)).all()
    assert hashes == [token_digest(token)]
    assert token not in hashes


def test_wrong_password_is_401_bad_credentials_in_chinese(client: TestClient) -> None:
    r = _login(client, password="wrong-password")
    assert r.status_code == 401
    body = r.json()
    assert body["error"] == "bad_credentials"
    assert body["field"] == "password"
    assert "密码" in body["message"]
    assert set(body) == {"error", "message", "field"}


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(client: TestClient) -> None:
    wrong = _login(client, password="wrong-password")
    unknown = _login(client, username="nobody")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_unknown_hall_is_404_naming_the_field(client: TestClient) -> None:
    r = _login(client, hall_code="NOPE")
    assert r.status_code == 404
    assert r.json()["error"] == "unknown_hall"
    assert r.json()["field"] == "hall_code"
    assert "NOPE" in r.json()["message"]


def test_unknown_window_is_404_naming_the_field(client: TestClient) -> None:
    r = _login(client, window_no=9)
    assert r.status_code == 404
    assert r.json()["error"] == "unknown_window"
    assert r.json()["field"] == "window_no"


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    client: TestClient, clock: MovableClock
) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        assert _login(client, password="wrong-password").status_code == 401
    locked = _login(client)
    assert locked.status_code == 423
    assert locked.json()["error"] == "account_locked"
    assert "15 分钟" in locked.json()["message"]
    # Wrong passwords during the lock answer the same way: no hints, no extension needed.
    assert _login(client, password="wrong-password").status_code == 423

    clock.advance(seconds=LOCKOUT.total_seconds() - 60)
    still = _login(client)
    assert still.status_code == 423
    assert "1 分钟" in still.json()["message"]

    clock.advance(seconds=61)
    assert _login(client).status_code == 200


def test_four_wrong_passwords_then_a_right_one_resets_the_count(client: TestClient) -> None:
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert _login(client, password="wrong-password").status_code == 401
    assert _login(client).status_code == 200
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert _login(client, password="wrong-password").status_code == 401
    assert _login(client).status_code == 200


def test_lockout_is_per_account(client: TestClient) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        _login(client, password="wrong-password")
    assert _login(client).status_code == 423
    assert _login(client, window_no=2, username="clerk2").status_code == 200


def test_disabled_account_is_403(client: TestClient, sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        s.execute(update(Clerk).where(Clerk.username == "clerk1").values(disabled=True))
        s.commit()
    r = _login(client)
    assert r.status_code == 403
    assert r.json()["error"] == "account_disabled"


def test_disabling_an_account_cuts_off_its_live_token(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    token = _login(client).json()["token"]
    with sessions() as s:
        s.execute(update(Clerk).where(Clerk.username == "clerk1").values(disabled=True))
        s.commit()
    r = client.get(f"{API}/catalog", headers=_bearer(token))
    assert r.status_code == 403
    assert r.json()["error"] == "account_disabled"


def test_second_device_on_a_held_window_is_409_window_taken(client: TestClient) -> None:
    assert _login(client, device_id="PC-A").status_code == 200
    r = _login(client, username="clerk2", device_id="PC-B")
    assert r.status_code == 409
    assert r.json()["error"] == "window_taken"
    assert r.json()["field"] == "window_no"
    assert "PC-A" in r.json()["message"]


def test_same_device_may_log_in_again(client: TestClient) -> None:
    assert _login(client, device_id="PC-A").status_code == 200
    assert _login(client, username="clerk2", device_id="PC-A").status_code == 200


def test_other_windows_are_not_affected_by_a_held_window(client: TestClient) -> None:
    assert _login(client, device_id="PC-A").status_code == 200
    assert _login(client, window_no=2, username="clerk2", device_id="PC-B").status_code == 200


def test_window_is_free_again_after_logout(client: TestClient, sessions: sessionmaker[Session]) -> None:
    token = _login(client, device_id="PC-A").json()["token"]
    out = client.post(f"{API}/auth/logout", headers=_bearer(token))
    assert out.status_code == 200
    assert out.json()["status"] == "logged_out"
    with sessions() as s:
        assert s.get(Window, (DEMO_HALL, 1)).device_id is None  # type: ignore[union-attr]
    # The old token is dead and the window can move to another PC.
    assert client.get(f"{API}/catalog", headers=_bearer(token)).status_code == 401
    assert _login(client, username="clerk2", device_id="PC-B").status_code == 200


def test_window_is_free_again_after_the_holders_token_expires(
    client: TestClient, clock: MovableClock
) -> None:
    assert _login(client, device_id="PC-A").status_code == 200
    clock.advance(seconds=TOKEN_LIFETIME.total_seconds() - 1)
    assert _login(client, username="clerk2", device_id="PC-B").status_code == 409
    clock.advance(seconds=1)
    assert _login(client, username="clerk2", device_id="PC-B").status_code == 200


def test_logout_without_a_token_is_401(client: TestClient) -> None:
    assert client.post(f"{API}/auth/logout").status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer not-a-real-token"},
        {"Authorization": "Bearer " + "A" * 43},
    ],
    ids=["missing", "empty", "basic", "bearer-empty", "garbage", "token-shaped"],
)
def test_missing_or_garbage_bearer_is_401(client: TestClient, headers: dict[str, str]) -> None:
    r = client.get(f"{API}/catalog", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"] == "not_logged_in"
    assert r.json()["message"]


def test_bearer_scheme_is_case_insensitive(client: TestClient) -> None:
    token = _login(client).json()["token"]
    assert client.get(f"{API}/catalog", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_expired_token_is_401_token_expired(client: TestClient, clock: MovableClock) -> None:
    token = _login(client).json()["token"]
    clock.advance(seconds=TOKEN_LIFETIME.total_seconds() - 1)
    assert client.get(f"{API}/catalog", headers=_bearer(token)).status_code == 200
    clock.advance(seconds=1)
    r = client.get(f"{API}/catalog", headers=_bearer(token))
    assert r.status_code == 401
    assert r.json()["error"] == "token_expired"
