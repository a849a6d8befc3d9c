"""SMS notices: recorded with the call and the ready result, delivered off the request, retried, masked.

The gateway of the failing and succeeding HTTP tests is a real HTTP server on loopback;
the dispatcher, the senders and the app are the real ones, and the clock is the test's.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, DAY, Counter, MovableClock, case_payload, local, op
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hallclient import wire
from hallserver import notices
from hallserver.models import Booking, Notice, Ticket

PHONE_RE = r"1[3-9]\d{9}"


class Gateway:
    """An SMS gateway on loopback that answers each request with the next status in ``statuses``."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.bodies: list[dict[str, Any]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                gateway.bodies.append(json.loads(self.rfile.read(length)))
                status = gateway.statuses.pop(0) if gateway.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    g = Gateway([])
    yield g
    g.close()


def booking_phone(s: Session, ticket_no: str) -> str:
    t = s.scalar(select(Ticket).where(Ticket.ticket_no == ticket_no, Ticket.date == DAY))
    assert t is not None and t.booking_code
    b = s.get(Booking, t.booking_code)
    assert b is not None
    return str(b.applicant["phone"])


def all_notices(sessions: sessionmaker[Session]) -> list[Notice]:
    with sessions() as s:
        return list(s.scalars(select(Notice).order_by(Notice.id)))


def call(client: TestClient, c: Counter) -> dict[str, Any]:
    r = client.post(f"{API}/queue/call-next", json={"window_no": c.window_no}, headers=c.headers)
    assert r.status_code == 200, r.text
    ticket: dict[str, Any] = r.json()["ticket"]
    return ticket


def quiet_dispatcher(
    client: TestClient, sessions: sessionmaker[Session], clock: MovableClock, sender: Any
) -> notices.NoticeDispatcher:
    """The app's dispatcher with the test's sender; the test delivers by hand (kick does nothing)."""
    d = notices.NoticeDispatcher(sessions, sender, clock)
    d.kick = lambda: None  # type: ignore[method-assign]
    client.app.state.notices = d  # type: ignore[attr-defined]
    return d


def test_a_call_records_the_called_notice_and_the_one_three_places_away(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session], clock: MovableClock
) -> None:
    sender = notices.LoggingSender()
    dispatcher = quiet_dispatcher(client, sessions, clock, sender)
    first = call(client, window1)
    rows = all_notices(sessions)
    assert [(n.kind, n.ref, n.status) for n in rows] == [
        ("called", first["ticket_no"], "pending"),
        ("approaching", "A005", "pending"),  # A002, A003, A004 are ahead of it
    ]
    with sessions() as s:
        assert rows[0].phone == booking_phone(s, first["ticket_no"])
    assert f"{first['ticket_no']} 号已叫到，请到 1 号窗口办理" in rows[0].text
    assert "前面还有 3 位" in rows[1].text
    # A recall does not text again; the next call texts the next citizen and the next one near.
    call(client, window1)
    assert [(n.kind, n.ref) for n in all_notices(sessions)][2:] == [
        ("called", "A002"),
        ("approaching", "A006"),
    ]
    report = dispatcher.deliver_due()
    assert (report.sent, report.retrying, report.failed) == (4, 0, 0)
    assert all(
        n.status == "sent" and n.attempts == 1 and n.sent_at == clock.now for n in all_notices(sessions)
    )
    assert len(sender.sent) == 4
    assert dispatcher.deliver_due().sent == 0  # nothing twice


