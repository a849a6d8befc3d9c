"""The supervisor window driven with pytest-qt against a live hallserver holding the hand-counted month.

The supervisor account is made with ``hallserver clerk add --role supervisor``; the
month (tests/unit/hallserver/supervision_dataset.py) is written into the live
server's database. Screenshots of the figures and charts, and the monthly PDF as
PNG, are saved (HALL_SHOTS=DIR keeps them) for a person to look at.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.live_server import LiveServer
from openpyxl import load_workbook
from pypdf import PdfReader
from PySide6.QtCharts import QBarSeries, QPieSeries
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hallclient import wire
from hallclient.api import PlatformClient
from hallclient.counter import ClerkSession
from hallserver.cli import main as hallserver_cli
from hallserver.db import session_factory
from ui.gui import make_qt_app
from ui.supervisor.supervisor_window import SupervisorWindow
from ui.tasks import TaskRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "hallserver"))
from supervision_dataset import CITIZENS, Dataset, build  # noqa: E402

pytestmark = pytest.mark.gui
PASSWORD = "boss-pass-2026"
APRIL = dt.date(2026, 4, 15)  # the window's "today": last month is the hand-counted March


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("HALL_SHOTS", tmp_path / "shots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture
def month(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Dataset:
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    db = f"sqlite:///{live_server.db_path}"
    args = ["clerk", "add", "--db", db, "--hall", "DEMO", "--username", "boss"]
    args += ["--name", "周主任", "--staff-no", "ZW-0001", "--role", "supervisor", "--password-stdin"]
    assert hallserver_cli(args) == 0
    with session_factory(live_server.engine)() as s:
        return build(s)


@pytest.fixture
def window(qtbot: QtBot, live_server: LiveServer, month: Dataset) -> Iterator[SupervisorWindow]:
    make_qt_app()
    api = PlatformClient(live_server.url, timeout_s=10)
    login = api.login(
        wire.LoginRequest(
            hall_code="DEMO", window_no=3, username="boss", password=PASSWORD, device_id="SUP-PC"
        )
    )
    assert login.clerk.role == "supervisor"
    runner = TaskRunner()
    session = ClerkSession(clerk=login.clerk, hall_name=login.hall_name, online=True)
    w = SupervisorWindow(api, runner, session, today=lambda: APRIL)
    w.show()
    qtbot.waitExposed(w)
    qtbot.waitUntil(lambda: w.snapshot is not None and not w.loading, timeout=20_000)
    yield w
    w.close()
    runner.shutdown()


def wait_refreshed(qtbot: QtBot, w: SupervisorWindow, before: object) -> None:
    qtbot.waitUntil(lambda: w.snapshot is not before and not w.loading, timeout=20_000)


def test_last_month_by_window_with_charts(qtbot: QtBot, window: SupervisorWindow, shots: Path) -> None:
    w = window
    assert w.role_banner.isHidden()
    snap = w.snapshot
    assert snap is not None
    assert (snap.query.date_from, snap.query.date_to) == (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert snap.query.by is wire.FigureGroup.WINDOW
    tiles = w.figures.tiles
    assert tiles["completion"].value.text() == "95.0%"
    assert "19" in tiles["completion"].note.text() and "20" in tiles["completion"].note.text()
    assert tiles["good"].value.text() == "90.0%"
    assert tiles["not_rated"].value.text() == "20.0%"
    assert tiles["rectification"].value.text() == "50.0%"
    assert tiles["wait"].value.text() == "20.0"  # p90: 1200 s
    assert tiles["served"].value.text() == "9"
    # One row per window and the total; 办结率 column says 91.7 % for window 1.
    table = w.figures.table
    assert table.rowCount() == 4
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    rate = headers.index("办结率")
    assert [table.item(r, 1).text() for r in range(3)] == ["1 号窗口", "2 号窗口", "3 号窗口"]
    assert [table.item(r, rate).text() for r in range(4)] == ["91.7%", "100.0%", "100.0%", "95.0%"]
    # The charts: two bar sets over three windows, a pie of the six levels, a line per day.
    bars = [s for s in w.figures.rates.chart().series() if isinstance(s, QBarSeries)]
    assert len(bars) == 1 and [b.label() for b in bars[0].barSets()] == ["办结率", "好评率"]
    assert [round(v, 1) for v in (bars[0].barSets()[0].at(i) for i in range(3))] == [91.7, 100.0, 100.0]
    pie = w.figures.levels.chart().series()[0]
    assert isinstance(pie, QPieSeries) and pie.count() == 6
    assert sum(s.value() for s in pie.slices()) == 25
    assert len(w.figures.trend.chart().series()) == 2
    qtbot.wait(200)
    assert w.grab().save(str(shots / "supervisor_figures.png"))


def test_how_did_window_3_do_last_month(qtbot: QtBot, window: SupervisorWindow, shots: Path) -> None:
    w = window
    before = w.snapshot
    w.set_filters(window=3, by=wire.FigureGroup.HALL)
    qtbot.mouseClick(w.refresh_button, Qt.MouseButton.LeftButton)
    wait_refreshed(qtbot, w, before)
    assert w.snapshot is not None and w.snapshot.query.window == 3
    t = w.snapshot.figures.total
    assert (t.accepted, t.corrected, t.rejected, t.due, t.completed_on_time) == (3, 1, 1, 1, 1)
    assert w.figures.tiles["completion"].value.text() == "100.0%"
    assert w.figures.tiles["good"].value.text() == "100.0%"
    assert w.figures.table.rowCount() == 1  # the whole hall, filtered: just the total
    # Per week for the same window.
    before = w.snapshot
    w.set_filters(window=3, by=wire.FigureGroup.HALL, period=wire.FigurePeriod.WEEK)
    w.refresh()
    wait_refreshed(qtbot, w, before)
    assert w.figures.table.item(0, 0).text().endswith("起一周")
    assert w.grab().save(str(shots / "supervisor_window3.png"))


def test_warnings_and_open_bad_ratings(
    qtbot: QtBot, window: SupervisorWindow, month: Dataset, shots: Path
) -> None:
    w = window
    w.tabs.setCurrentWidget(w.warnings)
    overdue = w.warnings.overdue
    case_col = 1
    listed = {overdue.item(r, case_col).text() for r in range(overdue.rowCount())}
    assert month.cases["w1-overdue"] in listed
    corrections = w.warnings.corrections
    assert {corrections.item(r, case_col).text() for r in range(corrections.rowCount())} == {
        month.cases["c2"],
        month.cases["c3"],
    }
    shown = " ".join(
        t.item(r, c).text()
        for t in (overdue, corrections)
        for r in range(t.rowCount())
        for c in range(t.columnCount())
    )
    for name, id_number, phone in CITIZENS.values():
        assert name not in shown and id_number not in shown and phone not in shown
    assert w.grab().save(str(shots / "supervisor_warnings.png"))
    # "Which bad ratings are still open": the open follow-ups, by default.
    w.tabs.setCurrentWidget(w.follow_ups)
    table = w.follow_ups.table
    assert table.rowCount() == 1 and table.item(0, 1).text() == month.cases["fu-open"]
    assert table.item(0, 0).text() == "已逾期"


def test_assign_answer_and_close_a_follow_up(qtbot: QtBot, window: SupervisorWindow, month: Dataset) -> None:
    w = window
    panel = w.follow_ups
    w.tabs.setCurrentWidget(panel)
    case = month.cases["fu-open"]
    assert panel.select_case(case)
    assert not panel.close_button.isEnabled()  # no result yet
    panel.assignee.setCurrentIndex(panel.assignee.findData(month.clerks["clerk2"]))
    panel.assign_note.setText("请三天内回访")
    qtbot.mouseClick(panel.assign_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.history.count() == 1, timeout=10_000)
    assert "李建国" in panel.history.item(0).text()
    panel.result.setPlainText("已电话回访，致歉并说明办理时限")
    qtbot.mouseClick(panel.result_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(panel.close_button.isEnabled, timeout=10_000)
    before = w.snapshot
    qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
    wait_refreshed(qtbot, w, before)
    qtbot.waitUntil(lambda: w.snapshot is not None and w.snapshot.figures.total.rectification_rate == 1.0)
    assert panel.table.rowCount() == 0  # nothing open any more
    panel.status.setCurrentIndex(panel.status.findData(wire.FollowUpFilter.CLOSED))
    qtbot.waitUntil(lambda: panel.table.rowCount() == 3, timeout=10_000)
    assert w.figures.tiles["rectification"].value.text() == "100.0%"


def test_review_a_burst(qtbot: QtBot, window: SupervisorWindow, month: Dataset, shots: Path) -> None:
    w = window
    panel = w.bursts
    w.tabs.setCurrentWidget(panel)
    assert panel.table.rowCount() == 3
    assert not panel.suspicious.isEnabled()
    panel.table.selectRow(0)
    panel.note.setText("已调看监控")
    qtbot.mouseClick(panel.suspicious, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(panel.items) and panel.items[0].review is not None, timeout=10_000)
    assert panel.items[0].review is not None and panel.items[0].review.verdict is wire.BurstVerdict.SUSPICIOUS
    assert panel.table.item(0, 8).text().startswith("可疑")
    assert w.grab().save(str(shots / "supervisor_bursts.png"))
    panel.unreviewed.setChecked(True)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 2, timeout=10_000)


def test_exports_from_the_window(qtbot: QtBot, window: SupervisorWindow, tmp_path: Path) -> None:
    w = window
    target = {"path": tmp_path / "figures.xlsx"}
    w.ask_save_path = lambda suggested, _filter: target["path"]
    w.export_actions[(wire.ExportWhat.FIGURES, wire.ExportFormat.XLSX)].trigger()
    qtbot.waitUntil(lambda: w.last_export == tmp_path / "figures.xlsx", timeout=10_000)
    ws = load_workbook(tmp_path / "figures.xlsx").active
    assert ws is not None
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[0])
    assert [r[header.index("窗口")] for r in rows[1:]] == [1, 2, 3, None]
    assert rows[-1][header.index("办结率")] == pytest.approx(0.95)

    target["path"] = tmp_path / "ratings.csv"
    w.export_actions[(wire.ExportWhat.RATINGS, wire.ExportFormat.CSV)].trigger()
    qtbot.waitUntil(lambda: w.last_export == tmp_path / "ratings.csv", timeout=10_000)
    text = (tmp_path / "ratings.csv").read_text(encoding="utf-8-sig")
    ratings = list(csv.reader(io.StringIO(text, newline="")))
    assert len(ratings) - 1 == 25
    for name, id_number, phone in CITIZENS.values():
        assert name not in text and id_number not in text and phone not in text
    assert not [h for h in ratings[0] if any(k in h for k in ("姓名", "身份证", "电话", "办件编号"))]

    # Cancelling the save dialog exports nothing.
    w.ask_save_path = lambda suggested, _filter: None
    w.export_actions[(wire.ExportWhat.FOLLOW_UPS, wire.ExportFormat.CSV)].trigger()
    assert w.last_export == tmp_path / "ratings.csv"


def test_monthly_report_pdf(qtbot: QtBot, window: SupervisorWindow, shots: Path) -> None:
    w = window
    qtbot.mouseClick(w.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.last_report is not None and w.preview is not None, timeout=20_000)
    assert w.last_report is not None
    reader = PdfReader(io.BytesIO(w.last_report))
    assert len(reader.pages) == 1
    text = "".join(reader.pages[0].extract_text().split())
    assert "2026年3月政务服务运行月报" in text and "办结率95.0%" in text and "好评率90.0%" in text
    pdf = shots / "supervisor_monthly_report.pdf"
    pdf.write_bytes(w.last_report)
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm not installed")
    subprocess.run(
        [pdftoppm, "-png", "-r", "80", "-singlefile", str(pdf), str(shots / "supervisor_monthly_report")],
        check=True,
    )
    assert (shots / "supervisor_monthly_report.png").stat().st_size > 20_000
    assert w.preview is not None
    qtbot.waitExposed(w.preview)
    qtbot.wait(1000)  # QPdfView renders the page asynchronously
    assert w.preview.grab().save(str(shots / "supervisor_report_preview.png"))


def test_a_clerk_account_sees_the_banner_and_a_plain_refusal(
    qtbot: QtBot, live_server: LiveServer, month: Dataset
) -> None:
    make_qt_app()
    api = PlatformClient(live_server.url, timeout_s=10)
    login = api.login(
        wire.LoginRequest(
            hall_code="DEMO", window_no=1, username="clerk1", password="demo1234", device_id="PC-1"
        )
    )
    runner = TaskRunner()
    w = SupervisorWindow(api, runner, ClerkSession(login.clerk, login.hall_name, True), today=lambda: APRIL)
    try:
        w.show()
        qtbot.waitExposed(w)
        assert w.role_banner.isVisible()
        qtbot.waitUntil(lambda: "负责人" in w.status.text(), timeout=10_000)
        assert w.status.property("error") is True
        assert w.snapshot is None
    finally:
        w.close()
        runner.shutdown()
