"""Kill -9 a counter at random instants, hundreds of times: nothing lost, nothing doubled.

Two counter windows play a busy day against a real hallserver on loopback. Each
client process is killed with SIGKILL after a random delay (mid-transaction,
mid-push, mid-pull, mid-login), then started again on the same local file. At
the end one clean run drains the outboxes, and the platform must hold exactly
what the counters committed: every op once, every case once, and each window's
case numbers gap-free from 0001.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter as Tally
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, make_config
from helpers.live_server import LiveServer

from hallclient.services import build_services
from hallserver.models import CatalogItem, Ticket

ZYGOTE = Path(__file__).resolve().parents[1] / "helpers" / "crash_zygote.py"
WINDOWS = (1, 2)


def add_walk_ins(server: LiveServer, count: int) -> None:
    """Plenty of citizens waiting (without change-log rows: the counters get them by calling)."""
    from hallserver.db import session_factory

    now = dt.datetime.now().astimezone()
    with session_factory(server.engine)() as s:
        items = [c.code for c in s.query(CatalogItem).all()]
        for n in range(count):
            s.add(
                Ticket(
                    hall_code="DEMO",
                    date=dt.date.today(),
                    ticket_no=f"B{n + 1:04d}",
                    item_code=items[n % len(items)],
                    state="waiting",
                    issued_at=now,
                    due_at=now + dt.timedelta(hours=2, seconds=n),
                )
            )
        s.commit()


def run_kills(server: LiveServer, root: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ZYGOTE.parents[1]), os.environ.get("PYTHONPATH", "")]),
    }
    zygote = subprocess.Popen(
        [sys.executable, str(ZYGOTE), server.url, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=open(root / "zygote.err", "w"),  # noqa: SIM115 (closed with the process)
        text=True,
        env=env,
    )
    assert zygote.stdin is not None and zygote.stdout is not None

    def lifetime() -> float:
        # Mostly short lives (kills land in start-up, sign-in and the first citizens), some
        # long ones so that real work piles up even on a slow machine.
        return rng.uniform(0.0, 1.2) if rng.random() < 0.8 else rng.uniform(1.2, 4.0)

    def spawn(window: int) -> int:
        assert zygote.stdin is not None and zygote.stdout is not None
        zygote.stdin.write(f"run {window} {rng.randrange(1 << 30)}\n")
        zygote.stdin.flush()
        return int(zygote.stdout.readline().split()[1])

    try:
        alive = {w: (spawn(w), time.monotonic() + lifetime()) for w in WINDOWS}
        done = 0
        while done < kills:
            window, (pid, when) = min(alive.items(), key=lambda kv: kv[1][1])
            time.sleep(max(0.0, when - time.monotonic()))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass  # it finished on its own before the kill
            done += 1
            alive[window] = (spawn(window), time.monotonic() + lifetime())
        for pid, _ in alive.values():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    finally:
        zygote.stdin.write("quit\n")
        zygote.stdin.close()
        zygote.wait(30)


def drain(server: LiveServer, root: Path, window: int) -> None:
    """Start the counter cleanly once more and sync until its outbox is empty."""
    config = make_config(server, root / f"drain{window}", window_no=window)
    config = dataclasses.replace(
        config,
        data_dir=root / f"window{window}",
        counter=dataclasses.replace(config.counter, device_id=f"crash-window-{window:02d}"),
        # The key the crashed counter encrypted its data with (tests/helpers/crash_zygote.py).
        security=dataclasses.replace(config.security, key_file=str(root / f"window{window}" / "device.key")),
    )
    services = build_services(config)
    try:
        services.counter.login(f"clerk{window}", DEMO_PASSWORD)
        deadline = time.monotonic() + 60
        while services.store.pending_count() and time.monotonic() < deadline:
            services.sync.sync_once()
        assert services.store.pending_count() == 0
    finally:
        services.close()


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def check_nothing_lost_or_doubled(server: LiveServer, root: Path) -> dict[str, int]:
    server_ops = [r[0] for r in rows(server.db_path, "SELECT op_id FROM applied_ops")]
    server_cases = Tally(r[0] for r in rows(server.db_path, "SELECT case_no FROM cases"))
    server_ratings = Tally(r[0] for r in rows(server.db_path, "SELECT case_no FROM ratings"))
    local_ops: list[str] = []
    local_cases: list[str] = []
    local_ratings: list[str] = []
    statuses: Tally[str] = Tally()
    for window in WINDOWS:
        db = root / f"window{window}" / "counter.sqlite"
        ops = rows(db, "SELECT op_id, status FROM outbox")
        local_ops += [op for op, _ in ops]
        statuses.update(status for _, status in ops)
        cases = [r[0] for r in rows(db, "SELECT case_no FROM cases ORDER BY case_no")]
        local_cases += cases
        local_ratings += [r[0] for r in rows(db, "SELECT case_no FROM ratings")]
        # Gap-free per window and day: 0001, 0002, ... with nothing skipped or reused.
        seqs = sorted(int(c.rsplit("-", 1)[1]) for c in cases)
        assert seqs == list(range(1, len(seqs) + 1)), f"window {window} numbers have gaps: {seqs[:20]}…"
    assert statuses["pending"] == 0
    assert statuses["conflict"] == statuses["rejected"] == 0, statuses
    assert sorted(server_ops) == sorted(local_ops), "the platform's ops differ from the counters' outboxes"
    assert all(n == 1 for n in server_cases.values())
    assert sorted(server_cases) == sorted(local_cases), "cases lost or invented"
    assert sorted(server_ratings) == sorted(local_ratings)
    return {"ops": len(local_ops), "cases": len(local_cases), "duplicates_answered": statuses["duplicate"]}


def crash_day(live_server: LiveServer, tmp_path: Path, kills: int) -> dict[str, int]:
    root = tmp_path / "crash"
    root.mkdir()
    (root / "hall-signing.key").write_text(live_server.hall_key, encoding="ascii")
    add_walk_ins(live_server, 4000)
    run_kills(live_server, root, kills, seed=kills)
    errors = (root / "zygote.err").read_text(encoding="utf-8")
    assert "child-error" not in errors, errors[-3000:]
    for window in WINDOWS:
        drain(live_server, root, window)
    result = check_nothing_lost_or_doubled(live_server, root)
    assert result["cases"] >= 20, f"too little work happened between kills to prove anything: {result}"
    print(f"crash test: {kills} kills, {result}")
    return result


def test_two_hundred_kills_lose_nothing(live_server: LiveServer, tmp_path: Path) -> None:
    crash_day(live_server, tmp_path, kills=int(os.environ.get("HALL_CRASH_KILLS", "200")))


@pytest.mark.long
@pytest.mark.skipif(os.environ.get("HALL_LONG_TESTS") != "1", reason="the 1,000-kill run: HALL_LONG_TESTS=1")
def test_a_thousand_kills_lose_nothing(live_server: LiveServer, tmp_path: Path) -> None:
    crash_day(live_server, tmp_path, kills=1000)
