"""The clerk's queue actions, lookup, decisions, pick-up and overdue panel against a real hallserver.

Each counter is the real core (store on a real SQLite file, real PlatformClient over
loopback HTTP); the only thing the tests control is the counter's clock, for the
overdue panel, which is computed with the real holiday calendars.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.counter_setup import DEMO_PASSWORD, CounterRig, make_rig
from helpers.live_server import LiveServer

from hallclient import wire
from hallclient.config import DecisionsConfig
from hallclient.counter import Counter, CounterError, OverdueEntry, ServiceContext
from hallclient.decisions import DEFAULT_LEGAL_BASIS, REJECTION_REASONS, MaterialFinding
from hallclient.domain import MaterialCheck, ReceiptData
from hallclient.events import TicketCalled
from hallclient.papers import (
    ApprovalDecision,
    CorrectionNotice,
    MaterialProblem,
    PaperKind,
    PickupSlip,
    RejectionNotice,
)
from hallclient.services import build_services
from hallclient.store import format_case_no
from hallclient.validation import InvalidInput
from hallclient.workdays import WorkCalendar

HALL = "DEMO"
# From hallserver/demo_catalog.py.
COMPANY = "11330100MB0001001A4000117002"  # 有限责任公司设立登记: 5 materials, promised in 3 working days
PROPERTY = "11330100MB0002002A4000111004"  # 不动产转移登记（二手房买卖）: 5 materials, 5 days
MEDICAL = "11330100MB0007007A4000112012"  # 医疗保险异地就医备案: 即办件
PENSION = "11330100MB0003003A4000112005"  # 城乡居民基本养老保险参保登记: 即办件

SEEN = MaterialCheck.ORIGINAL_SEEN
COPY = MaterialCheck.COPY_TAKEN
MISSING = MaterialCheck.MISSING
WRONG = MaterialCheck.WRONG


# -- helpers ----------------------------------------------------------------------------


def today() -> dt.date:
    return dt.date.today()


def code(n: int) -> str:
    return f"YY{today():%Y%m%d}{n:04d}"


def server_rows(server: LiveServer, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_path) as db:
        return db.execute(sql, params).fetchall()


def server_ticket(server: LiveServer, ticket_no: str) -> tuple[Any, ...]:
    [row] = server_rows(
        server,
        "select state, window_no, note, recalls, item_code from tickets where ticket_no = ? and date = ?",
        ticket_no,
        today().isoformat(),
    )
    return row


def ready(rig: CounterRig) -> Counter:
    """Sign the rig's clerk in at its window, with catalog, bookings and tickets in the local store."""
    c = rig.services.counter
    c.login(f"clerk{rig.config.counter.window_no}", DEMO_PASSWORD)
    c.refresh()
    status = rig.services.sync.sync_once()
    assert status.online and status.last_error == ""
    return c


def ops(rig: CounterRig) -> list[tuple[str, dict[str, Any]]]:
    return [(p.op.kind.value, p.op.payload) for p in rig.services.store.pending_ops(1000)]


def local_ticket(rig: CounterRig, ticket_no: str) -> wire.Ticket:
    [t] = [t for t in rig.services.store.tickets(today(), HALL) if t.ticket_no == ticket_no]
    return t


def refused(fn: Callable[..., object], *args: object, **kwargs: object) -> str:
    with pytest.raises(CounterError) as err:
        fn(*args, **kwargs)
    return str(err.value)


def checks(item: wire.ServiceItem | None, **special: MaterialCheck | MaterialFinding) -> dict[str, Any]:
    assert item is not None
    found: dict[str, Any] = {m.code: SEEN for m in item.materials}
    found.update(special)
    return found


def synced(rig: CounterRig) -> None:
    status = rig.services.sync.sync_once()
    assert status.online and status.last_error == ""
    assert status.pending_ops == 0 and status.conflicts == 0, rig.services.store.unacknowledged_conflicts()


def call(c: Counter) -> wire.Ticket:
    t = c.call_next()
    assert t is not None
    return t


def with_decisions(c: Counter, **changes: Any) -> None:
    c.config = dataclasses.replace(c.config, decisions=dataclasses.replace(c.config.decisions, **changes))


def other_item_than(ctx: ServiceContext) -> str:
    """An item to move the citizen to: not the one of their booking (the demo day is random)."""
    assert ctx.item is not None
    return MEDICAL if ctx.item.code != MEDICAL else PENSION


@pytest.fixture
def window2(live_server: LiveServer, tmp_path: Path) -> Iterator[CounterRig]:
    """A second counter: clerk2 signed in at window 2, its own store and device."""
    built = make_rig(live_server, tmp_path / "window2", window_no=2)
    ready(built)
    yield built
    built.close()


# -- recall, no-show, serving ----------------------------------------------------------


def test_recall_up_to_the_configured_maximum_then_refused(rig: CounterRig) -> None:
    c = ready(rig)
    seen: list[TicketCalled] = []
    rig.services.bus.subscribe(TicketCalled, seen.append)
    t = call(c)
    assert (t.ticket_no, t.recalls) == ("A001", 0)
    first_called_at = t.called_at
    limit = rig.config.counter.max_recalls
    assert limit == 3
    for n in range(1, limit + 1):
        t = c.recall(t)
        assert (t.state, t.window_no, t.recalls) == (wire.TicketState.CALLED, 1, n)
        assert local_ticket(rig, "A001").recalls == n
    assert [e.ticket_no for e in seen] == ["A001"] * (limit + 1)  # the call, then every recall
    assert [p["recalls"] for kind, p in ops(rig)] == [1, 2, 3]

    message = refused(c.recall, t)
    assert "A001 号已重呼 3 次（上限 3 次）" in message and "过号" in message
    assert len(ops(rig)) == limit  # the refused recall saved nothing
    assert local_ticket(rig, "A001").recalls == limit

    synced(rig)
    state, window, _note, recalls, _item = server_ticket(rig.server, "A001")
    assert (state, window, recalls) == ("called", 1, 3)
    # A recall is not a new call: the time the number was first called is kept.
    assert local_ticket(rig, "A001").called_at == first_called_at
    # The count the server sends back is what the counter refuses on.
    assert "上限 3 次" in refused(c.recall, local_ticket(rig, "A001"))


