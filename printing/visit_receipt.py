"""一件事一次办回执: one paper for a visit in which several items were decided at one window.

Every item keeps its own case number and decision (each was decided under the
law on its own, and correction or rejection notices were handed over for those
items); this paper lists them together with the promised dates, the papers
received once for all of them, the QR code that verifies it and the citizen's
signature. Personal data is masked here, whatever the caller passes.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table

from hallclient.i18n import translator
from hallclient.masking import mask_id_number, mask_name, mask_phone
from hallclient.papers import VisitLine, VisitMaterial, VisitReceipt
from hallclient.wire import Decision
from printing.common import (
    HEADER_FILL,
    PdfMeta,
    cn_date,
    cn_datetime,
    fractions,
    grid_style,
    page_layout,
    para,
    styles,
)
from printing.parts import (
    Translate,
    case_no_block,
    check_text,
    facts_table,
    finish_paper,
    is_a4,
    paper_head,
    salutation,
    window_text,
)

TITLE = "一件事一次办回执"


def decision_text(line: VisitLine, t: Translate) -> str:
    return {
        Decision.ACCEPT: t("受理"),
        Decision.COMPLETE: t("当场办结"),
        Decision.CORRECT: t("一次性告知补正"),
        Decision.REJECT: t("不予受理"),
    }[line.decision]


def date_text(line: VisitLine, t: Translate) -> str:
    """The date that matters for the item: promised completion, the correction deadline, or none."""
    if line.decision is Decision.ACCEPT and line.promised_date is not None:
        return t("{date}前（{days}个工作日）").format(
            date=cn_date(line.promised_date), days=line.promised_days
        )
    if line.decision is Decision.COMPLETE:
        return t("已办结，当场领取")
    if line.decision is Decision.CORRECT:
        if line.correction_deadline is not None:
            return t("请于{date}前补正").format(date=cn_date(line.correction_deadline))
        return t("补正后继续办理")
    return t("见不予受理通知书")


def render_visit_receipt(
    data: VisitReceipt,
    *,
    layout: str = "a4",
    lang: str = "zh_CN",
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
    seal_path: Path | None = None,
) -> bytes:
    """The combined receipt as PDF bytes, on A4 or on an 80 mm thermal slip."""
    t = translator(lang)
    st = styles(layout)
    title = t(TITLE)
    flow: list[Flowable] = paper_head(
        data.hall.name, title, data.doc_id, layout, t, reprint_no=reprint_no, letterhead_path=letterhead_path
    )
    flow += case_no_block(t("首项办件编号"), data.case_no, layout)
    flow.append(salutation(data.applicant_name, layout, t))
    flow.append(
        para(
            t(
                "你（单位）于{date}在{window}办理「{visit}」，共{n}个事项，一次提交材料、一窗办理。"
                "各事项的办件编号和办理结果如下，请凭办件编号分别查询办理进度、领取办理结果。"
            ).format(
                date=cn_date(data.issued_at.date()),
                window=window_text(data.hall, t),
                visit=data.visit_name,
                n=len(data.lines),
            ),
            st.body_indent,
        )
    )
    flow.append(para(t("一、办理事项"), st.section))
    flow.append(lines_table(data.lines, layout, t))
    flow.append(para(t("二、申请人"), st.section))
    pairs = [
        (t("申请人"), mask_name(data.applicant_name)),
        (t("证件号码"), mask_id_number(data.applicant_id_number)),
        (t("联系电话"), mask_phone(data.applicant_phone)),
        (t("排队号"), data.ticket_no),
        (t("预约编号"), data.booking_code or t("现场取号")),
        (t("办理时间"), cn_datetime(data.issued_at)),
        (t("办理窗口"), window_text(data.hall, t)),
        (
            t("经办人"),
            t("{name}（工号 {staff_no}）").format(name=data.clerk_name, staff_no=data.clerk_staff_no),
        ),
    ]
    if data.notes:
        pairs.append((t("备注"), data.notes))
    flow.append(facts_table(pairs, layout, {t("备注")}))
    flow.append(para(t("三、已收材料（一次提交，各事项共用）"), st.section))
    flow.append(materials_table(data.materials, data.lines, layout, t))
    meta = PdfMeta(
        title=f"{title} {data.case_no}",
        author=data.hall.name,
        subject=data.visit_name,
        keywords=(data.doc_id, *(line.case_no for line in data.lines)),
    )
    return finish_paper(
        flow,
        hall=data.hall,
        verify_url=data.verify_url,
        date=data.issued_at.date(),
        signature_label=t("申请人签名："),
        strokes=data.signature_strokes,
        notes=[
            t("各事项由所列实施部门依法分别办理；受理的事项将在承诺办结日期前办结，办结后将短信通知领取。"),
            t("需要补正的事项请按《一次性补正告知书》一次补齐材料；不予受理的事项请见《不予受理通知书》。"),
            t("可扫描本回执上的二维码验证真伪，或凭办件编号通过政务服务网、大厅自助终端查询办理进度。"),
        ],
        meta=meta,
        layout=layout,
        t=t,
        seal_path=seal_path,
    )


def lines_table(lines: list[VisitLine], layout: str, t: Translate) -> Table:
    """序号 / 事项 (实施部门) / 办件编号 / 办理结果 / 承诺办结日期; on the slip, three columns."""
    st = styles(layout)
    fw = page_layout(layout).frame_width
    if is_a4(layout):
        widths = [10 * mm, fw - 10 * mm - 51 * mm - 20 * mm - 36 * mm, 51 * mm, 20 * mm, 36 * mm]
        heads = (
            t("序号"),
            t("事项名称（实施部门）"),
            t("办件编号 / 事项编码"),
            t("办理结果"),
            t("承诺办结日期"),
        )
        rows: list[list[Flowable | list[Flowable]]] = [[para(h, st.cell_center) for h in heads]]
        for line in lines:
            rows.append(
                [
                    para(str(line.position), st.cell_center),
                    [para(line.item_name, st.cell), para(line.department, st.small)],
                    [para(line.case_no, st.cell_center), para(line.item_code, st.caption)],
                    para(decision_text(line, t), st.cell_center),
                    para(date_text(line, t), st.cell_center),
                ]
            )
    else:
        # One column: the case number needs the slip's whole width to stay on one line.
        widths = [fw]
        rows = [[para(t("事项 / 办件编号 / 办理结果"), st.cell_center)]]
        for line in lines:
            rows.append(
                [
                    [
                        para(f"{line.position}. {line.item_name}（{line.department}）", st.cell),
                        para(t("事项编码：{code}").format(code=line.item_code), st.small),
                        para(line.case_no, st.cell),
                        para(f"{decision_text(line, t)}：{date_text(line, t)}", st.cell),
                    ]
                ]
            )
    table = Table(rows, colWidths=fractions(widths), repeatRows=1)
    table.setStyle(
        grid_style([("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL)], pad=3.5 if is_a4(layout) else 3)
    )
    return table


def used_for_text(m: VisitMaterial, lines: list[VisitLine], t: Translate) -> str:
    """The items a paper served, by their number in the table above (全部事项 when it served all)."""
    positions = [line.position for line in lines if line.item_name in m.used_for]
    if len(positions) == len(lines) and len(lines) > 1:
        return t("全部事项")
    return t("第{n}项").format(n=t("、").join(str(p) for p in positions))


def materials_table(
    materials: list[VisitMaterial], lines: list[VisitLine], layout: str, t: Translate
) -> Table:
    """Each paper once, with the items it was used for."""
    st = styles(layout)
    fw = page_layout(layout).frame_width
    a4 = is_a4(layout)
    heads: tuple[str, ...]
    if a4:
        widths = [10 * mm, fw - 10 * mm - 26 * mm - 16 * mm - 40 * mm, 26 * mm, 16 * mm, 40 * mm]
        heads = (t("序号"), t("材料名称"), t("核验情况"), t("复印件"), t("用于事项"))
    else:
        widths = [fw - 19 * mm - 11 * mm, 19 * mm, 11 * mm]
        heads = (t("材料名称（用于事项）"), t("核验情况"), t("复印件"))
    rows: list[list[Flowable]] = [[para(h, st.cell_center) for h in heads]]
    for i, m in enumerate(materials, start=1):
        name = f"{m.name}（{m.source}）" if m.source else m.name
        copies = para(str(m.copies) if m.copies else "—", st.cell_center)
        check = para(check_text(m.check, t), st.cell_center)
        used = used_for_text(m, lines, t)
        if a4:
            rows.append(
                [para(str(i), st.cell_center), para(name, st.cell), check, copies, para(used, st.cell_center)]
            )
        else:
            rows.append([para(f"{name}（{used}）", st.cell), check, copies])
    if not materials:
        rows.append([para(t("无"), st.cell_center)] + [para("", st.cell)] * (len(heads) - 1))
    table = Table(rows, colWidths=fractions(widths), repeatRows=1)
    table.setStyle(grid_style([("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL)], pad=3.5 if a4 else 3))
    return table
