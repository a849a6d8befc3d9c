"""Sync through a network that breaks: the clerk's work is kept, then delivered exactly once.

A real counter (``build_services``) talks to a real hallserver through
``FaultyProxy``. For each fault the outbox keeps every op pending with the failed
offer counted, the status says in words what went wrong, and once the fault is
gone one sync round delivers everything: each op id once in ``applied_ops``,
each case once. Where the server applied a push whose answer never arrived, the
resend comes back ``duplicate``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, make_config
from helpers.faulty_proxy import FaultyProxy
from helpers.live_server import LiveServer

from hallclient import wire
from hallclient.domain import MaterialCheck
from hallclient.events import SyncStatus
from hallclient.services import Services, build_services
from hallclient.sync import CURSOR_KEY
from printing.receipt import render_receipt

TIMEOUT_S = 1.0
PUSH = "/sync/push"
PULL = "/sync/pull"
UNREACHABLE = "无法连接服务器"
TIMED_OUT = f"服务器在 {TIMEOUT_S} 秒内没有响应"


# -- setup ---------------------------------------------------------------------------


@pytest.fixture
def proxy(live_server: LiveServer) -> Iterator[FaultyProxy]:
    with FaultyProxy(live_server.port) as p:
        yield p


def counter_behind(
    proxy: FaultyProxy, server: LiveServer, folder: Path, *, batch_size: int = 200
) -> Services:
    config = make_config(server, folder, timeout_s=TIMEOUT_S)
    config = dataclasses.replace(
        config,
        server=dataclasses.replace(config.server, url=proxy.url),
        sync=dataclasses.replace(config.sync, batch_size=batch_size),
    )
    return build_services(config)


def ready(services: Services) -> Services:
    """Signed in, catalog and bookings fetched, tickets pulled: all through a healthy proxy."""
    assert services.counter.login(DEMO_USER, DEMO_PASSWORD).online
    services.counter.refresh()
    assert services.sync.sync_once().online
    return services


@pytest.fixture
def s(proxy: FaultyProxy, live_server: LiveServer, tmp_path: Path) -> Iterator[Services]:
    services = counter_behind(proxy, live_server, tmp_path / "w1")
    try:
        yield ready(services)
    finally:
        services.close()


# -- the clerk's work ----------------------------------------------------------------


def serve_next(s: Services) -> str:
    """Call, accept with every original seen, print and archive the receipt, take the rating."""
    ticket = s.counter.call_next()
    assert ticket is not None
    ctx = s.counter.service_context(ticket)
    assert ctx.item is not None and ctx.booking is not None
    outcome = s.counter.accept(ctx, {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials})
    s.counter.archive_document(outcome, render_receipt(outcome.receipt))
    s.counter.record_rating(
        outcome.payload.case_no, wire.RatingLevel.SATISFIED, decided_at=outcome.payload.decided_at
    )
    return outcome.payload.case_no


# -- looking at both ends ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class OutboxLine:
    op_id: str
    kind: str
    status: str
    attempts: int
    last_error: str


def outbox(s: Services) -> list[OutboxLine]:
    with sqlite3.connect(s.store.path) as db:
        rows = db.execute(
            "SELECT op_id, kind, status, attempts, last_error FROM outbox ORDER BY id"
        ).fetchall()
    return [OutboxLine(*r) for r in rows]


def server_rows(server: LiveServer, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.db_path) as db:
        return db.execute(sql).fetchall()


def server_op_ids(server: LiveServer) -> list[str]:
    return sorted(str(r[0]) for r in server_rows(server, "SELECT op_id FROM applied_ops"))


def assert_kept_offline(status: SyncStatus, s: Services, *, pending: int, error: str, attempts: int) -> None:
    """Nothing lost, nothing marked done, the failed offers counted with the reason in words."""
    assert not status.online
    assert error in status.last_error, status.last_error
    assert status.pending_ops == pending == s.store.pending_count()
    lines = outbox(s)
    assert len(lines) == pending
    assert all(x.status == "pending" for x in lines)
    assert [x.attempts for x in lines] == [attempts] * pending
    assert all(error in x.last_error for x in lines), {x.last_error for x in lines}


def assert_delivered_once(server: LiveServer, s: Services, case_nos: list[str]) -> None:
    status = s.sync.sync_once()
    assert status.online and status.last_error == "" and status.pending_ops == 0 and status.conflicts == 0
    lines = outbox(s)
    assert lines and {x.status for x in lines} <= {"applied", "duplicate"}
    # Every op the counter made is on the server exactly once, each applied on its first arrival
    # (a second application of a case would have come back as a conflict).
    assert server_op_ids(server) == sorted(x.op_id for x in lines)
    assert {r[0] for r in server_rows(server, "SELECT status FROM applied_ops")} == {"applied"}
    for table in ("cases", "ratings", "documents"):
        assert sorted(str(r[0]) for r in server_rows(server, f"SELECT case_no FROM {table}")) == sorted(
            case_nos
        ), table
    served = server_rows(server, "SELECT ticket_no FROM cases")
    done = server_rows(server, "SELECT ticket_no FROM tickets WHERE state = 'done' AND window_no = 1")
    assert sorted(served) == sorted(done)
    # Nobody is left standing at a window the server thinks is calling them.
    assert server_rows(server, "SELECT ticket_no FROM tickets WHERE state = 'called'") == []


# -- faults before the server sees the push ------------------------------------------


def test_server_down_keeps_the_work_and_delivers_it_once_back(
    s: Services, proxy: FaultyProxy, live_server: LiveServer
) -> None:
    first = serve_next(s)
    live_server.stop()
    second = serve_next(s)  # the call falls back to the local queue: a ticket_state op more
    status = s.sync.sync_once()
    assert_kept_offline(status, s, pending=7, error=UNREACHABLE, attempts=1)
    assert proxy.upstream_failures >= 2
    assert server_rows(live_server, "SELECT count(*) FROM cases") == [(0,)]

    live_server.start()
    assert_delivered_once(live_server, s, [first, second])
    assert {x.status for x in outbox(s)} == {"applied"}


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        pytest.param("refuse", UNREACHABLE, id="connection-refused"),
        pytest.param("http_500", "服务器错误（HTTP 500）", id="http-500-html"),
        pytest.param("stall", TIMED_OUT, id="stall-timeout"),
    ],
)
def test_fault_before_the_server_keeps_the_work_and_delivers_it_once_after(
    s: Services, proxy: FaultyProxy, live_server: LiveServer, mode: str, error: str
) -> None:
    first = serve_next(s)
    proxy.set_mode(mode)
    second = serve_next(s)  # served from the local queue while the platform does not answer
    for attempt in (1, 2):
        status = s.sync.sync_once()
        assert_kept_offline(status, s, pending=7, error=error, attempts=attempt)
    # The proxy never forwarded: the server has none of it.
    assert server_rows(live_server, "SELECT count(*) FROM applied_ops") == [(0,)]
    assert server_rows(live_server, "SELECT count(*) FROM cases") == [(0,)]
    if mode != "refuse":  # a refused connection never becomes a request
        assert proxy.counts.get(mode, 0) >= 3  # the call and two pushes

    proxy.clear()
    assert_delivered_once(live_server, s, [first, second])
    assert {x.status for x in outbox(s)} == {"applied"}


def test_garbage_answer_is_not_taken_for_an_acknowledgement(
    s: Services, proxy: FaultyProxy, live_server: LiveServer
) -> None:
    case_no = serve_next(s)
    with proxy.fault("garbage"):
        status = s.sync.sync_once()
    # Not the platform's answer (a proxy or portal page): offline, so calling goes on locally.
    assert not status.online
    assert "服务器返回的不是有效的 JSON（HTTP 200）" in status.last_error
    assert status.pending_ops == 3
    lines = outbox(s)
    assert [x.status for x in lines] == ["pending"] * 3 and [x.attempts for x in lines] == [1] * 3
    assert all("不是有效的 JSON" in x.last_error for x in lines)
    assert proxy.counts["garbage"] == 1
    assert server_rows(live_server, "SELECT count(*) FROM applied_ops") == [(0,)]

    assert_delivered_once(live_server, s, [case_no])
    assert {x.status for x in outbox(s)} == {"applied"}


# -- faults after the server applied the push ----------------------------------------


def test_reset_mid_response_then_resend_answers_duplicate(
    s: Services, proxy: FaultyProxy, live_server: LiveServer
) -> None:
    case_no = serve_next(s)
    with proxy.fault("reset_mid_response", only=PUSH):
        status = s.sync.sync_once()
        assert_kept_offline(status, s, pending=3, error="服务器的回答中途断开", attempts=1)
    # The server did apply all three; only the answer was cut.
    assert server_op_ids(live_server) == sorted(x.op_id for x in outbox(s))
    assert server_rows(live_server, "SELECT case_no FROM cases") == [(case_no,)]

    assert_delivered_once(live_server, s, [case_no])
    assert {x.status for x in outbox(s)} == {"duplicate"}


def test_lost_response_is_resent_and_answered_duplicate_next_to_new_ops(
    s: Services, proxy: FaultyProxy, live_server: LiveServer
) -> None:
    first = serve_next(s)
    first_ops = {x.op_id for x in outbox(s)}

    proxy.set_mode("lose_response")
    status = s.sync.sync_once()
    assert_kept_offline(status, s, pending=3, error=UNREACHABLE, attempts=1)
    assert proxy.seen[-1].mode == "lose_response" and PUSH in proxy.seen[-1].target
    # Applied on the server, still pending at the counter: the dangerous gap.
    assert server_op_ids(live_server) == sorted(first_ops)
    assert server_rows(live_server, "SELECT case_no FROM cases") == [(first,)]

    # The network then goes away entirely and the clerk serves the next citizen offline.
    proxy.set_mode("refuse")
    second = serve_next(s)
    status = s.sync.sync_once()
    assert not status.online and UNREACHABLE in status.last_error and status.pending_ops == 7
    assert {x.op_id: x.attempts for x in outbox(s) if x.op_id in first_ops} == dict.fromkeys(first_ops, 2)
    assert server_op_ids(live_server) == sorted(first_ops)

    proxy.clear()
    assert_delivered_once(live_server, s, [first, second])
    answered = {x.op_id: x.status for x in outbox(s)}
    assert {answered[o] for o in first_ops} == {"duplicate"}
    assert {v for k, v in answered.items() if k not in first_ops} == {"applied"}
    assert server_rows(live_server, "SELECT count(*) FROM cases") == [(2,)]


def test_lost_response_in_the_middle_of_batches(
    proxy: FaultyProxy, live_server: LiveServer, tmp_path: Path
) -> None:
    s = ready(counter_behind(proxy, live_server, tmp_path / "w1", batch_size=2))
    try:
        cases = [serve_next(s), serve_next(s)]  # six ops: three batches of two
        with proxy.fault("lose_response", only=PUSH, after=1):
            status = s.sync.sync_once()
        assert not status.online and UNREACHABLE in status.last_error and status.pending_ops == 4
        lines = outbox(s)
        # Batch 1 answered; batch 2 applied but unanswered; batch 3 never offered.
        assert [(x.status, x.attempts) for x in lines] == [
            ("applied", 0),
            ("applied", 0),
            ("pending", 1),
            ("pending", 1),
            ("pending", 0),
            ("pending", 0),
        ]
        assert server_op_ids(live_server) == sorted(x.op_id for x in lines[:4])

        assert_delivered_once(live_server, s, cases)
        assert [x.status for x in outbox(s)] == ["applied"] * 2 + ["duplicate"] * 2 + ["applied"] * 2
    finally:
        s.close()


def test_answer_later_than_the_timeout_is_resent_and_answered_duplicate(
    s: Services, proxy: FaultyProxy, live_server: LiveServer
) -> None:
    case_no = serve_next(s)
    with proxy.fault("slow", only=PUSH, delay_s=TIMEOUT_S + 0.5):
        status = s.sync.sync_once()
        assert_kept_offline(status, s, pending=3, error=TIMED_OUT, attempts=1)
    assert server_rows(live_server, "SELECT case_no FROM cases") == [(case_no,)]

    assert_delivered_once(live_server, s, [case_no])
    assert {x.status for x in outbox(s)} == {"duplicate"}


def test_lost_call_next_answer_does_not_strand_the_citizen(
    s: Services, proxy: FaultyProxy, live_server: LiveServer
) -> None:
    # The server claims a ticket for window 1, the answer is lost, the counter calls from its cache.
    with proxy.fault("lose_response", only="/queue/call-next"):
        case_no = serve_next(s)
    assert proxy.counts["lose_response"] == 1
    assert_delivered_once(live_server, s, [case_no])
    assert [x.kind for x in outbox(s)][0] == wire.OpKind.TICKET_STATE.value


def test_slow_server_works_only_slower(s: Services, proxy: FaultyProxy, live_server: LiveServer) -> None:
    case_no = serve_next(s)
    proxy.set_mode("slow", delay_s=0.3)
    started = time.monotonic()
    status = s.sync.sync_once()
    elapsed = time.monotonic() - started
    assert status.online and status.last_error == "" and status.pending_ops == 0
    assert proxy.counts["slow"] >= 2 and elapsed >= 0.6  # a push and a pull, each held back
    assert {x.status for x in outbox(s)} == {"applied"}
    assert {x.attempts for x in outbox(s)} == {0}
    proxy.clear()
    assert_delivered_once(live_server, s, [case_no])


# -- pull --------------------------------------------------------------------------


def test_pull_fault_never_moves_the_cursor_past_unstored_changes(
    proxy: FaultyProxy, live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = counter_behind(proxy, live_server, tmp_path / "w1")
    try:
        assert s.counter.login(DEMO_USER, DEMO_PASSWORD).online  # nothing fetched or pulled yet
        full_pull = s.api.pull
        monkeypatch.setattr(s.api, "pull", lambda cursor, limit=500: full_pull(cursor, limit=10))
        seqs = [
            int(str(r[0]))
            for r in server_rows(
                live_server,
                "SELECT seq FROM change_log WHERE hall_code = 'DEMO' OR hall_code IS NULL ORDER BY seq",
            )
        ]
        assert len(seqs) > 30  # catalog, bookings and tickets: many pages of ten

        def local_count(table: str) -> int:
            with sqlite3.connect(s.store.path) as db:
                return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

        def stored() -> int:
            return sum(local_count(t) for t in ("catalog_items", "bookings", "tickets"))

        # The first page is reset mid-answer: nothing stored, the cursor stays at 0.
        with proxy.fault("reset_mid_response", only=PULL):
            status = s.sync.sync_once()
        assert not status.online and "服务器的回答中途断开" in status.last_error
        assert s.store.get_state(CURSOR_KEY, "0") == "0" and stored() == 0

        # Two pages arrive, the third is reset: the cursor is exactly where the stored changes end.
        with proxy.fault("reset_mid_response", only=PULL, after=2):
            status = s.sync.sync_once()
        assert not status.online
        assert int(s.store.get_state(CURSOR_KEY)) == seqs[19]
        assert stored() == 20

        # The answer of the next page is lost after the server sent it: still nothing skipped.
        with proxy.fault("lose_response", only=PULL):
            status = s.sync.sync_once()
        assert not status.online and UNREACHABLE in status.last_error
        assert int(s.store.get_state(CURSOR_KEY)) == seqs[19] and stored() == 20

        status = s.sync.sync_once()
        assert status.online and status.last_error == ""
        assert int(s.store.get_state(CURSOR_KEY)) == seqs[-1]
        assert local_count("tickets") == 48 and local_count("bookings") == 48
        server_tickets = server_rows(live_server, "SELECT ticket_no, state FROM tickets ORDER BY ticket_no")
        local = [(t.ticket_no, t.state.value) for t in s.store.tickets(dt.date.today(), "DEMO")]
        assert local == [(str(a), str(b)) for a, b in server_tickets]
        assert stored() == len(seqs)  # every change once: catalog items, bookings and tickets
    finally:
        s.close()


def test_pull_fault_after_a_good_push_still_catches_up(
    s: Services, proxy: FaultyProxy, live_server: LiveServer
) -> None:
    cursor_before = s.store.get_state(CURSOR_KEY)
    case_no = serve_next(s)
    with proxy.fault("reset_mid_response", only=PULL):
        status = s.sync.sync_once()
    # The push went through and is acknowledged; only the pull failed, and the cursor did not move.
    assert not status.online and "服务器的回答中途断开" in status.last_error
    assert status.pending_ops == 0 and {x.status for x in outbox(s)} == {"applied"}
    assert s.store.get_state(CURSOR_KEY) == cursor_before

    assert_delivered_once(live_server, s, [case_no])
    (max_seq,) = server_rows(live_server, "SELECT max(seq) FROM change_log")[0]
    assert int(s.store.get_state(CURSOR_KEY)) == max_seq
    (called,) = [t for t in s.store.tickets(dt.date.today(), "DEMO") if t.ticket_no == "A001"]
    assert called.state is wire.TicketState.DONE


@pytest.mark.parametrize("mode", ["garbage", "http_500"])
def test_a_foreign_answer_does_not_stop_the_counter_calling(
    s: Services, proxy: FaultyProxy, live_server: LiveServer, mode: str
) -> None:
    """A portal page or a proxy's error page: the clerk keeps calling from the local queue."""
    with proxy.fault(mode):
        case_no = serve_next(s)
        assert s.counter.queue()  # the local queue is still there to work from
    proxy.clear()
    assert_delivered_once(live_server, s, [case_no])
