"""What several benchmarks share: a real ``hallserver serve`` process, its seeded database,
and a counter's configuration file pointing at it.

The server always runs as its own process (uvicorn, as a hall deploys it), so
a benchmark's client and its load generator never share a GIL with it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx

from hallclient import wire

ROOT = Path(__file__).resolve().parent.parent
API = wire.API_PREFIX
DEMO_USER = "clerk1"


def prepare_db(url: str, today: dt.date, *, windows: int = 3, tickets: int = 0, public_key: str = "") -> int:
    """Seed the demo hall for ``today``; add windows/clerks 4..``windows`` and ``tickets`` waiting
    walk-in tickets. Returns the change log head (where a counter synced this morning pulls from)."""
    from sqlalchemy import func, select

    from hallserver.changes import record_ticket
    from hallserver.db import create_schema, make_engine, session_factory
    from hallserver.demo_catalog import DEMO_CATALOG
    from hallserver.models import ChangeLog, Clerk, Ticket, Window
    from hallserver.security import hash_password
    from hallserver.seed import DEMO_HALL, DEMO_PASSWORD, seed_demo

    engine = make_engine(url)
    try:
        create_schema(engine)
        with session_factory(engine)() as s:
            seed_demo(s, today, public_key=public_key)
            hashed = hash_password(DEMO_PASSWORD)
            for no in range(4, windows + 1):
                s.add(Window(hall_code=DEMO_HALL, window_no=no, name=f"综合受理 {no} 号窗口"))
                s.add(
                    Clerk(
                        hall_code=DEMO_HALL,
                        username=f"clerk{no}",
                        name=f"窗口人员{no:03d}",
                        staff_no=f"ZW-{1000 + no}",
                        password_hash=hashed,
                    )
                )
            rng = random.Random(today.toordinal())
            first = dt.datetime.combine(today, dt.time(8, 30)).astimezone()
            rows = []
            for n in range(1, tickets + 1):
                at = first + dt.timedelta(seconds=5 * n)
                rows.append(
                    Ticket(
                        hall_code=DEMO_HALL,
                        date=today,
                        ticket_no=f"B{n:03d}",  # the walk-in numbering of hallserver.queue
                        item_code=rng.choice(DEMO_CATALOG).code,
                        state="waiting",
                        issued_at=at,
                        due_at=at,
                    )
                )
            s.add_all(rows)
            s.flush()
            for t in rows:
                record_ticket(s, t)
            s.commit()
            return int(s.scalar(select(func.max(ChangeLog.seq))) or 0)
    finally:
        engine.dispose()


def test_helper(name: str) -> ModuleType:
    """A module of tests/helpers (the fault proxy, the throwaway PostgreSQL), imported from the checkout."""
    tests = str(ROOT / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    return importlib.import_module(f"helpers.{name}")


def postgres_helpers() -> ModuleType:
    """tests/helpers/postgres.py: ``start_postgres()`` (a throwaway server on loopback) and
    ``PostgresUnavailable`` (raised when Debian's postgresql is not installed)."""
    return test_helper("postgres")


def free_port() -> int:
    from ui.demo_server import free_port as _free_port

    return _free_port()


class ServerProcess:
    """``python -m hallserver serve`` on a free loopback port, its output in ``log_path``."""

    def __init__(self, url: str, log_path: Path, *, log_level: str = "warning") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hallserver",
                "serve",
                "--db",
                url,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                log_level,
            ],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hallserver exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                if httpx.get(f"{self.base}{API}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"hallserver did not answer /health within {timeout_s:.0f} s: {self.log_tail()}")

    def log_tail(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-1500:]

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
        finally:
            self._log.close()


@dataclass
class DemoHall:
    """A seeded SQLite hallserver running in its own process, and the hall's signing key."""

    folder: Path
    server: ServerProcess
    hall_key: str

    @property
    def url(self) -> str:
        return self.server.base

    def stop(self) -> None:
        self.server.stop()


def start_demo_hall(folder: Path, *, tickets: int = 0, windows: int = 3) -> DemoHall:
    from hallclient.signing import generate_private_key, public_key_of

    folder.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    url = f"sqlite:///{folder / 'hallserver.sqlite'}"
    prepare_db(url, dt.date.today(), windows=windows, tickets=tickets, public_key=public_key_of(key))
    server = ServerProcess(url, folder / "hallserver.log")
    try:
        server.wait_ready()
    except Exception:
        server.stop()
        raise
    return DemoHall(folder, server, key)


def write_counter_config(
    folder: Path,
    server_url: str,
    hall_key: str,
    *,
    window_no: int = 1,
    timeout_s: float = 3.0,
    interval_s: float = 5.0,
    rating_timeout_s: int = 30,
) -> Path:
    """A counter's config.toml, as IT staff would write it, with its data in ``folder/data``."""
    folder.mkdir(parents=True, exist_ok=True)
    key_file = folder / "hall-signing.key"
    key_file.write_text(hall_key, encoding="ascii")
    path = folder / "config.toml"
    path.write_text(
        f"""data_dir = "{folder / "data"}"

[server]
url = "{server_url}"
timeout_s = {timeout_s}

[counter]
hall_code = "DEMO"
window_no = {window_no}
device_id = "bench-window-{window_no:02d}"

[citizen_screen]
rating_timeout_s = {rating_timeout_s}

[printing]
signing_key_file = "{key_file}"

[security]
key_file = "{folder / "device.key"}"

[sync]
interval_s = {interval_s}
""",
        encoding="utf-8",
    )
    return path


def rss_mb(pid: int | None = None) -> float:
    """Resident set size now, from /proc (Linux)."""
    statm = Path(f"/proc/{pid or 'self'}/statm").read_text().split()
    return int(statm[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def offscreen_qt() -> str:
    """Qt offscreen with the two-screen config, as ``make bench`` sets it, unless already set."""
    screens = ROOT.parent / "shared" / "qt" / "screens.json"
    if not screens.exists():
        screens = ROOT / "tests" / "qt" / "screens.json"
    os.environ.setdefault("QT_QPA_PLATFORM", f"offscreen:configfile={screens}")
    return os.environ["QT_QPA_PLATFORM"]
