"""Pieces every printed document shares: page layouts, styles, letterhead, seal,
QR code, barcode, signature box, Chinese dates and the PDF build itself.

The receipt, correction, rejection, approval and pick-up documents are each a
list of flowables built from these; only their wording differs.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from printing.fonts import FONT_NAME, draw_text, markup, register_fonts, text_width

LAYOUTS = ("a4", "slip")

# Official documents print the letterhead and seal in red (红头, 红章); a
# thermal printer simply prints it black.
SEAL_RED = colors.HexColor("#D0121B")
RULE_GREY = colors.HexColor("#7A7A7A")
HEADER_FILL = colors.HexColor("#F2F2F2")
FOOT_GREY = colors.HexColor("#444444")


@dataclass(frozen=True)
class PageLayout:
    name: str
    page_width: float
    margin_x: float
    margin_top: float
    margin_bottom: float
    # A4 has a fixed height; a thermal slip's height is measured from its content.
    page_height: float | None

    @property
    def frame_width(self) -> float:
        return self.page_width - 2 * self.margin_x


A4_LAYOUT = PageLayout("a4", A4[0], 20 * mm, 15 * mm, 14 * mm, A4[1])
# 80 mm paper; thermal heads print 72 mm of it.
SLIP_LAYOUT = PageLayout("slip", 80 * mm, 4 * mm, 5 * mm, 8 * mm, None)


def page_layout(layout: str) -> PageLayout:
    if layout == "a4":
        return A4_LAYOUT
    if layout == "slip":
        return SLIP_LAYOUT
    raise ValueError(f"unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    body_indent: ParagraphStyle
    salutation: ParagraphStyle
    section: ParagraphStyle
    cell: ParagraphStyle
    cell_label: ParagraphStyle
    cell_center: ParagraphStyle
    small: ParagraphStyle
    small_right: ParagraphStyle
    caption: ParagraphStyle
    note: ParagraphStyle
    note_item: ParagraphStyle
    title_size: float
    hall_size: float
    case_no_size: float


@lru_cache(maxsize=len(LAYOUTS))
def styles(layout: str) -> Styles:
    """Paragraph styles of one layout; built once (``warm_up``) and shared read-only."""
    register_fonts()
    slip = page_layout(layout).name == "slip"
    base = 9.0 if slip else 11.0
    cell = 8.5 if slip else 10.0

    def ps(name: str, size: float, leading: float, **kw: Any) -> ParagraphStyle:
        # CJK wrapping breaks between any two ideographs, as Chinese typesetting does.
        return ParagraphStyle(
            f"{layout}-{name}", fontName=FONT_NAME, fontSize=size, leading=leading, wordWrap="CJK", **kw
        )

    return Styles(
        body=ps("body", base, base * 1.65, alignment=TA_JUSTIFY),
        body_indent=ps("body-indent", base, base * 1.65, alignment=TA_JUSTIFY, firstLineIndent=2 * base),
        salutation=ps("salutation", base, base * 1.65, spaceBefore=base * 0.5),
        section=ps("section", base, base * 1.4, spaceBefore=base * 0.7, spaceAfter=base * 0.3),
        cell=ps("cell", cell, cell * 1.35),
        cell_label=ps("cell-label", cell, cell * 1.35, textColor=FOOT_GREY),
        cell_center=ps("cell-center", cell, cell * 1.35, alignment=TA_CENTER),
        small=ps("small", cell - 0.5, (cell - 0.5) * 1.4),
        small_right=ps("small-right", cell - 0.5, (cell - 0.5) * 1.4, alignment=TA_RIGHT),
        caption=ps("caption", cell - 1, (cell - 1) * 1.3, alignment=TA_CENTER),
        note=ps("note", cell - 1.5, (cell - 1.5) * 1.5, textColor=FOOT_GREY),
        # Numbered notes hang so wrapped lines align under the text, not the number.
        note_item=ps(
            "note-item",
            cell - 1.5,
            (cell - 1.5) * 1.5,
            textColor=FOOT_GREY,
            leftIndent=(cell - 1.5) * 1.3,
            firstLineIndent=-(cell - 1.5) * 1.3,
        ),
        title_size=15.0 if slip else 22.0,
        hall_size=12.0 if slip else 19.0,
        case_no_size=12.0 if slip else 17.0,
    )


_latin_variants: dict[str, ParagraphStyle] = {}


def _latin_variant(style: ParagraphStyle) -> ParagraphStyle:
    # Built once per style; a race only builds an equal one twice.
    variant = _latin_variants.get(style.name)
    if variant is None:
        variant = ParagraphStyle(
            f"{style.name}-latin",
            parent=style,
            wordWrap=None,
            leading=min(style.leading, style.fontSize * 1.4),
        )
        _latin_variants[style.name] = variant
    return variant


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text: data from the case can never inject markup.

    Chinese wraps between any two ideographs; mostly-Latin text (the English
    papers) wraps between words instead, with the tighter leading Latin type sets.
    """
    return Paragraph(markup(text), style if is_cjk(text) else _latin_variant(style))


