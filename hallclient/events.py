"""Typed events from the core to whoever listens (the ui's Qt bridge, tests).

Subscribers are held weakly, so a closed window never keeps receiving. Events
may be published from any thread; the ui bridge re-emits them as Qt signals so
handlers run on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from hallclient.wire import Decision, TicketState


@dataclass(frozen=True)
class SyncStatus:
    online: bool
    pending_ops: int
    last_sync: dt.datetime | None
    last_error: str
    conflicts: int = 0
    # When the worker will try again after a failure (None while healthy), and whether it
    # has stopped reacting to clerk actions because the server keeps failing.
    next_attempt: dt.datetime | None = None
    circuit_open: bool = False


@dataclass(frozen=True)
class QueueChanged:
    """The local view of today's tickets changed (pull, call, decision)."""


@dataclass(frozen=True)
class TicketCalled:
    ticket_no: str
    window_no: int
    state: TicketState


@dataclass(frozen=True)
class CaseDecided:
    case_no: str
    decision: Decision
    ticket_no: str | None
    decided_at: dt.datetime
    item_name: str


@dataclass(frozen=True)
class RatingRecorded:
    case_no: str


Event = SyncStatus | QueueChanged | TicketCalled | CaseDecided | RatingRecorded
E = TypeVar("E")


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._subs: dict[type[Any], list[weakref.ref[Any] | Callable[[], Any]]] = {}

    def subscribe(self, event_type: type[E], callback: Callable[[E], None]) -> None:
        """Subscribe; bound methods are held weakly, plain functions strongly."""
        ref: weakref.ref[Any] | Callable[[], Any]
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            ref = weakref.WeakMethod(callback)
        else:

            def ref() -> Callable[[E], None]:
                return callback

        with self._lock:
            self._subs.setdefault(event_type, []).append(ref)

    def publish(self, event: Event) -> None:
        with self._lock:
            refs = list(self._subs.get(type(event), []))
        dead = []
        for ref in refs:
            cb = ref()
            if cb is None:
                dead.append(ref)
                continue
            cb(event)
        if dead:
            with self._lock:
                subs = self._subs.get(type(event), [])
                self._subs[type(event)] = [r for r in subs if r not in dead]