def test_the_recall_limit_comes_from_config(rig: CounterRig) -> None:
    c = ready(rig)
    c.config = dataclasses.replace(c.config, counter=dataclasses.replace(c.config.counter, max_recalls=1))
    t = c.recall(call(c))
    assert "已重呼 1 次（上限 1 次）" in refused(c.recall, t)
    c.config = dataclasses.replace(c.config, counter=dataclasses.replace(c.config.counter, max_recalls=0))
    t2 = call(c)
    assert "已重呼 0 次（上限 0 次）" in refused(c.recall, t2)


def test_only_a_called_ticket_of_this_window_can_be_recalled(rig: CounterRig) -> None:
    c = ready(rig)
    waiting = local_ticket(rig, "A005")
    assert "A005 号现在是“等候中”" in refused(c.recall, waiting)
    serving = c.start_serving(call(c))
    assert "现在是“办理中”" in refused(c.recall, serving)
    assert [p["state"] for _kind, p in ops(rig)] == ["serving"]  # only the start_serving


def test_no_show_skips_the_citizen_and_the_queue_moves_on(rig: CounterRig) -> None:
    c = ready(rig)
    t = call(c)
    gone = c.no_show(t)
    assert (gone.state, gone.window_no) == (wire.TicketState.NO_SHOW, 1)
    assert local_ticket(rig, "A001").state is wire.TicketState.NO_SHOW
    [(kind, payload)] = ops(rig)
    assert (kind, payload["state"], payload["window_no"]) == ("ticket_state", "no_show", 1)
    assert "现在是“过号”" in refused(c.no_show, gone)
    synced(rig)
    assert server_ticket(rig.server, "A001")[:2] == ("no_show", 1)
    assert call(c).ticket_no == "A002"  # a skipped number is not called again by call-next


def test_no_show_needs_a_called_ticket(rig: CounterRig) -> None:
    c = ready(rig)
    serving = c.start_serving(call(c))
    assert serving.state is wire.TicketState.SERVING
    assert c.start_serving(serving) is serving  # already serving: nothing to do
    assert "现在是“办理中”" in refused(c.no_show, serving)
    assert "现在是“等候中”" in refused(c.no_show, local_ticket(rig, "A010"))
    assert "现在是“等候中”" in refused(c.start_serving, local_ticket(rig, "A010"))
    assert len(ops(rig)) == 1


# -- park and resume ----------------------------------------------------------------------


def test_park_then_parked_then_resume(rig: CounterRig) -> None:
    c = ready(rig)
    t = c.start_serving(call(c))
    assert c.parked() == []
    parked = c.park(t, note="去复印身份证")
    assert (parked.state, parked.window_no) == (wire.TicketState.PARKED, 1)
    assert [p.ticket_no for p in c.parked()] == ["A001"]
    # Meanwhile the window serves the next citizen.
    synced(rig)
    assert server_ticket(rig.server, "A001")[:2] == ("parked", 1)
    nxt = call(c)
    assert nxt.ticket_no == "A002"
    assert "现在是“挂起”" in refused(c.park, c.parked()[0])

    ctx = c.resume(c.parked()[0])
    assert isinstance(ctx, ServiceContext)
    assert (ctx.ticket.ticket_no, ctx.ticket.state, ctx.ticket.window_no) == (
        "A001",
        wire.TicketState.SERVING,
        1,
    )
    assert ctx.booking is not None and ctx.booking.code == code(1)
    assert ctx.item is not None and ctx.item.code == ctx.booking.item_code
    assert c.parked() == []
    assert "现在是“办理中”" in refused(c.resume, ctx.ticket)
    synced(rig)
    assert server_ticket(rig.server, "A001")[:2] == ("serving", 1)


def test_a_parked_ticket_keeps_the_clerks_note(rig: CounterRig) -> None:
    """BUG (see report): park(note=...) sends the note in the op but the store keeps it only for
    transfers (store.set_ticket_state), and the server only for transfers (sync_ops._ticket_state)."""
    c = ready(rig)
    c.park(call(c), note="去复印身份证")
    assert [p.note for p in c.parked()] == ["去复印身份证"]


def test_parked_lists_only_this_windows_parked_tickets(rig: CounterRig, window2: CounterRig) -> None:
    c1, c2 = ready(rig), window2.services.counter
    c1.park(call(c1))
    c2.park(call(c2))
    synced(rig)
    synced(window2)
    synced(rig)  # pull window 2's park
    assert [t.ticket_no for t in c1.parked()] == ["A001"]
    assert [t.ticket_no for t in c2.parked()] == ["A002"]
    assert "现在是“挂起”" in refused(c1.resume, local_ticket(rig, "A002"))


# -- transfer ---------------------------------------------------------------------------------


def test_transfer_to_an_open_window_is_called_there_first(rig: CounterRig, window2: CounterRig) -> None:
    c1, c2 = ready(rig), window2.services.counter
    t = call(c1)
    note = "二手房过户，请不动产专窗办理"
    moved = c1.transfer(t, to_window=2, note=f"  {note}  ")
    assert (moved.state, moved.window_no) == (wire.TicketState.TRANSFERRED, 2)
    stored = local_ticket(rig, "A001")
    assert (stored.state, stored.window_no, stored.note) == (wire.TicketState.TRANSFERRED, 2, note)
    [(kind, p)] = ops(rig)
    assert kind == "ticket_state"
    assert (p["state"], p["window_no"], p["to_window"], p["to_item"], p["note"]) == (
        "transferred",
        1,
        2,
        None,
        note,
    )
    synced(rig)
    assert server_ticket(rig.server, "A001")[:3] == ("transferred", 2, note)

    # Window 1 goes on with the queue; window 2 gets the transferred citizen before it.
    assert call(c1).ticket_no == "A002"
    got = call(c2)
    assert (got.ticket_no, got.state, got.window_no, got.note) == ("A001", wire.TicketState.CALLED, 2, note)
    assert call(c2).ticket_no == "A003"
    assert server_ticket(rig.server, "A001")[:2] == ("called", 2)