# --- Chinese dates -------------------------------------------------------------


def cn_date(d: dt.date) -> str:
    """2026年11月24日: the form official documents use (no zero padding)."""
    return f"{d.year}年{d.month}月{d.day}日"


def cn_datetime(t: dt.datetime) -> str:
    return f"{cn_date(t.date())} {t.hour:02d}:{t.minute:02d}"


_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """60 -> 六十, 6 -> 六, 15 -> 十五, 105 -> 一百零五: numbers as legal wording writes them (0..9999)."""
    if not 0 <= n < 10000:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = (n // value) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += ("" if (d == 1 and unit == "十" and not out) else _CN_DIGITS[d]) + unit
    return out


def is_cjk(text: str) -> bool:
    """Mostly Chinese: spaced titles suit ideographs; Latin words would fall apart."""
    letters = [c for c in text if not c.isspace()]
    return sum(ord(c) > 0x2E7F for c in letters) * 2 > len(letters)


def title_line(text: str, layout: str, *, inset: float = 0.0, space_after: float = 1 * mm) -> TextLine:
    """A document's title: faux-bold, letter-spaced when Chinese, kept clear of ``inset`` at both ends."""
    size = styles(layout).title_size
    space = size * (0.25 if is_cjk(text) else 0.03)
    return TextLine(text, size, char_space=space, space_after=space_after, inset=inset)


# --- text lines drawn directly --------------------------------------------------


class TextLine(Flowable):  # type: ignore[misc]
    """One line of large text, optionally faux-bold and letter-spaced.

    The bundled font has a single weight; titles get their weight from drawing
    the outline as well as the fill, as a bold face would look.
    """

    def __init__(
        self,
        text: str,
        size: float,
        *,
        align: str = "center",
        color: colors.Color = colors.black,
        bold: bool = True,
        char_space: float = 0.0,
        space_after: float = 0.0,
        inset: float = 0.0,
    ) -> None:
        super().__init__()
        self.text = text
        self.size = size
        self.align = align
        self.color = color
        self.bold = bold
        self.char_space = char_space
        self.spaceAfter = space_after
        # Kept free at both ends (a centred title stays centred), e.g. for a 补打 mark beside it.
        self.inset = inset
        self._draw_size = size
        self._draw_space = char_space

    def _natural_width(self, size: float, space: float) -> float:
        return text_width(self.text, size, space)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self._draw_size, self._draw_space = self.size, self.char_space
        room = max(avail_width - 2 * self.inset, avail_width * 0.3)
        natural = self._natural_width(self.size, self.char_space)
        if natural > room:
            # Letter-spacing goes first; then a long hall name or title shrinks to one line rather than wrap.
            self._draw_space = 0.0
            plain = self._natural_width(self.size, 0.0)
            if plain > room:
                self._draw_size = self.size * room / plain
        self.width = avail_width
        self.height = self._draw_size * 1.3
        return self.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        text_width = self._natural_width(self._draw_size, self._draw_space)
        if self.align == "center":
            x = (self.width - text_width) / 2
        elif self.align == "right":
            x = self.width - text_width
        else:
            x = 0.0
        canv.saveState()
        canv.setFillColor(self.color)
        canv.setStrokeColor(self.color)
        canv.setLineWidth(self._draw_size * 0.035)
        draw_text(
            canv,
            x,
            self._draw_size * 0.28,
            self.text,
            self._draw_size,
            char_space=self._draw_space,
            render_mode=2 if self.bold else 0,
        )
        canv.restoreState()


class BoxedMark(Flowable):  # type: ignore[misc]
    """A red framed mark such as 补打（第2次）, at the right edge, so a reprint is never mistaken for the original.

    With ``overlay`` it takes no height and hangs down into the next line (the
    free right end of a centred title) instead of adding a line of its own.
    """

    def __init__(self, text: str, size: float, *, overlay: bool = False) -> None:
        super().__init__()
        self.text = text
        self.size = size
        self.overlay = overlay

    def box_width(self) -> float:
        return text_width(self.text, self.size) + 0.9 * self.size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        self.height = 0.0 if self.overlay else self.size * 2.0
        return self.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        pad = self.size * 0.45
        w = self.box_width()
        x = self.width - w
        canv.saveState()
        if self.overlay:
            canv.translate(0, -self.size * 2.4)
        canv.setStrokeColor(SEAL_RED)
        canv.setFillColor(SEAL_RED)
        canv.setLineWidth(1.2)
        canv.rect(x, 0, w, self.size * 1.7, stroke=1, fill=0)
        draw_text(canv, x + pad, self.size * 0.5, self.text, self.size)
        canv.restoreState()


class RedRule(Flowable):  # type: ignore[misc]
    """The thick-over-thin red rule under a red letterhead (红头)."""

    def __init__(self, thick: float, space_after: float) -> None:
        super().__init__()
        self.thick = thick
        self.spaceAfter = space_after

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        self.height = self.thick * 3 + 1
        return self.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        canv.saveState()
        canv.setStrokeColor(SEAL_RED)
        canv.setLineWidth(self.thick)
        top = self.height - self.thick / 2
        canv.line(0, top, self.width, top)
        canv.setLineWidth(max(self.thick / 3, 0.5))
        canv.line(0, top - self.thick * 1.8, self.width, top - self.thick * 1.8)
        canv.restoreState()


def scaled_image(path: Path, max_width: float, max_height: float) -> Image:
    """An image flowable fitted inside the box, keeping its aspect ratio."""
    from reportlab.lib.utils import ImageReader

    iw, ih = ImageReader(str(path)).getSize()
    scale = min(max_width / iw, max_height / ih)
    return Image(str(path), width=iw * scale, height=ih * scale, mask="auto")


def letterhead(hall_name: str, layout: str, letterhead_path: Path | None = None) -> list[Flowable]:
    """The hall's letterhead image when configured, else its name in red over a red rule."""
    pl = page_layout(layout)
    st = styles(layout)
    if letterhead_path is not None:
        img = scaled_image(letterhead_path, pl.frame_width, 40 * mm if pl.name == "a4" else 20 * mm)
        img.hAlign = "CENTER"
        img.spaceAfter = 4 * mm if pl.name == "a4" else 2 * mm
        return [img]
    if pl.name == "slip":
        return [TextLine(hall_name, st.hall_size, space_after=1 * mm), RedRule(1.2, 2 * mm)]
    return [
        TextLine(hall_name, st.hall_size, color=SEAL_RED, char_space=st.hall_size * 0.12, space_after=2 * mm),
        RedRule(2.2, 3.5 * mm),
    ]


# --- codes ----------------------------------------------------------------------


class QrFlowable(Flowable):  # type: ignore[misc]
    """The verification QR, ``size`` square including its quiet zone.

    QrCodeWidget encodes; the modules are drawn here as one filled path. Going
    through a graphics Drawing would select the Drawing's default Times-Roman
    and list that unembedded font in the PDF. Level M survives a smudged or
    folded paper.
    """

    def __init__(self, value: str, size: float, border: int = 4) -> None:
        super().__init__()
        widget = QrCodeWidget(value, barLevel="M")
        widget.qr.make()
        self.modules: list[list[bool]] = [[bool(m) for m in row] for row in widget.qr.modules]
        self.size = size
        self.border = border
        self.width = self.height = size

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        canv: Canvas = self.canv
        n = len(self.modules)
        box = self.size / (n + 2 * self.border)
        path = canv.beginPath()
        for r, row in enumerate(self.modules):
            y = self.size - (r + self.border + 1) * box
            c = 0
            while c < n:
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < n and row[c]:
                    c += 1
                path.rect((start + self.border) * box, y, (c - start) * box, box)
        canv.saveState()
        canv.setFillColor(colors.black)
        canv.drawPath(path, stroke=0, fill=1)
        canv.restoreState()


def qr_with_caption(
    value: str, size: float, caption: str, layout: str, *, width: float | None = None
) -> Table:
    """The QR over its caption; ``width`` (at least ``size``) gives a longer caption room to stay on one line."""
    col = max(size, width or size)
    t = Table([[QrFlowable(value, size)], [para(caption, styles(layout).caption)]], colWidths=[col])
    t.setStyle(plain_style())
    t.setStyle([("ALIGN", (0, 0), (-1, -1), "CENTER")])
    return t


class BarcodeBlock(Flowable):  # type: ignore[misc]
    """Code128 of a case number with the number printed beneath in the CJK font.

    reportlab's own human-readable line is Helvetica, which would put an
    unembedded font into the PDF; so the text is drawn here instead. Bars
    narrow to fit the width, never below what a 203 dpi thermal head prints.
    """

    def __init__(
        self, value: str, *, bar_width: float, bar_height: float, text_size: float, align: str = "center"
    ) -> None:
        super().__init__()
        self.value = value
        self.bar_width = bar_width
        self.bar_height = bar_height
        self.text_size = text_size
        self.align = align
        self._barcode: Code128 | None = None

    def _make(self, bar_width: float) -> Code128:
        # Quiet zones of ten modules, the minimum the standard asks for.
        bc = Code128(
            self.value,
            barWidth=bar_width,
            barHeight=self.bar_height,
            humanReadable=False,
            lquiet=bar_width * 10,
            rquiet=bar_width * 10,
        )
        bc.validate()
        bc.encode()
        bc.decompose()
        bc.computeSize()
        return bc

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        bc = self._make(self.bar_width)
        if bc.width > avail_width:
            bc = self._make(max(self.bar_width * avail_width / bc.width, 0.36))
        self._barcode = bc
        self.width = avail_width
        self.height = self.bar_height + self.text_size * 1.5
        return self.width, self.height

    def draw(self) -> None:
        bc = self._barcode
        assert bc is not None
        canv: Canvas = self.canv
        bw = float(bc.width)
        if self.align == "center":
            x = (self.width - bw) / 2
        elif self.align == "right":
            x = self.width - bw
        else:
            x = 0.0
        bc.drawOn(canv, x, self.text_size * 1.5)
        draw_text(canv, x + bw / 2, self.text_size * 0.35, self.value, self.text_size, align="center")


# --- seal and signature -----------------------------------------------------------


def draw_vector_seal(canv: Canvas, cx: float, cy: float, radius: float, hall_name: str, label: str) -> None:
    """A round red seal: ring, hall name around the top, a star, the seal's purpose below.

    Stands in for the hall's real seal image in the demo and when none is
    configured; it follows the shape of a Chinese official seal (公章).
    """
    canv.saveState()
    canv.setFillColor(SEAL_RED)
    canv.setStrokeColor(SEAL_RED)
    # Ink over the text beneath, as a stamp would leave it: readable through.
    canv.setFillAlpha(0.85)
    canv.setStrokeAlpha(0.85)
    canv.setLineWidth(radius * 0.06)
    canv.circle(cx, cy, radius * 0.97, stroke=1, fill=0)

    chars = list(hall_name) or [" "]
    n = len(chars)
    text_r = radius * 0.70
    span = min(240.0, max(150.0, n * 22.0))
    size = min(radius * 0.28, 2 * math.pi * text_r * (span / 360) / n * 0.9)
    step = span / max(n - 1, 1)
    start = 90 + span / 2
    for i, ch in enumerate(chars):
        ang = start - i * step if n > 1 else 90.0
        rad = math.radians(ang)
        canv.saveState()
        canv.translate(cx + text_r * math.cos(rad), cy + text_r * math.sin(rad))
        canv.rotate(ang - 90)
        draw_text(canv, 0, -size * 0.35, ch, size, align="center")
        canv.restoreState()

    star_r = radius * 0.26
    pts = []
    for k in range(10):
        r = star_r if k % 2 == 0 else star_r * 0.382
        a = math.radians(90 + k * 36)
        pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    path = canv.beginPath()
    path.moveTo(*pts[0])
    for p in pts[1:]:
        path.lineTo(*p)
    path.close()
    canv.drawPath(path, stroke=0, fill=1)

    label_size = radius * 0.2
    label_w = text_width(label, label_size)
    max_w = radius * 1.15
    if label_w > max_w:
        label_size *= max_w / label_w
    draw_text(canv, cx, cy - radius * 0.62, label, label_size, align="center")
    canv.restoreState()


class SealBlock(Flowable):  # type: ignore[misc]
    """The issuing hall and date with the seal.

    On A4 the seal is stamped across them, as on paper. A thermal slip prints
    everything black, where a seal over text would blot it out: there
    (``overlap=False``) the text stands left and the seal to its right.
    """

    def __init__(
        self,
        hall_name: str,
        date_text: str,
        *,
        width: float,
        radius: float,
        text_size: float,
        seal_label: str,
        seal_path: Path | None = None,
        overlap: bool = True,
    ) -> None:
        super().__init__()
        self.overlap = overlap
        self.hall_name = hall_name
        self.date_text = date_text
        self.block_width = width
        self.radius = radius
        self.text_size = text_size
        self.seal_label = seal_label
        self.seal_path = seal_path

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = min(self.block_width, avail_width)
        self.height = 2 * self.radius + 2 * mm
        return self.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        size = self.text_size
        cy = self.height / 2
        if self.overlap:
            cx = text_x = self.width / 2
            text_room = self.width
            align = "center"
        else:
            cx = self.width - self.radius - 1
            text_x, text_room, align = 0.0, self.width - 2 * self.radius - 3 * mm, "left"
        canv.saveState()
        canv.setFillColor(colors.black)
        name_size = size
        name_w = text_width(self.hall_name, name_size)
        if name_w > text_room:
            name_size *= text_room / name_w
        draw_text(canv, text_x, cy + size * 0.2, self.hall_name, name_size, align=align)
        draw_text(canv, text_x, cy - size * 1.4, self.date_text, size, align=align)
        canv.restoreState()
        if self.seal_path is not None:
            d = 2 * self.radius
            canv.drawImage(
                str(self.seal_path),
                cx - self.radius,
                cy - self.radius,
                width=d,
                height=d,
                mask="auto",
                preserveAspectRatio=True,
                anchor="c",
            )
        else:
            draw_vector_seal(canv, cx, cy, self.radius, self.hall_name, self.seal_label)


class SignatureBox(Flowable):  # type: ignore[misc]
    """The 申请人签名 box: the citizen's pad strokes as vector lines, or room to sign by hand.

    Strokes are normalised 0..1 with y growing downwards, as the pad records
    them; they are fitted into the box keeping their aspect ratio.
    """

    def __init__(
        self,
        strokes: Sequence[Sequence[tuple[float, float]]],
        label: str,
        *,
        width: float,
        height: float,
        label_size: float,
        pad_aspect: float = 3.0,
    ) -> None:
        super().__init__()
        self.strokes = strokes
        self.label = label
        self.box_width = width
        self.box_height = height
        self.label_size = label_size
        self.pad_aspect = pad_aspect

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = min(self.box_width, avail_width)
        self.height = self.box_height
        return self.width, self.height

    def draw(self) -> None:
        canv: Canvas = self.canv
        canv.saveState()
        canv.setStrokeColor(RULE_GREY)
        canv.setLineWidth(0.6)
        canv.rect(0, 0, self.width, self.height, stroke=1, fill=0)
        canv.setFillColor(FOOT_GREY)
        draw_text(
            canv, self.label_size * 0.5, self.height - self.label_size * 1.4, self.label, self.label_size
        )
        inset = self.label_size * 0.6
        area_w = self.width - 2 * inset
        area_h = self.height - self.label_size * 1.8 - inset
        # The pad is wider than tall; keep its shape so the signature is not stretched.
        w = min(area_w, area_h * self.pad_aspect)
        h = w / self.pad_aspect
        ox = inset + (area_w - w) / 2
        oy = inset + (area_h - h) / 2
        canv.setStrokeColor(colors.HexColor("#10205A"))
        canv.setLineWidth(max(self.label_size * 0.12, 0.9))
        canv.setLineCap(1)
        canv.setLineJoin(1)
        for stroke in self.strokes:
            pts = [(ox + x * w, oy + (1 - y) * h) for x, y in stroke]
            if not pts:
                continue
            if len(pts) == 1:
                px, py = pts[0]
                canv.circle(px, py, 0.45, stroke=0, fill=1)
                continue
            path = canv.beginPath()
            path.moveTo(*pts[0])
            for p in pts[1:]:
                path.lineTo(*p)
            canv.drawPath(path, stroke=1, fill=0)
        canv.restoreState()


# --- tables -------------------------------------------------------------------------


def grid_style(extra: Sequence[tuple[Any, ...]] = (), *, pad: float = 4.0) -> TableStyle:
    """Thin grey grid; every cell is a Paragraph, and FONTNAME covers empty cells, so no Helvetica creeps in."""
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, RULE_GREY),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), pad),
            ("RIGHTPADDING", (0, 0), (-1, -1), pad),
            ("TOPPADDING", (0, 0), (-1, -1), pad * 0.75),
            ("BOTTOMPADDING", (0, 0), (-1, -1), pad * 0.75),
            ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
            *extra,
        ]
    )


