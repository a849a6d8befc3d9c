"""准予行政许可决定书 (or the item's own result paper) for an item decided on the spot (即办件).

行政许可法 第三十四条第二款: materials complete and in legal form and the
decision can be made at once, then the written decision is made on the spot;
第三十八条第一款: an application that meets the statutory conditions is granted
in writing. The title comes from the item (the data), the grant from the clerk.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.platypus import Flowable

from hallclient.i18n import translator
from hallclient.papers import ApprovalDecision
from printing.common import PdfMeta, cn_date, cn_datetime, para, styles
from printing.parts import (
    case_no_block,
    clerk_text,
    facts_table,
    finish_paper,
    item_pairs,
    materials_table,
    paper_head,
    salutation,
    window_text,
)


def render_approval(
    decision: ApprovalDecision,
    *,
    layout: str = "a4",
    lang: str = "zh_CN",
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
    seal_path: Path | None = None,
) -> bytes:
    """The approval decision as PDF bytes, on A4 or on an 80 mm thermal slip."""
    t = translator(lang)
    h = decision.header
    st = styles(layout)
    # The item's own title (data, not a msgid); the generic one when the item has none.
    title = decision.title.strip() or t("准予行政许可决定书")

    flow: list[Flowable] = paper_head(
        h.hall.name, title, h.doc_id, layout, t, reprint_no=reprint_no, letterhead_path=letterhead_path
    )
    flow += case_no_block(t("办件编号"), h.case_no, layout)
    flow.append(salutation(h.applicant_name, layout, t))
    flow.append(
        para(
            t(
                "你（单位）于{date}提出的「{item}」申请，申请材料齐全、符合法定形式，经审查，符合法定条件、标准。"
                "根据《中华人民共和国行政许可法》第三十四条第二款、第三十八条第一款的规定，本机关当场作出准予行政许可的决定。"
            ).format(date=cn_date(h.decided_at.date()), item=h.item_name),
            st.body_indent,
        )
    )

    flow.append(para(t("一、许可内容"), st.section))
    flow.append(para(decision.result_text, st.body_indent))
    if decision.valid_until is not None:
        flow.append(
            para(
                t("有效期限：自{start}起至{end}止。").format(
                    start=cn_date(h.decided_at.date()), end=cn_date(decision.valid_until)
                ),
                st.body_indent,
            )
        )

    flow.append(para(t("二、申请事项"), st.section))
    pairs = item_pairs(h, t, brief=True)
    pairs += [
        (t("决定时间"), cn_datetime(h.decided_at)),
        (t("有效期至"), cn_date(decision.valid_until) if decision.valid_until else t("长期")),
        (t("办理窗口"), window_text(h.hall, t)),
        (t("经办人"), clerk_text(h, t)),
    ]
    if h.notes:
        pairs.append((t("备注"), h.notes))
    flow.append(facts_table(pairs, layout, {t("事项名称"), t("实施部门"), t("备注")}))
    flow.append(para(t("三、已收材料"), st.section))
    flow.append(materials_table(decision.materials, layout, t))

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
            t("本决定自作出之日起生效。"),
            t("可扫描本决定书上的二维码，或凭办件编号通过政务服务网核验本决定书的真伪。"),
        ],
        meta=meta,
        layout=layout,
        t=t,
        seal_path=seal_path,
    )
