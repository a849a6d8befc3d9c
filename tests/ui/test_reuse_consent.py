"""复用既往材料 in the real counter: the clerk asks, the citizen answers on the citizen screen.

An earlier accepted case of the same citizen, with its ID card copy captured and
uploaded, is made through the core first; then the real windows serve the
citizen again for another item asking for the same material.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.counter_setup import DEMO_PASSWORD, DEMO_USER, CounterRig
from helpers.paper_photos import write_photos
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton
from pytestqt.qtbot import QtBot

from hallclient import captures, wire
from hallclient.domain import MaterialCheck
from hallclient.uploads import UploadEngine
from ui.app import CounterApp
from ui.gui import make_qt_app

pytestmark = pytest.mark.gui

FIRST_ITEM = "11330100MB0001001A4000117001"  # 个体工商户设立登记
ID_CARD, ID_CARD_NAME = "M001", "申请人居民身份证"


@dataclasses.dataclass
class Earlier:
    applicant: wire.Applicant
    case_no: str
    sha256: str


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("HALL_SHOTS", tmp_path / "shots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def earlier(rig: CounterRig, tmp_path: Path) -> Earlier:
    """The citizen's first visit, through the core: accepted, ID card captured, uploaded, forwarded."""
    s = rig.services
    c = s.counter
    c.login(DEMO_USER, DEMO_PASSWORD)
    c.refresh()
    s.sync.sync_once()
    t = c.call_next()
    assert t is not None
    ctx = c.with_item(c.service_context(t), FIRST_ITEM)
    assert ctx.booking is not None and ctx.item is not None
    draft = captures.MaterialDraft(ID_CARD, ID_CARD_NAME)
    for path in write_photos(tmp_path / "scans", 1):
        draft.add(path.read_bytes())
    cs = captures.CaptureStore(s.store)
    subject = captures.subject_of(t.date, t.ticket_no)
    captured = cs.save(subject, draft)
    outcome = c.accept(ctx, {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials})
    cs.forward(subject, outcome.case_no)
    engine = UploadEngine(s.store, s.api, chunk_bytes=64 * 1024)
    engine.run_once()
    s.sync.sync_once()
    engine.run_once()
    c.logout()
    return Earlier(ctx.booking.applicant, outcome.case_no, captured.sha256)


@pytest.fixture
def counter_app(qtbot: QtBot, rig: CounterRig, earlier: Earlier) -> Iterator[CounterApp]:
    make_qt_app()
    app = CounterApp(rig.services)
    app.start()
    yield app
    for w in (app.main_window, app.citizen, app.login):
        if w is not None:
            w.close()
    app.runner.shutdown()


def sign_in(qtbot: QtBot, app: CounterApp) -> None:
    app.login.username.setText(DEMO_USER)
    app.login.password.setText(DEMO_PASSWORD)
    button = app.login.findChild(QPushButton, "loginButton")
    assert button is not None
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.citizen is not None, timeout=10_000)
    mw = app.main_window
    assert mw is not None
    qtbot.waitUntil(lambda: mw.queue.model.rowCount() > 0, timeout=15_000)


def comes_back(qtbot: QtBot, app: CounterApp, rig: CounterRig, earlier: Earlier) -> None:
    """The same citizen, on a second booking, for another item asking for an ID card copy."""
    mw, citizen = app.main_window, app.citizen
    assert mw is not None and citizen is not None
    qtbot.mouseClick(mw.queue.call_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: mw.case_view.context is not None, timeout=10_000)
    ctx = mw.case_view.context
    assert ctx is not None and ctx.booking is not None
    with sqlite3.connect(rig.server.db_path) as db:
        db.execute(
            "update bookings set applicant = ? where code = ?",
            (json.dumps(earlier.applicant.model_dump()), ctx.booking.code),
        )
    counter = app.services.counter
    item = next(
        i
        for i in counter.store.catalog()
        if i.code != FIRST_ITEM and any(m.name == ID_CARD_NAME and m.reuse_days > 0 for m in i.materials)
    )
    booking = ctx.booking.model_copy(update={"applicant": earlier.applicant, "item_code": item.code})
    mw._serve(dataclasses.replace(ctx, booking=booking, item=item))
    qtbot.waitUntil(
        lambda: mw.case_view.context is not None and ID_CARD in mw.case_view.context.reuse, timeout=10_000
    )
    citizen._service_delay.setInterval(0)
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.serving, timeout=10_000)


