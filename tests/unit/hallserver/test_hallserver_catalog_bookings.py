"""The catalog and the day's bookings, as the wire contract describes them."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from hallserver_testkit import API, DAY, OTHER_HALL, OTHER_PASSWORD, Counter

from hallclient import wire
from hallclient.validation import validate_resident_id
from hallserver.seed import DEMO_BOOKINGS, DEMO_HALL


def test_catalog_has_items_with_materials(client: TestClient, window1: Counter) -> None:
    r = client.get(f"{API}/catalog", headers=window1.headers)
    assert r.status_code == 200
    catalog = wire.CatalogResponse.model_validate(r.json())
    assert len(catalog.items) >= 10
    codes = [i.code for i in catalog.items]
    assert codes == sorted(codes)
    assert len(set(codes)) == len(codes)
    for item in catalog.items:
        assert item.materials, item.code
        assert item.name and item.department
        assert item.promised_days <= item.legal_days or item.instant
        assert len({m.code for m in item.materials}) == len(item.materials)


def test_catalog_needs_login(client: TestClient) -> None:
    assert client.get(f"{API}/catalog").status_code == 401


def test_bookings_for_the_seeded_day(client: TestClient, window1: Counter) -> None:
    r = client.get(f"{API}/bookings", params={"date": DAY.isoformat()}, headers=window1.headers)
    assert r.status_code == 200
    bookings = wire.BookingsResponse.model_validate(r.json()).bookings
    assert len(bookings) == DEMO_BOOKINGS >= 40
    catalog = {i["code"]: i for i in client.get(f"{API}/catalog", headers=window1.headers).json()["items"]}
    for b in bookings:
        assert b.hall_code == DEMO_HALL
        assert b.date == DAY
        assert b.status is wire.BookingStatus.BOOKED
        assert b.item_code in catalog
        assert validate_resident_id(b.applicant.id_number, today=DAY) == b.applicant.id_number
        assert len(b.applicant.phone) == 11 and b.applicant.phone.startswith("1")
        start, end = b.slot.split("-")
        assert dt.time.fromisoformat(start) < dt.time.fromisoformat(end)
    # Ordered by slot, all codes distinct, a realistic mix of pre-review results.
    assert [b.slot for b in bookings] == sorted(b.slot for b in bookings)
    assert len({b.code for b in bookings}) == len(bookings)
    assert len({b.pre_review.result for b in bookings}) >= 3


def test_bookings_are_deterministic_per_day(client: TestClient, window1: Counter) -> None:
    first = client.get(f"{API}/bookings", params={"date": DAY.isoformat()}, headers=window1.headers).json()
    again = client.get(f"{API}/bookings", params={"date": DAY.isoformat()}, headers=window1.headers).json()
    assert first == again


def test_no_bookings_on_another_day(client: TestClient, window1: Counter) -> None:
    other_day = (DAY + dt.timedelta(days=1)).isoformat()
    r = client.get(f"{API}/bookings", params={"date": other_day}, headers=window1.headers)
    assert r.status_code == 200
    assert r.json() == {"bookings": []}


def test_bookings_are_filtered_by_the_callers_hall(
    client: TestClient, window1: Counter, other_hall: str
) -> None:
    demo = client.get(f"{API}/bookings", params={"date": DAY.isoformat()}, headers=window1.headers).json()
    assert all(b["hall_code"] == DEMO_HALL for b in demo["bookings"])
    assert "EAST-B-0001" not in {b["code"] for b in demo["bookings"]}

    r = client.post(
        f"{API}/auth/login",
        json={
            "hall_code": OTHER_HALL,
            "window_no": 1,
            "username": "east1",
            "password": OTHER_PASSWORD,
            "device_id": "EAST-PC-1",
        },
    )
    assert r.status_code == 200, r.text
    east = client.get(
        f"{API}/bookings",
        params={"date": DAY.isoformat()},
        headers={"Authorization": f"Bearer {r.json()['token']}"},
    ).json()
    assert [b["code"] for b in east["bookings"]] == ["EAST-B-0001"]


def test_bookings_without_a_date_is_422_naming_it(client: TestClient, window1: Counter) -> None:
    r = client.get(f"{API}/bookings", headers=window1.headers)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request"
    assert r.json()["field"] == "date"


def test_bookings_with_a_bad_date_is_422(client: TestClient, window1: Counter) -> None:
    r = client.get(f"{API}/bookings", params={"date": "2026-02-30"}, headers=window1.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "date"
