"""A small HTTP-aware proxy on loopback that breaks the network on demand.

It sits between a counter and a live hallserver and, per request, either passes
it through or injects one fault. Plain sockets and one thread per connection;
one request per connection (``Connection: close`` both ways), which keeps the
HTTP handling to: read the head up to ``\\r\\n\\r\\n``, then ``Content-Length``
bytes of body.

Modes (``FaultyProxy.set_mode``):

``pass``                forward the request, relay the answer.
``refuse``              stop listening: connecting is refused until another mode is set.
``http_500``            answer a 500 HTML page; the server never sees the request.
``garbage``             answer 200 with an HTML page (not JSON); the server never sees it.
``stall``               read the request, never answer, never forward (the client times out).
``reset_mid_response``  forward, relay the head and half the body, then reset (SO_LINGER 0).
``lose_response``       forward and read the whole answer (the server has applied the
                        request), then close the client connection without a byte.
``slow``                forward, wait ``delay_s``, then relay the answer. With a delay over
                        the client's timeout this is "applied, but answered too late".

When the upstream cannot be reached (the server is stopped), the client's
connection is reset, as a dead server behind a plain TCP path looks.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

MODES = ("pass", "refuse", "http_500", "garbage", "stall", "reset_mid_response", "lose_response", "slow")
_HOP_BY_HOP = {b"connection", b"keep-alive", b"proxy-connection"}
_IO_TIMEOUT_S = 15.0


class BadRequest(Exception):
    pass


@dataclass(frozen=True)
class Seen:
    """One request the proxy handled, and the mode it was handled in."""

    mode: str
    method: str
    target: str


def _recv_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read up to and including the blank line; return (head, bytes already read beyond it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise BadRequest("connection closed before the end of the head")
        buf += chunk
        if len(buf) > 1 << 20:
            raise BadRequest("head too large")
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name:
            return value.strip()
    return None


def _recv_body(sock: socket.socket, head: bytes, rest: bytes, *, until_eof: bool) -> bytes:
    length = _header(head, b"content-length")
    if length is not None:
        want = int(length)
        body = rest
        while len(body) < want:
            chunk = sock.recv(65536)
            if not chunk:
                raise BadRequest("connection closed inside the body")
            body += chunk
        return body[:want]
    if _header(head, b"transfer-encoding") is not None and not until_eof:
        raise BadRequest("chunked request bodies are not supported")
    if not until_eof:
        return rest
    # A response without a length on a Connection: close exchange ends at EOF.
    body = rest
    while chunk := sock.recv(65536):
        body += chunk
    return body


def _with_connection_close(head: bytes) -> bytes:
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]] + [ln for ln in lines[1:] if ln.partition(b":")[0].strip().lower() not in _HOP_BY_HOP]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n"


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


def _reset(sock: socket.socket) -> None:
    """Close with an RST instead of a FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


ERROR_500 = _response(
    "500 Internal Server Error",
    "text/html; charset=utf-8",
    b"<html><body><h1>500 Internal Server Error</h1><hr>nginx</body></html>",
)
GARBAGE_200 = _response(
    "200 OK",
    "text/html; charset=utf-8",
    "<html><body>请先登录上网认证页面 / captive portal</body></html>".encode(),
)


