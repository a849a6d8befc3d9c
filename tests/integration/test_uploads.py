"""Captured materials reach the back office: chunked, resumable, hash-checked, against a real hallserver.

The counter's real core (store, platform client, upload engine) talks over real
HTTP to a hallserver on loopback; the network is broken with the faulty proxy,
and a counter process is killed with SIGKILL in the middle of a file. Every time
the server ends up with exactly the bytes the counter captured (SHA-256 checked
by the server, and again here) and no chunk is sent twice more than needed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig, make_config
from helpers.faulty_proxy import FaultyProxy
from helpers.live_server import LiveServer
from helpers.paper_photos import paper_photo, write_photos
from pypdf import PdfReader
from sqlalchemy import select

from hallclient import captures, wire
from hallclient.api import PlatformError
from hallclient.counter import CounterError, OverdueEntry
from hallclient.domain import MaterialCheck
from hallclient.services import Services, build_services
from hallclient.uploads import UploadEngine
from hallserver.db import session_factory
from hallserver.department import Staff, add_department_staff, decide
from hallserver.models import BackOfficeCase, CaseMaterial, Upload, UploadChunk

TESTS = Path(__file__).resolve().parents[1]
APPLICANT = wire.Applicant(name="王芳", id_number="11010519491231002X", phone="13800138000")


def accept_next(services: Services) -> tuple[str, str]:
    """Call the next citizen and accept: (capture subject, case number)."""
    counter = services.counter
    ticket = counter.call_next()
    assert ticket is not None
    ctx = counter.service_context(ticket)
    assert ctx.item is not None
    checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
    outcome = counter.accept(ctx, checks, applicant=None if ctx.booking else APPLICANT)
    return captures.subject_of(ticket.date, ticket.ticket_no), outcome.payload.case_no


def capture_from_files(
    cs: captures.CaptureStore, subject: str, files: list[Path]
) -> captures.CapturedMaterial:
    draft = captures.MaterialDraft("M01", "申请书")
    for path in files:
        draft.add(path.read_bytes())
    return cs.save(subject, draft)


def server_material(server: LiveServer, case_no: str, code: str = "M01") -> CaseMaterial | None:
    with session_factory(server.engine)() as s:
        return s.get(CaseMaterial, (case_no, code))


def chunk_puts(proxy: FaultyProxy) -> list[str]:
    return [seen.target for seen in proxy.seen if seen.method == "PUT" and "/chunks/" in seen.target]


@pytest.fixture
def signed_in(rig: CounterRig) -> Services:
    rig.services.counter.login(DEMO_USER, DEMO_PASSWORD)
    rig.services.counter.refresh()
    return rig.services


def test_materials_captured_from_files_reach_the_department_hash_checked(
    signed_in: Services, live_server: LiveServer, tmp_path: Path
) -> None:
    s = signed_in
    cs = captures.CaptureStore(s.store)
    subject, case_no = accept_next(s)
    captured = capture_from_files(cs, subject, write_photos(tmp_path / "scans", 3))
    assert cs.forward(subject, case_no) == 1
    engine = UploadEngine(s.store, s.api, chunk_bytes=64 * 1024)
    # Before the case's own op reached the server, the file goes up but the forward waits.
    first = engine.run_once()
    assert first.uploaded == 1 and first.forwarded == 0 and first.waiting_cases == 1
    assert s.store.forward_state(case_no) == ("pending", s.store.forward_state(case_no)[1])  # type: ignore[index]
    assert "还没有收到办件" in s.store.forward_state(case_no)[1]  # type: ignore[index]
    s.sync.sync_once()
    second = engine.run_once()
    assert second.forwarded == 1 and second.waiting_materials == second.waiting_cases == 0
    stored = server_material(live_server, case_no)
    assert stored is not None and stored.pages == 3
    assert hashlib.sha256(stored.content).hexdigest() == captured.sha256 == stored.sha256
    reader = PdfReader(io.BytesIO(stored.content))
    assert len(reader.pages) == 3
    with session_factory(live_server.engine)() as db:
        routed = db.get(BackOfficeCase, case_no)
        assert routed is not None and routed.state == "forwarded" and routed.department
        assert db.scalars(select(UploadChunk)).all() == []  # chunks dropped once assembled
    timeline = s.api.case_timeline(case_no)
    assert [e.kind for e in timeline.events] == [wire.TimelineKind.ACCEPTED, wire.TimelineKind.FORWARDED]
    # The back office's answer arrives as a pulled change.
    assert s.sync.sync_once().last_error == ""  # the sync engine's pull stores case_status changes
    status = s.store.back_office_status(case_no)
    assert (
        status is not None and status.state is wire.BackOfficeState.FORWARDED and not status.ready_for_pickup
    )


def test_a_forwarded_case_cannot_be_handed_over_before_its_department_decides(
    signed_in: Services, tmp_path: Path
) -> None:
    s = signed_in
    cs = captures.CaptureStore(s.store)
    subject, case_no = accept_next(s)
    capture_from_files(cs, subject, write_photos(tmp_path / "scans", 1))
    assert cs.forward(subject, case_no) == 1
    engine = UploadEngine(s.store, s.api, chunk_bytes=64 * 1024)
    engine.run_once()
    s.sync.sync_once()
    engine.run_once()
    assert s.sync.sync_once().last_error == ""  # the department's queue state comes back through pull
    status = s.store.back_office_status(case_no)
    assert status is not None and not status.ready_for_pickup
    with pytest.raises(CounterError, match="审批中"):
        s.counter.pickup(case_no, "王芳")
    assert s.store.case(case_no) is not None and s.store.case(case_no).picked_up_at is None  # type: ignore[union-attr]


def test_a_dropped_connection_mid_file_resumes_where_the_server_is(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with FaultyProxy(live_server.port) as proxy:
        config = make_config(live_server, tmp_path / "w1")
        config = dataclasses.replace(config, server=dataclasses.replace(config.server, url=proxy.url))
        s = build_services(config)
        try:
            s.counter.login(DEMO_USER, DEMO_PASSWORD)
            s.counter.refresh()
            subject, case_no = accept_next(s)
            cs = captures.CaptureStore(s.store)
            captured = capture_from_files(cs, subject, write_photos(tmp_path / "scans", 2))
            cs.forward(subject, case_no)
            s.sync.sync_once()
            chunk = 32 * 1024
            chunks = -(-captured.size // chunk)
            assert chunks >= 6
            engine = UploadEngine(s.store, s.api, chunk_bytes=chunk)
            # The 3rd chunk is applied by the server, but its answer never comes back.
            with proxy.fault("lose_response", only="/chunks/", after=2):
                lost = engine.run_once()
            assert lost.offline and lost.uploaded == 0 and lost.waiting_materials == 1
            # Then a reset in the middle of the 5th chunk's answer.
            with proxy.fault("reset_mid_response", only="/chunks/", after=1):
                reset = engine.run_once()
            assert reset.offline and reset.waiting_materials == 1
            done = engine.run_once()
            assert done.uploaded == 1 and done.forwarded == 1 and not done.error
            stored = server_material(live_server, case_no)
            assert stored is not None and hashlib.sha256(stored.content).hexdigest() == captured.sha256
            # Resumed from the server's count each time: every chunk sent once, the two lost ones twice at most.
            puts = chunk_puts(proxy)
            assert chunks <= len(puts) <= chunks + 2, (chunks, puts)
            offsets = [int(t.rsplit("/", 1)[1]) for t in puts]
            assert offsets.count(0) == 1
        finally:
            s.close()


def test_a_wrong_hash_is_refused_and_nothing_reaches_the_case(
    signed_in: Services, live_server: LiveServer
) -> None:
    api = signed_in.api
    content = paper_photo()  # any bytes will do
    upload_id = "5b0e8a4e-6a43-4d9a-9d55-1a5c8e0f0c01"
    req = wire.UploadCreateRequest(
        case_no="DEMO-20261125-01-0999",
        material_code="M01",
        sha256=hashlib.sha256(b"something else").hexdigest(),
        size=len(content),
        pages=1,
    )
    api.announce_upload(upload_id, req)
    api.announce_upload(upload_id, req)  # announcing again is harmless
    offset = 0
    while offset < len(content):
        offset = api.upload_chunk(upload_id, offset, content[offset : offset + 200_000]).received
    with pytest.raises(PlatformError) as refused:
        api.complete_upload(upload_id)
    assert refused.value.code == "hash_mismatch" and refused.value.status == 422
    assert api.upload_status(upload_id).received == 0  # discarded: the counter starts over
    assert server_material(live_server, "DEMO-20261125-01-0999") is None
    # Another hall's case number is not this counter's to upload for.
    with pytest.raises(PlatformError) as other:
        api.announce_upload(
            "5b0e8a4e-6a43-4d9a-9d55-1a5c8e0f0c02", req.model_copy(update={"case_no": "ELSE-1"})
        )
    assert other.value.status == 403


CHILD = """
import sys, time
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER
from hallclient.services import build_services
from hallclient.counter import CounterError
from hallclient.uploads import UploadEngine
import pickle
config = pickle.loads(bytes.fromhex(sys.argv[1]))
s = build_services(config)
s.counter.login(DEMO_USER, DEMO_PASSWORD)
def progress(capture, received):
    print("received", received, flush=True)
    time.sleep(0.05)
