"""The sync worker against a server that goes away and comes back: backoff, circuit, recovery."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig

from hallclient import wire
from hallclient.events import SyncStatus
from hallclient.sync import SyncWorker


def wait_for(predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_dead_server_opens_the_circuit_and_recovery_closes_it(rig: CounterRig) -> None:
    s = rig.services
    s.counter.login(DEMO_USER, DEMO_PASSWORD)
    s.sync.sync_once()
    rig.server.stop()
    s.store.set_ticket_state(dt.date.today(), "A001", wire.TicketState.CALLED, 1, dt.datetime.now())

    statuses: list[SyncStatus] = []
    lock = threading.Lock()

    def seen(status: SyncStatus) -> None:
        with lock:
            statuses.append(status)

    s.bus.subscribe(SyncStatus, seen)
    worker = SyncWorker(s.sync, interval_s=0.05, max_backoff_s=1.5, circuit_after=3)
    worker.start()
    try:
        wait_for(lambda: worker.circuit_open)
        # The op was offered and refused for a reason a person can read.
        with sqlite3.connect(s.store.path) as db:
            attempts, last_error = db.execute("SELECT attempts, last_error FROM outbox").fetchone()
        assert attempts >= 3 and "无法连接服务器" in last_error
        with lock:
            announced = [x for x in statuses if x.circuit_open]
        assert announced and announced[-1].next_attempt is not None and not announced[-1].online

        # While open, a burst of clerk actions does not turn into a burst of attempts.
        with lock:
            before = len(statuses)
        for _ in range(20):
            worker.kick()
            time.sleep(0.01)
        time.sleep(0.5)
        with lock:
            during = len(statuses) - before
        assert during <= 2, f"{during} rounds while the circuit was open"

        rig.server.start()
        s.counter.login(DEMO_USER, DEMO_PASSWORD)  # the server lost no state, but a fresh token is cheap
        wait_for(lambda: s.store.pending_count() == 0 and not worker.circuit_open, timeout=30)
    finally:
        worker.stop()
    with lock:
        last = statuses[-1]
    assert last.online and last.last_error == "" and last.next_attempt is None
