"""Several items in one visit (一件事一次办), priority and notices, from the counter to a real hallserver.

A citizen opening a business takes one number for the 开办企业 bundle, is called ahead
of the queue (marked disabled, with a reason the screen never shows), and is served for
every item at one window: each paper checked once, each item decided in the bundle's
order with its own case number, one combined receipt, one rating for the visit.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sqlite3
from typing import Any

import pytest
from helpers.counter_setup import DEMO_PASSWORD, CounterRig
from helpers.live_server import LiveServer
from pypdf import PdfReader

from hallclient import wire
from hallclient.audit import AuditAction
from hallclient.counter import Counter, CounterError, ServiceContext
from hallclient.decisions import MaterialFinding
from hallclient.domain import MaterialCheck, ReceiptData
from hallclient.papers import ApprovalDecision, CorrectionNotice, PaperKind, VisitReceipt
from hallclient.visits import VISIT_CHECKLIST_CODE
from printing.documents import render_paper

HALL = "DEMO"
COMPANY, SEAL, TAX, SOCIAL, FUND = (
    "11330100MB0001001A4000117002",
    "11330100MB0005005A4000117014",
    "11330100MB0009009A4000117015",
    "11330100MB0003003A4000117016",
    "11330100MB0004004A4000117017",
)
MEDICAL = "11330100MB0007007A4000112012"  # 医疗保险异地就医备案: 即办件
PHONE = "13812345678"
APPLICANT = wire.Applicant(name="赵开业", id_number="11010519491231002X", phone=PHONE)
SEEN = MaterialCheck.ORIGINAL_SEEN


def today() -> dt.date:
    return dt.date.today()


def ready(rig: CounterRig) -> Counter:
    c = rig.services.counter
    c.login(f"clerk{rig.config.counter.window_no}", DEMO_PASSWORD)
    c.refresh()
    status = rig.services.sync.sync_once()
    assert status.online and status.last_error == ""
    return c


def server_rows(server: LiveServer, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_path) as db:
        return db.execute(sql, params).fetchall()


def synced(rig: CounterRig) -> None:
    status = rig.services.sync.sync_once()
    assert status.online and status.pending_ops == 0 and status.conflicts == 0, status


def pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


@pytest.fixture
def first_for_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """No maximum wait: the priority walk-in is called before the morning's due bookings
    whatever time of day the test runs (the no-starvation rule has its own tests)."""
    monkeypatch.setenv("HALLSERVER_QUEUE_MAX_WAIT_MIN", "0")


def company_visit(c: Counter) -> ServiceContext:
    slip = c.take_number(
        bundle_code="YJS-KBQY",
        category=wire.TicketCategory.DISABLED,
        reason="出示残疾人证 3101**********",
        phone=PHONE,
    )
    assert slip.category is wire.TicketCategory.DISABLED
    assert slip.item_name == "开办企业"
    ticket = c.call_next()
    assert ticket is not None
    assert ticket.ticket_no == slip.ticket_no, "the disabled citizen is called first"
    assert ticket.category is wire.TicketCategory.DISABLED
    ctx = c.service_context(ticket)
    assert ctx.visit is not None and ctx.item is not None
    return ctx


def test_a_citizen_opening_a_business_is_served_for_every_item_in_one_visit(
    rig: CounterRig, first_for_priority: None
) -> None:
    c = ready(rig)
    ctx = company_visit(c)
    visit = ctx.visit
    assert visit is not None and ctx.item is not None
    assert visit.bundle is not None and visit.bundle.code == "YJS-KBQY"
    assert visit.item_codes == [COMPANY, SEAL, TAX, SOCIAL, FUND]  # the order items are decided
    # Shared papers are asked for once: 14 materials of five items are six papers to check.
    assert sum(len(i.materials) for i in visit.items) == 14
    papers = {m.code: m.name for m in ctx.item.materials}
    assert len(papers) == 6
    assert list(papers.values()).count("申请人居民身份证") == 1
    assert papers["S-KBQY-FORM"] == "开办企业“一表通”申请表"
    assert visit.used_by_names("M001") == [
        "公章刻制备案",
        "新办纳税人涉税事项（含发票申领）",
        "单位社会保险登记（员工参保）",
        "住房公积金单位缴存登记",
    ]
    assert ctx.item.code == VISIT_CHECKLIST_CODE

    checked = {code: SEEN for code in papers}  # each paper checked once, for every item
    # Items are decided in the bundle's order: the seal is made for a company that exists.
    with pytest.raises(CounterError, match="请按顺序办理"):
        c.decide_in_visit(ctx, SEAL, wire.Decision.COMPLETE, checked, applicant=APPLICANT)
    # The visit's checklist is not an item: a plain decision on it is refused.
    with pytest.raises(CounterError, match="逐项"):
        c.accept(ctx, checked, applicant=APPLICANT)

    steps = []
    for code in visit.item_codes:
        item = visit.item(code)
        decision = wire.Decision.COMPLETE if item.instant else wire.Decision.ACCEPT
        step = c.decide_in_visit(
            ctx, code, decision, checked, applicant=APPLICANT, signature=[[(0.1, 0.2), (0.8, 0.7)]]
        )
        ctx = step.context
        steps.append(step)
        paper = step.outcome.paper
        assert isinstance(paper, ApprovalDecision if item.instant else ReceiptData)
        # Each item's own case: every one of its own materials recorded, found on the merged list.
        assert {m.code for m in step.outcome.payload.materials} == {m.code for m in item.materials}
        assert step.outcome.payload.visit is not None
        assert step.outcome.payload.visit.position == visit.position(code)
        assert (step.receipt is None) == (code != FUND)

    case_nos = [s.outcome.case_no for s in steps]
    assert len(set(case_nos)) == 5
    assert case_nos == [f"{HALL}-{today():%Y%m%d}-01-{n:04d}" for n in range(1, 6)]
    receipt = steps[-1].receipt
    assert receipt is not None and isinstance(receipt.paper, VisitReceipt)
    assert receipt.kind is PaperKind.VISIT_RECEIPT
    assert [line.case_no for line in receipt.paper.lines] == case_nos
    promised = {line.item_name: line.promised_date for line in receipt.paper.lines}
    assert promised["有限责任公司设立登记"] == steps[0].outcome.payload.promised_date
    assert receipt.signed_fields["case_nos"] == ",".join(case_nos)
    # The materials received once each, with the items they served.
    received = {m.name: m.used_for for m in receipt.paper.materials}
    assert len(received) == 6
    assert len(received["申请人居民身份证"]) == 4

    # The combined receipt, rendered and read back: every item, its case number and its date.
    for layout in ("a4", "slip"):
        text = pdf_text(render_paper(receipt.paper, layout=layout))
        assert "一件事一次办回执" in text and "开办企业" in text
        for line in receipt.paper.lines:
            assert line.case_no in text
            assert line.item_name.replace("（", "").replace("）", "")[:6] in text.replace("（", "").replace(
                "）", ""
            )
        assert f"{steps[0].outcome.payload.promised_date.year}年" in text  # type: ignore[union-attr]
        assert "赵*" in text and "110105********002X" in text and "138****5678" in text
        assert "赵开业" not in text and PHONE not in text
        assert "残疾" not in text  # the reason for priority is never on paper

    path = c.archive_document(receipt, render_paper(receipt.paper, layout="a4"))
    assert path.exists()
    synced(rig)
    rows = server_rows(
        rig.server,
        "select case_no, decision, ticket_no from cases where case_no like ? order by case_no",
        f"{HALL}-%",
    )
    assert [r[0] for r in rows] == case_nos
    assert {r[2] for r in rows} == {ctx.ticket.ticket_no}
    [(kind, fields)] = server_rows(
        rig.server, "select kind, fields from documents where doc_id = ?", receipt.doc_id
    )
    assert kind == "visit_receipt" and all(n in fields for n in case_nos)


def test_a_shared_paper_found_wrong_is_told_for_every_item_that_uses_it(
    rig: CounterRig, first_for_priority: None
) -> None:
    c = ready(rig)
    ctx = company_visit(c)
    assert ctx.visit is not None and ctx.item is not None
    checked: dict[str, MaterialCheck | MaterialFinding] = {m.code: SEEN for m in ctx.item.materials}
    checked["M001"] = MaterialFinding(MaterialCheck.WRONG, "身份证已过有效期")
    # The company itself does not need the ID card: accepted.
    step = c.decide_in_visit(ctx, COMPANY, wire.Decision.ACCEPT, checked, applicant=APPLICANT)
    ctx = step.context
    # The seal does: not accepted, and the correction notice names the card with the clerk's note.
    with pytest.raises(CounterError, match="申请人居民身份证"):
        c.decide_in_visit(ctx, SEAL, wire.Decision.COMPLETE, checked, applicant=APPLICANT)
    step = c.decide_in_visit(ctx, SEAL, wire.Decision.CORRECT, checked, applicant=APPLICANT)
    assert isinstance(step.outcome.paper, CorrectionNotice)
    assert [(p.name, p.what_is_wrong) for p in step.outcome.paper.problems] == [
        ("申请人居民身份证", "身份证已过有效期")
    ]
    ctx = step.context
    for code in (TAX, SOCIAL, FUND):
        ctx = c.decide_in_visit(ctx, code, wire.Decision.CORRECT, checked, applicant=APPLICANT).context
    assert ctx.visit is not None and ctx.visit.complete
    receipt = c.visit_receipt(ctx.ticket)
    assert isinstance(receipt.paper, VisitReceipt)
    decisions = [line.decision for line in receipt.paper.lines]
    assert decisions == [wire.Decision.ACCEPT] + [wire.Decision.CORRECT] * 4
    # The wrong card is not among the papers received.
    assert "申请人居民身份证" not in {m.name for m in receipt.paper.materials}
    text = pdf_text(render_paper(receipt.paper))
    assert text.count("一次性告知补正") == 4


def test_one_rating_per_visit_stored_against_the_first_case(
    rig: CounterRig, first_for_priority: None
) -> None:
    c = ready(rig)
    ctx = company_visit(c)
    assert ctx.item is not None and ctx.visit is not None
    checked = {m.code: SEEN for m in ctx.item.materials}
    for code in ctx.visit.item_codes:
        decision = wire.Decision.COMPLETE if ctx.visit.item(code).instant else wire.Decision.ACCEPT
        step = c.decide_in_visit(ctx, code, decision, checked, applicant=APPLICANT)
        ctx = step.context
    assert ctx.visit is not None
    first, *others = ctx.visit.case_nos
    assert c.visit_case_nos(first) == ctx.visit.case_nos
    c.record_rating(first, wire.RatingLevel.VERY_SATISFIED, decided_at=c.clock())
    store = rig.services.store
    assert store.has_rating(first)
    assert not any(store.has_rating(n) for n in others)
    ratings = [p.op.payload for p in store.pending_ops(1000) if p.op.kind is wire.OpKind.RATING_GIVEN]
    assert len(ratings) == 1
    assert ratings[0]["case_no"] == first and ratings[0]["visit_case_nos"] == others
    synced(rig)
    # The hall counts one rating for the visit, not five.
    [(count,)] = server_rows(
        rig.server,
        f"select count(*) from ratings where case_no in ({','.join('?' * 5)})",  # noqa: S608 (placeholders)
        first,
        *others,
    )
    assert count == 1


def test_items_added_and_removed_at_the_counter_make_a_visit_of_a_booking(rig: CounterRig) -> None:
    c = ready(rig)
    ticket = c.call_next()
    assert ticket is not None and ticket.booking_code
    ctx = c.service_context(ticket)
    assert ctx.visit is None and ctx.item is not None
    booked = ctx.item.code
    extra = MEDICAL if booked != MEDICAL else SEAL
    ctx = c.add_to_visit(ctx, extra)
    assert ctx.visit is not None and ctx.visit.item_codes == [booked, extra]
    with pytest.raises(CounterError, match="已在本次办理的事项中"):
        c.add_to_visit(ctx, extra)
    ctx = c.remove_from_visit(ctx, extra)
    assert ctx.visit is None and ctx.item is not None and ctx.item.code == booked
    # A bundle chosen at the counter keeps the booked item, after the bundle's own.
    ctx = c.start_visit(ctx, bundle_code="YJS-TX")
    assert ctx.visit is not None
    assert ctx.visit.item_codes[:3] == [
        "11330100MB0003003A4000112021",
        "11330100MB0007007A4000112022",
        "11330100MB0004004A4000112023",
    ]
    assert booked in ctx.visit.item_codes


def test_priority_is_audited_with_its_reason_and_the_server_keeps_the_reason_off_the_ticket(
    rig: CounterRig,
) -> None:
    c = ready(rig)
    slip = c.take_number(item_codes=[MEDICAL], phone=PHONE)
    assert slip.category is wire.TicketCategory.ORDINARY
    with pytest.raises(CounterError, match="理由"):
        c.mark_priority(slip.ticket_no, wire.TicketCategory.ELDERLY, "  ")
    ticket = c.mark_priority(slip.ticket_no, wire.TicketCategory.ELDERLY, "七十二岁，出示身份证")
    assert ticket.category is wire.TicketCategory.ELDERLY
    assert "出示" not in ticket.model_dump_json()
    audit = [e for e in rig.services.store.audit_entries() if e.action == AuditAction.PRIORITY.value]
    assert [(e.subject, e.detail) for e in audit] == [(slip.ticket_no, "elderly: 七十二岁，出示身份证")]
    assert rig.services.store.verify_audit() is None
    [(category, reason, window)] = server_rows(
        rig.server,
        "select v.category, v.priority_reason, v.priority_window from ticket_visits v "
        "join tickets t on t.id = v.ticket_id where t.ticket_no = ?",
        slip.ticket_no,
    )
    assert (category, reason, window) == ("elderly", "七十二岁，出示身份证", 1)
    # What every counter pulls carries no category and no reason.
    synced(rig)
    [(data,)] = server_rows(
        rig.server,
        "select data from change_log where entity = 'ticket' and key like ? order by seq desc limit 1",
        f"%/{slip.ticket_no}",
    )
    assert "出示" not in data and "elderly" not in data
    rows = {r.ticket.ticket_no: r.category for r in c.queue()}
    assert rows[slip.ticket_no] is wire.TicketCategory.ELDERLY


def test_a_waiting_estimate_comes_with_the_number(rig: CounterRig) -> None:
    c = ready(rig)
    slip = c.take_number(item_codes=[MEDICAL])
    assert slip.estimated_minutes is not None and slip.estimated_minutes > 0
    estimate = c.wait_estimate()
    assert estimate is not None and estimate.waiting >= 1
    rig.server.stop()
    try:
        assert c.wait_estimate() is None  # offline: no estimate, and no error for the screen
    finally:
        rig.server.start()
