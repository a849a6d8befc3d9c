"""领取凭证 (出件): the result handed over at the counter, to whom and when.

The person collecting may be an agent; their name is masked like the
applicant's. The slip is signed for on the pad, so the hall can show later
that the result left the counter.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.platypus import Flowable

from hallclient.i18n import translator
from hallclient.masking import mask_name
from hallclient.papers import PickupSlip
from printing.common import PdfMeta, cn_date, cn_datetime, para, styles
from printing.parts import (
    case_no_block,
    clerk_text,
    facts_table,
    finish_paper,
    item_pairs,
    paper_head,
    window_text,
)


def render_pickup(
    slip: PickupSlip,
    *,
    layout: str = "a4",
    lang: str = "zh_CN",
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
    seal_path: Path | None = None,
) -> bytes:
    """The 领取凭证 as PDF bytes, on an 80 mm thermal slip or on A4."""
    t = translator(lang)
    h = slip.header
    st = styles(layout)
    title = t("办理结果领取凭证")
    collector = mask_name(slip.picked_up_by)

    flow: list[Flowable] = paper_head(
        h.hall.name, title, h.doc_id, layout, t, reprint_no=reprint_no, letterhead_path=letterhead_path
    )
    flow += case_no_block(t("办件编号"), h.case_no, layout)
    flow.append(
        para(
            t(
                "「{item}」的办理结果「{result}」已于{time}在{window}交付领取人 {collector}，特此凭证。"
            ).format(
                item=h.item_name,
                result=slip.result_name,
                time=cn_datetime(slip.picked_up_at),
                window=window_text(h.hall, t),
                collector=collector,
            ),
            st.body_indent,
        )
    )
    flow.append(para(t("领取信息"), st.section))
    brief = item_pairs(h, t, brief=True)
    pairs = [
        (t("办理结果"), slip.result_name),
        *brief[:2],
        (t("领取人"), collector),
        (t("领取时间"), cn_datetime(slip.picked_up_at)),
        *brief[2:],
        (t("承诺办结时间"), cn_date(slip.promised_date) if slip.promised_date else t("即办")),
        (t("发放窗口"), window_text(h.hall, t)),
        (t("经办人"), clerk_text(h, t)),
    ]
    if h.notes:
        pairs.append((t("备注"), h.notes))
    flow.append(facts_table(pairs, layout, {t("办理结果"), t("事项名称"), t("实施部门"), t("备注")}))

    meta = PdfMeta(
        title=f"{title} {h.case_no}", author=h.hall.name, subject=h.item_name, keywords=(h.doc_id, h.case_no)
    )
    return finish_paper(
        flow,
        hall=h.hall,
        verify_url=h.verify_url,
        date=slip.picked_up_at.date(),
        signature_label=t("领取人签名："),
        strokes=h.signature_strokes,
        notes=[
            t("请当场核对办理结果；离开窗口后发现问题，请凭本凭证咨询。"),
            t("委托他人领取的，受托人须出示授权委托书及本人有效身份证件。"),
        ],
        meta=meta,
        layout=layout,
        t=t,
        seal_path=seal_path,
    )