def fractions(widths: Sequence[float]) -> list[str]:
    """Column widths as shares of the frame ("25.0%"), so a table always spans it, also on a page set up smaller."""
    total = sum(widths)
    return [f"{w / total * 100:.4f}%" for w in widths]


def plain_style() -> TableStyle:
    return TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ("FONTNAME", (0, 0), (-1, -1), FONT_NAME),
        ]
    )


# --- building -----------------------------------------------------------------------


@dataclass(frozen=True)
class PdfMeta:
    title: str
    author: str = ""
    subject: str = ""
    keywords: tuple[str, ...] = ()


_build_lock = threading.Lock()


def _content_height(flowables: Sequence[Flowable], width: float) -> float:
    # Some flowables (KeepTogether) measure their content against a canvas.
    scratch = Canvas(io.BytesIO(), initialFontName=FONT_NAME)
    total = 0.0
    for i, f in enumerate(flowables):
        _, h = f.wrapOn(scratch, width, 1e6)
        total += h + f.getSpaceAfter()
        # A frame drops the space before its first flowable.
        if i:
            total += f.getSpaceBefore()
    return total


def build_pdf(
    flowables: list[Flowable],
    layout: str,
    meta: PdfMeta,
    on_page: Callable[[Canvas, BaseDocTemplate], None] | None = None,
) -> bytes:
    """Lay the flowables out on A4 pages or on one thermal slip fitted to their height.

    ``invariant`` fixes the creation date and file ID, so the same document
    always gives the same bytes and its archived SHA-256 can be recomputed.
    """
    register_fonts()
    # reportlab's TrueType subsetting reads the shared font face non-reentrantly:
    # two documents built at once corrupt each other's subsets (KeyError in
    # makeSubset, measured). A build is ~50 ms, so builds simply take turns.
    with _build_lock:
        return _build_locked(flowables, layout, meta, on_page)


