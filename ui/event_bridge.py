"""Re-emits the core's typed events as Qt signals, so handlers run on the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from hallclient.events import CaseDecided, EventBus, QueueChanged, RatingRecorded, SyncStatus, TicketCalled


class EventBridge(QObject):
    sync_status = Signal(object)  # SyncStatus
    queue_changed = Signal()
    ticket_called = Signal(object)  # TicketCalled
    case_decided = Signal(object)  # CaseDecided
    rating_recorded = Signal(object)  # RatingRecorded

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        bus.subscribe(SyncStatus, self._on_sync)
        bus.subscribe(QueueChanged, self._on_queue)
        bus.subscribe(TicketCalled, self._on_called)
        bus.subscribe(CaseDecided, self._on_decided)
        bus.subscribe(RatingRecorded, self._on_rated)

    # Signals emitted from a worker thread are queued to this object's (the GUI) thread.
    def _on_sync(self, e: SyncStatus) -> None:
        self.sync_status.emit(e)

    def _on_queue(self, _e: QueueChanged) -> None:
        self.queue_changed.emit()

    def _on_called(self, e: TicketCalled) -> None:
        self.ticket_called.emit(e)

    def _on_decided(self, e: CaseDecided) -> None:
        self.case_decided.emit(e)

    def _on_rated(self, e: RatingRecorded) -> None:
        self.rating_recorded.emit(e)
