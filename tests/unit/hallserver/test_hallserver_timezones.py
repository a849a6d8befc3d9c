"""Times keep their meaning in the database whatever offset they arrive with.

Counters send times with their own UTC offset (+08:00 in China), the server may run
in Asia/Shanghai or in UTC, and SQLite keeps no offset at all: every stored time
must still mean the same instant when it is read back or compared in SQL.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import (
    API,
    DAY,
    MovableClock,
    case_no,
    case_payload,
    local,
    login_body,
    op,
    rating_payload,
)
from sqlalchemy import update

from hallclient.signing import generate_private_key, public_key_of
from hallserver.app import create_app
from hallserver.db import create_schema, make_engine, session_factory
from hallserver.models import Case, Clerk, Rating
from hallserver.security import LOCKOUT, MAX_FAILED_LOGINS
from hallserver.seed import seed_demo

CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def server_tz(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Run the server process in a given time zone for one test."""

    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


def _app(tmp_path: Path, clock: MovableClock) -> tuple[TestClient, object]:
    engine = make_engine(f"sqlite:///{tmp_path}/tz.sqlite")
    create_schema(engine)
    with session_factory(engine)() as s:
        seed_demo(s, DAY, public_key=public_key_of(generate_private_key()))
    return TestClient(create_app(engine, clock=clock), raise_server_exceptions=False), engine


def test_times_sent_with_an_offset_are_counted_on_the_right_day(
    tmp_path: Path, server_tz: Callable[[str], None]
) -> None:
    server_tz("UTC")
    clock = MovableClock(local(DAY, 9, 30))
    client, engine = _app(tmp_path, clock)
    with client:
        token = client.post(f"{API}/auth/login", json=login_body()).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        # 07:30 in Beijing on 3 March is 23:30 UTC on 2 March: the UTC server's 2 March.
        decided = dt.datetime(2026, 3, 3, 7, 30, tzinfo=CST)
        ops = [
            op("case_decided", case_payload(case_no(1), decided_at=decided)),
            op(
                "rating_given",
                rating_payload(case_no(1), "satisfied", rated_at=decided + dt.timedelta(minutes=5)),
            ),
        ]
        r = client.post(f"{API}/sync/push", json={"device_id": "PC-01", "ops": ops}, headers=headers)
        assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"]
        with session_factory(engine)() as s:  # type: ignore[arg-type]
            s.execute(update(Clerk).where(Clerk.username == "clerk3").values(role="supervisor"))
            s.commit()
        lead = client.post(f"{API}/auth/login", json=login_body(window_no=3, username="clerk3")).json()
        headers = {"Authorization": f"Bearer {lead['token']}"}
        day = client.get(
            f"{API}/stats", params={"from": "2026-03-02", "to": "2026-03-02"}, headers=headers
        ).json()
        nxt = client.get(
            f"{API}/stats", params={"from": "2026-03-03", "to": "2026-03-03"}, headers=headers
        ).json()
    assert day["decisions"] == {"accept": 1}
    assert day["ratings"] == {"satisfied": 1}
    assert nxt["decisions"] == {} and nxt["ratings"] == {}
    with session_factory(engine)() as s:  # type: ignore[arg-type]
        case = s.get(Case, case_no(1))
        rating = s.get(Rating, case_no(1))
        assert case is not None and rating is not None
        assert case.decided_at == decided
        assert case.decided_at.tzinfo is not None
        assert rating.rated_at == decided + dt.timedelta(minutes=5)
    engine.dispose()  # type: ignore[attr-defined]


def test_walk_in_queues_behind_bookings_due_earlier_on_a_beijing_server(
    tmp_path: Path, server_tz: Callable[[str], None]
) -> None:
    server_tz("Asia/Shanghai")
    clock = MovableClock(local(DAY, 9, 40))
    client, engine = _app(tmp_path, clock)
    with client:
        token = client.post(f"{API}/auth/login", json=login_body()).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        walk = client.post(f"{API}/queue/walk-in", json={}, headers=headers).json()
        assert walk["date"] == DAY.isoformat()
        order = []
        while t := client.post(f"{API}/queue/call-next", json={"window_no": 1}, headers=headers).json()[
            "ticket"
        ]:
            order.append(t["ticket_no"])
            if t["booking_code"]:
                # A booked citizen's ticket says when it was issued: 08:45 Beijing time.
                assert dt.datetime.fromisoformat(t["issued_at"]) == dt.datetime(2026, 3, 2, 8, 45, tzinfo=CST)
    engine.dispose()  # type: ignore[attr-defined]
    # 4 bookings at 09:00 and 4 at 09:30 come before the 09:40 walk-in; 10:00 comes after.
    assert order.index(walk["ticket_no"]) == 8
    assert len(order) == 49


def test_lockout_lifts_after_fifteen_minutes_with_a_clock_in_beijing_time(
    tmp_path: Path, server_tz: Callable[[str], None]
) -> None:
    server_tz("UTC")
    clock = MovableClock(local(DAY, 9, 30).astimezone(CST))
    client, engine = _app(tmp_path, clock)
    with client:
        for _ in range(MAX_FAILED_LOGINS):
            assert client.post(f"{API}/auth/login", json=login_body(password="wrong-pass")).status_code == 401
        assert client.post(f"{API}/auth/login", json=login_body()).status_code == 423
        clock.advance(seconds=LOCKOUT.total_seconds())
        assert client.post(f"{API}/auth/login", json=login_body()).status_code == 200
    engine.dispose()  # type: ignore[attr-defined]
