"""Call-next (atomic claims, due order, never twice) and walk-in numbers."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter as Tally

from fastapi.testclient import TestClient
from hallserver_testkit import API, DAY, ITEM, Counter, MovableClock, local, login_body
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from hallserver.app import create_app
from hallserver.models import Ticket
from hallserver.seed import DEMO_BOOKINGS, DEMO_HALL


def _call(client: TestClient, c: Counter) -> dict | None:  # type: ignore[type-arg]
    r = client.post(f"{API}/queue/call-next", json={"window_no": c.window_no}, headers=c.headers)
    assert r.status_code == 200, r.text
    return r.json()["ticket"]  # type: ignore[no-any-return]


def test_call_next_hands_out_tickets_in_due_order_once_each(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session], clock: MovableClock
) -> None:
    with sessions() as s:
        expected = s.scalars(
            select(Ticket.ticket_no)
            .where(Ticket.hall_code == DEMO_HALL, Ticket.date == DAY)
            .order_by(Ticket.due_at, Ticket.id)
        ).all()
    called = []
    for _ in range(DEMO_BOOKINGS):
        t = _call(client, window1)
        assert t is not None
        assert t["state"] == "called"
        assert t["window_no"] == 1
        assert t["date"] == DAY.isoformat()
        assert t["hall_code"] == DEMO_HALL
        assert t["booking_code"]
        assert dt.datetime.fromisoformat(t["called_at"]) == clock.now
        called.append(t["ticket_no"])
    assert called == list(expected)
    assert called[:3] == ["A001", "A002", "A003"]
    assert len(set(called)) == DEMO_BOOKINGS
    # Nobody is left: an empty answer, not an error.
    assert _call(client, window1) is None


def test_call_next_marks_the_ticket_in_the_database(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    t = _call(client, window1)
    assert t is not None
    with sessions() as s:
        row = s.scalar(select(Ticket).where(Ticket.ticket_no == t["ticket_no"], Ticket.date == DAY))
        assert row is not None
        assert (row.state, row.window_no) == ("called", 1)


def test_two_windows_share_one_queue(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    seen = []
    for _ in range(5):
        for w in (w1, w2):
            t = _call(client, w)
            assert t is not None
            assert t["window_no"] == w.window_no
            seen.append(t["ticket_no"])
    assert seen == [f"A{n:03d}" for n in range(1, 11)]


def test_call_next_for_another_window_is_403(client: TestClient, window1: Counter) -> None:
    r = client.post(f"{API}/queue/call-next", json={"window_no": 2}, headers=window1.headers)
    assert r.status_code == 403
    assert r.json()["error"] == "wrong_window"
    assert r.json()["field"] == "window_no"
    # Nothing was claimed by the refused call.
    assert _call(client, window1)["ticket_no"] == "A001"  # type: ignore[index]


def test_call_next_needs_login(client: TestClient) -> None:
    assert client.post(f"{API}/queue/call-next", json={"window_no": 1}).status_code == 401


def test_call_next_on_another_day_finds_nobody(client: TestClient, login, clock: MovableClock) -> None:  # type: ignore[no-untyped-def]
    clock.now = local(DAY + dt.timedelta(days=1), 9)
    assert _call(client, login()) is None


def test_concurrent_call_next_never_hands_out_a_ticket_twice(engine: Engine, clock: MovableClock) -> None:
    """Three windows, each with its own client over one real SQLite file, hammer call-next."""
    app = create_app(engine, clock=clock)
    clients = [TestClient(app, raise_server_exceptions=False) for _ in range(3)]
    headers = []
    for n, tc in enumerate(clients, start=1):
        r = tc.post(f"{API}/auth/login", json=login_body(window_no=n, username=f"clerk{n}"))
        assert r.status_code == 200, r.text
        headers.append({"Authorization": f"Bearer {r.json()['token']}"})

    got: dict[int, list[str]] = {1: [], 2: [], 3: []}
    errors: list[str] = []
    start = threading.Barrier(3)

    def work(n: int) -> None:
        tc = clients[n - 1]
        start.wait()
        for _ in range(DEMO_BOOKINGS):  # more calls than one window's share: the queue runs dry
            r = tc.post(f"{API}/queue/call-next", json={"window_no": n}, headers=headers[n - 1])
            if r.status_code != 200:
                errors.append(f"{r.status_code} {r.text}")
                continue
            t = r.json()["ticket"]
            if t is not None:
                assert t["window_no"] == n
                got[n].append(t["ticket_no"])

    threads = [threading.Thread(target=work, args=(n,)) for n in (1, 2, 3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    for tc in clients:
        tc.close()

    assert errors == []
    everything = got[1] + got[2] + got[3]
    dupes = [no for no, k in Tally(everything).items() if k > 1]
    assert dupes == []
    assert sorted(everything) == [f"A{n:03d}" for n in range(1, DEMO_BOOKINGS + 1)]
    # Each window's own calls come in due order.
    for mine in got.values():
        assert mine == sorted(mine)


def test_walk_in_numbers_are_sequential_and_unique(
    client: TestClient, window1: Counter, clock: MovableClock
) -> None:
    numbers = []
    for _ in range(3):
        r = client.post(f"{API}/queue/walk-in", json={"item_code": ITEM}, headers=window1.headers)
        assert r.status_code == 200, r.text
        t = r.json()
        assert t["state"] == "waiting"
        assert t["booking_code"] is None
        assert t["item_code"] == ITEM
        numbers.append(t["ticket_no"])
    r = client.post(f"{API}/queue/walk-in", json={}, headers=window1.headers)
    assert r.status_code == 200
    assert r.json()["item_code"] is None
    numbers.append(r.json()["ticket_no"])
    assert numbers == ["B001", "B002", "B003", "B004"]


def test_walk_in_numbers_start_again_the_next_day(client: TestClient, login, clock: MovableClock) -> None:  # type: ignore[no-untyped-def]
    today = login()
    assert client.post(f"{API}/queue/walk-in", json={}, headers=today.headers).json()["ticket_no"] == "B001"
    clock.now = local(DAY + dt.timedelta(days=1), 8)
    tomorrow = login()
    nxt = client.post(f"{API}/queue/walk-in", json={}, headers=tomorrow.headers).json()
    assert nxt["ticket_no"] == "B001"
    assert nxt["date"] == (DAY + dt.timedelta(days=1)).isoformat()


def test_concurrent_walk_ins_get_distinct_numbers(engine: Engine, clock: MovableClock) -> None:
    app = create_app(engine, clock=clock)
    clients = [TestClient(app, raise_server_exceptions=False) for _ in range(2)]
    headers = []
    for n, tc in enumerate(clients, start=1):
        r = tc.post(f"{API}/auth/login", json=login_body(window_no=n, username=f"clerk{n}"))
        headers.append({"Authorization": f"Bearer {r.json()['token']}"})
    numbers: list[str] = []
    errors: list[str] = []
    start = threading.Barrier(2)

    def work(n: int) -> None:
        start.wait()
        for _ in range(10):
            r = clients[n].post(f"{API}/queue/walk-in", json={}, headers=headers[n])
            if r.status_code == 200:
                numbers.append(r.json()["ticket_no"])
            else:
                errors.append(r.text)

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    for tc in clients:
        tc.close()
    assert errors == []
    assert sorted(numbers) == [f"B{n:03d}" for n in range(1, 21)]


def test_walk_in_for_an_unknown_item_is_404(client: TestClient, window1: Counter) -> None:
    r = client.post(f"{API}/queue/walk-in", json={"item_code": "NO-SUCH-ITEM"}, headers=window1.headers)
    assert r.status_code == 404
    assert r.json()["error"] == "unknown_item"
    assert r.json()["field"] == "item_code"


def test_a_walk_in_is_called_after_the_citizens_already_due(
    client: TestClient, window1: Counter, clock: MovableClock
) -> None:
    # 09:40: the walk-in is due at 09:40, after the 09:00 and 09:30 bookings, before 10:00.
    clock.now = local(DAY, 9, 40)
    walk = client.post(f"{API}/queue/walk-in", json={}, headers=window1.headers).json()
    order = []
    while (t := _call(client, window1)) is not None:
        order.append(t["ticket_no"])
    slots_before = 8  # 48 bookings over 12 slots: 4 at 09:00 and 4 at 09:30
    assert order.index(walk["ticket_no"]) == slots_before