class FaultyProxy:
    def __init__(self, upstream_port: int, *, upstream_host: str = "127.0.0.1", delay_s: float = 0.3) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._lock = threading.Lock()
        self._mode = "pass"
        self._only: str | None = None
        self._after = 0
        self._matched = 0
        self._delay_s = delay_s
        self._counts: Counter[str] = Counter()
        self._seen: list[Seen] = []
        self.upstream_failures = 0
        self._stopping = threading.Event()
        self._acceptor: tuple[threading.Thread, threading.Event] | None = None
        self._handlers: list[threading.Thread] = []
        self._clients: set[socket.socket] = set()

    # -- lifecycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultyProxy:
        self._listen()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._unlisten()
        with self._lock:
            clients, handlers = list(self._clients), list(self._handlers)
        for c in clients:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        for t in handlers:
            t.join(5)

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- modes ---------------------------------------------------------------------

    def set_mode(
        self, mode: str, *, only: str | None = None, after: int = 0, delay_s: float | None = None
    ) -> None:
        """Switch the fault for the requests that follow.

        ``only``: the fault applies only to requests whose target contains this text;
        the others pass. ``after``: let this many matching requests pass first.
        ``delay_s``: the delay of ``slow``.
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}, expected one of {MODES}")
        if mode == "refuse" and (only or after):
            raise ValueError("refuse closes the port: it cannot pick requests")
        with self._lock:
            self._mode, self._only, self._after, self._matched = mode, only, after, 0
            if delay_s is not None:
                self._delay_s = delay_s
        if mode == "refuse":
            self._unlisten()
        else:
            self._listen()

    def clear(self) -> None:
        self.set_mode("pass")

    @contextlib.contextmanager
    def fault(
        self, mode: str, *, only: str | None = None, after: int = 0, delay_s: float | None = None
    ) -> Iterator[FaultyProxy]:
        """``with proxy.fault("stall"): ...``: the fault, then pass-through again."""
        self.set_mode(mode, only=only, after=after, delay_s=delay_s)
        try:
            yield self
        finally:
            self.clear()

    @property
    def counts(self) -> dict[str, int]:
        """How many requests were handled in each mode (``pass`` includes unmatched ones)."""
        with self._lock:
            return dict(self._counts)

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def _mode_for(self, method: str, target: str) -> tuple[str, float]:
        with self._lock:
            mode = self._mode
            if mode != "pass" and (self._only is None or self._only in target):
                self._matched += 1
                if self._matched <= self._after:
                    mode = "pass"
            else:
                mode = "pass"
            self._counts[mode] += 1
            self._seen.append(Seen(mode, method, target))
            return mode, self._delay_s

    # -- listening -----------------------------------------------------------------

    def _listen(self) -> None:
        with self._lock:
            if self._acceptor is not None or self._stopping.is_set():
                return
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))  # the same port again after `refuse`
            sock.listen(64)
            self.port = sock.getsockname()[1]
            done = threading.Event()
            thread = threading.Thread(
                target=self._accept_loop, args=(sock, done), name="faulty-proxy", daemon=True
            )
            thread.start()
            self._acceptor = (thread, done)

    def _unlisten(self) -> None:
        with self._lock:
            acceptor, self._acceptor = self._acceptor, None
        if acceptor is not None:
            thread, done = acceptor
            done.set()
            thread.join(5)  # the thread closes its socket: from now on, connecting is refused

    def _accept_loop(self, sock: socket.socket, done: threading.Event) -> None:
        try:
            while not done.is_set():
                ready, _, _ = select.select([sock], [], [], 0.05)
                if not ready:
                    continue
                try:
                    conn, _ = sock.accept()
                except OSError:
                    continue
                t = threading.Thread(target=self._handle, args=(conn,), name="faulty-proxy-conn", daemon=True)
                with self._lock:
                    self._handlers = [h for h in self._handlers if h.is_alive()]
                    self._handlers.append(t)
                    self._clients.add(conn)
                t.start()
        finally:
            sock.close()

    # -- one connection ------------------------------------------------------------

    def _handle(self, client: socket.socket) -> None:
        try:
            client.settimeout(_IO_TIMEOUT_S)
            head, rest = _recv_head(client)
            body = _recv_body(client, head, rest, until_eof=False)
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            mode, delay_s = self._mode_for(method, target)
            if mode == "http_500":
                client.sendall(ERROR_500)
            elif mode == "garbage":
                client.sendall(GARBAGE_200)
            elif mode == "stall":
                self._hold(client)
            else:
                self._forward(client, mode, delay_s, _with_connection_close(head) + body)
                return
            client.close()
        except (OSError, BadRequest, ValueError):
            _reset(client)
        finally:
            with self._lock:
                self._clients.discard(client)

    def _forward(self, client: socket.socket, mode: str, delay_s: float, request: bytes) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=_IO_TIMEOUT_S)
        except OSError:
            with self._lock:
                self.upstream_failures += 1
            _reset(client)
            return
        with upstream:
            upstream.sendall(request)
            head, rest = _recv_head(upstream)
            answer = _recv_body(upstream, head, rest, until_eof=True)
        # The server has answered, so it has applied the request: now the faults on the way back.
        head = _with_connection_close(head)
        if mode == "lose_response":
            client.close()
        elif mode == "reset_mid_response":
            client.sendall(head + answer[: len(answer) // 2])
            time.sleep(0.05)  # let the client take the head, so the reset hits it inside the body
            _reset(client)
        else:
            if mode == "slow":
                self._stopping.wait(delay_s)
            with contextlib.suppress(OSError):  # a client that gave up has closed its end
                client.sendall(head + answer)
            client.close()

    def _hold(self, client: socket.socket) -> None:
        """Answer nothing until the client gives up or the proxy stops."""
        while not self._stopping.is_set():
            ready, _, _ = select.select([client], [], [], 0.05)
            if ready and not client.recv(65536):
                return
