"""A real hallserver on a loopback port, in a thread of the test process.

uvicorn serves the real FastAPI app over real HTTP, so the client's requests,
timeouts and error handling are exercised exactly as at a counter. ``stop`` and
``start`` again on the same port simulate the server going away and coming back.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from sqlalchemy import Engine

from hallclient.signing import generate_private_key, public_key_of
from hallserver.app import create_app
from hallserver.db import create_schema, make_engine, session_factory
from hallserver.seed import seed_demo


@dataclass
class LiveServer:
    db_path: Path
    hall_key: str
    port: int = 0
    engine: Engine = field(init=False)
    _server: uvicorn.Server | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.engine = make_engine(f"sqlite:///{self.db_path}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def seed(self, day: dt.date) -> None:
        create_schema(self.engine)
        with session_factory(self.engine)() as s:
            seed_demo(s, day, public_key=public_key_of(self.hall_key))

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(create_app(self.engine), log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("hallserver did not start")
            time.sleep(0.02)
        self._server, self._thread = server, thread

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
        self._server = self._thread = None


def start_demo_server(tmp: Path, day: dt.date | None = None) -> LiveServer:
    server = LiveServer(tmp / "hallserver.sqlite", generate_private_key())
    server.seed(day or dt.date.today())
    server.start()
    return server
