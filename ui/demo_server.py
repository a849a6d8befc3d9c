"""A real hallserver with demo data on a free loopback port, for ``hallclient demo``.

It runs as a child process through hallserver's own command line, so the demo
exercises exactly what a hall would deploy, and the client reaches it only over
HTTP like any counter.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests


class DemoServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DemoServer:
    url: str
    hall_key: Path
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, workdir: Path, *, timeout_s: float = 30.0) -> DemoServer:
        workdir.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{workdir / 'hallserver.sqlite'}"
        hall_key = workdir / "hall-signing.key"
        cli = [sys.executable, "-m", "hallserver"]
        for args in (
            ["init-db", "--db", db_url],
            ["seed", "--demo", "--db", db_url, "--hall-key-out", str(hall_key)],
        ):
            done = subprocess.run([*cli, *args], check=False, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise DemoServerError(f"hallserver {args[0]} failed: {done.stderr.strip()[-2000:]}")
        port = free_port()
        log_path = workdir / "hallserver.log"
        log = log_path.open("wb")
        proc = subprocess.Popen(
            [*cli, "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = cls(f"http://127.0.0.1:{port}", hall_key, proc, log_path)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise DemoServerError(
                    f"hallserver exited with {proc.returncode}: "
                    f"{log_path.read_text(errors='replace')[-2000:]}"
                )
            try:
                if requests.get(f"{server.url}/api/v1/health", timeout=1).ok:
                    return server
            except requests.RequestException:
                pass
            time.sleep(0.1)
        server.stop()
        raise DemoServerError(f"hallserver did not answer within {timeout_s:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
