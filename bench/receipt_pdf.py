"""The 受理通知书 PDF: warm generation and the cold first document, against bare reportlab.

Warm: ``printing.receipt.render_receipt`` on an A4 page and on an 80 mm slip, in
this process after a few documents, against bare reportlab drawing the same
content with the same two TrueType fonts: the same texts (masked as printed),
the facts and materials tables, a Code128 of the case number, the
verification QR (reportlab's encoder, drawn as one path), the signature strokes in a box, the round seal and the notes,
on one page of the same size (the slip's page height fixed rather than
measured). Both build a whole PDF with subset fonts embedded; runs alternate so
noise hits both alike. Goal: median ratio <= 1.3.

Cold: a fresh process per run, timed from before the first import to the PDF
bytes: importing printing, registering the fonts and the first receipt,
against a fresh process importing reportlab, registering the same fonts and
drawing the bare version once. The note also gives the first document after
``printing.fonts.warm_up`` (what the counter does at start-up), i.e. what the
clerk waits for at the first decision of the day. Goal: the same 1.3.

Run as ``python -m bench.receipt_pdf --cold ours|bare`` it is the cold child;
its top-level imports stay light so the timing covers reportlab and printing.
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench.report import Result, median_result  # noqa: E402
from hallclient.domain import HallInfo, MaterialCheck, ReceiptData, ReceivedMaterial  # noqa: E402
from hallclient.masking import mask_id_number, mask_name, mask_phone  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RATIO_GOAL = 1.3
FONTS = ROOT / "resources" / "fonts"


def sample() -> ReceiptData:
    """A realistic receipt: a booked citizen, four materials, a signature, a long verify URL."""
    strokes = [
        [(0.08 + 0.02 * k, 0.5 + 0.3 * ((-1) ** k) * (k % 5) / 5) for k in range(40)],
        [(0.5 + 0.01 * k, 0.3 + 0.01 * k) for k in range(30)],
        [(0.7, 0.6)],
    ]
    return ReceiptData(
        doc_id="SL-20261124-03-0012-01",
        case_no="DEMO-20261124-03-0012",
        hall=HallInfo(
            code="DEMO",
            name="杭州市西湖区政务服务中心",
            window_no=3,
            address="杭州市西湖区文三路118号",
            phone="0571-12345678",
        ),
        clerk_name="李晓梅",
        clerk_staff_no="XH0317",
        item_code="330106-000-XK-0021",
        item_version=3,
        item_name="食品经营许可（新办）",
        department="杭州市西湖区市场监督管理局",
        applicant_name="张三丰",
        applicant_id_number="11010519491231002X",
        applicant_phone="13812345678",
        materials=[
            ReceivedMaterial("食品经营许可申请书", MaterialCheck.ORIGINAL_SEEN, 0),
            ReceivedMaterial("营业执照复印件", MaterialCheck.COPY_TAKEN, 1),
            ReceivedMaterial("法定代表人（负责人）身份证明", MaterialCheck.COPY_TAKEN, 2),
            ReceivedMaterial(
                "与食品经营相适应的主要设备设施布局、操作流程等文件", MaterialCheck.ORIGINAL_SEEN, 1
            ),
        ],
        accepted_at=dt.datetime(2026, 11, 24, 10, 32),
        promised_date=dt.date(2026, 12, 8),
        promised_days=10,
        verify_url="https://zwfw.example.gov.cn/api/v1/verify/SL-20261124-03-0012-01"
        "?s=Zk3v9YqLr2mX7T0bWcQeN5uH8aJdP1sFgK4oIyV6tRzE3lBwUxC9nM2hA7jG0pD5fS8kLqW1eR4tY6uI9oP3aZ",
        booking_code="YY20261124-0456",
        signature_strokes=strokes,
    )


# -- bare reportlab ---------------------------------------------------------------------------


def _cn(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def register_bare_fonts() -> None:
    """The same two TrueType files the product embeds, under names of their own."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "BareCJK" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("BareCJK", str(FONTS / "DroidSansFallbackFull.ttf")))
        pdfmetrics.registerFont(TTFont("BareLatin", str(FONTS / "DejaVuSans.ttf")))


