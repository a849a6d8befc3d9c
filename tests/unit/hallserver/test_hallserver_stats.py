"""Statistics: decisions and ratings per level in a date range, per window."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from hallserver_testkit import API, DAY, Counter, case_no, case_payload, local, op, rating_payload


def _push(client: TestClient, c: Counter, *ops: dict[str, Any]) -> None:
    r = client.post(f"{API}/sync/push", json={"device_id": c.device_id, "ops": list(ops)}, headers=c.headers)
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * len(ops), r.text


def _stats(client: TestClient, c: Counter, start: dt.date, end: dt.date, **extra: Any) -> Any:
    return client.get(
        f"{API}/stats", params={"from": start.isoformat(), "to": end.isoformat(), **extra}, headers=c.headers
    )


def _seed_day(client: TestClient, login) -> tuple[Counter, Counter]:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    yesterday = DAY - dt.timedelta(days=1)
    _push(
        client,
        w1,
        op("case_decided", case_payload(case_no(1), decision="accept")),
        op("case_decided", case_payload(case_no(2), decision="accept")),
        op("case_decided", case_payload(case_no(3), decision="correct")),
        op("rating_given", rating_payload(case_no(1), "very_satisfied")),
        op("rating_given", rating_payload(case_no(2), "very_satisfied")),
        op("rating_given", rating_payload(case_no(3), "not_rated")),
        # The day before: outside a one-day range.
        op("case_decided", case_payload(case_no(9), decision="reject", decided_at=local(yesterday, 15))),
        op("rating_given", rating_payload(case_no(9), "dissatisfied", rated_at=local(yesterday, 15, 5))),
    )
    _push(
        client,
        w2,
        op("case_decided", case_payload(case_no(1, 2), decision="complete", window_no=2)),
        op("rating_given", rating_payload(case_no(1, 2), "satisfied", window_no=2)),
    )
    return w1, w2


def test_stats_count_decisions_and_ratings_per_level(client: TestClient, login, supervisor: Counter) -> None:  # type: ignore[no-untyped-def]
    _seed_day(client, login)
    r = _stats(client, supervisor, DAY, DAY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hall_code"] == "DEMO"
    assert body["date_from"] == body["date_to"] == DAY.isoformat()
    assert body["window_no"] is None
    assert body["decisions"] == {"accept": 2, "correct": 1, "complete": 1}
    assert body["ratings"] == {"very_satisfied": 2, "not_rated": 1, "satisfied": 1}


def test_stats_range_includes_both_ends(client: TestClient, login, supervisor: Counter) -> None:  # type: ignore[no-untyped-def]
    _seed_day(client, login)
    body = _stats(client, supervisor, DAY - dt.timedelta(days=1), DAY).json()
    assert body["decisions"] == {"accept": 2, "correct": 1, "complete": 1, "reject": 1}
    assert body["ratings"]["dissatisfied"] == 1
    only_yesterday = _stats(client, supervisor, DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1)).json()
    assert only_yesterday["decisions"] == {"reject": 1}
    assert only_yesterday["ratings"] == {"dissatisfied": 1}


def test_stats_per_window(client: TestClient, login, supervisor: Counter) -> None:  # type: ignore[no-untyped-def]
    _seed_day(client, login)
    body = _stats(client, supervisor, DAY, DAY, window=2).json()
    assert body["window_no"] == 2
    assert body["decisions"] == {"complete": 1}
    assert body["ratings"] == {"satisfied": 1}


def test_stats_for_an_empty_range(client: TestClient, supervisor: Counter) -> None:
    body = _stats(client, supervisor, DAY + dt.timedelta(days=10), DAY + dt.timedelta(days=20)).json()
    assert body["decisions"] == {} and body["ratings"] == {}


def test_stats_to_before_from_is_422(client: TestClient, supervisor: Counter) -> None:
    r = _stats(client, supervisor, DAY, DAY - dt.timedelta(days=1))
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request"
    assert r.json()["field"] == "to"
    assert r.json()["message"]


def test_stats_without_from_is_422(client: TestClient, supervisor: Counter) -> None:
    r = client.get(f"{API}/stats", params={"to": DAY.isoformat()}, headers=supervisor.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "from"


def test_stats_need_login(client: TestClient) -> None:
    assert client.get(f"{API}/stats", params={"from": "2026-03-01", "to": "2026-03-02"}).status_code == 401


def test_a_clerk_cannot_see_stats_or_ratings(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    w1, _ = _seed_day(client, login)
    r = _stats(client, w1, DAY, DAY)
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden" and "负责人" in r.json()["message"]
    assert "very_satisfied" not in r.text
