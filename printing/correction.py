"""一次性补正告知书: every missing or wrong material at once, so one more trip is enough.

行政许可法 第三十二条第一款第（四）项: when materials are incomplete or not in
legal form, the authority must tell the applicant, on the spot or within five
days and in one go, everything that needs correcting. This paper is that one
notice: what is missing or wrong, what to bring, where and by when.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Table

from hallclient.domain import MaterialCheck
from hallclient.i18n import translator
from hallclient.papers import CorrectionNotice, MaterialProblem
from printing.common import (
    HEADER_FILL,
    PdfMeta,
    cn_date,
    fractions,
    grid_style,
    page_layout,
    para,
    styles,
)
from printing.parts import (
    Translate,
    case_facts_table,
    case_no_block,
    finish_paper,
    is_a4,
    materials_text,
    paper_head,
    salutation,
)


def render_correction(
    notice: CorrectionNotice,
    *,
    layout: str = "a4",
    lang: str = "zh_CN",
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
    seal_path: Path | None = None,
) -> bytes:
    """The 一次性补正告知书 as PDF bytes, on A4 or on an 80 mm thermal slip."""
    t = translator(lang)
    h = notice.header
    st = styles(layout)
    title = t("一次性补正告知书")

    flow: list[Flowable] = paper_head(
        h.hall.name, title, h.doc_id, layout, t, reprint_no=reprint_no, letterhead_path=letterhead_path
    )
    flow += case_no_block(t("办件编号"), h.case_no, layout)
    flow.append(salutation(h.applicant_name, layout, t))
    flow.append(
        para(
            t(
                "你（单位）于{date}提出的「{item}」申请，经审查，申请材料不齐全或者不符合法定形式。"
                "根据《中华人民共和国行政许可法》第三十二条第一款第（四）项“申请材料不齐全或者不符合法定形式的，"
                "应当当场或者在五日内一次告知申请人需要补正的全部内容”的规定，现将需要补正的全部内容一次性告知如下："
            ).format(date=cn_date(h.decided_at.date()), item=h.item_name),
            st.body_indent,
        )
    )

    flow.append(para(t("一、需要补正的材料"), st.section))
    flow.append(_problems_table(notice.problems, layout, t))

    flow.append(para(t("二、补正期限和地点"), st.section))
    if notice.deadline is not None:
        where = t("请于{deadline}前（含当日）将上述材料一次补齐，送至{place}。").format(
            deadline=cn_date(notice.deadline), place=notice.bring_to
        )
    else:
        where = t("请将上述材料一次补齐后，送至{place}。").format(place=notice.bring_to)
    flow.append(para(where, st.body_indent))
    flow.append(
        para(t("补正的材料齐全、符合法定形式的，本机关将予以受理。补正时请携带本告知书。"), st.body_indent)
    )
    if notice.received:
        flow.append(
            para(
                t("已收取并留存的材料（补正时无需再次提交）：{materials}。").format(
                    materials=materials_text(notice.received, t)
                ),
                st.body_indent,
            )
        )

    flow.append(para(t("三、申请事项"), st.section))
    flow.append(case_facts_table(h, layout, t))

    meta = PdfMeta(
        title=f"{title} {h.case_no}", author=h.hall.name, subject=h.item_name, keywords=(h.doc_id, h.case_no)
    )
    return finish_paper(
        flow,
        hall=h.hall,
        verify_url=h.verify_url,
        date=h.decided_at.date(),
        signature_label=t("申请人签收："),
        strokes=h.signature_strokes,
        notes=[
            t("本告知书已一次性告知需要补正的全部内容，本机关不再要求补正本告知书以外的材料。"),
            t("可扫描本告知书上的二维码，或凭办件编号通过政务服务网、大厅自助终端查询办理进度。"),
            t("本告知书不是受理凭证。"),
        ],
        meta=meta,
        layout=layout,
        t=t,
        seal_path=seal_path,
    )


def _requirement(p: MaterialProblem, t: Translate) -> str:
    """What to bring for one material: the original to be seen, and how many copies."""
    if p.original_required and p.copies > 0:
        return t("提交原件（核验）及复印件{n}份").format(n=p.copies)
    if p.original_required:
        return t("提交原件")
    if p.copies > 0:
        return t("提交复印件{n}份").format(n=p.copies)
    return t("按要求提交")


def _problem_text(p: MaterialProblem, t: Translate) -> str:
    if p.check == MaterialCheck.WRONG:
        return p.what_is_wrong or t("不符合要求")
    return t("未提交") + (f"（{p.what_is_wrong}）" if p.what_is_wrong else "")


def _problems_table(problems: list[MaterialProblem], layout: str, t: Translate) -> Table:
    """序号 / 材料名称 / 存在问题 / 补正要求; on a slip the requirement goes under the problem."""
    st = styles(layout)
    fw = page_layout(layout).frame_width
    if is_a4(layout):
        heads: tuple[str, ...] = (t("序号"), t("材料名称"), t("存在问题"), t("补正要求"))
        widths = [11 * mm, 50 * mm, fw - 11 * mm - 50 * mm - 52 * mm, 52 * mm]
        rows: list[list[Flowable | list[Flowable]]] = [[para(x, st.cell_center) for x in heads]]
        for i, p in enumerate(problems, start=1):
            rows.append(
                [
                    para(str(i), st.cell_center),
                    para(p.name, st.cell),
                    para(_problem_text(p, t), st.cell),
                    para(_requirement(p, t), st.cell),
                ]
            )
        pad = 3.5
    else:
        heads = (t("材料名称"), t("存在问题及补正要求"))
        widths = [26 * mm, fw - 26 * mm]
        rows = [[para(x, st.cell_center) for x in heads]]
        for i, p in enumerate(problems, start=1):
            rows.append(
                [
                    para(f"{i}. {p.name}", st.cell),
                    [para(_problem_text(p, t), st.cell), para(_requirement(p, t), st.cell_label)],
                ]
            )
        pad = 3
    if not problems:
        rows.append([para(t("无"), st.cell_center)] + [para("", st.cell)] * (len(heads) - 1))
    table = Table(rows, colWidths=fractions(widths), repeatRows=1)
    table.setStyle(grid_style([("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL)], pad=pad))
    return table
