"""The whole counter day, as `make run` plays it without a display: exit code, PDFs, screenshots."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtGui import QImage

pytestmark = pytest.mark.slow

CITIZENS = 3


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-out")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui.main",
            "demo",
            "--headless",
            "--out",
            str(out),
            "--citizens",
            str(CITIZENS),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"demo failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return out


def test_summary_reports_every_step_ok(demo_out: Path) -> None:
    summary = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
    assert summary["ok"] is True
    assert [s["ok"] for s in summary["steps"]] == [True] * (CITIZENS + 2)
    assert len(summary["cases"]) == CITIZENS
    assert {c["rating"] for c in summary["cases"]} <= {
        "very_satisfied",
        "satisfied",
        "basically_satisfied",
        "dissatisfied",
        "very_dissatisfied",
        "not_rated",
    }
    assert "成功" in (demo_out / "summary.txt").read_text(encoding="utf-8")


def test_receipts_are_real_pdfs_with_embedded_fonts(demo_out: Path) -> None:
    summary = json.loads((demo_out / "summary.json").read_text(encoding="utf-8"))
    pdfs = sorted((demo_out / "receipts").glob("*.pdf"))
    assert len(pdfs) == CITIZENS
    for case, pdf in zip(summary["cases"], pdfs, strict=True):
        assert pdf.stem == case["case_no"]
        text = PdfReader(str(pdf)).pages[0].extract_text()
        for expected in ("受理通知书", case["case_no"], case["item"], "承诺办结"):
            assert expected in text.replace(" ", "") or expected in text, (
                f"{expected!r} missing in {pdf.name}"
            )
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        rows = fonts.splitlines()[2:]
        assert rows, "no fonts listed"
        for row in rows:
            name, emb = row.split()[0], row.split()[-5]
            assert emb == "yes", f"{name} is not embedded in {pdf.name}"
            assert "STSong" not in name
        assert any("DroidSansFallback" in r for r in rows)


def test_screenshots_show_both_windows(demo_out: Path) -> None:
    shots = {p.stem: p for p in (demo_out / "screenshots").glob("*.png")}
    assert {"01-login", "02-citizen-idle", "03-citizen-called", "04-clerk-case", "06-citizen-rating"} <= set(
        shots
    )
    for name, path in shots.items():
        image = QImage(str(path))
        assert not image.isNull(), name
        # A blank or single-colour capture is a failed screenshot, however valid the PNG.
        colours = {
            image.pixel(x, y) for x in range(0, image.width(), 17) for y in range(0, image.height(), 17)
        }
        assert len(colours) > 8, f"{name} looks blank"
    clerk = QImage(str(shots["04-clerk-case"]))
    citizen = QImage(str(shots["06-citizen-rating"]))
    assert (clerk.width(), clerk.height()) == (1440, 900)
    assert (citizen.width(), citizen.height()) == (1280, 800)
