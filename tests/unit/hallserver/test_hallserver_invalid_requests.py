"""Every invalid request gets 422 in the ErrorBody shape, with the field named."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, Counter, login_body

from hallclient import wire


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in login_body().items() if k != "password"}, "password"),
        ({**login_body(), "window_no": 0}, "window_no"),
        ({**login_body(), "window_no": "one"}, "window_no"),
        ({**login_body(), "hall_code": ""}, "hall_code"),
        ({**login_body(), "device_id": "x" * 65}, "device_id"),
        ({**login_body(), "remember_me": True}, "remember_me"),
    ],
    ids=["missing-password", "window-zero", "window-text", "empty-hall", "long-device", "unknown-field"],
)
def test_invalid_login_body_is_422_error_body(client: TestClient, body: dict[str, Any], field: str) -> None:
    r = client.post(f"{API}/auth/login", json=body)
    assert r.status_code == 422
    err = wire.ErrorBody.model_validate(r.json())
    assert err.error == "invalid_request"
    assert err.field == field
    assert field in err.message
    assert "请求参数不正确" in err.message


def test_non_json_body_is_422_error_body(client: TestClient) -> None:
    r = client.post(f"{API}/auth/login", content=b"not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert wire.ErrorBody.model_validate(r.json()).error == "invalid_request"


def test_empty_body_is_422_error_body(client: TestClient) -> None:
    r = client.post(f"{API}/auth/login")
    assert r.status_code == 422
    assert wire.ErrorBody.model_validate(r.json()).error == "invalid_request"


def test_call_next_with_a_bad_window_is_422(client: TestClient, window1: Counter) -> None:
    r = client.post(f"{API}/queue/call-next", json={"window_no": -3}, headers=window1.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "window_no"


def test_push_without_device_is_422(client: TestClient, window1: Counter) -> None:
    r = client.post(f"{API}/sync/push", json={"ops": []}, headers=window1.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "device_id"


def test_push_over_500_ops_is_422(client: TestClient, window1: Counter) -> None:
    ops = [
        {
            "op_id": f"00000000-0000-4000-8000-{n:012d}",
            "kind": "rating_given",
            "payload": {},
            "created_at": "2026-03-02T10:00:00Z",
        }
        for n in range(501)
    ]
    r = client.post(
        f"{API}/sync/push", json={"device_id": window1.device_id, "ops": ops}, headers=window1.headers
    )
    assert r.status_code == 422
    assert r.json()["field"] == "ops"


def test_unknown_path_is_404_error_body(client: TestClient) -> None:
    r = client.get(f"{API}/no-such-thing")
    assert r.status_code == 404
    assert wire.ErrorBody.model_validate(r.json()).error == "not_found"


def test_wrong_method_is_405_error_body(client: TestClient) -> None:
    r = client.get(f"{API}/auth/login")
    assert r.status_code == 405
    assert wire.ErrorBody.model_validate(r.json()).error == "method_not_allowed"


def test_a_huge_body_is_refused_before_it_is_read(client: TestClient, window1: Counter) -> None:
    from hallserver.limits import MAX_BODY_BYTES

    big = b'{"device_id": "PC-01", "ops": [' + b" " * (MAX_BODY_BYTES + 10) + b"]}"
    r = client.post(
        f"{API}/sync/push", content=big, headers={**window1.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large" and "MB" in r.json()["message"]


def test_a_huge_chunked_body_without_length_is_refused_too(client: TestClient, window1: Counter) -> None:
    from hallserver.limits import MAX_BODY_BYTES

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"device_id": "PC-01", "ops": ['
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b" " * 65536
        yield b"]}"

    r = client.post(
        f"{API}/sync/push", content=chunks(), headers={**window1.headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"
