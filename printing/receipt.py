"""受理通知书: the acceptance notice handed over when the counter accepts a case.

Wording follows the Administrative Licensing Law §32 (1)(5): materials complete
and in legal form, therefore accepted. Personal data is masked here, on paper,
whatever the caller passes (DESIGN.md); the raw values never reach the PDF.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from hallclient.domain import ReceiptData
from hallclient.i18n import translator
from printing.common import PdfMeta, build_pdf, cn_date, cn_datetime, para, styles
from printing.parts import (
    Translate,
    case_no_block,
    clerk_text,
    closing_block,
    facts_table,
    item_pairs,
    materials_table,
    paper_head,
    salutation,
    window_text,
)


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
    st = styles(layout)

    flow: list[Flowable] = paper_head(
        data.hall.name,
        t("受理通知书"),
        data.doc_id,
        layout,
        t,
        reprint_no=reprint_no,
        letterhead_path=letterhead_path,
    )
    flow += case_no_block(t("受理编号"), data.case_no, layout)
    flow.append(salutation(data.applicant_name, layout, t))
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
    flow.append(_case_table(data, layout, t))
    flow.append(para(t("二、已收材料"), st.section))
    flow.append(materials_table(data.materials, layout, t))
    flow.append(Spacer(1, 3 * mm))
    flow += closing_block(
        verify_url=data.verify_url,
        hall_name=data.hall.name,
        date=data.accepted_at.date(),
        layout=layout,
        t=t,
        seal_path=seal_path,
        signature_label=t("申请人签名："),
        strokes=data.signature_strokes,
    )
    flow.append(Spacer(1, 2 * mm))
    flow += _footnotes(data, layout, t)

    meta = PdfMeta(
        title=f"{t('受理通知书')} {data.case_no}",
        author=data.hall.name,
        subject=data.item_name,
        keywords=(data.doc_id, data.case_no),
    )
    return build_pdf(flow, layout, meta)


def _case_table(data: ReceiptData, layout: str, t: Translate) -> Table:
    promised = t("{date}（{days}个工作日）").format(date=cn_date(data.promised_date), days=data.promised_days)
    pairs = item_pairs(data, t)
    pairs += [
        (t("受理时间"), cn_datetime(data.accepted_at)),
        (t("承诺办结时间"), promised),
        (t("受理窗口"), window_text(data.hall, t)),
        (t("受理人"), clerk_text(data, t)),
    ]
    if data.notes:
        pairs.append((t("备注"), data.notes))
    # Long values (item name, department, notes) take a whole row; short ones pair up.
    return facts_table(pairs, layout, {t("事项名称"), t("实施部门"), t("备注")})


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