def bare_receipt(data: ReceiptData, layout: str) -> bytes:
    """The receipt's content drawn with plain reportlab: no run splitting, no page fitting."""
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.graphics.barcode.qr import QrCodeWidget
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    register_bare_fonts()
    a4 = layout == "a4"
    size = 11.0 if a4 else 9.0
    cell = 10.0 if a4 else 8.5

    def ps(name: str, sz: float, **kw: Any) -> ParagraphStyle:
        return ParagraphStyle(name, fontName="BareCJK", fontSize=sz, leading=sz * 1.5, wordWrap="CJK", **kw)

    body, small, cell_st, note = (
        ps("b", size, firstLineIndent=2 * size),
        ps("s", cell - 0.5),
        ps("c", cell),
        ps("n", cell - 1.5),
    )
    latin = ParagraphStyle("l", fontName="BareLatin", fontSize=cell, leading=cell * 1.4)

    class Seal(Flowable):  # type: ignore[misc]
        def __init__(self, radius: float) -> None:
            super().__init__()
            self.radius = radius

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            return 2 * self.radius, 2 * self.radius

        def draw(self) -> None:
            c, r = self.canv, self.radius
            c.setStrokeColor(colors.red)
            c.setFillColor(colors.red)
            c.setLineWidth(r * 0.06)
            c.circle(r, r, r * 0.97)
            c.setFont("BareCJK", r * 0.22)
            for i, ch in enumerate(data.hall.name):
                c.saveState()
                c.translate(r, r)
                c.rotate(110 - i * 220 / max(len(data.hall.name) - 1, 1) - 90)
                c.drawCentredString(0, r * 0.62, ch)
                c.restoreState()
            c.drawCentredString(r, r * 0.4, "业务专用章")

    class Signature(Flowable):  # type: ignore[misc]
        def __init__(self, w: float, h: float) -> None:
            super().__init__()
            self.w, self.h = w, h

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            return self.w, self.h

        def draw(self) -> None:
            c = self.canv
            c.rect(0, 0, self.w, self.h)
            c.setFont("BareCJK", 9)
            c.drawString(4, self.h - 12, "申请人签名：")
            for stroke in data.signature_strokes:
                if len(stroke) < 2:
                    continue
                p = c.beginPath()
                p.moveTo(stroke[0][0] * self.w, (1 - stroke[0][1]) * self.h * 0.7)
                for x, y in stroke[1:]:
                    p.lineTo(x * self.w, (1 - y) * self.h * 0.7)
                c.drawPath(p, stroke=1, fill=0)

    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("FONTNAME", (0, 0), (-1, -1), "BareCJK"),
        ]
    )

    class Qr(Flowable):  # type: ignore[misc]
        """reportlab's QR encoder, its dark modules filled as one path (not a Drawing of rects)."""

        def __init__(self, value: str, size: float) -> None:
            super().__init__()
            widget = QrCodeWidget(value, barLevel="M")
            widget.qr.make()
            self.modules = widget.qr.modules
            self.size = size

        def wrap(self, aw: float, ah: float) -> tuple[float, float]:
            return self.size, self.size

        def draw(self) -> None:
            n = len(self.modules)
            box = self.size / (n + 8)
            path = self.canv.beginPath()
            for r, row in enumerate(self.modules):
                for c, dark in enumerate(row):
                    if dark:
                        path.rect((c + 4) * box, self.size - (r + 5) * box, box, box)
            self.canv.drawPath(path, stroke=0, fill=1)

    drawing = Qr(data.verify_url, 30 * mm if a4 else 32 * mm)
    barcode = Code128(data.case_no, barWidth=1.0 if a4 else 0.72, barHeight=13 * mm if a4 else 10 * mm)
    facts = [
        ("事项名称", data.item_name),
        ("事项编码", data.item_code),
        ("事项版本", f"第{data.item_version}版"),
        ("实施部门", data.department),
        ("申请人", mask_name(data.applicant_name)),
        ("证件号码", mask_id_number(data.applicant_id_number)),
        ("联系电话", mask_phone(data.applicant_phone)),
        ("预约编号", data.booking_code or "现场取号"),
        ("受理时间", f"{_cn(data.accepted_at.date())} {data.accepted_at:%H:%M}"),
        ("承诺办结时间", f"{_cn(data.promised_date)}（{data.promised_days}个工作日）"),
        ("受理窗口", f"第{data.hall.window_no}号窗口"),
        ("受理人", f"{data.clerk_name}（工号 {data.clerk_staff_no}）"),
    ]
    fact_rows = [[Paragraph(k, cell_st), Paragraph(v, cell_st)] for k, v in facts]
    checks = {MaterialCheck.ORIGINAL_SEEN: "原件已核验", MaterialCheck.COPY_TAKEN: "已收复印件"}
    mat_rows = [[Paragraph(h, cell_st) for h in ("序号", "材料名称", "核验情况", "复印件份数")]]
    mat_rows += [
        [
            Paragraph(str(i), cell_st),
            Paragraph(m.name, cell_st),
            Paragraph(checks.get(m.check, ""), cell_st),
            Paragraph(str(m.copies or "—"), cell_st),
        ]
        for i, m in enumerate(data.materials, start=1)
    ]
    page_w = A4[0] if a4 else 80 * mm
    margin = 20 * mm if a4 else 4 * mm
    fw = page_w - 2 * margin
    fact_table = Table(fact_rows, colWidths=[fw * 0.25, fw * 0.75])
    fact_table.setStyle(grid)
    mat_table = Table(mat_rows, colWidths=[fw * 0.1, fw * 0.5, fw * 0.25, fw * 0.15])
    mat_table.setStyle(grid)
    title = ParagraphStyle("t", fontName="BareCJK", fontSize=22 if a4 else 15, leading=30, alignment=1)
    hall = ParagraphStyle("h", parent=title, fontSize=19 if a4 else 12, textColor=colors.red)
    notes = [
        "请妥善保管本通知书。领取办理结果时，请出示本通知书及申请人有效身份证件；委托他人领取的，另需提供授权委托书。",
        f"可扫描本通知书上的二维码，或凭受理编号通过政务服务网、大厅自助终端查询办理进度；咨询电话：{data.hall.phone}。",
        "本通知书仅证明申请已被受理，不作为准予行政许可的凭证。",
        f"办事地址：{data.hall.address}。",
    ]
    flow: list[Any] = [
        Paragraph(data.hall.name, hall),
        Paragraph("受 理 通 知 书", title),
        Paragraph(data.doc_id, latin),
        Paragraph("受理编号", small),
        Paragraph(data.case_no, latin),
        barcode,
        Paragraph(f"申请人 {mask_name(data.applicant_name)}：", body),
        Paragraph(
            f"你（单位）于{_cn(data.accepted_at.date())}提出的「{data.item_name}」申请，经审查，申请材料齐全、"
            "符合法定形式，根据《中华人民共和国行政许可法》第三十二条第一款第（五）项的规定，决定予以受理。",
            body,
        ),
        Paragraph(
            f"本机关将自受理之日起{data.promised_days}个工作日内（即{_cn(data.promised_date)}前）作出决定。"
            "依法需要听证、检验、检测、鉴定和专家评审的，所需时间不计算在上述期限内。",
            body,
        ),
        Paragraph("一、申请事项", body),
        fact_table,
        Paragraph("二、已收材料", body),
        mat_table,
        Spacer(1, 3 * mm),
        Table(
            [[drawing, Signature(62 * mm if a4 else fw, 27 * mm), Seal(18 * mm if a4 else 12 * mm)]]
            if a4
            else [[drawing], [Signature(fw, 22 * mm)], [Seal(12 * mm)]]
        ),
        Paragraph(data.hall.name, small),
        Paragraph(_cn(data.accepted_at.date()), small),
        Paragraph("注：", note),
        *[Paragraph(f"{i}. {n}", note) for i, n in enumerate(notes, start=1)],
    ]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=(page_w, A4[1] if a4 else 320 * mm),
        leftMargin=margin,
        rightMargin=margin,
        topMargin=15 * mm if a4 else 5 * mm,
        bottomMargin=14 * mm if a4 else 8 * mm,
        invariant=1,
        initialFontName="BareCJK",
    )
    doc.build(flow)
    return buf.getvalue()


