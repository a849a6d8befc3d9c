"""Blocks every case paper is made of, in the same order and look as the 受理通知书.

Letterhead, title with its 补打 mark, document number, case number with its
Code128, the salutation to the (masked) applicant, the facts table, the
materials table, the QR / signature / seal block and the notes. Each document
module only adds its own wording.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from hallclient.domain import HallInfo, MaterialCheck, ReceivedMaterial
from hallclient.masking import mask_id_number, mask_name, mask_phone
from printing.common import (
    HEADER_FILL,
    BarcodeBlock,
    BoxedMark,
    PdfMeta,
    SealBlock,
    SignatureBox,
    TextLine,
    build_pdf,
    cn_date,
    fractions,
    grid_style,
    letterhead,
    page_layout,
    para,
    plain_style,
    qr_with_caption,
    styles,
    title_line,
)
from printing.fonts import text_width

Translate = Callable[[str], str]
Strokes = Sequence[Sequence[tuple[float, float]]]


class CaseFacts(Protocol):
    """What the receipt's data and every paper's CaseHeader both state."""

    @property
    def hall(self) -> HallInfo: ...
    @property
    def clerk_name(self) -> str: ...
    @property
    def clerk_staff_no(self) -> str: ...
    @property
    def item_code(self) -> str: ...
    @property
    def item_version(self) -> int: ...
    @property
    def item_name(self) -> str: ...
    @property
    def department(self) -> str: ...
    @property
    def applicant_name(self) -> str: ...
    @property
    def applicant_id_number(self) -> str: ...
    @property
    def applicant_phone(self) -> str: ...
    @property
    def booking_code(self) -> str | None: ...


def is_a4(layout: str) -> bool:
    return page_layout(layout).name == "a4"


def paper_head(
    hall_name: str,
    title: str,
    doc_id: str,
    layout: str,
    t: Translate,
    *,
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
) -> list[Flowable]:
    """Letterhead, the 补打 mark of a reprint, the title and the document number."""
    a4 = is_a4(layout)
    st = styles(layout)
    flow: list[Flowable] = list(letterhead(hall_name, layout, letterhead_path))
    inset = 0.0
    if reprint_no > 0:
        mark = BoxedMark(t("补打（第{n}次）").format(n=reprint_no), 11 if a4 else 8.5, overlay=a4)
        flow.append(mark)
        if a4:
            # The mark hangs into the title's line: the title keeps clear of it at both ends.
            inset = mark.box_width() + 3 * mm
    flow.append(title_line(title, layout, inset=inset))
    if doc_id:
        flow.append(para(t("文书编号：{doc_id}").format(doc_id=doc_id), st.small_right))
    flow.append(Spacer(1, 3 * mm if a4 else 2 * mm))
    return flow


def case_no_block(label: str, case_no: str, layout: str) -> list[Flowable]:
    """The case number large, with its Code128 for the counter's scanner."""
    a4 = is_a4(layout)
    st = styles(layout)
    case_label = para(label, st.cell_label)
    number = TextLine(case_no, st.case_no_size, align="left" if a4 else "center")
    barcode = BarcodeBlock(
        case_no,
        bar_width=1.0 if a4 else 0.72,
        bar_height=13 * mm if a4 else 10 * mm,
        text_size=8.5 if a4 else 7.5,
        align="right" if a4 else "center",
    )
    if a4:
        head = Table([[[case_label, number], barcode]], colWidths=fractions([0.45, 0.55]))
        head.setStyle(plain_style())
        return [head]
    return [case_label, number, Spacer(1, 1.5 * mm), barcode]


def salutation(applicant_name: str, layout: str, t: Translate) -> Flowable:
    return para(t("申请人 {name}：").format(name=mask_name(applicant_name)), styles(layout).salutation)


def applied_on(date: dt.date) -> str:
    return cn_date(date)


def window_text(hall: HallInfo, t: Translate) -> str:
    return t("第{n}号窗口").format(n=hall.window_no)


def clerk_text(facts: CaseFacts, t: Translate) -> str:
    return t("{name}（工号 {staff_no}）").format(name=facts.clerk_name, staff_no=facts.clerk_staff_no)


def item_pairs(facts: CaseFacts, t: Translate, *, brief: bool = False) -> list[tuple[str, str]]:
    """事项 and 申请人 rows, personal data masked; ``brief`` leaves out the item version and booking."""
    pairs = [
        (t("事项名称"), facts.item_name),
        (t("事项编码"), facts.item_code),
        (t("事项版本"), t("第{n}版").format(n=facts.item_version)),
        (t("实施部门"), facts.department),
        (t("申请人"), mask_name(facts.applicant_name)),
        (t("证件号码"), mask_id_number(facts.applicant_id_number)),
        (t("联系电话"), mask_phone(facts.applicant_phone)),
        (t("预约编号"), facts.booking_code or t("现场取号")),
    ]
    if brief:
        # The two full-width rows first, so the short ones pair up below them.
        return [pairs[0], pairs[3], pairs[1], *pairs[4:7]]
    return pairs


