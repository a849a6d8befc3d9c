"""The one-page monthly report: key figures and two charts from known figures, fonts embedded."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from hallclient import wire
from printing.monthly_report import MonthlyReportData, month_bounds, percent, render_monthly_report

MM = 72 / 25.4
MARCH = dt.date(2026, 3, 1)


def figures(**kw: object) -> wire.Figures:
    return wire.Figures.model_validate(kw)


# The hand-counted month of tests/unit/hallserver/supervision_dataset.py, as the server reports it.
TOTAL = figures(
    tickets_served=9,
    no_shows=1,
    waits_measured=10,
    wait_avg_s=546.0,
    wait_p90_s=1200.0,
    accepted=17,
    corrected=4,
    rejected=1,
    completed=4,
    due=20,
    completed_on_time=19,
    overdue=1,
    completion_rate=0.95,
    corrections_not_returned=2,
    rated=20,
    not_rated=5,
    not_rated_share=0.2,
    good_rate=0.9,
    bad=2,
    follow_ups=2,
    follow_ups_open=1,
    follow_ups_overdue=1,
    follow_ups_closed=1,
    rectification_rate=0.5,
)
WINDOWS = [
    figures(
        window_no=1, tickets_served=3, due=12, completed_on_time=11, completion_rate=11 / 12, good_rate=0.9
    ),
    figures(window_no=2, tickets_served=6, due=7, completed_on_time=7, completion_rate=1.0, good_rate=6 / 7),
    figures(window_no=3, due=1, completed_on_time=1, completion_rate=1.0, good_rate=1.0),
    figures(window_no=4),  # a window with nothing due and nothing rated: no bars, dashes in the table
]
DAYS = [
    figures(period_start=dt.date(2026, 3, 10), tickets_served=9, accepted=5, completed=4),
    figures(period_start=dt.date(2026, 3, 30), accepted=1, corrected=1),
]


def report(**kw: object) -> MonthlyReportData:
    base: dict[str, object] = {
        "hall_name": "示范区政务服务中心",
        "month": dt.date(2026, 3, 17),
        "total": TOTAL,
        "windows": WINDOWS,
        "days": DAYS,
        "overdue_now": 2,
        "corrections_now": 2,
        "generated_at": dt.datetime(2026, 4, 1, 10, 0),
    }
    base.update(kw)
    return MonthlyReportData(**base)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "".join("".join(page.extract_text() for page in reader.pages).split())


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} not installed")
    return path


def test_one_a4_page_with_the_key_figures() -> None:
    pdf = render_monthly_report(report())
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((210 * MM, 297 * MM), abs=0.5)
    text = text_of(pdf)
    for expected in (
        "示范区政务服务中心",
        "2026年3月政务服务运行月报",
        "统计期间：2026年3月1日至2026年3月31日",
        "办结率95.0%",
        "按时办结19/应办结20件",
        "好评率90.0%",
        "未评价占比20.0%",
        "整改率50.0%",
        "逾期1件",
        "20.0分钟",  # p90 wait: 1200 s
        "平均9.1分钟",
        "当前超时预警2件",
        "一、各窗口办结率与好评率",
        "二、每日服务量",
        "三、分窗口指标",
        "1号窗口",
        "91.7%",
        "11/12",
        "合计",
        "19/20",
    ):
        assert expected in text, expected
    assert reader.metadata is not None and reader.metadata.title == "2026年3月政务服务运行月报"


def test_the_same_figures_give_the_same_bytes() -> None:
    assert render_monthly_report(report()) == render_monthly_report(report())


def test_every_font_is_embedded(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(render_monthly_report(report()))
    out = subprocess.run([need("pdffonts"), str(path)], check=True, capture_output=True, text=True).stdout
    rows = out.splitlines()[2:]
    assert rows
    for row in rows:
        assert row.split()[-5] == "yes", row
        assert "Helvetica" not in row


def test_an_empty_month_still_makes_a_page() -> None:
    pdf = render_monthly_report(report(total=wire.Figures(), windows=[], days=[], overdue_now=0))
    text = text_of(pdf)
    assert "本月没有窗口数据" in text and "本月没有服务记录" in text
    assert "办结率—" in text
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_scope_and_english() -> None:
    assert "范围：3号窗口" in text_of(render_monthly_report(report(scope="3 号窗口")))
    pdf = render_monthly_report(report(), lang="en")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_helpers() -> None:
    assert month_bounds(dt.date(2026, 2, 14)) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert month_bounds(dt.date(2028, 2, 29)) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert percent(0.952) == "95.2%" and percent(None) == "—"


def test_rendered_page_for_a_person_to_look_at(tmp_path: Path) -> None:
    """Renders the page at 80 dpi (HALL_SHOTS=DIR keeps it) and checks the charts drew colour."""
    out = Path(os.environ.get("HALL_SHOTS", tmp_path))
    out.mkdir(parents=True, exist_ok=True)
    pdf_path = out / "monthly_report.pdf"
    pdf_path.write_bytes(render_monthly_report(report()))
    subprocess.run(
        [need("pdftoppm"), "-png", "-r", "80", "-singlefile", str(pdf_path), str(out / "monthly_report")],
        check=True,
    )
    png = out / "monthly_report.png"
    from PIL import Image

    with Image.open(png) as img:
        assert img.size[0] == 662 and abs(img.size[1] - 936) <= 1  # A4 at 80 dpi
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20) or []
    # The bars' blue (#1D4ED8) and green (#15803D) are on the page.
    present = {rgb for _, rgb in colours}
    assert (0x1D, 0x4E, 0xD8) in present and (0x15, 0x80, 0x3D) in present
