"""The fonts every document uses, registered once and embedded as subsets.

Only TrueType (glyf) fonts will do: reportlab cannot embed CFF/OTF fonts, and
its built-in STSong-Light CID font is never embedded, so it prints as boxes on
a machine that lacks it (DESIGN.md, Printing).

Droid Sans Fallback covers CJK but has no Latin letters, digits or ASCII
punctuation at all (its cmap starts at U+0E3F), so a companion Latin TrueType
font draws those: case numbers, dates, ID numbers. Text is split into runs per
font (``font_runs``); paragraphs get it as ``<font>`` markup (``markup``) and
canvas drawing goes through ``draw_text``.

Registration reads about 5 MB of fonts (120-190 ms for the CJK one), so
``warm_up`` does it once at start-up, off the GUI thread.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from hallclient.resources import resource_path

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

FONT_NAME = "DroidSansFallback"
FONT_FILE = "DroidSansFallbackFull.ttf"
LATIN_FONT_NAME = "DejaVuSans"
LATIN_FONT_FILE = "DejaVuSans.ttf"


@dataclass(frozen=True)
class _Registered:
    cjk: frozenset[int]
    latin: frozenset[int]


_lock = threading.Lock()
# Holds the one registration once done; a list so no ``global`` statement is needed.
_loaded: list[_Registered] = []


def _load() -> _Registered:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    cmaps: list[frozenset[int]] = []
    for name, file in ((FONT_NAME, FONT_FILE), (LATIN_FONT_NAME, LATIN_FONT_FILE)):
        path = resource_path("fonts", file)
        if not path.is_file():
            raise FileNotFoundError(
                f"bundled font missing: {path} (printing needs {file} in resources/fonts)"
            )
        font = TTFont(name, str(path))
        pdfmetrics.registerFont(font)
        # <b>/<i> markup looks fonts up by family; with one face per font every
        # variant maps to it instead of falling back to an unembedded Helvetica.
        pdfmetrics.registerFontFamily(name, normal=name, bold=name, italic=name, boldItalic=name)
        cmaps.append(frozenset(font.face.charToGlyph))
    return _Registered(cjk=cmaps[0], latin=cmaps[1])


def _registered() -> _Registered:
    # Checked again under the lock so concurrent first callers load the fonts once.
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            _loaded.append(_load())
        return _loaded[0]


def register_fonts() -> str:
    """Register the bundled fonts with reportlab (idempotent, thread-safe); returns the base font name."""
    _registered()
    return FONT_NAME


def _font_for(code: int, fonts: _Registered) -> str:
    if code in fonts.cjk and code > 0x7F:
        return FONT_NAME
    if code in fonts.latin:
        return LATIN_FONT_NAME
    # Neither has it (whitespace and control characters; drawable ones are replaced before this).
    return FONT_NAME


def placeholder(ch: str) -> str:
    """What prints instead of a character no bundled font has: its code point, never an empty box.

    ``[U+20000]`` tells the clerk and the citizen exactly which character is
    meant (it can be written in by hand); ``missing_glyphs`` warns beforehand.
    """
    return f"[U+{ord(ch):04X}]"


def _unprintable(ch: str, fonts: _Registered) -> bool:
    code = ord(ch)
    return code not in fonts.cjk and code not in fonts.latin and ch.isprintable() and not ch.isspace()


def font_runs(text: str) -> list[tuple[str, str]]:
    """``text`` split into (font name, run) pieces, each drawable by one font.

    Spaces stay in the run they follow, so "A 1" is one Latin run. A character
    neither font has comes out as its ``placeholder`` in the Latin font.
    """
    fonts = _registered()
    runs: list[tuple[str, str]] = []
    current = ""
    buf: list[str] = []
    for ch in text:
        if _unprintable(ch, fonts):
            font, piece = LATIN_FONT_NAME, placeholder(ch)
        else:
            font = current if (ch == " " and current) else _font_for(ord(ch), fonts)
            piece = ch
        if font != current and buf:
            runs.append((current, "".join(buf)))
            buf = []
        current = font
        buf.append(piece)
    if buf:
        runs.append((current, "".join(buf)))
    return runs


def markup(text: str) -> str:
    """Plain text as Paragraph markup: escaped, Latin runs wrapped in their font."""
    parts: list[str] = []
    for font, run in font_runs(text):
        if font == FONT_NAME:
            parts.append(escape(run))
        else:
            parts.append(f'<font face="{font}">{escape(run)}</font>')
    return "".join(parts)


def text_width(text: str, size: float, char_space: float = 0.0) -> float:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    width = sum(float(stringWidth(run, font, size)) for font, run in font_runs(text))
    return width + char_space * max(len(text) - 1, 0)


def draw_text(
    canv: Canvas,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    align: str = "left",
    char_space: float = 0.0,
    render_mode: int = 0,
) -> None:
    """Draw one line with per-run fonts; ``align`` is relative to ``x`` (left, center, right)."""
    width = text_width(text, size, char_space)
    if align == "center":
        x -= width / 2
    elif align == "right":
        x -= width
    t = canv.beginText(x, y)
    t.setCharSpace(char_space)
    t.setTextRenderMode(render_mode)
    for font, run in font_runs(text):
        t.setFont(font, size)
        t.textOut(run)
    canv.drawText(t)


def missing_glyphs(text: str) -> list[str]:
    """Characters of ``text`` no bundled font can draw, each once, in order of appearance.

    A rare name character (生僻字) outside the fonts would print as an empty box;
    the counter checks names with this before printing and asks the clerk to act.
    Whitespace and control characters are ignored because nothing is drawn for them.
    """
    fonts = _registered()
    missing: list[str] = []
    for ch in text:
        if _unprintable(ch, fonts) and ch not in missing:
            missing.append(ch)
    return missing


def warm_up() -> None:
    """Register fonts and build the paragraph styles; call once at start-up off the GUI thread."""
    register_fonts()
    from printing import common

    for layout in common.LAYOUTS:
        common.styles(layout)
