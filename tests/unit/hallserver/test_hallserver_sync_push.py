"""Pushing a counter's outbox: applied, duplicate, rejected, conflict; documents and the verify page."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import (
    API,
    ITEM,
    Counter,
    booking_code,
    case_no,
    case_payload,
    doc_fields,
    document_payload,
    op,
    rating_payload,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hallclient.signing import generate_private_key
from hallserver.models import AppliedOp, Booking, Case, ChangeLog, Document, Rating, Ticket
from hallserver.seed import DEMO_HALL


def push(
    client: TestClient, c: Counter, *ops: dict[str, Any], device_id: str | None = None
) -> list[dict[str, Any]]:
    r = client.post(
        f"{API}/sync/push", json={"device_id": device_id or c.device_id, "ops": list(ops)}, headers=c.headers
    )
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    assert [x["op_id"] for x in results] == [o["op_id"] for o in ops]
    return results


def test_case_decided_is_applied_and_marks_booking_and_ticket(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    [res] = push(client, window1, op("case_decided", case_payload(booking=booking_code(1), ticket_no="A001")))
    assert res["status"] == "applied"
    assert res["detail"] == ""
    with sessions() as s:
        case = s.get(Case, case_no(1))
        assert case is not None
        assert (case.decision, case.device_id, case.booking_code) == (
            "accept",
            window1.device_id,
            booking_code(1),
        )
        assert s.get(Booking, booking_code(1)).status == "served"  # type: ignore[union-attr]
        t = s.scalar(select(Ticket).where(Ticket.ticket_no == "A001"))
        assert t is not None and (t.state, t.window_no) == ("done", 1)


def test_resent_op_is_a_duplicate_with_the_same_op_id(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    first = op("case_decided", case_payload())
    assert push(client, window1, first)[0]["status"] == "applied"
    again = push(client, window1, first)
    assert again == [{"op_id": first["op_id"], "status": "duplicate", "detail": ""}]
    with sessions() as s:
        assert len(s.scalars(select(Case)).all()) == 1
        assert len(s.scalars(select(AppliedOp)).all()) == 1


def test_resent_rejected_op_answers_with_the_first_detail(client: TestClient, window1: Counter) -> None:
    bad = op(
        "ticket_state", {"ticket_no": "Z999", "state": "called", "window_no": 1, "at": "2026-03-02T10:00:00Z"}
    )
    first = push(client, window1, bad)[0]
    assert first["status"] == "rejected"
    second = push(client, window1, bad)[0]
    assert second["status"] == "duplicate"
    assert second["detail"] == first["detail"]


def test_one_push_may_mix_outcomes(client: TestClient, window1: Counter) -> None:
    good = op("case_decided", case_payload())
    bad = op("rating_given", {"case_no": case_no(1)})
    results = push(client, window1, good, bad, good)
    assert [r["status"] for r in results] == ["applied", "rejected", "duplicate"]


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        ("case_decided", {k: v for k, v in case_payload().items() if k != "decision"}, "decision"),
        ("case_decided", {**case_payload(), "decision": "maybe"}, "decision"),
        ("case_decided", {**case_payload(), "surprise": 1}, "surprise"),
        ("rating_given", {**rating_payload(case_no(1)), "level": "meh"}, "level"),
        ("ticket_state", {"ticket_no": "A001", "state": "called", "window_no": 1}, "at"),
        ("document_printed", {**document_payload(generate_private_key()), "sha256": "xyz"}, "sha256"),
    ],
    ids=["missing-decision", "bad-decision", "extra-field", "bad-level", "missing-at", "bad-sha256"],
)
def test_malformed_payload_is_rejected_naming_the_field(
    client: TestClient, window1: Counter, kind: str, payload: dict[str, Any], field: str
) -> None:
    [res] = push(client, window1, op(kind, payload))
    assert res["status"] == "rejected"
    assert field in res["detail"]
    assert kind in res["detail"]


def test_malformed_payload_stores_nothing(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    push(client, window1, op("case_decided", {**case_payload(), "decision": "maybe"}))
    with sessions() as s:
        assert s.scalars(select(Case)).all() == []


def test_ticket_state_for_an_unknown_ticket_is_rejected(client: TestClient, window1: Counter) -> None:
    payload = {"ticket_no": "Z999", "state": "serving", "window_no": 1, "at": "2026-03-02T10:00:00+00:00"}
    [res] = push(client, window1, op("ticket_state", payload))
    assert res["status"] == "rejected"
    assert "Z999" in res["detail"]


def test_ticket_state_moves_a_known_ticket(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    payload = {"ticket_no": "A005", "state": "no_show", "window_no": 1, "at": "2026-03-02T10:00:00+00:00"}
    assert push(client, window1, op("ticket_state", payload))[0]["status"] == "applied"
    with sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.ticket_no == "A005"))
        assert t is not None and (t.state, t.window_no) == ("no_show", 1)


def test_ticket_called_by_two_windows_is_a_conflict(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    client.post(f"{API}/queue/call-next", json={"window_no": 1}, headers=w1.headers)  # A001 to window 1
    payload = {"ticket_no": "A001", "state": "serving", "window_no": 2, "at": "2026-03-02T10:00:00+00:00"}
    [res] = push(client, w2, op("ticket_state", payload))
    assert res["status"] == "conflict"
    assert "1 号窗口" in res["detail"]


def test_case_for_another_hall_is_rejected(client: TestClient, window1: Counter) -> None:
    [res] = push(client, window1, op("case_decided", case_payload("EAST-20260302-1-0001")))
    assert res["status"] == "rejected"
    assert "EAST-20260302-1-0001" in res["detail"]


def test_same_case_number_twice_with_new_op_is_a_conflict(client: TestClient, window1: Counter) -> None:
    assert push(client, window1, op("case_decided", case_payload()))[0]["status"] == "applied"
    [res] = push(client, window1, op("case_decided", case_payload()))
    assert res["status"] == "conflict"


def test_booking_decided_twice_is_a_conflict_but_the_counters_case_is_kept(
    client: TestClient,
    login,
    sessions: sessionmaker[Session],  # type: ignore[no-untyped-def]
) -> None:
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    first = case_payload(case_no(1, 1), booking=booking_code(7), window_no=1)
    second = case_payload(case_no(1, 2), booking=booking_code(7), window_no=2)
    assert push(client, w1, op("case_decided", first))[0]["status"] == "applied"
    [res] = push(client, w2, op("case_decided", second))
    assert res["status"] == "conflict"
    assert booking_code(7) in res["detail"]
    assert case_no(1, 1) in res["detail"]
    with sessions() as s:
        # The counter's facts win: both decisions are on record for a person to sort out.
        assert {c.case_no for c in s.scalars(select(Case)).all()} == {case_no(1, 1), case_no(1, 2)}


def test_a_decision_on_a_booking_cancelled_meanwhile_is_kept_and_reported(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s:
        b = s.get(Booking, booking_code(3))
        assert b is not None
        b.status = "cancelled"  # the citizen cancelled online while the counter was offline
        s.commit()
    [res] = push(client, window1, op("case_decided", case_payload(booking=booking_code(3))))
    assert res["status"] == "conflict"
    assert "已在网上取消" in res["detail"] and booking_code(3) in res["detail"]
    with sessions() as s:
        assert s.get(Case, case_no(1)) is not None
        assert s.get(Booking, booking_code(3)).status == "cancelled"  # type: ignore[union-attr]


def test_a_correction_then_an_acceptance_of_one_booking_is_no_conflict(
    client: TestClient, window1: Counter
) -> None:
    correct = case_payload(case_no(1), booking=booking_code(3), decision="correct")
    accept = case_payload(case_no(2), booking=booking_code(3), decision="accept")
    assert [
        r["status"] for r in push(client, window1, op("case_decided", correct), op("case_decided", accept))
    ] == [
        "applied",
        "applied",
    ]


def test_rating_is_stored_without_the_citizen(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    assert (
        push(client, window1, op("rating_given", rating_payload(case_no(1), "satisfied")))[0]["status"]
        == "applied"
    )
    with sessions() as s:
        r = s.get(Rating, case_no(1))
        assert r is not None and r.level == "satisfied"
        assert not hasattr(r, "applicant")


def test_rating_twice_for_one_case_is_a_conflict(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    assert (
        push(client, window1, op("rating_given", rating_payload(case_no(1), "satisfied")))[0]["status"]
        == "applied"
    )
    [res] = push(client, window1, op("rating_given", rating_payload(case_no(1), "very_dissatisfied")))
    assert res["status"] == "conflict"
    with sessions() as s:
        assert s.get(Rating, case_no(1)).level == "satisfied"  # type: ignore[union-attr]


def test_device_mismatch_rejects_every_op(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    ops = [op("case_decided", case_payload()), op("rating_given", rating_payload(case_no(1)))]
    results = push(client, window1, *ops, device_id="SOMEONE-ELSE")
    assert [r["status"] for r in results] == ["rejected", "rejected"]
    assert all("SOMEONE-ELSE" in r["detail"] for r in results)
    with sessions() as s:
        assert s.scalars(select(Case)).all() == []
        assert s.scalars(select(AppliedOp)).all() == []
    # The same ops from the right device are then applied, not "duplicate".
    assert [r["status"] for r in push(client, window1, *ops)] == ["applied", "applied"]


def test_push_needs_login(client: TestClient) -> None:
    r = client.post(f"{API}/sync/push", json={"device_id": "PC-01", "ops": []})
    assert r.status_code == 401


def test_push_with_a_bad_op_kind_is_422(client: TestClient, window1: Counter) -> None:
    bad = {**op("case_decided", case_payload()), "kind": "launch_missiles"}
    r = client.post(
        f"{API}/sync/push", json={"device_id": window1.device_id, "ops": [bad]}, headers=window1.headers
    )
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request"
    assert r.json()["field"] == "ops.0.kind"


def test_push_with_a_bad_op_id_is_422(client: TestClient, window1: Counter) -> None:
    bad = {**op("case_decided", case_payload()), "op_id": "not-a-uuid"}
    r = client.post(
        f"{API}/sync/push", json={"device_id": window1.device_id, "ops": [bad]}, headers=window1.headers
    )
    assert r.status_code == 422
    assert r.json()["field"] == "ops.0.op_id"


# -- documents and the verify page ------------------------------------------------


def test_printed_document_verifies_as_genuine(
    client: TestClient, window1: Counter, hall_key: str, sessions: sessionmaker[Session]
) -> None:
    payload = document_payload(hall_key)
    assert push(client, window1, op("document_printed", payload))[0]["status"] == "applied"
    r = client.get(f"{API}/verify/{payload['doc_id']}", params={"s": payload["signature"]})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "验证通过" in r.text
    assert "受理通知书" in r.text
    assert case_no(1) in r.text
    assert "个体工商户设立登记" in r.text
    # The public page shows no personal data.
    assert "张伟" not in r.text and "11010519491231002X" not in r.text
    with sessions() as s:
        assert s.get(Document, payload["doc_id"]) is not None


def test_verify_page_needs_no_login(client: TestClient, window1: Counter, hall_key: str) -> None:
    payload = document_payload(hall_key)
    push(client, window1, op("document_printed", payload))
    r = client.get(f"{API}/verify/{payload['doc_id']}", params={"s": payload["signature"]}, headers={})
    assert r.status_code == 200


def test_tampered_signature_fails_verification(client: TestClient, window1: Counter, hall_key: str) -> None:
    payload = document_payload(hall_key)
    push(client, window1, op("document_printed", payload))
    sig = payload["signature"]
    forged = ("A" if sig[0] != "A" else "B") + sig[1:]
    r = client.get(f"{API}/verify/{payload['doc_id']}", params={"s": forged})
    assert r.status_code == 200
    assert "验证未通过" in r.text
    assert "验证通过" not in r.text


def test_missing_signature_parameter_fails_verification(
    client: TestClient, window1: Counter, hall_key: str
) -> None:
    payload = document_payload(hall_key)
    push(client, window1, op("document_printed", payload))
    assert "验证未通过" in client.get(f"{API}/verify/{payload['doc_id']}").text


def test_tampered_fields_fail_verification(client: TestClient, window1: Counter, hall_key: str) -> None:
    original = doc_fields()
    tampered = {**original, "decision": "complete", "promised_date": "2026-02-01"}
    payload = document_payload(hall_key, fields=tampered, signed_fields=original)
    assert push(client, window1, op("document_printed", payload))[0]["status"] == "applied"
    r = client.get(f"{API}/verify/{payload['doc_id']}", params={"s": payload["signature"]})
    assert r.status_code == 200
    assert "验证未通过" in r.text
    assert "2026-02-01" not in r.text


def test_document_signed_with_another_key_fails_verification(client: TestClient, window1: Counter) -> None:
    payload = document_payload(generate_private_key())
    push(client, window1, op("document_printed", payload))
    r = client.get(f"{API}/verify/{payload['doc_id']}", params={"s": payload["signature"]})
    assert "验证未通过" in r.text


def test_unknown_document_is_a_404_page(client: TestClient) -> None:
    r = client.get(f"{API}/verify/NO-SUCH-DOC", params={"s": "abc"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "未找到" in r.text


def test_verify_page_escapes_field_values(client: TestClient, window1: Counter, hall_key: str) -> None:
    fields = {**doc_fields(), "item_name": "<script>alert(1)</script>"}
    payload = document_payload(hall_key, fields=fields)
    push(client, window1, op("document_printed", payload))
    r = client.get(f"{API}/verify/{payload['doc_id']}", params={"s": payload["signature"]})
    assert "验证通过" in r.text
    assert "<script>" not in r.text
    assert "&lt;script&gt;" in r.text


def test_reprint_of_a_document_is_applied_and_counts_up(
    client: TestClient, window1: Counter, hall_key: str, sessions: sessionmaker[Session]
) -> None:
    payload = document_payload(hall_key)
    push(client, window1, op("document_printed", payload))
    reprint = {**payload, "reprint_no": 2}
    assert push(client, window1, op("document_printed", reprint))[0]["status"] == "applied"
    with sessions() as s:
        assert s.get(Document, payload["doc_id"]).reprint_no == 2  # type: ignore[union-attr]


def test_same_doc_id_with_different_content_is_a_conflict(
    client: TestClient, window1: Counter, hall_key: str
) -> None:
    payload = document_payload(hall_key)
    push(client, window1, op("document_printed", payload))
    other = document_payload(hall_key, fields={**doc_fields(), "decision": "reject"})
    [res] = push(client, window1, op("document_printed", other))
    assert res["status"] == "conflict"
    # The registered paper still verifies.
    r = client.get(f"{API}/verify/{payload['doc_id']}", params={"s": payload["signature"]})
    assert "验证通过" in r.text


def test_op_ids_are_global_not_per_kind(client: TestClient, window1: Counter, hall_key: str) -> None:
    shared = str(uuid.uuid4())
    assert push(client, window1, op("case_decided", case_payload(), op_id=shared))[0]["status"] == "applied"
    [res] = push(client, window1, op("document_printed", document_payload(hall_key), op_id=shared))
    assert res["status"] == "duplicate"


# -- one hall's counter cannot touch another hall's records ------------------------


def _east_counter(client: TestClient) -> Counter:
    from hallserver_testkit import OTHER_HALL, OTHER_PASSWORD, login_body

    body = login_body(hall_code=OTHER_HALL, username="east1", password=OTHER_PASSWORD, device_id="EAST-PC-1")
    r = client.post(f"{API}/auth/login", json=body)
    assert r.status_code == 200, r.text
    return Counter(r.json()["token"], "EAST-PC-1", 1, r.json())


def test_a_case_naming_another_halls_booking_leaves_that_booking_alone(
    client: TestClient, window1: Counter, other_hall: str, sessions: sessionmaker[Session]
) -> None:
    east = _east_counter(client)
    end = client.get(f"{API}/sync/pull", params={"cursor": 0, "limit": 1000}, headers=window1.headers).json()
    payload = case_payload("EAST-20260302-1-0001", booking=booking_code(5))
    [res] = push(client, east, op("case_decided", payload))
    assert res["status"] == "applied"
    with sessions() as s:
        assert s.get(Booking, booking_code(5)).status == "booked"  # type: ignore[union-attr]
    # ... and DEMO's counters are not sent a change for it.
    after = client.get(
        f"{API}/sync/pull", params={"cursor": end["next_cursor"]}, headers=window1.headers
    ).json()
    assert after["changes"] == []


def test_a_case_in_another_hall_does_not_make_a_booking_served_twice(
    client: TestClient, window1: Counter, other_hall: str
) -> None:
    east = _east_counter(client)
    push(client, east, op("case_decided", case_payload("EAST-20260302-1-0001", booking=booking_code(5))))
    [res] = push(client, window1, op("case_decided", case_payload(case_no(1), booking=booking_code(5))))
    assert res["status"] == "applied"


def test_rating_for_another_halls_case_is_rejected(
    client: TestClient, window1: Counter, other_hall: str, sessions: sessionmaker[Session]
) -> None:
    east = _east_counter(client)
    [res] = push(client, east, op("rating_given", rating_payload(case_no(1), "very_dissatisfied")))
    assert res["status"] == "rejected"
    assert case_no(1) in res["detail"]
    # DEMO's own rating for its case is not blocked by the stranger's attempt.
    assert push(client, window1, op("rating_given", rating_payload(case_no(1))))[0]["status"] == "applied"
    with sessions() as s:
        assert s.get(Rating, case_no(1)).hall_code == "DEMO"  # type: ignore[union-attr]


def _transfer_to_a_missing_window(ticket_no: str) -> dict[str, Any]:
    # _transfer changes the ticket before it finds the target window missing: only the
    # op's savepoint undoes that.
    return {
        "ticket_no": ticket_no,
        "state": "transferred",
        "window_no": 1,
        "at": "2026-03-02T10:00:00+08:00",
        "to_window": 99,
        "to_item": None,
        "note": "转窗口办理",
    }


def _batch_with_a_rejected_op_in_the_middle() -> list[dict[str, Any]]:
    return [
        op("case_decided", case_payload(case_no(1))),
        op(
            "ticket_state",
            {"ticket_no": "A002", "state": "serving", "window_no": 1, "at": "2026-03-02T10:00:00+08:00"},
        ),
        op("ticket_state", _transfer_to_a_missing_window("A003")),
        op("case_decided", case_payload(case_no(2), ticket_no="A002")),
        op("rating_given", rating_payload(case_no(2))),
    ]


def test_a_rejected_op_in_a_batch_rolls_back_alone(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s:
        before = s.scalar(select(Ticket).where(Ticket.ticket_no == "A003"))
        assert before is not None
        a003 = (before.state, before.window_no, before.note)
        changes_before = len(s.scalars(select(ChangeLog)).all())
    ops = _batch_with_a_rejected_op_in_the_middle()
    results = push(client, window1, *ops)
    assert [r["status"] for r in results] == ["applied", "applied", "rejected", "applied", "applied"]
    assert "99" in results[2]["detail"]
    with sessions() as s:
        assert {c.case_no for c in s.scalars(select(Case))} == {case_no(1), case_no(2)}
        assert s.get(Rating, case_no(2)) is not None
        after = s.scalar(select(Ticket).where(Ticket.ticket_no == "A003"))
        assert after is not None and (after.state, after.window_no, after.note) == a003
        a002 = s.scalar(select(Ticket).where(Ticket.ticket_no == "A002"))
        assert a002 is not None and (a002.state, a002.window_no) == ("done", 1)
        recorded = {a.op_id: (a.status, a.detail, a.kind) for a in s.scalars(select(AppliedOp))}
        assert recorded == {
            o["op_id"]: (r["status"], r["detail"], o["kind"]) for o, r in zip(ops, results, strict=True)
        }
        # A002 changed twice (serving, then done by the decision); the rejected op left no change.
        new = s.scalars(select(ChangeLog).where(ChangeLog.seq > 0).order_by(ChangeLog.seq)).all()
        keys = [c.key for c in new[changes_before:]]
        assert keys == ["2026-03-02/A002", "2026-03-02/A002"]
        assert [c.data["state"] for c in new[changes_before:]] == ["serving", "done"]


def test_a_resent_batch_is_answered_as_duplicates_with_the_first_details(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    ops = _batch_with_a_rejected_op_in_the_middle()
    first = push(client, window1, *ops)
    with sessions() as s:
        changes = len(s.scalars(select(ChangeLog)).all())
    again = push(client, window1, *ops)
    assert [r["status"] for r in again] == ["duplicate"] * len(ops)
    assert [r["detail"] for r in again] == [r["detail"] for r in first]
    with sessions() as s:
        assert len(s.scalars(select(Case)).all()) == 2
        assert len(s.scalars(select(AppliedOp)).all()) == len(ops)
        assert len(s.scalars(select(ChangeLog)).all()) == changes


def test_a_batch_partly_applied_before_is_answered_op_by_op(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    ops = _batch_with_a_rejected_op_in_the_middle()
    first = push(client, window1, *ops[:3])
    results = push(client, window1, *ops)
    assert [r["status"] for r in results] == ["duplicate", "duplicate", "duplicate", "applied", "applied"]
    assert [r["detail"] for r in results[:3]] == [r["detail"] for r in first]
    with sessions() as s:
        assert len(s.scalars(select(AppliedOp)).all()) == len(ops)


def test_an_op_applied_by_a_racing_request_is_answered_as_its_duplicate(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    """The same op committed by another request while the batch is applied: no second copy.

    On PostgreSQL the batch does not see the other transaction's rows until it commits and then
    runs into its keys; the batch is then applied op by op. On SQLite the batch waits for the
    write lock and finds the op already applied. Either way the racing op is a duplicate.
    """
    racing = op("case_decided", case_payload(case_no(1)))
    other = op("case_decided", case_payload(case_no(2)))
    with sessions() as s:
        s.add(
            Case(
                case_no=case_no(1),
                hall_code=DEMO_HALL,
                window_no=1,
                item_code=ITEM,
                decision="accept",
                decided_at=dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC),
                body=racing["payload"],
                device_id=window1.device_id,
            )
        )
        s.add(
            AppliedOp(
                op_id=racing["op_id"],
                device_id=window1.device_id,
                kind="case_decided",
                status="applied",
                detail="",
                received_at=dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC),
            )
        )
        s.flush()  # holds the rows (and on SQLite the write lock) until the commit below
        with ThreadPoolExecutor(1) as pool:
            pushed = pool.submit(push, client, window1, racing, other)
            time.sleep(0.5)  # lets the push start first, so it meets the uncommitted rows
            s.commit()
            results = pushed.result()
    assert [r["status"] for r in results] == ["duplicate", "applied"]
    with sessions() as s:
        assert {c.case_no for c in s.scalars(select(Case))} == {case_no(1), case_no(2)}
        assert len(s.scalars(select(AppliedOp)).all()) == 2