def materials_text(materials: Sequence[ReceivedMaterial], t: Translate) -> str:
    """A short list in running text: 1. 申请书（原件已核验）；2. …"""
    return t("；").join(
        f"{i}. {m.name}（{check_text(m.check, t)}{'：' + m.source if m.source else ''}）"
        for i, m in enumerate(materials, start=1)
    )


def facts_table(pairs: Sequence[tuple[str, str]], layout: str, full_width: set[str]) -> Table:
    """Label/value grid. On A4 short values pair up two to a row; long ones (``full_width``) take a row."""
    st = styles(layout)
    fw = page_layout(layout).frame_width
    slip = not is_a4(layout)

    def lab(text: str) -> Flowable:
        return para(text, st.cell_label)

    def val(text: str) -> Flowable:
        return para(text, st.cell)

    # Wide enough for the longest label on one line (English labels are longer), within limits.
    pad = 3 if slip else 3.5
    longest = max((text_width(k, st.cell_label.fontSize) for k, _ in pairs), default=0.0) + 2 * pad + 1
    if slip:
        label_w = min(max(longest, 22 * mm), 27 * mm)
        table = Table([[lab(k), val(v)] for k, v in pairs], colWidths=fractions([label_w, fw - label_w]))
        table.setStyle(grid_style([("BACKGROUND", (0, 0), (0, -1), HEADER_FILL)], pad=pad))
        return table

    label_w = min(max(longest, 26 * mm), 36 * mm)
    value_w = fw / 2 - label_w
    rows: list[list[Flowable | str]] = []
    spans: list[tuple[object, ...]] = []
    pending: list[tuple[str, str]] = []

    def flush() -> None:
        if not pending:
            return
        row: list[Flowable | str] = []
        for k, v in pending:
            row += [lab(k), val(v)]
        if len(pending) == 1:
            row += ["", ""]
            spans.append(("SPAN", (1, len(rows)), (3, len(rows))))
            # The spanned-over label column must not show its shading through.
            spans.append(("BACKGROUND", (2, len(rows)), (2, len(rows)), colors.white))
        rows.append(row)
        pending.clear()

    for k, v in pairs:
        if k in full_width:
            flush()
            pending.append((k, v))
            flush()
        else:
            pending.append((k, v))
            if len(pending) == 2:
                flush()
    flush()
    table = Table(rows, colWidths=fractions([label_w, value_w, label_w, value_w]))
    table.setStyle(
        grid_style(
            [
                ("BACKGROUND", (0, 0), (0, -1), HEADER_FILL),
                ("BACKGROUND", (2, 0), (2, -1), HEADER_FILL),
                *spans,
            ],
            pad=pad,
        )
    )
    return table


def check_text(check: MaterialCheck, t: Translate) -> str:
    return {
        MaterialCheck.ORIGINAL_SEEN: t("原件已核验"),
        MaterialCheck.COPY_TAKEN: t("已收复印件"),
        MaterialCheck.MISSING: t("未提交"),
        MaterialCheck.WRONG: t("不符合要求"),
        MaterialCheck.E_LICENSE: t("由电子证照提供"),
        MaterialCheck.REUSED: t("复用既往材料"),
    }[check]


