"""不予受理通知书: the reasons, the legal basis, and the applicant's remedies.

行政许可法 第三十二条第一款第（二）（三）项 and 第三十八条第二款: a refusal
is written, gives its reasons and tells the applicant of the right to apply for
administrative reconsideration (行政复议法: sixty days) or to sue (行政诉讼法:
six months). The periods and the bodies come from the notice, that is from config.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.platypus import Flowable

from hallclient.i18n import translator
from hallclient.papers import RejectionNotice
from printing.common import PdfMeta, cn_date, cn_number, para, styles
from printing.parts import (
    case_facts_table,
    case_no_block,
    finish_paper,
    paper_head,
    salutation,
)


def render_rejection(
    notice: RejectionNotice,
    *,
    layout: str = "a4",
    lang: str = "zh_CN",
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
    seal_path: Path | None = None,
) -> bytes:
    """The 不予受理通知书 as PDF bytes, on A4 or on an 80 mm thermal slip."""
    t = translator(lang)
    h = notice.header
    st = styles(layout)
    zh = lang == "zh_CN"
    title = t("不予受理通知书")

    flow: list[Flowable] = paper_head(
        h.hall.name, title, h.doc_id, layout, t, reprint_no=reprint_no, letterhead_path=letterhead_path
    )
    flow += case_no_block(t("办件编号"), h.case_no, layout)
    flow.append(salutation(h.applicant_name, layout, t))
    flow.append(
        para(
            t("你（单位）于{date}提出的「{item}」申请，经审查，存在以下情形：").format(
                date=cn_date(h.decided_at.date()), item=h.item_name
            ),
            st.body_indent,
        )
    )
    for i, reason in enumerate(notice.reasons, start=1):
        number = t("（{n}）").format(n=cn_number(i) if zh else i)
        flow.append(para(f"{number}{reason}", st.body_indent))
    basis = notice.legal_basis.strip() or t("《中华人民共和国行政许可法》第三十二条第一款")
    flow.append(para(t("根据{basis}的规定，本机关决定不予受理。").format(basis=basis), st.body_indent))
    # Legal wording writes the periods in Chinese numerals: 六十日, 六个月.
    days = cn_number(notice.reconsideration_days) if zh else str(notice.reconsideration_days)
    months = cn_number(notice.lawsuit_months) if zh else str(notice.lawsuit_months)
    flow.append(
        para(
            t(
                "如不服本决定，可在收到本通知书之日起{days}日内向{reconsideration_body}申请行政复议，"
                "或者在{months}个月内向{court}提起行政诉讼。"
            ).format(
                days=days,
                months=months,
                reconsideration_body=notice.reconsideration_body,
                court=notice.court,
            ),
            st.body_indent,
        )
    )

    flow.append(para(t("申请事项"), st.section))
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
            t("请妥善保管本通知书，申请行政复议或者提起行政诉讼时需要出示。"),
            t("可扫描本通知书上的二维码核验本通知书的真伪。"),
        ],
        meta=meta,
        layout=layout,
        t=t,
        seal_path=seal_path,
    )