def test_transfer_from_serving_and_from_parked(rig: CounterRig, window2: CounterRig) -> None:
    c1 = ready(rig)
    serving = c1.start_serving(call(c1))
    assert c1.transfer(serving, to_window=2, note="需现场核验").state is wire.TicketState.TRANSFERRED
    parked = c1.park(call(c1))
    assert c1.transfer(parked, to_window=2, note="回来后请到2号窗口").window_no == 2
    synced(rig)
    c2 = window2.services.counter
    assert [call(c2).ticket_no, call(c2).ticket_no, call(c2).ticket_no] == ["A001", "A002", "A003"]


def test_transfer_to_another_item_goes_to_whichever_window_calls_next(
    rig: CounterRig, window2: CounterRig
) -> None:
    c1, c2 = ready(rig), window2.services.counter
    t = call(c1)
    target = other_item_than(c1.service_context(t))
    moved = c1.transfer(t, to_item=target, note="应办理另一事项")
    assert moved.state is wire.TicketState.TRANSFERRED and moved.window_no is None
    assert local_ticket(rig, "A001").item_code == target
    synced(rig)
    assert server_ticket(rig.server, "A001")[1:] == (None, "应办理另一事项", 0, target)
    got = call(c2)
    assert (got.ticket_no, got.item_code) == ("A001", target)


def test_a_citizen_moved_to_another_item_is_served_for_that_item(
    rig: CounterRig, window2: CounterRig
) -> None:
    """BUG (see report): Counter.service_context takes the item from the booking, so a booked
    citizen moved to another item is shown (and decided) under the booking's old item."""
    c1, c2 = ready(rig), window2.services.counter
    t = call(c1)
    target = other_item_than(c1.service_context(t))
    c1.transfer(t, to_item=target, note="应办理另一事项")
    synced(rig)
    ctx = c2.service_context(call(c2))
    assert ctx.item is not None and ctx.item.code == target


def test_offline_a_window_calls_the_citizens_transferred_to_it_first(
    rig: CounterRig, window2: CounterRig
) -> None:
    c1, c2 = ready(rig), window2.services.counter
    c1.transfer(call(c1), to_window=2, note="转2号")
    synced(rig)
    synced(window2)  # window 2 has pulled the transfer
    rig.server.stop()  # the network goes down for both
    # Window 1 does not take back the citizen it sent to window 2.
    assert c1.call_next().ticket_no == "A002"  # type: ignore[union-attr]
    got = call(c2)
    assert (got.ticket_no, got.state, got.window_no, got.note) == (
        "A001",
        wire.TicketState.CALLED,
        2,
        "转2号",
    )
    assert call(c2).ticket_no == "A002"  # offline, each counter only knows its own calls
    rig.server.start()
    c1.login("clerk1", DEMO_PASSWORD)
    c2.login("clerk2", DEMO_PASSWORD)
    assert rig.services.sync.sync_once().conflicts == 0
    status = window2.services.sync.sync_once()
    assert status.pending_ops == 0
    # A002 was called by both windows while offline: reported, never silently dropped.
    [conflict] = window2.services.store.unacknowledged_conflicts()
    assert "A002" in conflict.detail
    assert server_ticket(rig.server, "A001")[:2] == ("called", 2)


def test_refused_transfers_save_nothing(rig: CounterRig, window2: CounterRig) -> None:
    c1, c2 = ready(rig), window2.services.counter
    t = call(c1)
    before = local_ticket(rig, "A001")

    def unchanged() -> None:
        assert ops(rig) == []
        assert local_ticket(rig, "A001") == before
        assert server_ticket(rig.server, "A001")[:3] == ("called", 1, "")

    cases: list[tuple[dict[str, Any], str]] = [
        ({"to_window": 3, "note": "转3号"}, "3 号窗口现在不办理业务（无人登录），请选择其他窗口"),
        ({"to_window": 1, "note": "转本窗口"}, "不能转移到本窗口"),
        ({"to_window": 9, "note": "转9号"}, "本大厅没有 9 号窗口"),
        ({"to_window": 2, "note": ""}, "请填写转移说明"),
        ({"to_window": 2, "note": " \n\t"}, "请填写转移说明"),
        ({"note": "转走"}, "请选择转入的窗口或事项"),
        ({"to_item": "NO-SUCH-ITEM", "note": "转事项"}, "事项编码 NO-SUCH-ITEM 不在事项目录中"),
    ]
    for kwargs, message in cases:
        assert message in refused(c1.transfer, t, **kwargs), kwargs
        unchanged()
    assert "现在是“等候中”" in refused(c1.transfer, local_ticket(rig, "A007"), to_window=2, note="x")

    # Window 2 pauses: transfers to it are refused with its reason.
    c2.pause("系统升级")
    synced(window2)
    assert "2 号窗口现在不办理业务（暂停服务：系统升级）" in refused(
        c1.transfer, t, to_window=2, note="转2号"
    )
    unchanged()

    # Window 2 signs out: nobody is there.
    window2.services.api.logout()
    assert "2 号窗口现在不办理业务" in refused(c1.transfer, t, to_window=2, note="转2号")
    unchanged()
    synced(rig)
    assert local_ticket(rig, "A001").state is wire.TicketState.CALLED


def test_transfer_works_again_once_the_paused_window_resumes(rig: CounterRig, window2: CounterRig) -> None:
    c1, c2 = ready(rig), window2.services.counter
    t = call(c1)
    c2.pause("午休")
    synced(window2)
    refused(c1.transfer, t, to_window=2, note="转2号")
    c2.resume_service()
    synced(window2)
    assert c1.transfer(t, to_window=2, note="转2号").state is wire.TicketState.TRANSFERRED
    synced(rig)
    assert call(c2).ticket_no == "A001"