def _build_locked(
    flowables: list[Flowable],
    layout: str,
    meta: PdfMeta,
    on_page: Callable[[Canvas, BaseDocTemplate], None] | None,
) -> bytes:
    pl = page_layout(layout)
    scale = 1.0
    if pl.page_height is None:
        # Platypus re-wraps at build time; the spare millimetres absorb rounding.
        height = _content_height(flowables, pl.frame_width) + pl.margin_top + pl.margin_bottom + 3 * mm
    else:
        height = pl.page_height
        scale = _one_page_scale(flowables, pl)
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=(pl.page_width, height),
        leftMargin=pl.margin_x,
        rightMargin=pl.margin_x,
        topMargin=pl.margin_top,
        bottomMargin=pl.margin_bottom,
        title=meta.title,
        author=meta.author,
        subject=meta.subject,
        keywords=list(meta.keywords),
        creator="hallclient",
        invariant=1,
        # The canvas would otherwise open every page with Helvetica selected,
        # listing an unembedded font in the PDF.
        initialFontName=FONT_NAME,
    )
    # A scaled page is laid out in a larger frame and drawn shrunk; margins stay where they were.
    frame = Frame(
        pl.margin_x / scale,
        pl.margin_bottom / scale,
        pl.frame_width / scale,
        (height - pl.margin_top - pl.margin_bottom) / scale,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )
    decorate = on_page or _no_decoration

    def begin_page(canv: Canvas, doc: BaseDocTemplate) -> None:
        # Stays in force for the flowables drawn after this on the page (the page ends with showPage).
        if scale != 1.0:
            canv.scale(scale, scale)
        decorate(canv, doc)

    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=begin_page)])
    doc.build(flowables)
    return buf.getvalue()


# A paper that overflows one A4 page by a little (an English translation runs longer than
# the Chinese) is set up to this much smaller rather than leave its last lines on a second sheet.
_MIN_SCALE = 0.86


def _one_page_scale(flowables: Sequence[Flowable], pl: PageLayout) -> float:
    assert pl.page_height is not None
    body = pl.page_height - pl.margin_top - pl.margin_bottom
    # The frame keeps a little more room than the sum of heights (rounding, split checks).
    slack = 2 * mm

    def height_at(width: float) -> float:
        # Measured on a copy: a Table keeps the column widths of its first wrap.
        return _content_height(copy.deepcopy(flowables), width)

    if height_at(pl.frame_width) + slack <= body:
        return 1.0
    scale = 0.98
    while scale >= _MIN_SCALE:
        if height_at(pl.frame_width / scale) + slack <= body / scale:
            return scale
        scale -= 0.02
    # Really longer than a page (a long materials list): it flows on at full size.
    return 1.0


def _no_decoration(canv: Canvas, doc: BaseDocTemplate) -> None:
    return None
