"""复用既往材料 against a real hallserver: offered to the served applicant only, logged, with consent.

A citizen accepted earlier with a captured, uploaded ID card copy comes back for
another item that asks for the same material. The second booking is rewritten
on the server to be the same person's (the demo queue's bookings are each a
different citizen).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from helpers.counter_setup import DEMO_PASSWORD, CounterRig
from helpers.live_server import LiveServer
from helpers.paper_photos import write_photos
from pypdf import PdfReader

from hallclient import captures, wire
from hallclient.counter import Counter, CounterError, ServiceContext
from hallclient.domain import MaterialCheck, ReceiptData
from hallclient.uploads import UploadEngine
from hallserver.db import session_factory
from hallserver.department import Staff, _case_page
from hallserver.models import BackOfficeCase, Case, CaseMaterial
from printing.documents import render_paper

FIRST_ITEM = (
    "11330100MB0001001A4000117001"  # 个体工商户设立登记: ID card (re-usable 180 days), form, premises
)
ID_CARD = "M001"
ID_CARD_NAME = "申请人居民身份证"
WALK_IN = wire.Applicant(name="王芳", id_number="11010519491231002X", phone="13800138000")


def rows(server: LiveServer, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_path) as db:
        return db.execute(sql, params).fetchall()


@dataclasses.dataclass
class Earlier:
    applicant: wire.Applicant
    case_no: str
    sha256: str


def ready(rig: CounterRig) -> Counter:
    c = rig.services.counter
    c.login("clerk1", DEMO_PASSWORD)
    c.refresh()
    rig.services.sync.sync_once()
    return c


def upload_and_forward(rig: CounterRig, ticket: wire.Ticket, case_no: str) -> None:
    cs = captures.CaptureStore(rig.services.store)
    cs.forward(captures.subject_of(ticket.date, ticket.ticket_no), case_no)
    engine = UploadEngine(rig.services.store, rig.services.api, chunk_bytes=64 * 1024)
    engine.run_once()
    rig.services.sync.sync_once()
    engine.run_once()
    state = rig.services.store.forward_state(case_no)
    assert state is not None and state[0] == "done", state


def earlier_case(rig: CounterRig, c: Counter, tmp_path: Path) -> Earlier:
    """First visit: accepted, the ID card copy captured and uploaded with the case."""
    t = c.call_next()
    assert t is not None
    ctx = c.with_item(c.service_context(t), FIRST_ITEM)
    applicant = ctx.booking.applicant if ctx.booking else WALK_IN
    cs = captures.CaptureStore(rig.services.store)
    draft = captures.MaterialDraft(ID_CARD, ID_CARD_NAME)
    for path in write_photos(tmp_path / "scans", 1):
        draft.add(path.read_bytes())
    captured = cs.save(captures.subject_of(t.date, t.ticket_no), draft)
    assert ctx.item is not None
    outcome = c.accept(
        ctx, {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}, applicant=applicant
    )
    upload_and_forward(rig, t, outcome.case_no)
    assert rows(rig.server, "select sha256 from case_materials where case_no = ?", outcome.case_no) == [
        (captured.sha256,)
    ]
    return Earlier(applicant, outcome.case_no, captured.sha256)


def second_item(c: Counter) -> wire.ServiceItem:
    """Another item asking for the same (re-usable) material."""
    return next(
        i
        for i in c.store.catalog()
        if i.code != FIRST_ITEM and any(m.name == ID_CARD_NAME and m.reuse_days > 0 for m in i.materials)
    )


def comes_back(rig: CounterRig, c: Counter, earlier: Earlier, *, same_person: bool = True) -> ServiceContext:
    t = c.call_next()
    assert t is not None and t.booking_code
    if same_person:
        with sqlite3.connect(rig.server.db_path) as db:
            db.execute(
                "update bookings set applicant = ? where code = ?",
                (json.dumps(earlier.applicant.model_dump()), t.booking_code),
            )
    return c.with_item(c.service_context(t), second_item(c).code)


@pytest.fixture
def served(rig: CounterRig, tmp_path: Path) -> tuple[Counter, Earlier]:
    c = ready(rig)
    return c, earlier_case(rig, c, tmp_path)


def test_the_earlier_submission_is_offered_to_the_same_applicant_and_logged(
    rig: CounterRig, served: tuple[Counter, Earlier]
) -> None:
    c, earlier = served
    ctx = comes_back(rig, c, earlier)
    offers = c.earlier_materials(ctx, earlier.applicant.id_number)
    assert set(offers) == {ID_CARD}
    offer = offers[ID_CARD]
    assert offer.earlier.case_no == earlier.case_no and offer.earlier.sha256 == earlier.sha256
    assert offer.earlier.item_name == "个体工商户设立登记" and offer.consented_at is None
    assert offer.earlier.valid_until == offer.submitted_on + dt.timedelta(days=180)
    assert "可用至" in offer.describe() and earlier.case_no in offer.source_note()
    (last,) = rows(
        rig.server,
        "select window_no, ticket_no, purpose, allowed from license_access_log order by id desc limit 1",
    )
    assert last == (1, ctx.ticket.ticket_no, "reuse", 1)


def test_another_applicant_or_a_ticket_not_served_here_gets_403_and_is_logged(
    rig: CounterRig, served: tuple[Counter, Earlier]
) -> None:
    c, earlier = served
    ctx = comes_back(rig, c, earlier, same_person=False)  # someone else's booking
    with pytest.raises(CounterError, match="不是"):
        c.earlier_materials(ctx, earlier.applicant.id_number)
    c.no_show(ctx.ticket)
    rig.services.sync.sync_once()
    gone = dataclasses.replace(ctx, ticket=ctx.ticket.model_copy(update={"state": wire.TicketState.NO_SHOW}))
    with pytest.raises(CounterError, match="不在 1 号窗口办理中"):
        c.earlier_materials(gone, earlier.applicant.id_number)
    logged = rows(
        rig.server, "select purpose, allowed, reason from license_access_log order by id desc limit 2"
    )
    assert [(p, a) for p, a, _r in logged] == [("reuse", 0), ("reuse", 0)]
    assert all(r for _p, _a, r in logged)


def test_a_submission_older_than_reuse_days_is_not_offered(
    rig: CounterRig, served: tuple[Counter, Earlier]
) -> None:
    c, earlier = served
    with session_factory(rig.server.engine)() as s:
        case = s.get(Case, earlier.case_no)
        assert case is not None
        case.decided_at = case.decided_at - dt.timedelta(days=181)
        s.commit()
    ctx = comes_back(rig, c, earlier)
    assert c.earlier_materials(ctx, earlier.applicant.id_number) == {}


def test_with_consent_the_material_is_reused_printed_and_reaches_the_department(
    rig: CounterRig, served: tuple[Counter, Earlier]
) -> None:
    c, earlier = served
    ctx = comes_back(rig, c, earlier)
    offers = c.earlier_materials(ctx, earlier.applicant.id_number)
    ctx = dataclasses.replace(ctx, reuse=offers)
    assert ctx.item is not None
    checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
    checks[ID_CARD] = MaterialCheck.REUSED
    with pytest.raises(CounterError, match="同意"):
        c.accept(ctx, checks)  # offered is not agreed
    ctx = c.record_reuse_consent(ctx, offers, agreed=True)
    assert ctx.reuse[ID_CARD].consented_at is not None
    outcome = c.accept(ctx, checks, applicant=earlier.applicant)
    receipt = outcome.paper
    assert isinstance(receipt, ReceiptData)
    (reused,) = [m for m in receipt.materials if m.check is MaterialCheck.REUSED]
    assert reused.copies == 0 and earlier.case_no in reused.source
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(render_paper(receipt))).pages)
    flat = text.replace("\n", "")
    assert "复用既往材料" in flat and earlier.case_no in flat
    # The consent is kept with the case and in the audit log (no personal data there).
    (m,) = [m for m in outcome.payload.materials if m.code == ID_CARD]
    assert (
        m.reused_from is not None and m.reused_from.case_no == earlier.case_no and m.reused_from.consented_at
    )
    audit = [e for e in rig.services.store.audit_entries() if e.action == "consent"]
    assert (
        audit and earlier.case_no in audit[-1].detail and earlier.applicant.id_number not in audit[-1].detail
    )

    upload_and_forward(rig, ctx.ticket, outcome.case_no)
    with session_factory(rig.server.engine)() as s:
        copy = s.get(CaseMaterial, (outcome.case_no, ID_CARD))
        assert copy is not None and copy.sha256 == earlier.sha256
        assert hashlib.sha256(copy.content).hexdigest() == earlier.sha256
        routed = s.get(BackOfficeCase, outcome.case_no)
        assert routed is not None
        # The department's page lists it with the captured ones, and says where it came from.
        page = _case_page(s, Staff(0, "审批员", "DEMO", routed.department), routed)
    assert f"复用既往材料（办件 {earlier.case_no}）" in page and ID_CARD_NAME in page
    # A re-used copy is never offered again as a submission of its own (its first one still is).
    ctx3 = comes_back(rig, c, earlier)
    again = c.earlier_materials(ctx3, earlier.applicant.id_number)
    assert again[ID_CARD].earlier.case_no == earlier.case_no


def test_refused_consent_means_paper(rig: CounterRig, served: tuple[Counter, Earlier]) -> None:
    c, earlier = served
    ctx = comes_back(rig, c, earlier)
    offers = c.earlier_materials(ctx, earlier.applicant.id_number)
    ctx = c.record_reuse_consent(dataclasses.replace(ctx, reuse=offers), offers, agreed=False)
    assert ctx.reuse == {}
    assert ctx.item is not None
    checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
    with pytest.raises(CounterError, match="同意"):
        c.accept(ctx, {**checks, ID_CARD: MaterialCheck.REUSED})
    outcome = c.accept(ctx, checks)
    assert all(m.status != "reused" for m in outcome.payload.materials)


def test_offline_nothing_is_offered_and_the_clerk_is_told_paper(
    rig: CounterRig, served: tuple[Counter, Earlier]
) -> None:
    c, earlier = served
    ctx = comes_back(rig, c, earlier)
    rig.server.stop()
    with pytest.raises(CounterError, match="纸质材料"):
        c.earlier_materials(ctx, earlier.applicant.id_number)