# -- pause --------------------------------------------------------------------------------------


def test_pause_refuses_calls_until_service_resumes_and_the_hall_sees_why(rig: CounterRig) -> None:
    c = ready(rig)
    assert c.window_paused() == (False, "")
    assert "请填写暂停服务的原因" in refused(c.pause, "   ")
    assert ops(rig) == []

    c.pause("  临时离开，10 分钟后回来 ")
    assert c.window_paused() == (True, "临时离开，10 分钟后回来")
    [(kind, p)] = ops(rig)
    assert (kind, p["window_no"], p["paused"], p["reason"]) == (
        "window_state",
        1,
        True,
        "临时离开，10 分钟后回来",
    )
    message = refused(c.call_next)
    assert "本窗口已暂停服务（临时离开，10 分钟后回来），请先恢复服务再叫号" in message
    # The refused call claimed nobody on the server.
    assert server_ticket(rig.server, "A001")[:2] == ("waiting", None)
    # A looked-up booking's own number is not called while paused either.
    booking = rig.services.store.booking(code(3), HALL)
    assert booking is not None
    assert "本窗口已暂停服务" in refused(c.serve_booking, booking, None)

    synced(rig)
    windows = {w.window_no: w for w in c.windows()}
    assert sorted(windows) == [1, 2, 3]
    assert (windows[1].open, windows[1].paused, windows[1].pause_reason) == (
        True,
        True,
        "临时离开，10 分钟后回来",
    )
    assert windows[1].clerk_name == "王晓燕"
    assert [(w.open, w.paused) for n, w in sorted(windows.items()) if n != 1] == [(False, False)] * 2

    c.resume_service()
    assert c.window_paused() == (False, "")
    assert call(c).ticket_no == "A001"
    synced(rig)
    w1 = next(w for w in c.windows() if w.window_no == 1)
    assert (w1.open, w1.paused, w1.pause_reason) == (True, False, "")


def test_a_paused_window_stays_paused_after_a_restart(live_server: LiveServer, tmp_path: Path) -> None:
    first = make_rig(live_server, tmp_path / "w1", window_no=1)
    try:
        ready(first).pause("设备故障")
    finally:
        first.close()
    again = build_services(first.config)
    try:
        c = again.counter
        c.login("clerk1", DEMO_PASSWORD)
        assert c.window_paused() == (True, "设备故障")
        assert "设备故障" in refused(c.call_next)
        assert again.store.pending_count() == 1  # the pause still waits to be sent
    finally:
        again.close()


def test_windows_are_remembered_for_use_offline(rig: CounterRig, window2: CounterRig) -> None:
    c = ready(rig)
    online = c.windows()
    assert [(w.window_no, w.open) for w in online] == [(1, True), (2, True), (3, False)]
    assert online[1].clerk_name == "李建国"
    rig.server.stop()
    assert c.windows() == online


# -- lookup ---------------------------------------------------------------------------------------


def test_lookup_by_booking_code_plain_lower_case_and_scanned_url(rig: CounterRig) -> None:
    c = ready(rig)
    booking = rig.services.store.booking(code(5), HALL)
    assert booking is not None
    for query in (
        code(5),
        code(5).lower(),
        f" {code(5)} ",
        f"https://zwfw.example.gov.cn/b?code={code(5)}&v=1",
    ):
        [hit] = c.lookup(query)
        assert hit.booking == booking
        assert hit.ticket is not None and hit.ticket.ticket_no == "A005"
        assert hit.case is None
    assert c.lookup(code(99)) == []  # well-formed, but nobody booked it


def test_lookup_by_id_number_finds_bookings_and_earlier_cases(rig: CounterRig) -> None:
    c = ready(rig)
    everyone = rig.services.store.bookings_between(today(), today(), HALL)
    assert len(everyone) == 48
    target = everyone[9]
    id_number = target.applicant.id_number
    expected = sorted(b.code for b in everyone if b.applicant.id_number == id_number)
    hits = c.lookup(id_number.lower())
    assert sorted(h.booking.code for h in hits if h.booking) == expected
    assert all(h.case is None for h in hits)
    assert {h.ticket.ticket_no for h in hits if h.ticket} >= {f"A{int(target.code[-4:]):03d}"}

    # After a decision the case is found by the ID number too.
    ctx = c.serve_booking(target, None)
    outcome = c.accept(ctx, checks(ctx.item))
    hits = c.lookup(id_number)
    cases = [h.case for h in hits if h.case]
    assert [x.case_no for x in cases] == [outcome.case_no]
    assert cases[0].decision is wire.Decision.ACCEPT and cases[0].applicant == target.applicant


def test_lookup_by_name_and_surname(rig: CounterRig) -> None:
    c = ready(rig)
    everyone = rig.services.store.bookings_between(today(), today(), HALL)
    name = everyone[0].applicant.name
    hits = c.lookup(name)
    assert sorted(h.booking.code for h in hits if h.booking) == sorted(
        b.code for b in everyone if name in b.applicant.name
    )
    assert all(h.ticket is not None for h in hits)
    surname = name[0]
    assert sorted(h.booking.code for h in c.lookup(surname) if h.booking) == sorted(
        b.code for b in everyone if surname in b.applicant.name
    )
    assert c.lookup("不在名单") == []


def test_lookup_refuses_bad_input_with_what_is_wrong(rig: CounterRig) -> None:
    c = ready(rig)
    with pytest.raises(InvalidInput, match="校验位错误：第18位应为 X，实际为 1"):
        c.lookup("110105194912310021")
    with pytest.raises(InvalidInput, match="请输入预约号、身份证号或姓名"):
        c.lookup("  ")
    with pytest.raises(InvalidInput, match="既不是预约号"):
        c.lookup("12345")


