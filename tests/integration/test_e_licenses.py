"""E-licenses at the counter against a real hallserver: only the served applicant's, logged, honest.

The demo registry gives every demo citizen an ID card and the licenses their
item's materials accept; some ID cards have run out and some licenses are
revoked on purpose (hallserver/licenses.py demo_licenses).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

import pytest
from helpers.counter_setup import DEMO_PASSWORD, CounterRig
from helpers.live_server import LiveServer
from pypdf import PdfReader

from hallclient import wire
from hallclient.counter import Counter, CounterError, ServiceContext
from hallclient.domain import MaterialCheck, ReceiptData
from hallclient.papers import PaperKind
from printing.documents import render_paper


def rows(server: LiveServer, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.db_path) as db:
        return db.execute(sql, params).fetchall()


def ready(rig: CounterRig) -> Counter:
    c = rig.services.counter
    c.login("clerk1", DEMO_PASSWORD)
    c.refresh()
    rig.services.sync.sync_once()
    return c


def serve_item_with_licenses(c: Counter) -> ServiceContext:
    """Call citizens until one whose item accepts e-licenses (the demo queue has several)."""
    for _ in range(48):
        t = c.call_next()
        assert t is not None
        ctx = c.service_context(t)
        if ctx.item is not None and any(m.license_types for m in ctx.item.materials):
            return ctx
        c.no_show(t)
    raise AssertionError("no booked citizen with an e-license material in the demo queue")


def test_the_served_applicant_gets_the_materials_the_registry_holds(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = serve_item_with_licenses(c)
    assert ctx.booking is not None and ctx.item is not None
    matches = c.licenses(ctx, ctx.booking.applicant.id_number)
    licensed = [m for m in ctx.item.materials if m.license_types]
    # The demo registry holds a license of an accepted type for every such material.
    assert {m.code for m in licensed} == set(matches)
    for m in licensed:
        match = matches[m.code]
        assert match.license.type_code in m.license_types
        assert match.license.holder_name == ctx.booking.applicant.name and match.license.issuer
        assert ("有效期至" in match.describe()) == match.usable

    # The counter's store never keeps the registry's answer.
    with sqlite3.connect(rig.services.store.path) as db:
        dump = "\n".join(db.iterdump())
    assert match.license.license_no not in dump and match.license.issuer not in dump

    # The look is logged on the server: clerk, window, ticket, purpose.
    logged = rows(
        rig.server,
        "select clerk_id, window_no, ticket_no, purpose, allowed from license_access_log order by id",
    )
    assert logged[-1][1:] == (1, ctx.ticket.ticket_no, "list", 1)


def test_another_holders_licenses_are_refused_and_the_refusal_is_logged(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = serve_item_with_licenses(c)
    other = next(
        b
        for b in rig.services.store.bookings_between(ctx.ticket.date, ctx.ticket.date, "DEMO")
        if ctx.booking is not None and b.code != ctx.booking.code
    )
    with pytest.raises(CounterError, match="不是"):
        c.licenses(ctx, other.applicant.id_number)
    (last,) = rows(
        rig.server, "select holder_id, allowed, reason from license_access_log order by id desc limit 1"
    )
    assert last[0] == other.applicant.id_number and last[1] == 0 and "申请人" in last[2]


def test_a_ticket_not_at_this_window_sees_nothing(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = serve_item_with_licenses(c)
    assert ctx.booking is not None
    c.no_show(ctx.ticket)  # no longer being served
    rig.services.sync.sync_once()
    with pytest.raises(CounterError, match="不在 1 号窗口办理中"):
        c.licenses(
            dataclasses.replace(
                ctx, ticket=ctx.ticket.model_copy(update={"state": wire.TicketState.NO_SHOW})
            ),
            ctx.booking.applicant.id_number,
        )


def test_expired_and_revoked_licenses_are_shown_but_satisfy_nothing(
    rig: CounterRig, live_server: LiveServer
) -> None:
    c = ready(rig)
    ctx = serve_item_with_licenses(c)
    assert ctx.booking is not None and ctx.item is not None
    # Make this applicant's ID card expired and any other license revoked, in the registry itself.
    holder = ctx.booking.applicant.id_number
    with sqlite3.connect(live_server.db_path) as db:
        db.execute(
            "update e_licenses set valid_until = '2020-01-01' where holder_id = ? and type_code = 'DZZZ-GA-001'",
            (holder,),
        )
        db.execute(
            "update e_licenses set revoked = 1 where holder_id = ? and type_code != 'DZZZ-GA-001'", (holder,)
        )
    matches = c.licenses(ctx, holder)
    assert matches and not any(m.usable for m in matches.values())
    assert all(("过期" in m.describe()) or ("注销" in m.describe()) for m in matches.values())
    ctx = dataclasses.replace(ctx, licenses=matches)
    checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
    code = next(iter(matches))
    checks[code] = MaterialCheck.E_LICENSE
    with pytest.raises(CounterError, match="没有有效的电子证照"):
        c.accept(ctx, checks)
    assert rig.services.store.pending_count() == 0 or all(
        p.op.kind is not wire.OpKind.CASE_DECIDED for p in rig.services.store.pending_ops(100)
    )


def test_the_receipt_says_which_materials_came_from_e_licenses(
    rig: CounterRig, live_server: LiveServer
) -> None:
    c = ready(rig)
    ctx = serve_item_with_licenses(c)
    assert ctx.booking is not None and ctx.item is not None
    holder = ctx.booking.applicant.id_number
    with sqlite3.connect(
        live_server.db_path
    ) as db:  # a valid registry for this citizen, whatever the demo drew
        db.execute("update e_licenses set valid_until = null, revoked = 0 where holder_id = ?", (holder,))
    matches = c.licenses(ctx, holder)
    usable = [code for code, m in matches.items() if m.usable]
    assert usable
    ctx = dataclasses.replace(ctx, licenses=matches)
    checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
    for code in usable:
        checks[code] = MaterialCheck.E_LICENSE
    outcome = c.accept(ctx, checks)
    receipt = outcome.paper
    assert isinstance(receipt, ReceiptData) and outcome.kind is PaperKind.RECEIPT
    from_registry = [m for m in receipt.materials if m.check is MaterialCheck.E_LICENSE]
    assert len(from_registry) == len(usable)
    assert all(m.copies == 0 and m.source.startswith("电子证照") for m in from_registry)
    text = "".join(
        page.extract_text() for page in PdfReader(__import__("io").BytesIO(render_paper(receipt))).pages
    )
    assert "由电子证照提供" in text
    assert matches[usable[0]].license.license_no in text.replace("\n", "")
    # The case's materials on the server say so too.
    rig.services.sync.sync_once()
    (body,) = rows(live_server, "select body from cases where case_no = ?", outcome.case_no)[0]
    assert '"e_license"' in body


def test_the_license_file_opens_for_the_served_applicant_only(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = serve_item_with_licenses(c)
    assert ctx.booking is not None
    matches = c.licenses(ctx, ctx.booking.applicant.id_number)
    lic = next(iter(matches.values())).license
    pdf = c.license_file(ctx, lic.license_no)
    assert pdf.startswith(b"%PDF")
    text = PdfReader(__import__("io").BytesIO(pdf)).pages[0].extract_text()
    assert lic.license_no in text
    c.no_show(ctx.ticket)
    rig.services.sync.sync_once()
    with pytest.raises(CounterError):
        c.license_file(ctx, lic.license_no)
    purposes = [
        r[0]
        for r in rows(
            rig.server, "select purpose from license_access_log where license_no = ?", lic.license_no
        )
    ]
    assert purposes == ["view", "view"]


def test_offline_the_materials_fall_back_to_paper_with_a_note(rig: CounterRig) -> None:
    c = ready(rig)
    ctx = serve_item_with_licenses(c)
    assert ctx.booking is not None
    rig.server.stop()
    with pytest.raises(CounterError, match="纸质材料"):
        c.licenses(ctx, ctx.booking.applicant.id_number)
