"""One background runner for the whole ui.

Worker code never touches a widget: results come back through a Qt signal, so
``on_success``/``on_error`` run on the GUI thread. The counter pool has one
worker, which serialises the clerk's actions against the local database; the
io pool is for printing and other slow, independent work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Callback = Callable[[Any], None]


class TaskRunner(QObject):
    _finished = Signal(object, object, object)  # callback, value, is_error

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._counter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="counter")
        self._io = ThreadPoolExecutor(max_workers=2, thread_name_prefix="io")
        self._finished.connect(self._deliver)
        self.in_flight = 0
        self.closed = False

    def run(
        self,
        fn: Callable[[], Any],
        on_success: Callback | None = None,
        on_error: Callback | None = None,
        *,
        pool: str = "counter",
    ) -> Future[Any] | None:
        """Run ``fn`` off the GUI thread; None once shut down (late events while closing are dropped)."""
        if self.closed:
            log.debug("task dropped: the runner is shut down")
            return None
        executor = self._counter if pool == "counter" else self._io
        self.in_flight += 1

        def work() -> Any:
            try:
                value = fn()
            except Exception as exc:  # handed to on_error on the GUI thread
                if on_error is None:
                    log.exception("background task failed")
                self._finished.emit(on_error, exc, True)
                raise
            self._finished.emit(on_success, value, False)
            return value

        return executor.submit(work)

    def _deliver(self, callback: Callback | None, value: Any, is_error: bool) -> None:
        self.in_flight -= 1
        if callback is not None:
            callback(value)

    def shutdown(self) -> None:
        self.closed = True
        self._counter.shutdown(wait=True, cancel_futures=True)
        self._io.shutdown(wait=True, cancel_futures=True)
