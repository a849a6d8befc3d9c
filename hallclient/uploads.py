"""Captured materials to the server, in resumable chunks, on a worker of their own.

Beside the sync engine, not inside it: a 10 MB material must never hold up the
small ops (decisions, ratings) that the hall sees live, and the clerk never waits
for either. ``UploadEngine.run_once`` uploads what is pending and forwards the
cases whose materials are all up; tests call it directly. ``UploadWorker`` runs
it on a daemon thread with the same backoff as sync.

Crash and network safety: the capture (and its queued forward) is committed
locally before anything is sent; the server commits each chunk before answering
and says how much it holds (``GET /uploads/{id}``), so after a kill -9 or a
dropped connection the upload goes on from the server's count, and a chunk whose
answer was lost is harmless when sent again. The server keeps the file only if
its SHA-256 matches; otherwise it discards it and this side starts over.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hallclient import wire
from hallclient.api import PlatformClient, PlatformError, Unreachable
from hallclient.store import CaptureInfo, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadRound:
    uploaded: int = 0
    forwarded: int = 0
    waiting_materials: int = 0
    waiting_cases: int = 0
    error: str = ""
    offline: bool = False


class UploadEngine:
    def __init__(
        self,
        store: Store,
        api: PlatformClient,
        *,
        chunk_bytes: int = wire.UPLOAD_CHUNK_BYTES,
        clock: Callable[[], dt.datetime] = dt.datetime.now,
        on_chunk: Callable[[CaptureInfo, int], None] | None = None,
    ) -> None:
        self.store = store
        self.api = api
        self.chunk_bytes = chunk_bytes
        self.clock = clock
        # Called after each acknowledged chunk (capture, bytes the server holds): progress, tests.
        self.on_chunk = on_chunk

    def run_once(self) -> UploadRound:
        """Upload everything pending, then forward what can go; raises nothing."""
        uploaded = forwarded = 0
        error, offline = "", False
        try:
            for capture in self.store.pending_uploads(limit=50):
                try:
                    self.upload(capture)
                    uploaded += 1
                except Unreachable:
                    raise
                except PlatformError as exc:
                    # This one is refused (hash, size): record why, go on with the others.
                    self.store.record_upload_failure(capture.capture_id, exc.message)
                    error = exc.message
            for case_no, materials in self.store.forwards_due():
                try:
                    self.forward(case_no, materials)
                    forwarded += 1
                except Unreachable:
                    raise
                except PlatformError as exc:
                    # Most often the case itself has not been pushed yet: try again next round.
                    self.store.record_forward_failure(case_no, exc.message)
                    error = exc.message
        except Unreachable as exc:
            error, offline = exc.message, True
        materials_left, cases_left = self.store.uploads_waiting()
        return UploadRound(uploaded, forwarded, materials_left, cases_left, error, offline)

    def upload(self, capture: CaptureInfo) -> None:
        pdf = self.store.capture_pdf(capture.capture_id)
        upload_id = capture.capture_id
        try:
            status = self.api.announce_upload(
                upload_id,
                wire.UploadCreateRequest(
                    case_no=capture.case_no or "",
                    material_code=capture.material_code,
                    material_name=capture.material_name,
                    sha256=capture.sha256,
                    size=len(pdf),
                    pages=capture.pages,
                ),
            )
        except Unreachable:
            self.store.record_upload_failure(capture.capture_id, "offline")
            raise
        offset = status.received
        while not status.complete and offset < len(pdf):
            chunk = pdf[offset : offset + self.chunk_bytes]
            try:
                status = self.api.upload_chunk(upload_id, offset, chunk)
            except PlatformError as exc:
                if exc.code != "offset_mismatch":
                    raise
                status = self.api.upload_status(upload_id)  # ask where the server is, go on from there
            offset = status.received
            self.store.record_upload_progress(capture.capture_id, offset)
            if self.on_chunk is not None:
                self.on_chunk(capture, offset)
        if not status.complete:
            try:
                status = self.api.complete_upload(upload_id)
            except PlatformError as exc:
                if exc.code == "hash_mismatch":
                    self.store.record_upload_progress(capture.capture_id, 0)  # the server starts over too
                raise
        self.store.mark_uploaded(capture.capture_id, self.clock())

    def forward(self, case_no: str, materials: Sequence[CaptureInfo]) -> None:
        req = wire.ForwardRequest(
            case_no=case_no,
            materials=[
                wire.ForwardedMaterial(material_code=m.material_code, upload_id=uuid.UUID(m.capture_id))
                for m in materials
            ],
        )
        self.api.forward_case(req)
        self.store.mark_forwarded(case_no, self.clock())


class UploadWorker:
    """Runs upload rounds on a daemon thread; ``kick`` after a capture or a forward is queued."""

    def __init__(
        self,
        engine: UploadEngine,
        *,
        interval_s: float = 5.0,
        max_backoff_s: float = 60.0,
        on_round: Callable[[UploadRound], None] | None = None,
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.on_round = on_round
        self.last: UploadRound | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hallclient-uploads", daemon=True)
            self._thread.start()

    def kick(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def next_delay(self) -> float:
        if self._failures == 0:
            return self.interval_s
        ceiling = min(self.max_backoff_s, self.interval_s * 2 ** min(self._failures, 10))
        return random.uniform(self.interval_s, max(self.interval_s, ceiling))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                result = self.engine.run_once()
                self.last = result
                self._failures = self._failures + 1 if result.error else 0
                if self.on_round is not None:
                    self.on_round(result)
            except Exception:  # a bug in one round must not stop uploads for the rest of the day
                log.exception("upload round failed")
                self._failures += 1
            self._wake.wait(self.next_delay())
            self._wake.clear()
