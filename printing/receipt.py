"""受理通知书: the acceptance notice handed over when the counter accepts a case.

Wording follows the Administrative Licensing Law §32 (1)(5): materials complete
and in legal form, therefore accepted. Personal data is masked here, on paper,
whatever the caller passes (DESIGN.md); the raw values never reach the PDF.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from hallclient.domain import MaterialCheck, ReceiptData
from hallclient.i18n import translator
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
    cn_datetime,
    grid_style,
    letterhead,
    page_layout,
    para,
    plain_style,
    qr_with_caption,
    styles,
)

Translate = Callable[[str], str]


def render_receipt(
    data: ReceiptData,
    *,
    layout: str = "a4",
    lang: str = "zh_CN",
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
    seal_path: Path | None = None,
) -> bytes:
    """The 受理通知书 as PDF bytes, on A4 or on an 80 mm thermal slip."""
    t = translator(lang)
    pl = page_layout(layout)
    st = styles(layout)
    a4 = pl.name == "a4"
    fw = pl.frame_width

    flow: list[Flowable] = []
    flow += letterhead(data.hall.name, layout, letterhead_path)
    if reprint_no > 0:
        flow.append(BoxedMark(t("补打（第{n}次）").format(n=reprint_no), 11 if a4 else 8.5, overlay=a4))
    flow.append(TextLine(t("受理通知书"), st.title_size, char_space=st.title_size * 0.25, space_after=1 * mm))
    flow.append(para(t("文书编号：{doc_id}").format(doc_id=data.doc_id), st.small_right))
    flow.append(Spacer(1, 3 * mm if a4 else 2 * mm))

    case_label = para(t("受理编号"), st.cell_label)
    case_no = TextLine(data.case_no, st.case_no_size, align="left" if a4 else "center")
    barcode = BarcodeBlock(
        data.case_no,
        bar_width=1.0 if a4 else 0.72,
        bar_height=13 * mm if a4 else 10 * mm,
        text_size=8.5 if a4 else 7.5,
        align="right" if a4 else "center",
    )
    if a4:
        head = Table([[[case_label, case_no], barcode]], colWidths=[fw * 0.45, fw * 0.55])
        head.setStyle(plain_style())
        flow.append(head)
    else:
        flow += [case_label, case_no, Spacer(1, 1.5 * mm), barcode]

    applicant = mask_name(data.applicant_name)
    flow.append(para(t("申请人 {name}：").format(name=applicant), st.salutation))
    accepted_on = cn_date(data.accepted_at.date())
    promised_on = cn_date(data.promised_date)
    flow.append(
        para(
            t(
                "你（单位）于{date}提出的「{item}」申请，经审查，申请材料齐全、符合法定形式，"
                "根据《中华人民共和国行政许可法》第三十二条第一款第（五）项的规定，决定予以受理。"
            ).format(date=accepted_on, item=data.item_name),
            st.body_indent,
        )
    )
    flow.append(
        para(
            t(
                "本机关将自受理之日起{days}个工作日内（即{date}前）作出决定。依法需要听证、检验、检测、"
                "鉴定和专家评审的，所需时间不计算在上述期限内。"
            ).format(days=data.promised_days, date=promised_on),
            st.body_indent,
        )
    )

    flow.append(para(t("一、申请事项"), st.section))
    flow.append(_case_table(data, layout, fw, t))
    flow.append(para(t("二、已收材料"), st.section))
    flow.append(_materials_table(data, layout, fw, t))
    flow.append(Spacer(1, 3 * mm))
    flow += _closing_block(data, layout, fw, seal_path, t)
    flow.append(Spacer(1, 2 * mm))
    flow += _footnotes(data, layout, t)

    meta = PdfMeta(
        title=f"{t('受理通知书')} {data.case_no}",
        author=data.hall.name,
        subject=data.item_name,
        keywords=(data.doc_id, data.case_no),
    )
    return build_pdf(flow, layout, meta)


def _case_table(data: ReceiptData, layout: str, fw: float, t: Translate) -> Table:
    st = styles(layout)

    def lab(text: str) -> Flowable:
        return para(text, st.cell_label)

    def val(text: str) -> Flowable:
        return para(text, st.cell)

    window = t("第{n}号窗口").format(n=data.hall.window_no)
    clerk = t("{name}（工号 {staff_no}）").format(name=data.clerk_name, staff_no=data.clerk_staff_no)
    promised = t("{date}（{days}个工作日）").format(date=cn_date(data.promised_date), days=data.promised_days)
    pairs: list[tuple[str, str]] = [
        (t("事项名称"), data.item_name),
        (t("事项编码"), data.item_code),
        (t("事项版本"), t("第{n}版").format(n=data.item_version)),
        (t("实施部门"), data.department),
        (t("申请人"), mask_name(data.applicant_name)),
        (t("证件号码"), mask_id_number(data.applicant_id_number)),
        (t("联系电话"), mask_phone(data.applicant_phone)),
        (t("预约编号"), data.booking_code or t("现场取号")),
        (t("受理时间"), cn_datetime(data.accepted_at)),
        (t("承诺办结时间"), promised),
        (t("受理窗口"), window),
        (t("受理人"), clerk),
    ]
    if data.notes:
        pairs.append((t("备注"), data.notes))

    if layout == "slip":
        table = Table([[lab(k), val(v)] for k, v in pairs], colWidths=[22 * mm, fw - 22 * mm])
        table.setStyle(grid_style([("BACKGROUND", (0, 0), (0, -1), HEADER_FILL)], pad=3))
        return table

    # Long values (item name, department, notes) take a whole row; short ones pair up.
    full_width = {t("事项名称"), t("实施部门"), t("备注")}
    label_w = 26 * mm
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
    table = Table(rows, colWidths=[label_w, value_w, label_w, value_w])
    table.setStyle(
        grid_style(
            [
                ("BACKGROUND", (0, 0), (0, -1), HEADER_FILL),
                ("BACKGROUND", (2, 0), (2, -1), HEADER_FILL),
                *spans,
            ],
            pad=3.5,
        )
    )
    return table


def _check_text(check: MaterialCheck, t: Translate) -> str:
    return {
        MaterialCheck.ORIGINAL_SEEN: t("原件已核验"),
        MaterialCheck.COPY_TAKEN: t("已收复印件"),
        MaterialCheck.MISSING: t("未提交"),
        MaterialCheck.WRONG: t("不符合要求"),
    }[check]


def _materials_table(data: ReceiptData, layout: str, fw: float, t: Translate) -> Table:
    st = styles(layout)
    slip = layout == "slip"
    # 72 mm has no room for a number column; the name column gets it.
    heads: tuple[str, ...]
    if slip:
        widths = [fw - 19 * mm - 11 * mm, 19 * mm, 11 * mm]
        heads = (t("材料名称"), t("核验情况"), t("复印件"))
    else:
        widths = [12 * mm, fw - 12 * mm - 36 * mm - 22 * mm, 36 * mm, 22 * mm]
        heads = (t("序号"), t("材料名称"), t("核验情况"), t("复印件份数"))
    rows: list[list[Flowable]] = [[para(h, st.cell_center) for h in heads]]
    for i, m in enumerate(data.materials, start=1):
        row = [
            para(m.name, st.cell),
            para(_check_text(m.check, t), st.cell_center),
            # Forms are kept in the original only: "0 copies" would read like something missing.
            para(str(m.copies) if m.copies else "—", st.cell_center),
        ]
        rows.append(row if slip else [para(str(i), st.cell_center), *row])
    if not data.materials:
        rows.append([para(t("无"), st.cell_center)] + [para("", st.cell)] * (len(heads) - 1))
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(grid_style([("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL)], pad=3 if slip else 3.5))
    return table


def _closing_block(
    data: ReceiptData, layout: str, fw: float, seal_path: Path | None, t: Translate
) -> list[Flowable]:
    """QR, signature and seal. On A4 they share one table row, which never splits across pages."""
    a4 = layout == "a4"
    qr = qr_with_caption(data.verify_url, 30 * mm if a4 else 32 * mm, t("扫码验证真伪"), layout)
    signature = SignatureBox(
        data.signature_strokes,
        t("申请人签名："),
        width=62 * mm if a4 else fw,
        height=27 * mm if a4 else 22 * mm,
        label_size=9 if a4 else 7.5,
    )
    seal = SealBlock(
        data.hall.name,
        cn_date(data.accepted_at.date()),
        width=62 * mm if a4 else fw,
        radius=18 * mm if a4 else 12 * mm,
        text_size=11 if a4 else 8.5,
        seal_label=t("业务专用章"),
        seal_path=seal_path,
        overlap=a4,
    )
    if a4:
        table = Table(
            [[qr, signature, seal]],
            colWidths=[36 * mm, 68 * mm, fw - 104 * mm],
        )
        table.setStyle(plain_style())
        table.setStyle([("ALIGN", (0, 0), (0, 0), "LEFT"), ("ALIGN", (1, 0), (-1, 0), "CENTER")])
        return [table]
    qr_row = Table([[qr]], colWidths=[fw])
    qr_row.setStyle(plain_style())
    qr_row.setStyle([("ALIGN", (0, 0), (0, 0), "CENTER")])
    return [signature, Spacer(1, 2 * mm), seal, Spacer(1, 2 * mm), qr_row, Spacer(1, 1 * mm)]


def _footnotes(data: ReceiptData, layout: str, t: Translate) -> list[Flowable]:
    st = styles(layout)
    contact = t("；咨询电话：{phone}").format(phone=data.hall.phone) if data.hall.phone else ""
    notes = [
        t(
            "请妥善保管本通知书。领取办理结果时，请出示本通知书及申请人有效身份证件；委托他人领取的，另需提供授权委托书。"
        ),
        t("可扫描本通知书上的二维码，或凭受理编号通过政务服务网、大厅自助终端查询办理进度{contact}。").format(
            contact=contact
        ),
        t("本通知书仅证明申请已被受理，不作为准予行政许可的凭证。"),
    ]
    out: list[Flowable] = [para(t("注："), st.note)]
    if data.hall.address:
        notes.append(t("办事地址：{address}。").format(address=data.hall.address))
    out += [para(f"{i}. {n}", st.note_item) for i, n in enumerate(notes, start=1)]
    return out