# -- serving a looked-up booking ------------------------------------------------------------


def test_serve_booking_calls_its_own_number(rig: CounterRig, window2: CounterRig) -> None:
    c = ready(rig)
    store = rig.services.store
    b5 = store.booking(code(5), HALL)
    b6 = store.booking(code(6), HALL)
    b1 = store.booking(code(1), HALL)
    assert b5 and b6 and b1

    ctx = c.serve_booking(b5, None)
    assert (ctx.ticket.ticket_no, ctx.ticket.state, ctx.ticket.window_no) == (
        "A005",
        wire.TicketState.CALLED,
        1,
    )
    assert ctx.booking == b5
    assert ctx.item is not None and ctx.item.code == b5.item_code
    assert local_ticket(rig, "A005").state is wire.TicketState.CALLED
    [(kind, p)] = ops(rig)
    assert (kind, p["ticket_no"], p["state"], p["window_no"]) == ("ticket_state", "A005", "called", 1)

    # Someone else's booking while A005 is at the counter: finish A005 first.
    assert "该预约有自己的号 A006，请先处理完当前的 A005 号" in refused(c.serve_booking, b6, ctx.ticket)
    # The booking of the citizen at the counter: the same context.
    again = c.serve_booking(b5, ctx.ticket)
    assert (again.ticket.ticket_no, again.booking) == ("A005", b5)

    cancelled = b6.model_copy(update={"status": wire.BookingStatus.CANCELLED})
    assert f"预约 {code(6)} 已取消" in refused(c.serve_booking, cancelled, None)
    tomorrow = b6.model_copy(update={"date": today() + dt.timedelta(days=1)})
    assert "不是今天的" in refused(c.serve_booking, tomorrow, None)
    no_ticket = b6.model_copy(update={"code": code(77)})
    assert "请先叫号，或让群众取号" in refused(c.serve_booking, no_ticket, None)
    assert len(ops(rig)) == 1

    # A citizen being served at window 2 is not taken over.
    synced(rig)
    assert call(window2.services.counter).ticket_no == "A001"
    synced(rig)
    assert "该预约的 A001 号正在 2 号窗口办理" in refused(c.serve_booking, b1, None)

    # Once decided, the booking is served.
    c.accept(ctx, checks(ctx.item))
    served = store.booking(code(5), HALL)
    assert served is not None and served.status is wire.BookingStatus.SERVED
    assert f"预约 {code(5)} 已办理过" in refused(c.serve_booking, served, None)
    synced(rig)
    assert server_ticket(rig.server, "A005")[:2] == ("done", 1)


def test_a_late_citizen_skipped_as_no_show_is_served_from_the_lookup(rig: CounterRig) -> None:
    c = ready(rig)
    c.no_show(call(c))
    [hit] = c.lookup(code(1))
    assert hit.ticket is not None and hit.ticket.state is wire.TicketState.NO_SHOW and hit.booking
    ctx = c.serve_booking(hit.booking, None)
    assert (ctx.ticket.ticket_no, ctx.ticket.state) == ("A001", wire.TicketState.CALLED)
    synced(rig)
    assert server_ticket(rig.server, "A001")[:2] == ("called", 1)