def test_phone_numbers_are_masked_in_every_log_line_and_listing(
    client: TestClient,
    window1: Counter,
    supervisor: Counter,
    sessions: sessionmaker[Session],
    clock: MovableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import re

    caplog.set_level(logging.DEBUG)
    dispatcher = quiet_dispatcher(client, sessions, clock, notices.LoggingSender())
    call(client, window1)
    dispatcher.deliver_due()
    phones = {n.phone for n in all_notices(sessions)}
    assert phones
    logged = caplog.text
    assert "SMS to" in logged
    for phone in phones:
        assert phone not in logged
        assert f"{phone[:3]}****{phone[-4:]}" in logged
    assert not re.search(PHONE_RE, logged)
    listing = client.get(f"{API}/notices", headers=supervisor.headers)
    assert listing.status_code == 200
    assert not re.search(PHONE_RE, listing.text)
    assert {n["phone"] for n in listing.json()["notices"]} == {f"{p[:3]}****{p[-4:]}" for p in phones}
    # The clerk being served by the notices does not browse them.
    assert client.get(f"{API}/notices", headers=window1.headers).status_code == 403


def test_a_failing_gateway_is_retried_and_the_failure_is_visible(
    client: TestClient,
    window1: Counter,
    supervisor: Counter,
    sessions: sessionmaker[Session],
    clock: MovableClock,
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway.statuses = [503, 500, 200]
    sender = notices.HttpSender(
        gateway.url, '{"mobile": "{phone}", "content": "【短信】{text}", "sign": "政务"}'
    )
    dispatcher = quiet_dispatcher(client, sessions, clock, sender)
    call(client, window1)
    with sessions() as s:
        for n in s.scalars(select(Notice).where(Notice.kind == "approaching")):
            s.delete(n)  # one notice makes the attempts easy to follow
        s.commit()
    [notice] = all_notices(sessions)

    report = dispatcher.deliver_due()
    assert (report.sent, report.retrying) == (0, 1)
    [n] = all_notices(sessions)
    assert (n.status, n.attempts, n.last_error) == ("pending", 1, "短信网关返回 HTTP 503")
    assert n.next_attempt_at == clock.now + notices.RETRY_DELAYS[0]
    assert dispatcher.deliver_due().sent == 0  # not due yet
    failed = client.get(f"{API}/notices", params={"status": "pending"}, headers=supervisor.headers).json()
    assert (
        failed["notices"][0]["last_error"] == "短信网关返回 HTTP 503"
        and failed["notices"][0]["attempts"] == 1
    )

    clock.advance(seconds=31)
    assert dispatcher.deliver_due().retrying == 1
    clock.advance(minutes=3)
    assert dispatcher.deliver_due().sent == 1
    [n] = all_notices(sessions)
    assert (n.status, n.attempts, n.last_error) == ("sent", 3, "")
    # The gateway got the template filled in, three times.
    assert len(gateway.bodies) == 3
    assert gateway.bodies[-1] == {"mobile": notice.phone, "content": "【短信】" + notice.text, "sign": "政务"}
    assert notice.phone not in caplog.text


def test_a_gateway_that_never_takes_the_message_ends_in_failed(
    client: TestClient,
    window1: Counter,
    supervisor: Counter,
    sessions: sessionmaker[Session],
    clock: MovableClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import re

    # A closed port: connection refused every time.
    sender = notices.HttpSender(
        "http://127.0.0.1:9/sms?to={phone}", '{"to": "{phone}", "text": "{text}"}', timeout_s=1
    )
    dispatcher = quiet_dispatcher(client, sessions, clock, sender)
    call(client, window1)
    for _attempt in range(dispatcher.max_attempts):
        dispatcher.deliver_due()
        clock.advance(hours=1)
    rows = all_notices(sessions)
    assert {n.status for n in rows} == {"failed"}
    assert all(
        n.attempts == dispatcher.max_attempts and n.last_error.startswith("短信网关无法连接") for n in rows
    )
    assert dispatcher.deliver_due().sent == 0  # given up: no more attempts
    listed = client.get(f"{API}/notices", params={"status": "failed"}, headers=supervisor.headers).json()
    assert len(listed["notices"]) == len(rows)
    assert "failed for good" in caplog.text and not re.search(PHONE_RE, caplog.text)
    assert not re.search(PHONE_RE, json.dumps(listed, ensure_ascii=False))


class BlockingSender:
    """A gateway that hangs until released: the counter's call must not wait for it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.sent: list[str] = []

    def send(self, phone: str, text: str) -> None:
        self.entered.set()
        self.release.wait(20)
        self.sent.append(text)


def test_a_hanging_gateway_never_holds_up_the_counter(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session], clock: MovableClock
) -> None:
    sender = BlockingSender()
    dispatcher = notices.NoticeDispatcher(sessions, sender, clock)
    client.app.state.notices = dispatcher  # type: ignore[attr-defined]
    try:
        started = time.monotonic()
        call(client, window1)
        assert sender.entered.wait(10), "the dispatcher's thread took the notice"
        for _ in range(3):
            call(client, window1)
        assert time.monotonic() - started < 5, "the calls answered while the gateway hung"
    finally:
        sender.release.set()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(n.status == "pending" for n in all_notices(sessions)):
            dispatcher.kick()
            time.sleep(0.1)
        dispatcher.stop()
    assert {n.status for n in all_notices(sessions)} == {"sent"}


def test_a_ready_result_texts_the_applicant_once(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session], clock: MovableClock
) -> None:
    dispatcher = quiet_dispatcher(client, sessions, clock, notices.LoggingSender())
    accepted = case_payload("DEMO-20260302-01-0001", decision="accept")
    corrected = case_payload("DEMO-20260302-01-0002", decision="correct")
    body = {
        "device_id": window1.device_id,
        "ops": [op("case_decided", accepted), op("case_decided", corrected)],
    }
    assert client.post(f"{API}/sync/push", json=body, headers=window1.headers).status_code == 200
    r = client.post(
        f"{API}/notices/result-ready", json={"case_no": accepted["case_no"]}, headers=window1.headers
    )
    assert r.status_code == 200, r.text
    info = r.json()
    assert (
        info["kind"] == "result_ready"
        and info["ref"] == accepted["case_no"]
        and info["phone"] == "138****8000"
    )
    assert "个体工商户设立登记" in info["text"] and "办理结果已可领取" in info["text"]
    again = client.post(
        f"{API}/notices/result-ready", json={"case_no": accepted["case_no"]}, headers=window1.headers
    )
    assert again.json()["id"] == info["id"]  # once, however often it is marked
    assert dispatcher.deliver_due().sent == 1
    for case_no, status in ((corrected["case_no"], 409), ("DEMO-20260302-01-0099", 404)):
        r = client.post(f"{API}/notices/result-ready", json={"case_no": case_no}, headers=window1.headers)
        assert r.status_code == status, r.text


def test_the_sender_comes_from_the_environment() -> None:
    assert isinstance(notices.sender_from_env({}), notices.LoggingSender)
    sender = notices.sender_from_env(
        {
            "HALLSERVER_SMS_URL": "https://sms.example.gov.cn/send",
            "HALLSERVER_SMS_TEMPLATE": '{"m": "{phone}"}',
        }
    )
    assert isinstance(sender, notices.HttpSender)
    assert json.loads(sender.body("13812345678", "x")) == {"m": "13812345678"}
    with pytest.raises(ValueError, match="not JSON"):
        notices.HttpSender("https://sms.example.gov.cn/send", "phone={phone}")
    assert notices.mask_phones("拨打 13812345678 或 13900001111") == "拨打 138****5678 或 139****1111"


def test_no_phone_no_notice(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session], clock: MovableClock
) -> None:
    """A walk-in who gave no phone number is called on the screen only."""
    with sessions() as s:
        for t in s.scalars(select(Ticket).where(Ticket.date == DAY)):
            t.state = "done"
        s.commit()
    quiet_dispatcher(client, sessions, clock, notices.LoggingSender())
    r = client.post(f"{API}/queue/walk-in", json={}, headers=window1.headers)
    assert r.status_code == 200
    clock.now = local(DAY, 10)
    assert call(client, window1)["ticket_no"] == r.json()["ticket_no"]
    assert all_notices(sessions) == []
    assert wire.NoticeKind.CALLED.value == "called"
    assert dt.timedelta(0) < notices.RETRY_DELAYS[0]
