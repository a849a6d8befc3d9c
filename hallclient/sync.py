"""Sync: push the outbox, pull the server's changes, report status as events.

``SyncEngine.sync_once`` does one round and is what tests call directly.
``SyncWorker`` runs rounds on its own thread with exponential backoff and
jitter, so the clerk's window never waits on the network.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import threading
from collections.abc import Callable

from hallclient import wire
from hallclient.api import PlatformClient, PlatformError, Unreachable
from hallclient.events import EventBus, QueueChanged, SyncStatus
from hallclient.i18n import _
from hallclient.store import Store

log = logging.getLogger(__name__)

CURSOR_KEY = "pull_cursor"
LAST_SYNC_KEY = "last_sync"


class SyncEngine:
    def __init__(
        self,
        store: Store,
        api: PlatformClient,
        bus: EventBus,
        *,
        device_id: str,
        hall_code: str,
        batch_size: int = 200,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.store = store
        self.api = api
        self.bus = bus
        self.device_id = device_id
        self.hall_code = hall_code
        self.batch_size = batch_size
        self.clock = clock
        self.online = False
        self.last_error = ""
        self._pulled_any = False

    def status(self) -> SyncStatus:
        last = self.store.get_state(LAST_SYNC_KEY)
        return SyncStatus(
            online=self.online,
            pending_ops=self.store.pending_count(),
            last_sync=dt.datetime.fromisoformat(last) if last else None,
            last_error=self.last_error,
            conflicts=len(self.store.unacknowledged_conflicts()),
        )

    def sync_once(self) -> SyncStatus:
        """Push everything pending, then pull; raises nothing, the outcome is in the status."""
        self._pulled_any = False
        try:
            self._push_all()
            self._pull_all()
        except Unreachable as exc:
            self.online = False
            self.last_error = exc.message
        except PlatformError as exc:
            # Reachable but refusing (expired token, bad answer): online, yet not in sync.
            self.online = True
            self.last_error = exc.message
        else:
            self.online = True
            self.last_error = ""
            self.store.set_state(LAST_SYNC_KEY, self.clock().isoformat(timespec="seconds"))
        if self._pulled_any:  # also after a page failed: what was stored should show now
            self.bus.publish(QueueChanged())
        status = self.status()
        self.bus.publish(status)
        return status

    def _push_all(self) -> None:
        while True:
            pending = self.store.pending_ops(self.batch_size)
            if not pending:
                return
            try:
                resp = self.api.push(wire.PushRequest(device_id=self.device_id, ops=[p.op for p in pending]))
            except PlatformError as exc:
                self.store.record_attempt([p.row_id for p in pending], exc.message)
                raise
            sent = {p.op.op_id for p in pending}
            answered = [r for r in resp.results if r.op_id in sent]
            if len({r.op_id for r in answered}) != len(sent):
                message = _("服务器没有逐条答复上传的操作")
                self.store.record_attempt([p.row_id for p in pending], message)
                raise PlatformError(message, code="bad_response")
            self.store.apply_results(answered, self.clock())
            for r in answered:
                if r.status in (wire.OpStatus.CONFLICT, wire.OpStatus.REJECTED):
                    log.warning("op %s %s: %s", r.op_id, r.status.value, r.detail)

    def _pull_all(self) -> None:
        cursor = int(self.store.get_state(CURSOR_KEY, "0") or 0)
        while True:
            page = self.api.pull(cursor)
            bookings: list[wire.Booking] = []
            items: list[wire.ServiceItem] = []
            tickets: list[wire.Ticket] = []
            statuses: list[wire.BackOfficeStatus] = []
            for ch in page.changes:
                if ch.entity is wire.ChangeEntity.BOOKING:
                    bookings.append(wire.Booking.model_validate(ch.data))
                elif ch.entity is wire.ChangeEntity.CATALOG_ITEM:
                    items.append(wire.ServiceItem.model_validate(ch.data))
                elif ch.entity is wire.ChangeEntity.TICKET:
                    tickets.append(wire.Ticket.model_validate(ch.data))
                elif ch.entity is wire.ChangeEntity.CASE_STATUS:
                    # The back office decided a forwarded case: the window shows it ready for pick-up.
                    statuses.append(wire.BackOfficeStatus.model_validate(ch.data))
            if items:
                self.store.upsert_catalog(items)
            if bookings:
                self.store.upsert_bookings(bookings)
            if tickets:
                self.store.upsert_tickets(tickets)
            if statuses:
                self.store.apply_back_office(statuses, self.clock())
            self._pulled_any = self._pulled_any or bool(page.changes)
            if page.next_cursor < cursor or (page.has_more and page.next_cursor == cursor):
                # Backwards, or "more" without moving on: following it would loop or repeat forever.
                raise PlatformError(_("服务器的同步游标倒退了"), code="bad_response")
            cursor = page.next_cursor
            self.store.set_state(CURSOR_KEY, str(cursor))
            if not page.has_more:
                return


class SyncWorker:
    """Runs sync rounds on a daemon thread: every ``interval_s`` when healthy, backing off when not.

    After ``circuit_after`` failed rounds in a row the circuit opens: rounds are
    spaced ``max_backoff_s`` apart (with jitter) and clerk actions no longer
    trigger extra attempts, so a dead server is not hammered by a busy counter.
    The first round that succeeds closes it again.
    """

    def __init__(
        self,
        engine: SyncEngine,
        *,
        interval_s: float = 5.0,
        max_backoff_s: float = 60.0,
        circuit_after: int = 5,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.circuit_after = circuit_after
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0

    @property
    def circuit_open(self) -> bool:
        return self._failures >= self.circuit_after

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hallclient-sync", daemon=True)
            self._thread.start()

    def kick(self) -> None:
        """Sync soon (after a clerk action), without waiting for the next tick."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def record(self, status: SyncStatus) -> None:
        self._failures = 0 if status.online and not status.last_error else self._failures + 1

    def next_delay(self) -> float:
        if self._failures == 0:
            return self.interval_s
        if self.circuit_open:
            return random.uniform(0.75 * self.max_backoff_s, self.max_backoff_s)
        # Exponential backoff with full jitter, so a hall full of counters does not reconnect in lockstep.
        ceiling = min(self.max_backoff_s, self.interval_s * 2 ** min(self._failures, 10))
        return random.uniform(self.interval_s, max(self.interval_s, ceiling))

    def _run(self) -> None:
        while not self._stop.is_set():
            status: SyncStatus | None = None
            try:
                status = self.engine.sync_once()
                self.record(status)
            except Exception:  # a bug in one round must not kill syncing for the rest of the day
                log.exception("sync round failed")
                self._failures += 1
            delay = self.next_delay()
            if status is not None and self._failures:
                self.engine.bus.publish(
                    dataclasses.replace(
                        status,
                        next_attempt=self.clock() + dt.timedelta(seconds=delay),
                        circuit_open=self.circuit_open,
                    )
                )
            if self.circuit_open:
                self._stop.wait(delay)  # clerk actions do not shorten the wait
            else:
                self._wake.wait(delay)
            self._wake.clear()
