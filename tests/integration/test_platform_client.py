"""PlatformClient (hallclient/api.py) over real HTTP: the live hallserver and small misbehaving servers."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER
from helpers.live_server import LiveServer

from hallclient import wire
from hallclient.api import PlatformClient, PlatformError, Unreachable

DEVICE = "test-window-01"


def login_request(password: str = DEMO_PASSWORD, **kw: object) -> wire.LoginRequest:
    fields: dict[str, object] = {
        "hall_code": "DEMO",
        "window_no": 1,
        "username": DEMO_USER,
        "password": password,
        "device_id": DEVICE,
    }
    fields.update(kw)
    return wire.LoginRequest.model_validate(fields)


@pytest.fixture
def client(live_server: LiveServer) -> PlatformClient:
    return PlatformClient(live_server.url, timeout_s=5.0)


@pytest.fixture
def logged_in(client: PlatformClient) -> PlatformClient:
    client.login(login_request())
    return client


# -- tiny misbehaving servers on loopback -------------------------------------------------------


Responder = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def fake_server(respond: Responder) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            respond(self)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            respond(self)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def answer(status: int, body: bytes, content_type: str) -> Responder:
    def respond(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    return respond


HTML_500 = b"<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- health and login -----------------------------------------------------------------------------


def test_health(client: PlatformClient) -> None:
    h = client.health()
    assert h.status == "ok" and h.version
    assert abs(h.time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


def test_base_url_trailing_slash_is_ignored(live_server: LiveServer) -> None:
    assert PlatformClient(live_server.url + "/").health().status == "ok"


def test_login_ok_keeps_the_token(client: PlatformClient) -> None:
    assert client.token is None
    resp = client.login(login_request())
    assert resp.token and client.token == resp.token
    assert resp.hall_name == "示范区政务服务中心"
    assert resp.clerk.name == "王晓燕" and resp.clerk.staff_no == "ZW-0107"
    assert resp.expires_at > dt.datetime.now(dt.UTC)


def test_login_with_bad_password_is_bad_credentials(client: PlatformClient) -> None:
    with pytest.raises(PlatformError) as err:
        client.login(login_request(password="not-the-password"))
    e = err.value
    assert not isinstance(e, Unreachable)
    assert (e.code, e.status, e.field) == ("bad_credentials", 401, "password")
    assert e.message == "用户名或密码错误" and str(e) == "用户名或密码错误"
    assert client.token is None


def test_login_of_unknown_user_gives_the_same_answer(client: PlatformClient) -> None:
    with pytest.raises(PlatformError) as err:
        client.login(login_request(username="nobody"))
    assert (err.value.code, err.value.message, err.value.field) == (
        "bad_credentials",
        "用户名或密码错误",
        "password",
    )


def test_login_to_unknown_hall_names_the_field(client: PlatformClient) -> None:
    with pytest.raises(PlatformError) as err:
        client.login(login_request(hall_code="NOPE"))
    assert (err.value.code, err.value.status, err.value.field) == ("unknown_hall", 404, "hall_code")
    assert "NOPE" in err.value.message


def test_authenticated_call_without_login_is_a_platform_error(client: PlatformClient) -> None:
    with pytest.raises(PlatformError) as err:
        client.catalog()
    assert not isinstance(err.value, Unreachable)
    assert err.value.status == 401 and err.value.message


def test_logout_forgets_the_token_and_the_server_refuses_it(logged_in: PlatformClient) -> None:
    token = logged_in.token
    logged_in.logout()
    assert logged_in.token is None
    logged_in.token = token
    with pytest.raises(PlatformError) as err:
        logged_in.catalog()
    assert err.value.status == 401


def test_catalog_and_bookings(logged_in: PlatformClient) -> None:
    items = logged_in.catalog().items
    assert items and all(i.version >= 1 for i in items)
    bookings = logged_in.bookings(dt.date.today()).bookings
    assert len(bookings) == 48
    assert logged_in.bookings(dt.date.today() + dt.timedelta(days=400)).bookings == []


# -- the server cannot be reached ---------------------------------------------------------------------


def test_stopped_server_is_unreachable_quickly_and_names_the_url(live_server: LiveServer) -> None:
    client = PlatformClient(live_server.url, timeout_s=5.0)
    live_server.stop()
    started = time.monotonic()
    with pytest.raises(Unreachable) as err:
        client.health()
    assert time.monotonic() - started < 2.0
    assert err.value.code == "unreachable"
    assert live_server.url in err.value.message and "无法连接服务器" in err.value.message


def test_closed_port_is_unreachable() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    client = PlatformClient(url, timeout_s=5.0)
    started = time.monotonic()
    with pytest.raises(Unreachable) as err:
        client.login(login_request())
    assert time.monotonic() - started < 2.0
    assert err.value.code == "unreachable" and url in err.value.message
    assert client.token is None


def test_unreachable_is_a_platform_error() -> None:
    # Callers that catch PlatformError also catch the offline case.
    with pytest.raises(PlatformError):
        PlatformClient(f"http://127.0.0.1:{closed_port()}", timeout_s=1.0).health()


def test_a_server_that_accepts_but_never_answers_times_out() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_sleep() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)  # hold the connection open, say nothing

    thread = threading.Thread(target=accept_and_sleep, daemon=True)
    thread.start()
    try:
        client = PlatformClient(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout_s=0.5)
        started = time.monotonic()
        with pytest.raises(Unreachable) as err:
            client.health()
        elapsed = time.monotonic() - started
        assert err.value.code == "timeout"
        assert 0.4 <= elapsed < 3.0
        assert "0.5" in err.value.message and "秒内没有响应" in err.value.message
        assert accepted, "the request reached the server"
    finally:
        stop.set()
        thread.join(2)
        for conn in accepted:
            conn.close()
        listener.close()


# -- the server answers, but badly ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_with_html_is_unreachable(status: int) -> None:
    with fake_server(answer(status, HTML_500, "text/html")) as url:
        with pytest.raises(Unreachable) as err:
            PlatformClient(url, timeout_s=2.0).health()
    assert err.value.status == status and err.value.code == "bad_gateway"
    assert f"HTTP {status}" in err.value.message


def test_5xx_with_an_error_body_keeps_the_servers_message() -> None:
    body = wire.ErrorBody(error="internal", message="服务器内部错误，请稍后重试").model_dump_json().encode()
    with fake_server(answer(500, body, "application/json")) as url:
        with pytest.raises(Unreachable) as err:
            PlatformClient(url, timeout_s=2.0).health()
    assert (err.value.code, err.value.status, err.value.message) == (
        "internal",
        500,
        "服务器内部错误，请稍后重试",
    )


def test_4xx_without_the_error_shape_is_not_the_platform_speaking() -> None:
    # A proxy's or captive portal's page: the counter works offline instead of refusing to call.
    with fake_server(answer(404, b"<html>not here</html>", "text/html")) as url:
        with pytest.raises(Unreachable) as err:
            PlatformClient(url, timeout_s=2.0).health()
    assert (err.value.code, err.value.status) == ("bad_gateway", 404)
    assert "HTTP 404" in err.value.message


def test_4xx_with_the_error_shape_is_a_refusal_not_an_outage() -> None:
    body = wire.ErrorBody(error="bad_credentials", message="用户名或密码错误").model_dump_json().encode()
    with fake_server(answer(401, body, "application/json")) as url:
        with pytest.raises(PlatformError) as err:
            PlatformClient(url, timeout_s=2.0).health()
    assert not isinstance(err.value, Unreachable)
    assert (err.value.code, err.value.status, err.value.message) == (
        "bad_credentials",
        401,
        "用户名或密码错误",
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html>captive portal login</html>", "text/html"),
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe\x00garbage", "application/octet-stream"),
    ],
)
def test_200_with_garbage_is_treated_as_offline(body: bytes, content_type: str) -> None:
    with fake_server(answer(200, body, content_type)) as url:
        with pytest.raises(Unreachable) as err:
            PlatformClient(url, timeout_s=2.0).health()
    assert err.value.code == "bad_gateway" and err.value.status == 200
    assert "不是有效的 JSON" in err.value.message


def test_200_with_json_of_the_wrong_shape_is_bad_response() -> None:
    with fake_server(answer(200, b'{"status": "ok"}', "application/json")) as url:
        with pytest.raises(PlatformError) as err:
            PlatformClient(url, timeout_s=2.0).health()
    assert not isinstance(err.value, Unreachable)
    assert err.value.code == "bad_response" and "不符合接口约定" in err.value.message


def test_requests_carry_accept_and_bearer_headers() -> None:
    seen: list[dict[str, str]] = []

    def respond(h: http.server.BaseHTTPRequestHandler) -> None:
        seen.append({k.lower(): v for k, v in h.headers.items()} | {"path": h.path})
        answer(200, b'{"items": []}', "application/json")(h)

    with fake_server(respond) as url:
        client = PlatformClient(url, timeout_s=2.0)
        client.token = "tok-123"
        assert client.catalog().items == []
    (headers,) = seen
    assert headers["path"] == "/api/v1/catalog"
    assert headers["accept"] == "application/json"
    assert headers["authorization"] == "Bearer tok-123"


# -- pull and push ---------------------------------------------------------------------------------------


def test_pull_pages_through_every_change_once(logged_in: PlatformClient) -> None:
    everything = logged_in.pull(0, limit=1000)
    assert not everything.has_more
    all_seqs = [c.seq for c in everything.changes]
    assert len(all_seqs) > 48 and all_seqs == sorted(set(all_seqs))
    assert everything.next_cursor == all_seqs[-1]

    cursor, pages, seqs = 0, 0, []
    while True:
        page = logged_in.pull(cursor, limit=7)
        pages += 1
        assert len(page.changes) <= 7
        seqs += [c.seq for c in page.changes]
        if page.changes:
            assert page.next_cursor == page.changes[-1].seq
        cursor = page.next_cursor
        if not page.has_more:
            break
        assert len(page.changes) == 7
    assert seqs == all_seqs
    assert pages == -(-len(all_seqs) // 7)

    tail = logged_in.pull(cursor, limit=7)
    assert tail.changes == [] and not tail.has_more and tail.next_cursor == cursor


def test_pull_entities_cover_catalog_bookings_and_tickets(logged_in: PlatformClient) -> None:
    changes = logged_in.pull(0, limit=1000).changes
    kinds = {c.entity for c in changes}
    assert kinds == {wire.ChangeEntity.CATALOG_ITEM, wire.ChangeEntity.BOOKING, wire.ChangeEntity.TICKET}


def test_pull_with_an_invalid_limit_is_a_platform_error_naming_the_field(logged_in: PlatformClient) -> None:
    with pytest.raises(PlatformError) as err:
        logged_in.pull(0, limit=0)
    assert (err.value.code, err.value.status, err.value.field) == ("invalid_request", 422, "limit")


def _ticket_op(ticket_no: str = "A001") -> wire.Op:
    now = dt.datetime.now().astimezone()
    payload = wire.TicketStatePayload(ticket_no=ticket_no, state=wire.TicketState.CALLED, window_no=1, at=now)
    return wire.Op(
        op_id=uuid.uuid4(),
        kind=wire.OpKind.TICKET_STATE,
        payload=payload.model_dump(mode="json"),
        created_at=now,
    )


def test_push_applies_then_answers_duplicate_for_the_same_op(logged_in: PlatformClient) -> None:
    op = _ticket_op()
    first = logged_in.push(wire.PushRequest(device_id=DEVICE, ops=[op]))
    assert [(r.op_id, r.status) for r in first.results] == [(op.op_id, wire.OpStatus.APPLIED)]
    again = logged_in.push(wire.PushRequest(device_id=DEVICE, ops=[op]))
    assert [(r.op_id, r.status) for r in again.results] == [(op.op_id, wire.OpStatus.DUPLICATE)]
    # The change shows up for every counter that pulls.
    changes = logged_in.pull(0, limit=1000).changes
    a001 = [c for c in changes if c.entity is wire.ChangeEntity.TICKET and c.data.get("ticket_no") == "A001"]
    assert a001 and a001[-1].data["state"] == "called"


def test_push_of_an_unknown_ticket_is_rejected_with_a_reason(logged_in: PlatformClient) -> None:
    op = _ticket_op("Z999")
    (result,) = logged_in.push(wire.PushRequest(device_id=DEVICE, ops=[op])).results
    assert result.status is wire.OpStatus.REJECTED and "Z999" in result.detail


def test_push_from_another_device_id_is_rejected(logged_in: PlatformClient) -> None:
    op = _ticket_op()
    (result,) = logged_in.push(wire.PushRequest(device_id="someone-else", ops=[op])).results
    assert result.status is wire.OpStatus.REJECTED and "someone-else" in result.detail


def test_a_pull_that_says_more_but_does_not_move_is_not_followed_forever(tmp_path: Path) -> None:
    from hallclient.crypto import FieldCipher
    from hallclient.events import EventBus
    from hallclient.store import Store
    from hallclient.sync import SyncEngine

    stuck = b'{"changes": [], "next_cursor": 0, "has_more": true}'
    with fake_server(answer(200, stuck, "application/json")) as url:
        store = Store(tmp_path / "counter.sqlite", FieldCipher(bytes(32)))
        try:
            engine = SyncEngine(
                store, PlatformClient(url, timeout_s=2.0), EventBus(), device_id="d", hall_code="DEMO"
            )
            result: list[str] = []
            # In a thread with a deadline: the bug this guards against is a loop that never returns.
            worker = threading.Thread(
                target=lambda: result.append(engine.sync_once().last_error), daemon=True
            )
            worker.start()
            worker.join(15)
            assert result, "sync_once kept following a cursor that did not move"
        finally:
            store.close()
    assert "游标" in result[0]
