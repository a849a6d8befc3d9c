"""Font registration and glyph coverage checks."""

from __future__ import annotations

import threading

import pytest

from printing import fonts


def test_common_names_and_document_text_have_glyphs() -> None:
    assert fonts.missing_glyphs("张三丰 李晓梅 欧阳娜娜 王小明") == []
    assert fonts.missing_glyphs("110105********002X 138****5678 2026年11月24日 10:32") == []
    assert fonts.missing_glyphs("受理通知书（第1次）「」《》；：，。、") == []


def test_reports_characters_outside_the_fonts() -> None:
    # U+20000 (CJK Extension B) is in neither bundled font: verified against both cmaps.
    assert fonts.missing_glyphs("张𠀀𠀀明") == ["𠀀"]


def test_whitespace_is_not_reported() -> None:
    assert fonts.missing_glyphs("张 三\t\n") == []


def test_latin_runs_go_to_the_latin_font() -> None:
    runs = fonts.font_runs("编号 AB-12 号")
    assert runs == [
        (fonts.FONT_NAME, "编号 "),
        (fonts.LATIN_FONT_NAME, "AB-12 "),
        (fonts.FONT_NAME, "号"),
    ]
    assert fonts.markup("<a&b>") == f'<font face="{fonts.LATIN_FONT_NAME}">&lt;a&amp;b&gt;</font>'


def test_registration_is_thread_safe_and_idempotent(monkeypatch: pytest.MonkeyPatch) -> None:
    from reportlab.pdfbase import pdfmetrics

    real_load = fonts._load
    loads: list[int] = []

    def counting_load() -> object:
        loads.append(1)
        return real_load()

    # Start from "not registered yet" and release every thread at once.
    monkeypatch.setattr(fonts, "_loaded", [])
    monkeypatch.setattr(fonts, "_load", counting_load)
    barrier = threading.Barrier(8)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(fonts.register_fonts())
            assert fonts.missing_glyphs("张") == []
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [fonts.FONT_NAME] * 8
    assert len(loads) == 1
    first = pdfmetrics.getFont(fonts.FONT_NAME)
    fonts.register_fonts()
    assert pdfmetrics.getFont(fonts.FONT_NAME) is first


def test_warm_up_builds_styles() -> None:
    fonts.warm_up()
    from printing.common import styles

    assert styles("a4").body.fontName == fonts.FONT_NAME