UploadEngine(s.store, s.api, chunk_bytes=16 * 1024, on_chunk=progress).run_once()
print("finished", flush=True)
"""


def test_kill_9_mid_file_loses_nothing_and_resends_nothing(live_server: LiveServer, tmp_path: Path) -> None:
    import pickle

    config = make_config(live_server, tmp_path / "w1")
    s = build_services(config)
    try:
        s.counter.login(DEMO_USER, DEMO_PASSWORD)
        s.counter.refresh()
        subject, case_no = accept_next(s)
        cs = captures.CaptureStore(s.store)
        captured = capture_from_files(cs, subject, write_photos(tmp_path / "scans", 3))
        cs.forward(subject, case_no)
        s.sync.sync_once()
        s.counter.logout()
    finally:
        s.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), str(TESTS.parent)])}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, pickle.dumps(config).hex()],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    received_at_kill = 0
    deadline = time.monotonic() + 60
    for line in child.stdout:
        if line.startswith("received"):
            received_at_kill = int(line.split()[1])
            if received_at_kill >= captured.size // 3:
                os.kill(child.pid, signal.SIGKILL)
                break
        assert time.monotonic() < deadline, "the child never got going"
    child.wait(10)
    assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    assert 0 < received_at_kill < captured.size
    with session_factory(live_server.engine)() as db:
        upload = db.scalars(select(Upload)).one()
        held = upload.received
        assert not upload.complete and held >= received_at_kill

    # The counter starts again on the same file: the upload goes on from the server's count.
    s = build_services(config)
    try:
        s.counter.login(DEMO_USER, DEMO_PASSWORD)
        sent: list[int] = []
        engine = UploadEngine(s.store, s.api, chunk_bytes=16 * 1024, on_chunk=lambda c, n: sent.append(n))
        done = engine.run_once()
        assert done.uploaded == 1 and done.forwarded == 1, done
        assert sent and sent[0] > held  # the first chunk after the restart starts at the server's count
        assert len(sent) == -(-(captured.size - held) // (16 * 1024))
    finally:
        s.close()
    stored = server_material(live_server, case_no)
    assert stored is not None
    assert hashlib.sha256(stored.content).hexdigest() == captured.sha256
    assert len(PdfReader(io.BytesIO(stored.content)).pages) == 3


def test_overdue_warnings_say_where_the_case_is_and_end_when_its_department_decides(
    signed_in: Services, live_server: LiveServer, tmp_path: Path
) -> None:
    s = signed_in
    cs = captures.CaptureStore(s.store)
    subject, case_no = accept_next(s)
    case = s.store.case(case_no)
    assert case is not None and case.promised_date is not None
    # The morning of the promised day: the case is due, wherever it is.
    due_day = dt.datetime.combine(case.promised_date, dt.time(9))
    s.counter.clock = lambda: due_day

    def entry() -> OverdueEntry | None:
        return next((e for e in s.counter.overdue() if e.case_no == case_no), None)

    capture_from_files(cs, subject, write_photos(tmp_path / "scans", 1))
    cs.forward(subject, case_no)
    engine = UploadEngine(s.store, s.api, chunk_bytes=64 * 1024)
    engine.run_once()  # the file goes up; the forward waits for the case's own op
    waiting = entry()
    assert waiting is not None and waiting.kind == "due_soon"
    assert waiting.stage.startswith("材料尚未转出后台") and "还没有收到办件" in waiting.stage
    s.sync.sync_once()
    engine.run_once()
    assert s.sync.sync_once().last_error == ""
    status = s.store.back_office_status(case_no)
    assert status is not None
    in_department = entry()
    assert in_department is not None and in_department.stage.startswith(f"在{status.department}审批中")
    # The department decides: the promise is kept, the warning goes.
    with session_factory(live_server.engine)() as db:
        account = add_department_staff(
            db,
            hall_code="DEMO",
            username="dept1",
            name="李审批",
            staff_no="D001",
            password="dept-pass-1",
            department=status.department,
        )
        staff = Staff(account.id, account.name, "DEMO", status.department)
        decide(
            db,
            staff,
            case_no,
            approved=False,
            reasons=["材料与实际不符"],
            remark="",
            result_pdf=None,
            now=dt.datetime.now(dt.UTC),
        )
    assert s.sync.sync_once().last_error == ""
    assert entry() is None
