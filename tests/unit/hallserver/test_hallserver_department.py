"""The back office: a forwarded case in its department's queue, materials opened, decision back to the window."""

from __future__ import annotations

import hashlib
import io
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, DAY, ITEM, Counter, case_no, case_payload, local, op
from reportlab.pdfgen import canvas
from sqlalchemy.orm import Session, sessionmaker

from hallclient import wire
from hallserver.department import add_department_staff
from hallserver.models import CatalogItem
from hallserver.seed import DEMO_HALL

PASSWORD = "dept-pass-1"


def a_pdf(text: str) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(100, 700, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def department_of_item(sessions: sessionmaker[Session]) -> str:
    with sessions() as s:
        item = s.get(CatalogItem, ITEM)
        assert item is not None
        return str(item.body["department"])


@pytest.fixture
def staff(sessions: sessionmaker[Session]) -> str:
    department = department_of_item(sessions)
    with sessions() as s:
        add_department_staff(
            s,
            hall_code=DEMO_HALL,
            username="dept1",
            name="李审批",
            staff_no="D001",
            password=PASSWORD,
            department=department,
        )
        add_department_staff(
            s,
            hall_code=DEMO_HALL,
            username="dept2",
            name="赵其他",
            staff_no="D002",
            password=PASSWORD,
            department="不相干的局",
        )
    return department


def forward_a_case(client: TestClient, window1: Counter, number: str) -> bytes:
    """Push the accepted case, upload one material in two chunks, forward it; the material's bytes."""
    r = client.post(
        f"{API}/sync/push",
        json={
            "device_id": window1.device_id,
            "ops": [op("case_decided", case_payload(number, decided_at=local(DAY, 9)))],
        },
        headers=window1.headers,
    )
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
    pdf = a_pdf("申请书 page")
    upload_id = str(uuid.uuid4())
    announce = {
        "case_no": number,
        "material_code": "M001",
        "material_name": "申请人居民身份证",
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "size": len(pdf),
        "pages": 1,
    }
    assert client.put(f"{API}/uploads/{upload_id}", json=announce, headers=window1.headers).status_code == 200
    half = len(pdf) // 2
    for offset, chunk in ((0, pdf[:half]), (half, pdf[half:])):
        r = client.put(
            f"{API}/uploads/{upload_id}/chunks/{offset}",
            content=chunk,
            headers={**window1.headers, "Content-Type": "application/octet-stream"},
        )
        assert r.status_code == 200, r.text
    assert client.post(f"{API}/uploads/{upload_id}/complete", headers=window1.headers).json()["complete"]
    r = client.post(
        f"{API}/back-office/forward",
        json={"case_no": number, "materials": [{"material_code": "M001", "upload_id": upload_id}]},
        headers=window1.headers,
    )
    assert r.status_code == 200, r.text
    return pdf


def sign_in(client: TestClient, username: str = "dept1", password: str = PASSWORD) -> Any:
    return client.post(
        "/dept/login",
        data={"hall_code": DEMO_HALL, "username": username, "password": password},
        follow_redirects=False,
    )


def decide(client: TestClient, number: str, files: dict[str, Any] | None = None, **fields: str) -> Any:
    return client.post(
        f"/dept/cases/{number}/decision", data=fields, files=files or {}, follow_redirects=False
    )


def pulled_status(client: TestClient, window1: Counter, number: str) -> wire.BackOfficeStatus | None:
    page = wire.PullResponse.model_validate(client.get(f"{API}/sync/pull", headers=window1.headers).json())
    found = [
        wire.BackOfficeStatus.model_validate(c.data)
        for c in page.changes
        if c.entity is wire.ChangeEntity.CASE_STATUS and c.key == number
    ]
    return found[-1] if found else None


def test_a_forwarded_case_is_decided_by_its_department_and_comes_back_ready_for_pick_up(
    client: TestClient, window1: Counter, staff: str, clock: Any
) -> None:
    number = case_no(1)
    material = forward_a_case(client, window1, number)
    forwarded = pulled_status(client, window1, number)
    assert forwarded is not None and forwarded.state is wire.BackOfficeState.FORWARDED
    assert forwarded.department == staff and not forwarded.ready_for_pickup

    assert client.get("/dept/", follow_redirects=False).headers["location"] == "/dept/login"
    r = sign_in(client)
    assert r.status_code == 303 and r.headers["location"] == "/dept/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    queue = client.get("/dept/")
    assert queue.status_code == 200 and number in queue.text and staff in queue.text
    page = client.get(f"/dept/cases/{number}")
    assert "张伟" in page.text and "申请人居民身份证" in page.text and "已校验" in page.text
    opened = client.get(f"/dept/cases/{number}/materials/M001")
    assert opened.headers["content-type"] == "application/pdf" and opened.content == material

    clock.advance(hours=2)
    result = a_pdf("准予许可决定书")
    r = decide(
        client, number, {"result": ("result.pdf", result, "application/pdf")}, verdict="approved", remark="ok"
    )
    assert r.status_code == 303, r.text
    assert "审批决定已提交" in client.get(r.headers["location"]).text
    assert number not in client.get("/dept/").text  # gone from the pending queue
    assert number in client.get("/dept/?decided=1").text
    # Decided once: a second decision is refused in words.
    again = decide(client, number, verdict="not_approved", reasons="late")
    assert again.status_code == 422 and "审批过" in again.text

    back = pulled_status(client, window1, number)
    assert back is not None and back.state is wire.BackOfficeState.APPROVED and back.ready_for_pickup
    assert back.result_sha256 == hashlib.sha256(result).hexdigest()
    paper = client.get(f"{API}/back-office/cases/{number}/result", headers=window1.headers)
    assert paper.status_code == 200 and paper.content == result

    # 出件 at the window closes the timeline.
    picked = {
        "case_no": number,
        "window_no": 1,
        "picked_up_at": local(DAY, 15).isoformat(),
        "picked_up_by": "张伟",
    }
    client.post(
        f"{API}/sync/push",
        json={"device_id": window1.device_id, "ops": [op("case_picked_up", picked)]},
        headers=window1.headers,
    )
    timeline = wire.CaseTimeline.model_validate(
        client.get(f"{API}/cases/{number}/timeline", headers=window1.headers).json()
    )
    kinds = [e.kind.value for e in timeline.events]
    assert kinds == ["accepted", "forwarded", "decided", "ready", "picked_up"]
    times = [e.at for e in timeline.events]
    assert times == sorted(times)
    assert timeline.department == staff and "李审批" in timeline.events[2].actor


def test_not_approved_needs_reasons_and_approved_needs_the_result_paper(
    client: TestClient, window1: Counter, staff: str
) -> None:
    number = case_no(2)
    forward_a_case(client, window1, number)
    sign_in(client)
    r = decide(client, number, verdict="not_approved", reasons="  ")
    assert r.status_code == 422 and "必须写明理由" in r.text
    r = decide(client, number, verdict="approved")
    assert r.status_code == 422 and "结果文书" in r.text
    r = decide(client, number, {"result": ("x.pdf", b"not a pdf", "application/pdf")}, verdict="approved")
    assert r.status_code == 422 and "PDF" in r.text
    r = decide(client, number, verdict="not_approved", reasons="申请材料与实际不符\n超出经营范围")
    assert r.status_code == 303
    back = pulled_status(client, window1, number)
    assert back is not None and back.state is wire.BackOfficeState.NOT_APPROVED
    assert back.reasons == ["申请材料与实际不符", "超出经营范围"] and back.ready_for_pickup


def test_other_departments_counters_and_strangers_see_nothing(
    client: TestClient, window1: Counter, staff: str
) -> None:
    number = case_no(3)
    forward_a_case(client, window1, number)
    assert sign_in(client, password="wrong").status_code == 401
    # A counter clerk is not a back-office account.
    assert "不是后台审批账号" in sign_in(client, username="clerk2", password="demo1234").text
    sign_in(client, username="dept2")
    assert number not in client.get("/dept/").text
    assert client.get(f"/dept/cases/{number}").status_code == 404
    assert client.get(f"/dept/cases/{number}/materials/M001").status_code == 404
    assert decide(client, number, verdict="not_approved", reasons="x").status_code == 404
    # A form posted from another site is refused even with the cookie.
    client.cookies.clear()
    sign_in(client)
    forged = client.post(
        f"/dept/cases/{number}/decision",
        data={"verdict": "not_approved", "reasons": "x"},
        headers={"Origin": "http://evil.example"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    client.post("/dept/logout")
    assert client.get("/dept/", follow_redirects=False).status_code == 303


def test_forwarding_waits_for_the_case_and_for_whole_materials(client: TestClient, window1: Counter) -> None:
    number = case_no(4)
    r = client.post(
        f"{API}/back-office/forward", json={"case_no": number, "materials": []}, headers=window1.headers
    )
    assert r.status_code == 409 and r.json()["error"] == "case_not_synced"
    client.post(
        f"{API}/sync/push",
        json={
            "device_id": window1.device_id,
            "ops": [op("case_decided", case_payload(number, decided_at=local(DAY, 9)))],
        },
        headers=window1.headers,
    )
    missing = {"case_no": number, "materials": [{"material_code": "M001", "upload_id": str(uuid.uuid4())}]}
    r = client.post(f"{API}/back-office/forward", json=missing, headers=window1.headers)
    assert r.status_code == 409 and r.json()["error"] == "material_missing"
    upload_id = str(uuid.uuid4())
    body = {"case_no": number, "material_code": "M001", "sha256": "0" * 64, "size": 10, "pages": 1}
    client.put(f"{API}/uploads/{upload_id}", json=body, headers=window1.headers)
    headers = {**window1.headers, "Content-Type": "application/octet-stream"}
    assert (
        client.put(f"{API}/uploads/{upload_id}/chunks/5", content=b"abcde", headers=headers).status_code
        == 409
    )
    assert (
        client.put(
            f"{API}/uploads/{upload_id}/chunks/0", content=b"0123456789ab", headers=headers
        ).status_code
        == 422
    )
    assert (
        client.post(f"{API}/uploads/{upload_id}/complete", headers=window1.headers).json()["error"]
        == "incomplete"
    )
    # Forwarding twice is harmless: one queue entry, one timeline.
    ok = {"case_no": number, "materials": []}
    assert client.post(f"{API}/back-office/forward", json=ok, headers=window1.headers).status_code == 200
    assert client.post(f"{API}/back-office/forward", json=ok, headers=window1.headers).status_code == 200
    timeline = client.get(f"{API}/cases/{number}/timeline", headers=window1.headers).json()
    assert [e["kind"] for e in timeline["events"]] == ["accepted", "forwarded"]
