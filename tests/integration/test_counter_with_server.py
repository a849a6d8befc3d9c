"""The counter core against a real hallserver on loopback: the skeleton path, online and offline."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import sqlite3
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig, make_config, make_rig
from helpers.live_server import LiveServer
from pypdf import PdfReader

from hallclient import wire
from hallclient.counter import Counter, CounterError
from hallclient.domain import MaterialCheck
from hallclient.services import build_services
from printing.receipt import render_receipt


def all_seen(counter: Counter, ctx_item: wire.ServiceItem | None) -> dict[str, MaterialCheck]:
    assert ctx_item is not None
    return {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx_item.materials}


def server_rows(server: LiveServer, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.db_path) as db:
        return db.execute(sql).fetchall()


def test_wrong_password_is_refused_with_a_clear_message(rig: CounterRig) -> None:
    with pytest.raises(CounterError, match="用户名或密码错误"):
        rig.services.counter.login(DEMO_USER, "not-the-password")


def test_server_down_at_first_login_says_so(tmp_path: Path, live_server: LiveServer) -> None:
    live_server.stop()
    config = make_config(live_server, tmp_path / "w1", timeout_s=1.0)
    services = build_services(config)
    try:
        with pytest.raises(CounterError) as err:
            services.counter.login(DEMO_USER, DEMO_PASSWORD)
        assert "无法连接服务器" in str(err.value)
        assert "先在本机在线登录过一次" in str(err.value)
    finally:
        services.close()


def test_call_accept_print_rate_sync_and_verify(rig: CounterRig) -> None:
    s = rig.services
    session = s.counter.login(DEMO_USER, DEMO_PASSWORD)
    assert session.online and session.hall_name == "示范区政务服务中心"
    s.counter.refresh()
    status = s.sync.sync_once()
    assert status.online and status.last_error == ""
    rows = s.counter.queue()
    assert len(rows) == 48 and all(r.ticket.state is wire.TicketState.WAITING for r in rows)

    ticket = s.counter.call_next()
    assert ticket is not None and ticket.ticket_no == "A001" and ticket.window_no == 1
    ctx = s.counter.service_context(ticket)
    assert ctx.booking is not None and ctx.item is not None
    assert ctx.booking.code == ticket.booking_code

    outcome = s.counter.accept(ctx, all_seen(s.counter, ctx.item))
    case_no = outcome.payload.case_no
    assert case_no == f"DEMO-{dt.date.today():%Y%m%d}-01-0001"
    assert outcome.payload.promised_date is not None
    assert outcome.payload.promised_date >= dt.date.today()

    pdf = render_receipt(outcome.receipt)
    path = s.counter.archive_document(outcome, pdf)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert case_no in text and ctx.item.name in text
    # The paper shows the applicant masked, never in full.
    assert ctx.booking.applicant.id_number not in text
    assert ctx.booking.applicant.id_number[:6] in text

    s.counter.record_rating(case_no, wire.RatingLevel.SATISFIED, decided_at=outcome.payload.decided_at)
    # The online call was the server's own claim; the decision, the paper and the rating wait in the outbox.
    assert s.store.pending_count() == 3

    status = s.sync.sync_once()
    assert status.online and status.pending_ops == 0 and status.conflicts == 0
    assert server_rows(rig.server, "select case_no, decision, window_no from cases") == [
        (case_no, "accept", 1)
    ]
    assert server_rows(rig.server, "select case_no, level from ratings") == [(case_no, "satisfied")]
    assert server_rows(rig.server, f"select state from tickets where ticket_no = '{ticket.ticket_no}'") == [
        ("done",)
    ]
    (sha,) = server_rows(rig.server, "select sha256 from documents")[0]
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()

    # The QR code on the paper leads to a page that confirms it.
    url = outcome.receipt.verify_url
    assert urlparse(url).netloc == urlparse(rig.server.url).netloc
    page = requests.get(url, timeout=5)
    assert page.status_code == 200 and "验证通过" in page.text and case_no in page.text
    forged = requests.get(url[:-6] + ("AAAAAA" if not url.endswith("AAAAAA") else "BBBBBB"), timeout=5)
    assert "验证未通过" in forged.text


def test_offline_counter_keeps_serving_and_catches_up(rig: CounterRig) -> None:
    s = rig.services
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    s.counter.refresh()
    s.sync.sync_once()
    rig.server.stop()

    # A later sign-in while the network is down uses the verifier from the online one.
    session = s.counter.login(DEMO_USER, DEMO_PASSWORD)
    assert not session.online
    with pytest.raises(CounterError, match="用户名或密码错误"):
        s.counter.login(DEMO_USER, "wrong-password")
    s.counter.login(DEMO_USER, DEMO_PASSWORD)

    ticket = s.counter.call_next()
    assert ticket is not None and ticket.ticket_no == "A001"
    ctx = s.counter.service_context(ticket)
    outcome = s.counter.accept(ctx, all_seen(s.counter, ctx.item))
    case_no = outcome.payload.case_no
    s.counter.archive_document(outcome, render_receipt(outcome.receipt))
    s.counter.record_rating(case_no, wire.RatingLevel.NOT_RATED, decided_at=outcome.payload.decided_at)
    status = s.sync.sync_once()
    assert not status.online and status.pending_ops == 4 and "无法连接服务器" in status.last_error

    rig.server.start()  # same port, same database: the network is back
    s.counter.login(DEMO_USER, DEMO_PASSWORD)  # a fresh token for the pushes
    status = s.sync.sync_once()
    assert status.online and status.pending_ops == 0 and status.conflicts == 0
    # The number printed offline is the number the platform keeps.
    assert server_rows(rig.server, "select case_no from cases") == [(case_no,)]
    assert server_rows(rig.server, "select level from ratings") == [("not_rated",)]
    # The server now knows A001 is done and will not hand it to anyone else.
    assert s.counter.call_next() is not None
    assert server_rows(rig.server, "select state, window_no from tickets where ticket_no = 'A001'") == [
        ("done", 1)
    ]


def test_two_windows_never_call_the_same_citizen(live_server: LiveServer, tmp_path: Path) -> None:
    rigs = [make_rig(live_server, tmp_path / f"w{n}", window_no=n) for n in (1, 2, 3)]
    called: dict[int, list[str]] = {1: [], 2: [], 3: []}
    try:
        for r in rigs:
            r.services.counter.login(f"clerk{r.config.counter.window_no}", DEMO_PASSWORD)

        def work(r: CounterRig) -> None:
            for _ in range(20):
                t = r.services.counter.call_next()
                if t is None:
                    return
                called[r.config.counter.window_no].append(t.ticket_no)

        threads = [threading.Thread(target=work, args=(r,)) for r in rigs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for r in rigs:
            r.close()
    everyone = [no for nos in called.values() for no in nos]
    assert len(everyone) == 48 and len(set(everyone)) == 48
    assert all(called.values()), "every window got some citizens"


def test_a_clock_far_off_the_servers_is_reported_at_sign_in(rig: CounterRig) -> None:
    counter = rig.services.counter
    assert counter.login(DEMO_USER, DEMO_PASSWORD).warnings == ()
    counter.clock = lambda: dt.datetime.now() + dt.timedelta(minutes=30)
    (warning,) = counter.login(DEMO_USER, DEMO_PASSWORD).warnings
    assert "快 30 分钟" in warning and "校准时间" in warning
    counter.clock = lambda: dt.datetime.now() - dt.timedelta(hours=25)
    (warning,) = counter.login(DEMO_USER, DEMO_PASSWORD).warnings
    assert "慢 1500 分钟" in warning


def test_a_dissatisfied_rating_opens_a_follow_up_due_in_working_days(rig: CounterRig) -> None:
    s = rig.services
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    s.counter.refresh()
    ticket = s.counter.call_next()
    assert ticket is not None
    ctx = s.counter.service_context(ticket)
    outcome = s.counter.accept(ctx, all_seen(s.counter, ctx.item))
    case_no = outcome.payload.case_no
    s.counter.record_rating(case_no, wire.RatingLevel.DISSATISFIED, decided_at=outcome.payload.decided_at)
    days = rig.config.citizen_screen.follow_up_working_days
    expected, _warnings = s.counter.promised_date(dt.date.today(), days)
    assert s.store.open_follow_ups() == [(case_no, "dissatisfied", expected)]
    assert s.sync.sync_once().pending_ops == 0
    assert server_rows(rig.server, "select level from ratings") == [("dissatisfied",)]
