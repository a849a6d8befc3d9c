"""Counter actions on the server: /windows, transfers in call-next, window pause, pick-up, migration 0003."""

from __future__ import annotations

import datetime as dt
import gc
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from hallserver_testkit import (
    API,
    DAY,
    OTHER_PASSWORD,
    Counter,
    MovableClock,
    case_no,
    case_payload,
    local,
    op,
)
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from hallserver.db import alembic_config, migrate
from hallserver.models import AppliedOp, Base, Case, Ticket, Window
from hallserver.seed import DEMO_BOOKINGS

INSTANT_ITEM = "11330100MB0007007A4000112012"


# -- helpers -------------------------------------------------------------------------------------


def push(client: TestClient, c: Counter, *ops: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(f"{API}/sync/push", json={"device_id": c.device_id, "ops": list(ops)}, headers=c.headers)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    return results


def push_one(client: TestClient, c: Counter, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    [res] = push(client, c, op(kind, payload))
    return res


def call(client: TestClient, c: Counter) -> dict[str, Any] | None:
    r = client.post(f"{API}/queue/call-next", json={"window_no": c.window_no}, headers=c.headers)
    assert r.status_code == 200, r.text
    ticket: dict[str, Any] | None = r.json()["ticket"]
    return ticket


def windows(client: TestClient, c: Counter) -> dict[int, dict[str, Any]]:
    r = client.get(f"{API}/windows", headers=c.headers)
    assert r.status_code == 200, r.text
    return {w["window_no"]: w for w in r.json()["windows"]}


def transfer(
    ticket_no: str,
    *,
    by: int = 1,
    to_window: int | None = None,
    to_item: str | None = None,
    note: str = "转窗口办理",
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    return {
        "ticket_no": ticket_no,
        "state": "transferred",
        "window_no": by,
        "at": (at or local(DAY, 10)).isoformat(),
        "to_window": to_window,
        "to_item": to_item,
        "note": note,
    }


def window_state(
    window_no: int, paused: bool, reason: str = "", at: dt.datetime | None = None
) -> dict[str, Any]:
    return {
        "window_no": window_no,
        "paused": paused,
        "reason": reason,
        "at": (at or local(DAY, 10)).isoformat(),
    }


def picked_up(number: str, by: str = "张伟", at: dt.datetime | None = None) -> dict[str, Any]:
    return {
        "case_no": number,
        "window_no": 1,
        "picked_up_at": (at or local(DAY, 15)).isoformat(),
        "picked_up_by": by,
    }


def ticket_row(sessions: sessionmaker[Session], ticket_no: str) -> Ticket:
    with sessions() as s:
        t = s.scalar(select(Ticket).where(Ticket.ticket_no == ticket_no, Ticket.date == DAY))
        assert t is not None
        return t


def window_row(sessions: sessionmaker[Session], window_no: int) -> Window:
    with sessions() as s:
        w = s.get(Window, ("DEMO", window_no))
        assert w is not None
        return w


# -- GET /windows ---------------------------------------------------------------------------------------


def test_windows_says_which_are_staffed_and_by_whom(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    login(window_no=2, username="clerk2")
    found = windows(client, w1)
    assert sorted(found) == [1, 2, 3]
    assert found[1] == {
        "window_no": 1,
        "name": "综合受理 1 号窗口",
        "open": True,
        "paused": False,
        "pause_reason": "",
        "clerk_name": "王晓燕",
    }
    assert (found[2]["open"], found[2]["clerk_name"]) == (True, "李建国")
    assert (found[3]["open"], found[3]["clerk_name"], found[3]["paused"]) == (False, "", False)


def test_windows_needs_login(client: TestClient) -> None:
    assert client.get(f"{API}/windows").status_code == 401


def test_a_window_signed_out_or_expired_is_not_open(client: TestClient, login, clock: MovableClock) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    assert client.post(f"{API}/auth/logout", headers=w2.headers).status_code == 200
    assert [w["open"] for w in windows(client, w1).values()] == [True, False, False]
    clock.advance(hours=13)  # every token of the morning has expired
    w3 = login(window_no=3, username="clerk3")
    assert [w["open"] for w in windows(client, w3).values()] == [False, False, True]


def test_windows_of_another_hall_are_not_listed(client: TestClient, login, other_hall: str) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    east = login(window_no=1, username="east1", password=OTHER_PASSWORD, hall_code=other_hall)
    assert sorted(windows(client, w1)) == [1, 2, 3]
    [east_window] = windows(client, east).values()
    assert (east_window["name"], east_window["open"], east_window["clerk_name"]) == ("1 号窗口", True, "赵东")
    # The DEMO window 1 is staffed by clerk1, not by the EAST clerk with the same window number.
    assert windows(client, w1)[1]["clerk_name"] == "王晓燕"


# -- window_state (暂停服务) -------------------------------------------------------------------------


def test_pause_and_resume_show_in_windows(client: TestClient, login, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    res = push_one(client, w2, "window_state", window_state(2, True, "午休", local(DAY, 12)))
    assert (res["status"], res["detail"]) == ("applied", "")
    found = windows(client, w1)
    assert (found[2]["open"], found[2]["paused"], found[2]["pause_reason"]) == (True, True, "午休")
    assert not found[1]["paused"]
    assert window_row(sessions, 2).paused_at == local(DAY, 12)

    assert push_one(client, w2, "window_state", window_state(2, False, "午休", local(DAY, 13)))["status"] == (
        "applied"
    )
    found = windows(client, w1)
    # Resuming clears the reason, whatever the op carried.
    assert (found[2]["paused"], found[2]["pause_reason"]) == (False, "")


def test_window_state_for_another_window_is_rejected(
    client: TestClient, login, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    login(window_no=2, username="clerk2")
    res = push_one(client, w1, "window_state", window_state(2, True, "替2号窗口暂停"))
    assert res["status"] == "rejected"
    assert "本机登录的是 1 号窗口，不能暂停或恢复 2 号窗口" in res["detail"]
    w = window_row(sessions, 2)
    assert (w.paused, w.pause_reason, w.paused_at) == (False, "", None)
    assert not windows(client, w1)[2]["paused"]


def test_an_older_window_state_arriving_late_does_not_undo_a_newer_one(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    assert push_one(client, window1, "window_state", window_state(1, True, "系统升级", local(DAY, 11)))[
        "status"
    ] == ("applied")
    # A resume from 10:00, sent late from an outbox, after the 11:00 pause.
    assert push_one(client, window1, "window_state", window_state(1, False, "", local(DAY, 10)))[
        "status"
    ] == ("applied")
    w = window_row(sessions, 1)
    assert (w.paused, w.pause_reason, w.paused_at) == (True, "系统升级", local(DAY, 11))


def test_a_malformed_window_state_is_rejected(client: TestClient, window1: Counter) -> None:
    res = push_one(client, window1, "window_state", window_state(1, True, "x" * 201))
    assert res["status"] == "rejected" and "reason" in res["detail"]
    res = push_one(client, window1, "window_state", {"window_no": 1, "paused": True})
    assert res["status"] == "rejected" and "at" in res["detail"]


# -- transfers and call-next ---------------------------------------------------------------------------


def test_call_next_prefers_a_ticket_transferred_to_this_window(
    client: TestClient, login, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    assert call(client, w1)["ticket_no"] == "A001"  # type: ignore[index]
    res = push_one(client, w1, "ticket_state", transfer("A001", to_window=2, note="请到不动产专窗"))
    assert (res["status"], res["detail"]) == ("applied", "")
    t = ticket_row(sessions, "A001")
    assert (t.state, t.window_no, t.note) == ("transferred", 2, "请到不动产专窗")

    got = call(client, w2)
    assert got is not None
    assert (got["ticket_no"], got["state"], got["window_no"], got["note"], got["recalls"]) == (
        "A001",
        "called",
        2,
        "请到不动产专窗",
        0,
    )
    assert call(client, w2)["ticket_no"] == "A002"  # type: ignore[index]


def test_a_ticket_transferred_to_window_2_is_never_called_by_window_3(
    client: TestClient, login, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    w3 = login(window_no=3, username="clerk3")
    call(client, w1)
    push_one(client, w1, "ticket_state", transfer("A001", to_window=2))
    by_3 = []
    while (t := call(client, w3)) is not None:
        by_3.append(t["ticket_no"])
    assert len(by_3) == DEMO_BOOKINGS - 1 and "A001" not in by_3
    # Nobody is left for window 3 (an empty answer, not a busy error), but window 2's citizen waits.
    assert ticket_row(sessions, "A001").state == "transferred"
    assert call(client, w1) is None
    assert call(client, w2)["ticket_no"] == "A001"  # type: ignore[index]
    assert call(client, w2) is None


def test_transferred_tickets_come_first_and_in_due_order(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    for _ in range(3):
        call(client, w1)  # A001, A002, A003
    push(
        client,
        w1,
        op("ticket_state", transfer("A003", to_window=2)),
        op("ticket_state", transfer("A002", to_window=2)),
    )
    assert [call(client, w2)["ticket_no"] for _ in range(3)] == ["A002", "A003", "A004"]  # type: ignore[index]


def test_a_ticket_moved_to_another_item_goes_to_whichever_window_calls_next(
    client: TestClient, login, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w3 = login(window_no=3, username="clerk3")
    call(client, w1)
    res = push_one(
        client, w1, "ticket_state", transfer("A001", to_item=INSTANT_ITEM, note="改办异地就医备案")
    )
    assert res["status"] == "applied"
    t = ticket_row(sessions, "A001")
    assert (t.state, t.window_no, t.item_code, t.note) == (
        "transferred",
        None,
        INSTANT_ITEM,
        "改办异地就医备案",
    )
    got = call(client, w3)
    assert got is not None and (got["ticket_no"], got["item_code"], got["window_no"]) == (
        "A001",
        INSTANT_ITEM,
        3,
    )


def test_a_transfer_to_a_paused_window_is_kept_and_reported_as_a_conflict(
    client: TestClient, login, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    push_one(client, w2, "window_state", window_state(2, True, "午休"))
    call(client, w1)
    the_op = op("ticket_state", transfer("A001", to_window=2, note="转2号"))
    [res] = push(client, w1, the_op)
    assert res["status"] == "conflict"
    assert "A001 号转入的 2 号窗口已暂停服务（午休），请安排其他窗口" in res["detail"]
    # The counter's move is a fact: applied all the same.
    t = ticket_row(sessions, "A001")
    assert (t.state, t.window_no, t.note) == ("transferred", 2, "转2号")
    with sessions() as s:
        applied = s.get(AppliedOp, the_op["op_id"])
        assert applied is not None and applied.status == "conflict"
    # Re-sent: answered the same way, nothing applied twice.
    [again] = push(client, w1, the_op)
    assert (again["status"], again["detail"]) == ("duplicate", res["detail"])


def test_a_transfer_to_a_window_that_does_not_exist_is_rejected_and_changes_nothing(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    call(client, window1)
    res = push_one(client, window1, "ticket_state", transfer("A001", to_window=9))
    assert res["status"] == "rejected"
    assert "A001 号转入的 9 号窗口不存在" in res["detail"]
    t = ticket_row(sessions, "A001")
    assert (t.state, t.window_no, t.note) == ("called", 1, "")


def test_a_transfer_to_an_unknown_item_is_rejected_and_changes_nothing(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    call(client, window1)
    before = ticket_row(sessions, "A001").item_code
    res = push_one(client, window1, "ticket_state", transfer("A001", to_item="NO-SUCH-ITEM", to_window=2))
    assert res["status"] == "rejected" and "NO-SUCH-ITEM 不在事项目录中" in res["detail"]
    t = ticket_row(sessions, "A001")
    assert (t.state, t.window_no, t.item_code, t.note) == ("called", 1, before, "")


def test_a_transfer_reaches_the_other_windows_through_pull(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    end, more = 0, True
    while more:  # window 2 has caught up with the morning
        page = client.get(f"{API}/sync/pull", params={"cursor": end}, headers=w2.headers).json()
        end, more = page["next_cursor"], page["has_more"]
    call(client, w1)
    push_one(client, w1, "ticket_state", transfer("A001", to_window=2, note="请到2号窗口"))
    page = client.get(f"{API}/sync/pull", params={"cursor": end}, headers=w2.headers).json()
    tickets = [c["data"] for c in page["changes"] if c["entity"] == "ticket"]
    assert (
        tickets[-1]["ticket_no"],
        tickets[-1]["state"],
        tickets[-1]["window_no"],
        tickets[-1]["note"],
    ) == (
        "A001",
        "transferred",
        2,
        "请到2号窗口",
    )


# -- recalls ------------------------------------------------------------------------------------------


def test_a_recall_counts_without_moving_the_first_call_time(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session], clock: MovableClock
) -> None:
    first = call(client, window1)
    assert first is not None and first["recalls"] == 0
    for n in (1, 2):
        payload = {
            "ticket_no": "A001",
            "state": "called",
            "window_no": 1,
            "at": local(DAY, 9, 30 + n).isoformat(),
            "recalls": n,
        }
        assert push_one(client, window1, "ticket_state", payload)["status"] == "applied"
    t = ticket_row(sessions, "A001")
    assert (t.state, t.recalls, t.called_at) == ("called", 2, clock.now)


def test_a_recalled_ticket_transferred_on_starts_counting_again(
    client: TestClient, login, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    call(client, w1)
    recall = {
        "ticket_no": "A001",
        "state": "called",
        "window_no": 1,
        "at": local(DAY, 10).isoformat(),
        "recalls": 3,
    }
    push(
        client,
        w1,
        op("ticket_state", recall),
        op("ticket_state", transfer("A001", to_window=2, at=local(DAY, 10, 1))),
    )
    got = call(client, w2)
    assert got is not None and (got["ticket_no"], got["recalls"]) == ("A001", 0)
    assert ticket_row(sessions, "A001").recalls == 0


# -- case_picked_up (出件) ----------------------------------------------------------------------------------


def test_a_case_is_picked_up_once(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    assert push_one(client, window1, "case_decided", case_payload())["status"] == "applied"
    with sessions() as s:
        case = s.get(Case, case_no(1))
        assert case is not None and (case.picked_up_at, case.picked_up_by) == (None, "")
    first = op("case_picked_up", picked_up(case_no(1), "张伟", local(DAY, 15)))
    [res] = push(client, window1, first)
    assert (res["status"], res["detail"]) == ("applied", "")
    with sessions() as s:
        case = s.get(Case, case_no(1))
        assert case is not None and (case.picked_up_at, case.picked_up_by) == (local(DAY, 15), "张伟")

    # The same op again is a duplicate; a second pick-up (another op) is a conflict.
    assert push(client, window1, first)[0]["status"] == "duplicate"
    [second] = push(
        client, window1, op("case_picked_up", picked_up(case_no(1), "李四（代领）", local(DAY, 16)))
    )
    assert second["status"] == "conflict"
    assert f"办件 {case_no(1)} 的结果已于" in second["detail"] and "领取过" in second["detail"]
    with sessions() as s:
        case = s.get(Case, case_no(1))
        assert case is not None and (case.picked_up_at, case.picked_up_by) == (local(DAY, 15), "张伟")


def test_a_case_decided_and_picked_up_in_one_push_is_found_by_its_pick_up(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    # An instant item decided and handed over while the counter was offline: both ops in one batch.
    # The batch knows the case was absent when it began; the pick-up must still find it.
    ops = [op("case_decided", case_payload(number)) for number in (case_no(1), case_no(2))]
    ops += [
        op("case_picked_up", picked_up(number, "张伟", local(DAY, 15))) for number in (case_no(1), case_no(2))
    ]
    # The session holds rows weakly; collecting cycles at every chance makes a dropped row certain.
    thresholds = gc.get_threshold()
    gc.set_threshold(1, 1, 1)
    try:
        results = push(client, window1, *ops)
    finally:
        gc.set_threshold(*thresholds)
    assert [(r["status"], r["detail"]) for r in results] == [("applied", "")] * 4
    with sessions() as s:
        for number in (case_no(1), case_no(2)):
            case = s.get(Case, number)
            assert case is not None and case.picked_up_by == "张伟"


def test_picking_up_an_unknown_case_is_rejected(client: TestClient, window1: Counter) -> None:
    res = push_one(client, window1, "case_picked_up", picked_up(case_no(42)))
    assert res["status"] == "rejected"
    assert f"办件 {case_no(42)} 不在大厅 DEMO 的记录中" in res["detail"]


def test_picking_up_another_halls_case_is_rejected(
    client: TestClient, login, other_hall: str, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    east = login(
        window_no=1, username="east1", password=OTHER_PASSWORD, hall_code=other_hall, device_id="EAST-01"
    )
    east_case = f"{other_hall}-{DAY:%Y%m%d}-01-0001"
    assert push_one(client, east, "case_decided", case_payload(east_case))["status"] == "applied"
    w1 = login(window_no=1, username="clerk1")
    res = push_one(client, w1, "case_picked_up", picked_up(east_case))
    assert res["status"] == "rejected" and "不在大厅 DEMO 的记录中" in res["detail"]
    with sessions() as s:
        case = s.get(Case, east_case)
        assert case is not None and case.picked_up_at is None


def test_a_malformed_pick_up_is_rejected(client: TestClient, window1: Counter) -> None:
    push_one(client, window1, "case_decided", case_payload())
    res = push_one(client, window1, "case_picked_up", {**picked_up(case_no(1)), "picked_up_by": "x" * 101})
    assert res["status"] == "rejected" and "picked_up_by" in res["detail"]


def test_a_decision_with_reasons_and_deadline_is_kept_whole(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    payload = {
        **case_payload(decision="correct"),
        "promised_date": None,
        "correction_deadline": "2026-03-16",
        "materials": [{"code": "M001", "name": "申请人居民身份证", "status": "wrong", "note": "已过有效期"}],
    }
    assert push_one(client, window1, "case_decided", payload)["status"] == "applied"
    rejected = {
        **case_payload(case_no(2), decision="reject"),
        "promised_date": None,
        "reasons": ["申请事项不属于本行政机关职权范围"],
        "legal_basis": "《中华人民共和国行政许可法》第三十二条第一款",
    }
    assert push_one(client, window1, "case_decided", rejected)["status"] == "applied"
    with sessions() as s:
        one, two = s.get(Case, case_no(1)), s.get(Case, case_no(2))
        assert one is not None and two is not None
        assert one.body["correction_deadline"] == "2026-03-16"
        assert one.body["materials"][0]["note"] == "已过有效期"
        assert two.body["reasons"] == ["申请事项不属于本行政机关职权范围"]
        assert two.body["legal_basis"].startswith("《中华人民共和国行政许可法》")


# -- migration 0003 ------------------------------------------------------------------------------------------


NEW_COLUMNS = {
    "tickets": {"recalls", "note"},
    "windows": {"paused", "pause_reason", "paused_at"},
    "cases": {"picked_up_at", "picked_up_by"},
}


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_migration_0003_upgrade_adds_the_columns_with_defaults_for_existing_rows(
    engine: Engine, client: TestClient, window1: Counter
) -> None:
    # Rows written before the migration: a case and the seeded tickets and windows.
    assert push_one(client, window1, "case_decided", case_payload())["status"] == "applied"
    engine.dispose()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # Downgrades rebuild SQLite tables others refer to; SQLite checks that only with this off.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        with conn.begin():
            command.downgrade(alembic_config(conn), "0002")
    for table, cols in NEW_COLUMNS.items():
        assert not cols & _columns(engine, table), table
    with engine.connect() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar_one() == "0002"

    migrate(engine)
    for table, cols in NEW_COLUMNS.items():
        assert cols <= _columns(engine, table), table
    with engine.connect() as conn:
        head = ScriptDirectory.from_config(alembic_config(conn)).get_current_head()
        assert conn.execute(text("select version_num from alembic_version")).scalar_one() == head
        tickets = conn.execute(
            text("select count(*), min(recalls), max(recalls), max(note) from tickets")
        ).one()
        assert tuple(tickets) == (DEMO_BOOKINGS, 0, 0, "")
        assert (
            conn.execute(text("select paused, pause_reason, paused_at from windows")).all()
            == [(False, "", None)] * 3
        )
        assert conn.execute(text("select case_no, picked_up_at, picked_up_by from cases")).all() == [
            (case_no(1), None, "")
        ]
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert diff == []
    # The upgraded database works: a pause and a pick-up are stored.
    assert push_one(client, window1, "window_state", window_state(1, True, "迁移后"))["status"] == "applied"
    assert push_one(client, window1, "case_picked_up", picked_up(case_no(1)))["status"] == "applied"