def materials_table(materials: Sequence[ReceivedMaterial], layout: str, t: Translate) -> Table:
    """序号 / 材料名称 / 核验情况 / 复印件份数; the slip has no room for the number column."""
    st = styles(layout)
    fw = page_layout(layout).frame_width
    slip = not is_a4(layout)
    heads: tuple[str, ...]
    if slip:
        widths = [fw - 19 * mm - 11 * mm, 19 * mm, 11 * mm]
        heads = (t("材料名称"), t("核验情况"), t("复印件"))
    else:
        widths = [12 * mm, fw - 12 * mm - 36 * mm - 22 * mm, 36 * mm, 22 * mm]
        heads = (t("序号"), t("材料名称"), t("核验情况"), t("复印件份数"))
    rows: list[list[Flowable]] = [[para(h, st.cell_center) for h in heads]]
    for i, m in enumerate(materials, start=1):
        # The receipt says which papers the registry supplied, and which license it was.
        name = f"{m.name}（{m.source}）" if m.source else m.name
        row = [
            para(name, st.cell),
            para(check_text(m.check, t), st.cell_center),
            # Forms are kept in the original only: "0 copies" would read like something missing.
            para(str(m.copies) if m.copies else "—", st.cell_center),
        ]
        rows.append(row if slip else [para(str(i), st.cell_center), *row])
    if not materials:
        rows.append([para(t("无"), st.cell_center)] + [para("", st.cell)] * (len(heads) - 1))
    table = Table(rows, colWidths=fractions(widths), repeatRows=1)
    table.setStyle(grid_style([("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL)], pad=3 if slip else 3.5))
    return table


def closing_block(
    *,
    verify_url: str,
    hall_name: str,
    date: dt.date,
    layout: str,
    t: Translate,
    seal_path: Path | None = None,
    signature_label: str | None = None,
    strokes: Strokes = (),
) -> list[Flowable]:
    """QR, the citizen's signature box (when the paper is signed for) and the seal over hall and date.

    On A4 they share one table row, which never splits across pages; on a slip they stack.
    """
    a4 = is_a4(layout)
    fw = page_layout(layout).frame_width
    qr_col = 38 * mm
    qr = qr_with_caption(verify_url, 30 * mm if a4 else 32 * mm, t("扫码验证真伪"), layout, width=qr_col)
    seal = SealBlock(
        hall_name,
        cn_date(date),
        width=62 * mm if a4 else fw,
        radius=18 * mm if a4 else 12 * mm,
        text_size=11 if a4 else 8.5,
        seal_label=t("业务专用章"),
        seal_path=seal_path,
        overlap=a4,
    )
    signature: Flowable | None = None
    if signature_label is not None:
        signature = SignatureBox(
            strokes,
            signature_label,
            width=62 * mm if a4 else fw,
            height=27 * mm if a4 else 22 * mm,
            label_size=9 if a4 else 7.5,
        )
    if a4:
        middle: Flowable | str = signature if signature is not None else ""
        table = Table([[qr, middle, seal]], colWidths=fractions([qr_col, 66 * mm, fw - qr_col - 66 * mm]))
        table.setStyle(plain_style())
        table.setStyle([("ALIGN", (0, 0), (0, 0), "LEFT"), ("ALIGN", (1, 0), (-1, 0), "CENTER")])
        return [table]
    qr_row = Table([[qr]], colWidths=["100%"])
    qr_row.setStyle(plain_style())
    qr_row.setStyle([("ALIGN", (0, 0), (0, 0), "CENTER")])
    out: list[Flowable] = []
    if signature is not None:
        out += [signature, Spacer(1, 2 * mm)]
    return [*out, seal, Spacer(1, 2 * mm), qr_row, Spacer(1, 1 * mm)]


def footnotes(notes: Sequence[str], hall: HallInfo, layout: str, t: Translate) -> list[Flowable]:
    """注： and the numbered notes, ending with the hall's phone and address when configured."""
    st = styles(layout)
    items = list(notes)
    if hall.phone:
        items.append(t("咨询电话：{phone}。").format(phone=hall.phone))
    if hall.address:
        items.append(t("办事地址：{address}。").format(address=hall.address))
    out: list[Flowable] = [para(t("注："), st.note)]
    out += [para(f"{i}. {n}", st.note_item) for i, n in enumerate(items, start=1)]
    return out


def finish_paper(
    flow: list[Flowable],
    *,
    hall: HallInfo,
    verify_url: str,
    date: dt.date,
    signature_label: str,
    strokes: Strokes,
    notes: Sequence[str],
    meta: PdfMeta,
    layout: str,
    t: Translate,
    seal_path: Path | None = None,
) -> bytes:
    """Every case paper ends alike: QR, signature and seal over the date, the footnotes, then the PDF."""
    flow.append(Spacer(1, 3 * mm))
    flow += closing_block(
        verify_url=verify_url,
        hall_name=hall.name,
        date=date,
        layout=layout,
        t=t,
        seal_path=seal_path,
        signature_label=signature_label,
        strokes=strokes,
    )
    flow.append(Spacer(1, 2 * mm))
    flow += footnotes(notes, hall, layout, t)
    return build_pdf(flow, layout, meta)


def case_facts_table(h: CaseFacts, layout: str, t: Translate) -> Table:
    """The item, window, clerk and notes of a case, as the correction and rejection notices state them."""
    pairs = item_pairs(h, t, brief=True)
    pairs += [
        (t("办理窗口"), window_text(h.hall, t)),
        (t("经办人"), clerk_text(h, t)),
    ]
    notes = getattr(h, "notes", "")
    if notes:
        pairs.append((t("备注"), notes))
    return facts_table(pairs, layout, {t("事项名称"), t("实施部门"), t("备注")})
