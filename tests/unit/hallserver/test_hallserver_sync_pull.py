"""Pulling the change log: cursor paging, per-hall visibility, tickets after call-next."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, OTHER_HALL, OTHER_PASSWORD, Counter, booking_code, case_payload, op
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hallclient import wire
from hallserver.demo_catalog import DEMO_CATALOG
from hallserver.models import ChangeLog
from hallserver.seed import DEMO_BOOKINGS


def pull(client: TestClient, c: Counter, cursor: int = 0, limit: int | None = None) -> wire.PullResponse:
    params: dict[str, Any] = {"cursor": cursor}
    if limit is not None:
        params["limit"] = limit
    r = client.get(f"{API}/sync/pull", params=params, headers=c.headers)
    assert r.status_code == 200, r.text
    return wire.PullResponse.model_validate(r.json())


def pull_all(
    client: TestClient, c: Counter, cursor: int = 0, limit: int = 500
) -> tuple[list[wire.Change], int]:
    changes: list[wire.Change] = []
    while True:
        page = pull(client, c, cursor, limit)
        assert page.next_cursor >= cursor
        changes += page.changes
        cursor = page.next_cursor
        if not page.has_more:
            return changes, cursor


def test_first_pull_has_catalog_bookings_and_tickets(client: TestClient, window1: Counter) -> None:
    changes, _ = pull_all(client, window1)
    kinds = [c.entity for c in changes]
    assert kinds.count(wire.ChangeEntity.CATALOG_ITEM) == len(DEMO_CATALOG)
    assert kinds.count(wire.ChangeEntity.BOOKING) == DEMO_BOOKINGS
    assert kinds.count(wire.ChangeEntity.TICKET) == DEMO_BOOKINGS
    # The data round-trips into the wire models the client uses.
    for c in changes:
        model = {
            wire.ChangeEntity.CATALOG_ITEM: wire.ServiceItem,
            wire.ChangeEntity.BOOKING: wire.Booking,
            wire.ChangeEntity.TICKET: wire.Ticket,
        }[c.entity]
        model.model_validate(c.data)


def test_cursor_paging_with_limit(client: TestClient, window1: Counter) -> None:
    everything, end = pull_all(client, window1)
    pages: list[list[int]] = []
    cursor = 0
    while True:
        page = pull(client, window1, cursor, limit=7)
        assert len(page.changes) <= 7
        seqs = [c.seq for c in page.changes]
        assert seqs == sorted(seqs)
        assert all(s > cursor for s in seqs)
        if page.changes:
            assert page.next_cursor == seqs[-1]
        assert page.next_cursor >= cursor
        pages.append(seqs)
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert all(len(p) == 7 for p in pages[:-1])
    assert [s for p in pages for s in p] == [c.seq for c in everything]
    assert cursor == end


def test_has_more_is_false_on_an_exact_last_page(client: TestClient, window1: Counter) -> None:
    everything, _ = pull_all(client, window1)
    page = pull(client, window1, 0, limit=len(everything))
    assert len(page.changes) == len(everything)
    assert page.has_more is False
    assert pull(client, window1, 0, limit=len(everything) - 1).has_more is True


def test_pull_at_the_end_is_empty_and_keeps_the_cursor(client: TestClient, window1: Counter) -> None:
    _, end = pull_all(client, window1)
    page = pull(client, window1, end)
    assert page.changes == []
    assert page.has_more is False
    assert page.next_cursor == end


def test_changes_of_another_hall_are_not_visible(
    client: TestClient, window1: Counter, other_hall: str, sessions: sessionmaker[Session]
) -> None:
    changes, end = pull_all(client, window1)
    assert all(
        c.data.get("hall_code") in (None, "DEMO")
        for c in changes
        if c.entity is not wire.ChangeEntity.CATALOG_ITEM
    )
    assert "EAST-B-0001" not in {c.key for c in changes}
    with sessions() as s:
        latest = s.scalar(select(func.max(ChangeLog.seq)))
    # The other hall's change was the latest: an empty pull jumps the cursor over it, never back.
    assert end < latest
    empty = pull(client, window1, end)
    assert empty.changes == [] and empty.has_more is False
    assert empty.next_cursor == latest

    r = client.post(
        f"{API}/auth/login",
        json={
            "hall_code": OTHER_HALL,
            "window_no": 1,
            "username": "east1",
            "password": OTHER_PASSWORD,
            "device_id": "E1",
        },
    )
    east = Counter(r.json()["token"], "E1", 1, r.json())
    east_changes, _ = pull_all(client, east)
    entities = {c.entity for c in east_changes}
    assert entities == {wire.ChangeEntity.CATALOG_ITEM, wire.ChangeEntity.BOOKING}
    assert [c.key for c in east_changes if c.entity is wire.ChangeEntity.BOOKING] == ["EAST-B-0001"]


def test_ticket_change_appears_after_call_next(client: TestClient, window1: Counter) -> None:
    _, end = pull_all(client, window1)
    called = client.post(f"{API}/queue/call-next", json={"window_no": 1}, headers=window1.headers).json()[
        "ticket"
    ]
    page = pull(client, window1, end)
    assert len(page.changes) == 1
    change = page.changes[0]
    assert change.entity is wire.ChangeEntity.TICKET
    assert change.key == f"{called['date']}/{called['ticket_no']}"
    assert change.data["state"] == "called"
    assert change.data["window_no"] == 1
    assert page.next_cursor == change.seq > end


def test_pushed_case_shows_up_as_booking_and_ticket_changes(client: TestClient, window1: Counter) -> None:
    _, end = pull_all(client, window1)
    r = client.post(
        f"{API}/sync/push",
        json={
            "device_id": window1.device_id,
            "ops": [op("case_decided", case_payload(booking=booking_code(2), ticket_no="A002"))],
        },
        headers=window1.headers,
    )
    assert r.json()["results"][0]["status"] == "applied"
    page = pull(client, window1, end)
    by_entity = {c.entity: c for c in page.changes}
    assert by_entity[wire.ChangeEntity.BOOKING].data["status"] == "served"
    assert by_entity[wire.ChangeEntity.TICKET].data["state"] == "done"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": -1}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"cursor": "x"}, "cursor"),
    ],
)
def test_bad_pull_parameters_are_422(
    client: TestClient, window1: Counter, params: dict[str, Any], field: str
) -> None:
    r = client.get(f"{API}/sync/pull", params=params, headers=window1.headers)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request"
    assert r.json()["field"] == field


def test_pull_needs_login(client: TestClient) -> None:
    assert client.get(f"{API}/sync/pull").status_code == 401
