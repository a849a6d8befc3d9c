"""Scanners through SANE: found, scanned and refused for real, with SANE's virtual test scanner."""

from __future__ import annotations

import io
import shutil
import stat
from pathlib import Path

import pytest
from PIL import Image

from hallclient.scanners import DPI, Scanner, ScannerError, find_scanners, scan_page

needs_sane = pytest.mark.skipif(
    shutil.which("scanimage") is None,
    reason="SANE's scanimage is not installed (make bootstrap installs sane-utils)",
)


@pytest.fixture
def sane_test_scanner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SANE with only its "test" backend, the virtual flatbed every SANE install ships."""
    config = tmp_path / "sane.d"
    config.mkdir()
    (config / "dll.conf").write_text("test\n", encoding="utf-8")
    monkeypatch.setenv("SANE_CONFIG_DIR", str(config))
    return config


@needs_sane
def test_the_scanners_sane_offers_are_found(sane_test_scanner: Path) -> None:
    found = find_scanners()
    assert [s.device for s in found] == ["test:0", "test:1"]
    assert all(s.label == "Noname frontend-tester" for s in found)


@needs_sane
def test_a_page_is_scanned_in_grey_at_the_counter_resolution(sane_test_scanner: Path) -> None:
    png = scan_page(Scanner("test:0", "frontend-tester"))
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.mode == "L"
        # The virtual flatbed is 80 mm x 100 mm: at 200 dpi about 630 x 787 pixels.
        assert abs(image.width - 80 / 25.4 * DPI) < 3 and abs(image.height - 100 / 25.4 * DPI) < 3


@needs_sane
def test_a_scanner_that_is_gone_is_said_by_name(sane_test_scanner: Path) -> None:
    with pytest.raises(ScannerError, match="柜台扫描仪 没有扫描：.*nosuch:0"):
        scan_page(Scanner("nosuch:0", "柜台扫描仪"))


def test_no_sane_means_no_scanners_and_a_clear_word(tmp_path: Path) -> None:
    assert find_scanners(program=str(tmp_path / "not-installed")) == []


def test_a_scanner_that_hangs_is_given_up_with_the_reason(tmp_path: Path) -> None:
    hanging = tmp_path / "scanimage"
    hanging.write_text("#!/bin/sh\nsleep 30\n", encoding="utf-8")
    hanging.chmod(hanging.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(ScannerError, match="1 秒内没有完成扫描"):
        scan_page(Scanner("net:10.0.0.9", "网络扫描仪"), program=str(hanging), timeout=1)
    assert find_scanners(program=str(hanging), timeout=1) == []