def ours(data: ReceiptData, layout: str) -> bytes:
    from printing.receipt import render_receipt

    return render_receipt(data, layout=layout)


# -- cold child ---------------------------------------------------------------------------------


def _cold_child(which: str) -> None:
    data = sample()
    t_data = time.perf_counter()
    warm_ms = first_ms = 0.0
    if which == "ours":
        from printing.fonts import warm_up

        warm_up()
        warm_ms = (time.perf_counter() - t_data) * 1000
        t1 = time.perf_counter()
        pdf = ours(data, "a4")
        first_ms = (time.perf_counter() - t1) * 1000
    else:
        pdf = bare_receipt(data, "a4")
    total_ms = (time.perf_counter() - T_START) * 1000
    print(json.dumps({"total_ms": total_ms, "warm_up_ms": warm_ms, "first_ms": first_ms, "bytes": len(pdf)}))


def _cold(which: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.receipt_pdf", "--cold", which],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# -- the benchmark ------------------------------------------------------------------------------


def _time_ms(fn: Any, *args: Any) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) * 1000


def run(quick: bool) -> list[Result]:
    data = sample()
    results = []
    n = 20 if quick else 100
    for layout in ("a4", "slip"):
        for _ in range(3):  # fonts registered, styles built, first subsets made: warm
            ours(data, layout)
            bare_receipt(data, layout)
        mine: list[float] = []
        base: list[float] = []
        for _ in range(n):
            mine.append(_time_ms(ours, data, layout))
            base.append(_time_ms(bare_receipt, data, layout))
        size_ours, size_bare = len(ours(data, layout)), len(bare_receipt(data, layout))
        results.append(
            median_result(
                f"receipt PDF warm, {'A4' if layout == 'a4' else '80 mm slip'}",
                mine,
                base,
                unit="ms median",
                goal=RATIO_GOAL,
                note=f"{n} documents each, alternating; ours p90 {statistics.quantiles(mine, n=10)[8]:.0f} ms, "
                f"bare p90 {statistics.quantiles(base, n=10)[8]:.0f} ms; {size_ours // 1024} KB vs "
                f"{size_bare // 1024} KB",
            )
        )
    runs = 3 if quick else 7
    cold_ours: list[dict[str, float]] = []
    cold_bare: list[dict[str, float]] = []
    for _ in range(runs):
        cold_ours.append(_cold("ours"))
        cold_bare.append(_cold("bare"))
    first = statistics.median(c["first_ms"] for c in cold_ours)
    warm_up = statistics.median(c["warm_up_ms"] for c in cold_ours)
    results.append(
        median_result(
            "receipt PDF cold first document, A4",
            [c["total_ms"] for c in cold_ours],
            [c["total_ms"] for c in cold_bare],
            unit="ms median",
            goal=RATIO_GOAL,
            note=f"fresh process, imports + fonts + first PDF, {runs} runs each; of ours: imports and "
            f"warm_up {warm_up:.0f} ms, then the first receipt {first:.0f} ms (what the first decision "
            "of the day waits for, warm_up having run at start-up)",
        )
    )
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cold", choices=("ours", "bare"), required=True)
    _cold_child(parser.parse_args().cold)