def ask(qtbot: QtBot, app: CounterApp) -> None:
    mw, citizen = app.main_window, app.citizen
    assert mw is not None and citizen is not None
    box = mw.case_view.findChild(QCheckBox, f"reuse_{ID_CARD}")
    assert isinstance(box, QCheckBox) and box.isEnabled()
    if not box.isChecked():  # not ticked for the clerk where the e-license registry supplies it
        box.setChecked(True)
    combo = mw.case_view.findChild(QComboBox, f"check_{ID_CARD}")
    assert isinstance(combo, QComboBox)
    reused = combo.findData(MaterialCheck.REUSED)
    assert not combo.model().item(reused).isEnabled()  # type: ignore[attr-defined]  # not before consent
    assert mw.case_view.reuse_button.isVisible()
    qtbot.mouseClick(mw.case_view.reuse_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: citizen.stack.currentWidget() is citizen.consent, timeout=5_000)


def test_consent_on_the_citizen_screen_reuses_the_material_and_the_receipt_says_so(
    qtbot: QtBot, counter_app: CounterApp, rig: CounterRig, earlier: Earlier, shots: Path
) -> None:
    sign_in(qtbot, counter_app)
    mw, citizen = counter_app.main_window, counter_app.citizen
    assert mw is not None and citizen is not None
    comes_back(qtbot, counter_app, rig, earlier)
    ask(qtbot, counter_app)

    # What the citizen sees: the earlier item, the day, the material; nothing personal.
    shown = "\n".join(lbl.text() for lbl in citizen.consent.findChildren(QLabel) if lbl.isVisibleTo(citizen))
    assert "以下材料使用您在" in shown and "个体工商户设立登记" in shown and ID_CARD_NAME in shown
    a = earlier.applicant
    assert a.id_number not in shown and a.name not in shown and a.phone not in shown
    assert earlier.case_no not in shown
    qtbot.wait(50)
    assert citizen.grab().save(str(shots / "reuse_consent_page.png"))

    with qtbot.waitSignal(citizen.reuse_answered, timeout=2000):
        qtbot.mouseClick(citizen.consent.agree_button, Qt.MouseButton.LeftButton)
    assert citizen.stack.currentWidget() is citizen.serving  # back where the citizen was
    combo = mw.case_view.findChild(QComboBox, f"check_{ID_CARD}")
    assert isinstance(combo, QComboBox)
    qtbot.waitUntil(lambda: combo.currentData() == MaterialCheck.REUSED, timeout=10_000)
    assert "同意复用" in mw.message.text()
    ctx = mw.case_view.context
    assert ctx is not None and ctx.item is not None and ctx.reuse[ID_CARD].consented_at is not None
    for m in ctx.item.materials:
        if m.code != ID_CARD:
            mw.case_view.set_check(m.code, MaterialCheck.ORIGINAL_SEEN)
    qtbot.wait(50)
    assert mw.grab().save(str(shots / "reuse_checklist.png"))

    with qtbot.waitSignal(mw.receipt_ready, timeout=20_000) as receipt:
        qtbot.mouseClick(mw.case_view.accept_button, Qt.MouseButton.LeftButton)
    pdf = Path(receipt.args[1]).read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")
    assert "复用既往材料" in text and earlier.case_no in text
    consent = [e for e in counter_app.services.store.audit_entries() if e.action == "consent"]
    assert consent and consent[-1].detail.startswith("agreed")


@pytest.mark.parametrize("answer", ["refused", "timeout"])
def test_refused_or_unanswered_consent_means_paper(
    qtbot: QtBot, counter_app: CounterApp, rig: CounterRig, earlier: Earlier, answer: str
) -> None:
    sign_in(qtbot, counter_app)
    mw, citizen = counter_app.main_window, counter_app.citizen
    assert mw is not None and citizen is not None
    comes_back(qtbot, counter_app, rig, earlier)
    ask(qtbot, counter_app)
    with qtbot.waitSignal(citizen.reuse_answered, timeout=2000):
        if answer == "refused":
            qtbot.mouseClick(citizen.consent.refuse_button, Qt.MouseButton.LeftButton)
        else:
            citizen.consent.time_out()
    qtbot.waitUntil(
        lambda: mw.case_view.context is not None and not mw.case_view.context.reuse, timeout=10_000
    )
    assert "纸质材料" in mw.message.text()
    combo = mw.case_view.findChild(QComboBox, f"check_{ID_CARD}")
    assert isinstance(combo, QComboBox) and combo.currentData() != MaterialCheck.REUSED
    assert not combo.model().item(combo.findData(MaterialCheck.REUSED)).isEnabled()  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: mw.case_view.findChild(QCheckBox, f"reuse_{ID_CARD}") is None, timeout=5_000)
    consent = [e for e in counter_app.services.store.audit_entries() if e.action == "consent"]
    assert consent and consent[-1].detail.startswith("refused")