def test_with_item_chooses_the_item_at_the_counter(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.service_context(call(c))
    chosen = c.with_item(ctx, PENSION)
    assert chosen.item is not None and chosen.item.code == PENSION and chosen.item.instant
    assert (chosen.ticket, chosen.booking) == (ctx.ticket, ctx.booking)
    assert "事项编码 NOPE 不在事项目录中" in refused(c.with_item, ctx, "NOPE")


# -- decisions -------------------------------------------------------------------------------------


def no_case_saved(rig: CounterRig, seq: int = 1) -> None:
    assert rig.services.store.case(format_case_no(HALL, today(), 1, seq)) is None


def test_accept_saves_the_case_and_its_receipt(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    assert ctx.item is not None and ctx.booking is not None
    outcome = c.accept(ctx, checks(ctx.item, M202=COPY))
    assert outcome.kind is PaperKind.RECEIPT and isinstance(outcome.paper, ReceiptData)
    assert outcome.case_no == format_case_no(HALL, today(), 1, 1)
    promised, _warnings = c.promised_date(today(), ctx.item.promised_days)
    assert outcome.payload.promised_date == promised == outcome.receipt.promised_date
    assert outcome.receipt.applicant_name == ctx.booking.applicant.name
    assert [m.name for m in outcome.receipt.materials] == [m.name for m in ctx.item.materials]
    case = rig.services.store.case(outcome.case_no)
    assert case is not None
    assert (case.decision, case.item_code, case.promised_date, case.window_no) == (
        wire.Decision.ACCEPT,
        COMPANY,
        promised,
        1,
    )
    assert local_ticket(rig, "A001").state is wire.TicketState.DONE


def test_accept_refused_with_a_problem_saves_nothing(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    assert "公司章程" in refused(c.accept, ctx, checks(ctx.item, M202=MISSING))
    unchecked = checks(ctx.item)
    del unchecked["M203"]
    assert "尚未核验：股东主体资格证明" in refused(c.accept, ctx, unchecked)
    assert ops(rig) == []
    no_case_saved(rig)
    assert local_ticket(rig, "A001").state is wire.TicketState.CALLED


def test_correction_lists_every_problem_with_the_configured_deadline(rig: CounterRig) -> None:
    c = ready(rig)
    with_decisions(c, correction_working_days=5)
    ctx = c.with_item(c.service_context(call(c)), PROPERTY)
    assert ctx.item is not None
    outcome = c.request_correction(
        ctx,
        checks(ctx.item, M402=MISSING, M404=MaterialFinding(WRONG, " 完税金额与合同价不符 "), M403=COPY),
    )
    notice = outcome.paper
    assert isinstance(notice, CorrectionNotice) and outcome.kind is PaperKind.CORRECTION
    assert notice.problems == [
        MaterialProblem(
            name="不动产权属证书", check=MISSING, what_is_wrong="", original_required=True, copies=1
        ),
        MaterialProblem(name="完税凭证", check=WRONG, what_is_wrong="完税金额与合同价不符", copies=1),
    ]
    assert [m.name for m in notice.received] == ["申请人居民身份证", "不动产登记申请书", "存量房买卖合同"]
    deadline, _warnings = c.promised_date(today(), 5)
    assert notice.deadline == deadline == outcome.payload.correction_deadline
    assert notice.bring_to == "示范区政务服务中心 1 号窗口"
    assert outcome.payload.decision is wire.Decision.CORRECT and outcome.payload.promised_date is None
    case = rig.services.store.case(outcome.case_no)
    assert (
        case is not None and case.decision is wire.Decision.CORRECT and case.correction_deadline == deadline
    )
    wrong = [m for m in case.materials if m.status == "wrong"]
    assert [(m.code, m.note) for m in wrong] == [("M404", "完税金额与合同价不符")]

    synced(rig)
    [(decision, body)] = server_rows(rig.server, "select decision, body from cases")
    assert decision == "correct"
    assert json.loads(body)["correction_deadline"] == deadline.isoformat()


def test_the_correction_deadline_and_where_to_bring_come_from_config(rig: CounterRig) -> None:
    c = ready(rig)
    with_decisions(c, correction_working_days=0, correction_bring_to="行政服务中心二楼 B 区")
    ctx = c.with_item(c.service_context(call(c)), PROPERTY)
    outcome = c.request_correction(ctx, checks(ctx.item, M001=MISSING))
    assert isinstance(outcome.paper, CorrectionNotice)
    assert outcome.paper.deadline is None and outcome.paper.bring_to == "行政服务中心二楼 B 区"


def test_refused_corrections_save_nothing(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.with_item(c.service_context(call(c)), PROPERTY)
    assert "至少要列出一份缺失或不符合要求的材料" in refused(c.request_correction, ctx, checks(ctx.item))
    message = refused(c.request_correction, ctx, checks(ctx.item, M402=WRONG, M403=MISSING))
    assert "请写明以下材料哪里不符合要求" in message and "不动产权属证书" in message
    assert ops(rig) == []
    no_case_saved(rig)


def test_rejection_carries_reasons_legal_basis_and_remedies_from_config(rig: CounterRig) -> None:
    c = ready(rig)
    with_decisions(c, reconsideration_body="示范区人民政府", court="示范区人民法院")
    ctx = c.service_context(call(c))
    reasons = [REJECTION_REASONS[1], "  申请人所在地不属于本中心辖区 ", ""]
    outcome = c.reject(ctx, reasons=reasons, legal_basis=f" {DEFAULT_LEGAL_BASIS} ")
    notice = outcome.paper
    assert isinstance(notice, RejectionNotice) and outcome.kind is PaperKind.REJECTION
    assert notice.reasons == [REJECTION_REASONS[1], "申请人所在地不属于本中心辖区"]
    assert notice.legal_basis == DEFAULT_LEGAL_BASIS
    assert (notice.reconsideration_body, notice.court) == ("示范区人民政府", "示范区人民法院")
    assert (notice.reconsideration_days, notice.lawsuit_months) == (60, 6)
    assert outcome.payload.decision is wire.Decision.REJECT
    assert outcome.payload.reasons == notice.reasons
    synced(rig)
    [(decision, body)] = server_rows(rig.server, "select decision, body from cases")
    assert decision == "reject"
    assert json.loads(body)["reasons"] == notice.reasons
    assert json.loads(body)["legal_basis"] == DEFAULT_LEGAL_BASIS


def test_rejection_defaults_name_the_remedies(rig: CounterRig) -> None:
    c = ready(rig)
    outcome = c.reject(
        c.service_context(call(c)), reasons=[REJECTION_REASONS[0]], legal_basis=DEFAULT_LEGAL_BASIS
    )
    assert isinstance(outcome.paper, RejectionNotice)
    assert outcome.paper.reconsideration_body == DecisionsConfig().reconsideration_body
    assert outcome.paper.court == DecisionsConfig().court


def test_refused_rejections_save_nothing(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.service_context(call(c))
    assert "不予受理必须写明理由" in refused(c.reject, ctx, reasons=[], legal_basis=DEFAULT_LEGAL_BASIS)
    assert "不予受理必须写明理由" in refused(c.reject, ctx, reasons=["  "], legal_basis=DEFAULT_LEGAL_BASIS)
    assert "不予受理必须写明法律依据" in refused(
        c.reject, ctx, reasons=[REJECTION_REASONS[0]], legal_basis=" "
    )
    assert ops(rig) == []
    no_case_saved(rig)


def test_an_instant_item_is_completed_on_the_spot_with_the_approval(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.with_item(c.service_context(call(c)), MEDICAL)
    assert ctx.item is not None and ctx.booking is not None
    outcome = c.complete_on_the_spot(ctx, checks(ctx.item))
    approval = outcome.paper
    assert isinstance(approval, ApprovalDecision) and outcome.kind is PaperKind.APPROVAL
    assert approval.title == "准予行政许可决定书"
    assert (
        ctx.booking.applicant.name in approval.result_text and "医疗保险异地就医备案" in approval.result_text
    )
    assert [m.name for m in approval.materials] == ["申请人居民身份证", "异地就医备案申请表"]
    assert outcome.payload.decision is wire.Decision.COMPLETE
    assert outcome.payload.promised_date == today()
    synced(rig)
    assert server_rows(rig.server, "select case_no, decision, item_code from cases") == [
        (outcome.case_no, "complete", MEDICAL)
    ]


def test_completing_a_non_instant_item_on_the_spot_is_refused(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    message = refused(c.complete_on_the_spot, ctx, checks(ctx.item))
    assert "“有限责任公司设立登记”不是即办件" in message
    instant = c.with_item(ctx, PENSION)
    assert "户口簿" in refused(c.complete_on_the_spot, instant, checks(instant.item, M501=MISSING))
    assert ops(rig) == []
    no_case_saved(rig)


def test_a_decision_needs_an_item_and_an_applicant(rig: CounterRig) -> None:
    c = ready(rig)
    t = call(c)
    no_item = ServiceContext(ticket=t, booking=None, item=None)
    assert "没有选择办理事项" in refused(c.accept, no_item, {})
    walk_in = ServiceContext(ticket=t, booking=None, item=rig.services.store.catalog_item(MEDICAL))
    assert "缺少申请人信息" in refused(c.complete_on_the_spot, walk_in, checks(walk_in.item))
    assert ops(rig) == []
    no_case_saved(rig)


def test_every_decision_kind_reaches_the_server(rig: CounterRig) -> None:
    c = ready(rig)
    made = []
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    made.append(c.accept(ctx, checks(ctx.item)))
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    made.append(c.request_correction(ctx, checks(ctx.item, M201=MISSING)))
    ctx = c.service_context(call(c))
    made.append(c.reject(ctx, reasons=[REJECTION_REASONS[2]], legal_basis=DEFAULT_LEGAL_BASIS))
    ctx = c.with_item(c.service_context(call(c)), PENSION)
    made.append(c.complete_on_the_spot(ctx, checks(ctx.item)))
    assert [o.kind for o in made] == [
        PaperKind.RECEIPT,
        PaperKind.CORRECTION,
        PaperKind.REJECTION,
        PaperKind.APPROVAL,
    ]
    assert [o.case_no for o in made] == [format_case_no(HALL, today(), 1, n) for n in (1, 2, 3, 4)]
    synced(rig)
    assert server_rows(rig.server, "select case_no, decision, window_no from cases order by case_no") == [
        (made[0].case_no, "accept", 1),
        (made[1].case_no, "correct", 1),
        (made[2].case_no, "reject", 1),
        (made[3].case_no, "complete", 1),
    ]
    assert [server_ticket(rig.server, f"A00{n}")[0] for n in (1, 2, 3, 4)] == ["done"] * 4


# -- pick-up ------------------------------------------------------------------------------------------


def test_pickup_of_an_accepted_case_once(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    accepted = c.accept(ctx, checks(ctx.item))
    at = dt.datetime.now().replace(microsecond=0) + dt.timedelta(hours=2)
    c.clock = lambda: at
    slip = c.pickup(accepted.case_no, "  张三（代领） ")
    assert slip.kind is PaperKind.PICKUP and slip.case_no == accepted.case_no
    paper = slip.paper
    assert isinstance(paper, PickupSlip)
    assert (paper.picked_up_by, paper.picked_up_at) == ("张三（代领）", at)
    assert paper.promised_date == accepted.payload.promised_date
    assert "有限责任公司设立登记" in paper.result_name
    assert paper.header.case_no == accepted.case_no
    case = rig.services.store.case(accepted.case_no)
    assert case is not None and case.picked_up_at == at
    [(kind, p)] = [op for op in ops(rig) if op[0] == "case_picked_up"]
    assert (p["case_no"], p["window_no"], p["picked_up_by"]) == (accepted.case_no, 1, "张三（代领）")

    before = len(ops(rig))
    message = refused(c.pickup, accepted.case_no, "张三")
    assert f"办件 {accepted.case_no} 的结果已于 {at:%Y-%m-%d %H:%M} 领取" in message
    assert len(ops(rig)) == before

    synced(rig)
    [(picked_up_at, picked_up_by)] = server_rows(
        rig.server, "select picked_up_at, picked_up_by from cases where case_no = ?", accepted.case_no
    )
    assert picked_up_at is not None and picked_up_by == "张三（代领）"
    assert dt.datetime.fromisoformat(picked_up_at).replace(tzinfo=dt.UTC) == at.astimezone()


def test_pickup_refusals(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    accepted = c.accept(ctx, checks(ctx.item))
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    corrected = c.request_correction(ctx, checks(ctx.item, M201=MISSING))
    ctx = c.with_item(c.service_context(call(c)), PENSION)
    completed = c.complete_on_the_spot(ctx, checks(ctx.item))
    before = len(ops(rig))
    assert "请填写领取人姓名" in refused(c.pickup, accepted.case_no, "  ")
    assert "本窗口没有办件 DEMO-20000101-01-0001" in refused(c.pickup, "DEMO-20000101-01-0001", "张三")
    assert "没有受理，没有可领取的结果" in refused(c.pickup, corrected.case_no, "张三")
    assert "没有受理" in refused(c.pickup, completed.case_no, "张三")
    assert len(ops(rig)) == before
    case = rig.services.store.case(accepted.case_no)
    assert case is not None and case.picked_up_at is None


def test_archive_document_of_a_correction_notice(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = c.with_item(c.service_context(call(c)), PROPERTY)
    outcome = c.request_correction(ctx, checks(ctx.item, M001=MISSING))
    path = c.archive_document(outcome, b"%PDF-1.7 correction")
    assert path.read_bytes() == b"%PDF-1.7 correction"
    assert path.parent.name == outcome.case_no
    synced(rig)
    assert server_rows(rig.server, "select case_no, kind from documents") == [(outcome.case_no, "correction")]


# -- overdue --------------------------------------------------------------------------------------------


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, day: dt.date, hour: int = 10) -> None:
        self.now = dt.datetime.combine(day, dt.time(hour))


D = dt.date  # for the dates of the 2026 National Day holiday below


def by_kind(entries: list[OverdueEntry]) -> dict[str, list[tuple[str, dt.date | None, int | None]]]:
    out: dict[str, list[tuple[str, dt.date | None, int | None]]] = {}
    for e in entries:
        out.setdefault(e.kind, []).append((e.case_no, e.date, e.working_days_left))
    return out


def test_overdue_follows_the_holiday_calendar(rig: CounterRig) -> None:
    """Decided on Tue 2026-09-29, just before National Day (Oct 1-7 off, Sat Oct 10 worked)."""
    c = ready(rig)
    with_decisions(c, correction_working_days=5)
    clock = FakeClock(dt.datetime(2026, 9, 29, 10, 0))
    c.clock = clock
    cal = WorkCalendar()
    assert cal.add_working_days(D(2026, 9, 29), 3) == D(2026, 10, 9)
    assert cal.add_working_days(D(2026, 9, 29), 5) == D(2026, 10, 12)

    ctx = c.with_item(c.service_context(call(c)), COMPANY)  # promised in 3 working days
    accepted = c.accept(ctx, checks(ctx.item))
    assert accepted.payload.promised_date == D(2026, 10, 9)
    clock.now += dt.timedelta(minutes=20)
    ctx = c.with_item(c.service_context(call(c)), PROPERTY)
    corrected = c.request_correction(ctx, checks(ctx.item, M402=MISSING))
    assert corrected.payload.correction_deadline == D(2026, 10, 12)
    a, k = accepted.case_no, corrected.case_no
    item_names = {e.case_no: e.item_name for e in c.overdue()}
    assert item_names[k] == "不动产转移登记（二手房买卖）"
    assert {e.applicant_name for e in c.overdue() if e.case_no == k} == {ctx.booking.applicant.name}  # type: ignore[union-attr]

    expected: list[tuple[dt.date, dict[str, list[tuple[str, dt.date | None, int | None]]]]] = [
        # 3 working days left: more than the 2-day warning.
        (D(2026, 9, 29), {"correction_open": [(k, D(2026, 10, 12), 5)]}),
        (
            D(2026, 9, 30),
            {"due_soon": [(a, D(2026, 10, 9), 2)], "correction_open": [(k, D(2026, 10, 12), 4)]},
        ),
        # A week of holiday later, still two working days.
        (
            D(2026, 10, 5),
            {"due_soon": [(a, D(2026, 10, 9), 2)], "correction_open": [(k, D(2026, 10, 12), 4)]},
        ),
        (
            D(2026, 10, 9),
            {"due_soon": [(a, D(2026, 10, 9), 0)], "correction_open": [(k, D(2026, 10, 12), 2)]},
        ),
        # Saturday 10 October is a makeup workday: the promise is one working day past.
        (
            D(2026, 10, 10),
            {"overdue": [(a, D(2026, 10, 9), -1)], "correction_open": [(k, D(2026, 10, 12), 1)]},
        ),
        (
            D(2026, 10, 12),
            {"overdue": [(a, D(2026, 10, 9), -2)], "correction_open": [(k, D(2026, 10, 12), 0)]},
        ),
        (
            D(2026, 10, 13),
            {"overdue": [(a, D(2026, 10, 9), -3)], "correction_late": [(k, D(2026, 10, 12), -1)]},
        ),
    ]
    for day, kinds in expected:
        clock.at(day)
        assert by_kind(c.overdue()) == kinds, day

    # Handing the result over ends the warning.
    c.pickup(a, "本人")
    assert by_kind(c.overdue()) == {"correction_late": [(k, D(2026, 10, 12), -1)]}


def test_the_warning_window_comes_from_config(rig: CounterRig) -> None:
    c = ready(rig)
    c.config = dataclasses.replace(
        c.config, counter=dataclasses.replace(c.config.counter, overdue_warning_days=0)
    )
    clock = FakeClock(dt.datetime(2026, 9, 29, 10, 0))
    c.clock = clock
    ctx = c.with_item(c.service_context(call(c)), COMPANY)
    a = c.accept(ctx, checks(ctx.item)).case_no
    clock.at(D(2026, 10, 8))
    assert c.overdue() == []
    clock.at(D(2026, 10, 9))
    assert [(e.case_no, e.kind, e.working_days_left) for e in c.overdue()] == [(a, "due_soon", 0)]


def test_a_returned_correction_is_no_longer_listed(rig: CounterRig) -> None:
    c = ready(rig)
    with_decisions(c, correction_working_days=5)  # due 2026-10-12
    clock = FakeClock(dt.datetime(2026, 9, 29, 10, 0))
    c.clock = clock
    first = c.with_item(c.service_context(call(c)), PROPERTY)
    assert first.booking is not None
    applicant = first.booking.applicant
    corrected = c.request_correction(first, checks(first.item, M402=MISSING))
    # The same citizen is asked to correct another item too: that one stays open.
    clock.now += dt.timedelta(minutes=5)
    other_item = c.with_item(c.service_context(call(c)), COMPANY)
    other = c.request_correction(other_item, checks(other_item.item, M201=MISSING), applicant=applicant)
    # Another citizen is accepted for the same item: the first correction stays open.
    clock.now += dt.timedelta(minutes=5)
    stranger = c.with_item(c.service_context(call(c)), PROPERTY)
    assert stranger.booking is not None and stranger.booking.applicant.id_number != applicant.id_number
    strangers = c.accept(stranger, checks(stranger.item)).case_no  # promised 2026-10-12
    assert {e.case_no for e in c.overdue() if e.kind.startswith("correction")} == {
        corrected.case_no,
        other.case_no,
    }

    # Two weeks later the citizen comes back as a walk-in with the materials, and is accepted.
    clock.at(D(2026, 10, 13))
    assert {e.case_no: e.kind for e in c.overdue() if e.kind.startswith("correction")} == {
        corrected.case_no: "correction_late",
        other.case_no: "correction_late",
    }
    back = call(c)
    walk_in = ServiceContext(ticket=back, booking=None, item=rig.services.store.catalog_item(PROPERTY))
    returned = c.accept(walk_in, checks(walk_in.item), applicant=applicant)
    assert returned.payload.promised_date == D(2026, 10, 20)  # 5 working days: not due soon yet
    assert {e.case_no: e.kind for e in c.overdue()} == {
        strangers: "overdue",
        other.case_no: "correction_late",
    }
