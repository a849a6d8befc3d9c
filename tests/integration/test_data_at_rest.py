"""A stolen disk gives nothing away: a citizen served through a real Counter against a live
hallserver leaves no ID number, phone or name in clear in the SQLite files, the archived
papers or the log.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig, make_rig
from helpers.live_server import LiveServer
from pypdf import PdfReader

from hallclient import wire
from hallclient.domain import MaterialCheck
from hallclient.masking import mask_id_number, mask_name, mask_phone
from hallclient.validation import resident_id_check_digit
from printing.documents import render_paper

COMPANY = "11330100MB0001001A4000117002"  # demo catalog: 有限责任公司设立登记 (5 materials, 3 days)

_FIRST17 = "33010619880215047"
ID_NUMBER = _FIRST17 + resident_id_check_digit(_FIRST17)
PHONE = "13957112468"
NAME = "司马慧敏"
APPLICANT = wire.Applicant(name=NAME, id_number=ID_NUMBER, phone=PHONE)
SECRETS = (ID_NUMBER, PHONE, NAME)


def forms_of(value: str) -> list[bytes]:
    """Every way the value could sit in a file if it were stored in clear."""
    forms = {
        value.encode("utf-8"),
        value.encode("utf-16-le"),
        value.encode("utf-16-be"),
        json.dumps(value).strip('"').encode("ascii"),  # \\uXXXX escapes
        value.lower().encode("utf-8"),
    }
    return sorted(forms)


def hits(data: bytes) -> dict[str, int]:
    return {
        v: sum(data.count(f) for f in forms_of(v)) for v in SECRETS if any(f in data for f in forms_of(v))
    }


def test_the_search_finds_every_clear_form() -> None:
    """The detector itself: each encoding of each value is found."""
    for value in SECRETS:
        for form in forms_of(value):
            assert hits(b"..." + form + b"...") == {value: 1}


def database_files(data_dir: Path) -> dict[str, bytes]:
    """counter.sqlite with its -wal, -shm and any -journal, as they lie on disk."""
    return {p.name: p.read_bytes() for p in sorted(data_dir.glob("counter.sqlite*"))}


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def window2(live_server: LiveServer, tmp_path: Path) -> Iterator[CounterRig]:
    built = make_rig(live_server, tmp_path / "window2", window_no=2)
    yield built
    built.close()


def test_a_served_walk_in_leaves_nothing_personal_on_disk_or_in_the_log(
    rig: CounterRig, window2: CounterRig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    s = rig.services
    counter = s.counter
    counter.login(DEMO_USER, DEMO_PASSWORD)
    counter.refresh()

    # Window 2 serves every booked citizen, so window 1's next call is the walk-in.
    window2.services.counter.login("clerk2", DEMO_PASSWORD)
    while window2.services.counter.call_next() is not None:
        pass
    walk_in = s.api.walk_in(None)
    assert walk_in.booking_code is None
    ticket = counter.call_next()
    assert ticket is not None and ticket.ticket_no == walk_in.ticket_no
    ticket = counter.start_serving(ticket)
    ctx = counter.with_item(counter.service_context(ticket), COMPANY)
    assert ctx.booking is None and ctx.item is not None

    outcome = counter.accept(
        ctx,
        {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials},
        applicant=APPLICANT,
        notes="原件已核验",
    )
    case_no = outcome.case_no
    receipt = render_paper(outcome.paper)
    counter.archive_document(outcome, receipt)
    slip = counter.pickup(case_no, NAME)
    counter.archive_document(slip, render_paper(slip.paper))
    # The citizen can be found again by the ID number, through the blind index.
    [hit] = [h for h in counter.lookup(ID_NUMBER) if h.case]
    assert hit.case is not None and hit.case.applicant == APPLICANT

    status = s.sync.sync_once()
    assert status.online and status.pending_ops == 0 and status.conflicts == 0

    # -- the SQLite files, while the counter is running ------------------------------------------
    data_dir = rig.config.data_dir
    files = database_files(data_dir)
    assert "counter.sqlite" in files
    everything = b"".join(files.values())
    # Positive control: what is not personal is in clear, so these are the right files.
    assert case_no.encode() in everything and "有限责任公司设立登记".encode() in everything
    for name, data in files.items():
        assert hits(data) == {}, f"personal data in clear in {name}"

    # -- the archived papers: only masked ------------------------------------------------------------
    pdfs = sorted((data_dir / "documents").rglob("*.pdf"))
    assert len(pdfs) == 2
    for path in pdfs:
        data = path.read_bytes()
        assert hits(data) == {}, f"personal data in the bytes of {path.name}"
        text = pdf_text(data)
        for value in SECRETS:
            assert value not in text, f"{value} printed in full on {path.name}"
        assert mask_name(NAME) in text
    receipt_text = pdf_text(receipt)
    assert mask_id_number(ID_NUMBER) in receipt_text and mask_phone(PHONE) in receipt_text

    # -- the log ------------------------------------------------------------------------------------------
    assert caplog.records, "the log was captured"
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    for value in SECRETS:
        assert value not in logged, f"{value} in the log"

    # -- the SQLite files after the counter closed (the WAL checkpointed into the main file) ---------
    window2.close()
    rig.close()
    files = database_files(data_dir)
    for name, data in files.items():
        assert hits(data) == {}, f"personal data in clear in {name} after close"
