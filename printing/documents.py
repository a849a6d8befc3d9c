"""One entry point for every paper the counter prints, and the check for rare characters before it.

``render_paper`` picks the document for the paper's type (受理通知书, 一次性补正告知书,
不予受理通知书, 准予许可决定书, 领取凭证, 排队号票, 一件事一次办回执) and returns PDF bytes.

``check_printable`` finds text the embedded fonts cannot draw (生僻字 in a
name or an address) so the counter can warn before printing. Such a character
never prints as a silent empty box: it prints as its code point, ``[U+2A6A5]``
(``printing.fonts.placeholder``), which the clerk can write in by hand.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hallclient.domain import ReceiptData
from hallclient.i18n import translator
from hallclient.masking import mask_id_number, mask_name, mask_phone
from hallclient.papers import (
    ApprovalDecision,
    CorrectionNotice,
    Paper,
    PickupSlip,
    QueueTicketSlip,
    RejectionNotice,
    VisitReceipt,
)
from printing.fonts import missing_glyphs, placeholder

Translate = Callable[[str], str]


def render_paper(
    paper: Paper,
    *,
    layout: str = "a4",
    lang: str = "zh_CN",
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
    seal_path: Path | None = None,
) -> bytes:
    """The paper as PDF bytes, on A4 or on an 80 mm thermal slip (``layout="slip"``).

    ``reprint_no`` > 0 marks the paper 补打（第n次）. Personal data is masked
    on paper whatever the paper holds. Raises ValueError for an unknown layout.
    """
    kw: dict[str, Any] = {
        "layout": layout,
        "lang": lang,
        "reprint_no": reprint_no,
        "letterhead_path": letterhead_path,
        "seal_path": seal_path,
    }
    if isinstance(paper, ReceiptData):
        from printing.receipt import render_receipt

        return render_receipt(paper, **kw)
    if isinstance(paper, CorrectionNotice):
        from printing.correction import render_correction

        return render_correction(paper, **kw)
    if isinstance(paper, RejectionNotice):
        from printing.rejection import render_rejection

        return render_rejection(paper, **kw)
    if isinstance(paper, ApprovalDecision):
        from printing.approval import render_approval

        return render_approval(paper, **kw)
    if isinstance(paper, PickupSlip):
        from printing.pickup import render_pickup

        return render_pickup(paper, **kw)
    if isinstance(paper, QueueTicketSlip):
        from printing.ticket import render_ticket

        return render_ticket(paper, **kw)
    if isinstance(paper, VisitReceipt):
        from printing.visit_receipt import render_visit_receipt

        return render_visit_receipt(paper, **kw)
    raise TypeError(f"no document for {type(paper).__name__}")


def paper_title(paper: Paper, lang: str = "zh_CN") -> str:
    """The paper's title as printed: for dialogs, file names and the audit log."""
    t = translator(lang)
    if isinstance(paper, ReceiptData):
        return t("受理通知书")
    if isinstance(paper, CorrectionNotice):
        return t("一次性补正告知书")
    if isinstance(paper, RejectionNotice):
        return t("不予受理通知书")
    if isinstance(paper, ApprovalDecision):
        return paper.title.strip() or t("准予行政许可决定书")
    if isinstance(paper, PickupSlip):
        return t("办理结果领取凭证")
    if isinstance(paper, VisitReceipt):
        return t("一件事一次办回执")
    return t("排队号票")


def paper_ref(paper: Paper) -> str:
    """The number the paper is filed under: the case number, or the ticket number for a queue ticket."""
    if isinstance(paper, QueueTicketSlip):
        return paper.ticket_no
    if isinstance(paper, ReceiptData | VisitReceipt):
        return paper.case_no
    return paper.header.case_no


# --- rare characters --------------------------------------------------------------------

# Not printed as text: the QR carries the URL as bytes, codes and enums are never shown.
_NOT_PRINTED = {"verify_url", "code", "kind", "check", "signature_strokes"}
# Printed masked: only what is left after masking must be drawable.
_MASKS: dict[str, Callable[[str], str]] = {
    "applicant_name": mask_name,
    "picked_up_by": mask_name,
    "applicant_id_number": mask_id_number,
    "applicant_phone": mask_phone,
}


def _labels(t: Translate) -> dict[str, str]:
    return {
        "doc_id": t("文书编号"),
        "case_no": t("办件编号"),
        "HallInfo.name": t("大厅名称"),
        "HallInfo.address": t("办事地址"),
        "HallInfo.phone": t("咨询电话"),
        "clerk_name": t("经办人"),
        "clerk_staff_no": t("工号"),
        "item_code": t("事项编码"),
        "item_name": t("事项名称"),
        "department": t("实施部门"),
        "applicant_name": t("申请人"),
        "applicant_id_number": t("证件号码"),
        "applicant_phone": t("联系电话"),
        "booking_code": t("预约编号"),
        "notes": t("备注"),
        "name": t("材料名称"),
        "what_is_wrong": t("存在问题"),
        "problems": t("需要补正的材料"),
        "received": t("已收取的材料"),
        "materials": t("已收材料"),
        "bring_to": t("补正地点"),
        "reasons": t("不予受理理由"),
        "legal_basis": t("法律依据"),
        "reconsideration_body": t("行政复议机关"),
        "court": t("人民法院"),
        "title": t("文书标题"),
        "result_text": t("许可内容"),
        "result_name": t("办理结果"),
        "picked_up_by": t("领取人"),
        "ticket_no": t("号码"),
        "hall_name": t("大厅名称"),
        "slot": t("预约时段"),
        "visit_name": t("一件事"),
        "lines": t("办理事项"),
        "used_for": t("用于事项"),
        "source": t("电子证照"),
    }


def _printed_texts(
    obj: object, labels: dict[str, str], t: Translate, prefix: str = ""
) -> Iterator[tuple[str, str]]:
    """(label, text as printed) for every text field of a paper, nested materials and lists included."""
    assert dataclasses.is_dataclass(obj)
    cls = type(obj).__name__
    for f in dataclasses.fields(obj):
        if f.name in _NOT_PRINTED:
            continue
        value = getattr(obj, f.name)
        label = labels.get(f"{cls}.{f.name}") or labels.get(f.name, f.name)
        if isinstance(value, str):
            yield prefix + label, _MASKS.get(f.name, str)(value)
        elif isinstance(value, list):
            for i, item in enumerate(value, start=1):
                where = t("{label}第{n}项").format(label=label, n=i)
                if isinstance(item, str):
                    yield prefix + where, item
                elif dataclasses.is_dataclass(item):
                    yield from _printed_texts(item, labels, t, prefix + where + t("的"))
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            # The header and the hall: their fields read as the paper's own.
            yield from _printed_texts(value, labels, t, prefix)


def check_printable(paper: Paper, lang: str = "zh_CN") -> list[str]:
    """One message per printed text field holding a character no embedded font can draw; [] if all print.

    Personal fields are checked as printed, masked: a rare character hidden by
    the mask does not matter. Each message names the field, the character and
    its code point, and says what prints instead.
    """
    t = translator(lang)
    labels = _labels(t)
    messages: list[str] = []
    for label, text in _printed_texts(paper, labels, t):
        missing = missing_glyphs(text)
        if not missing:
            continue
        messages.append(
            t(
                "「{field}」中的“{chars}”不在打印字库中，纸面上将印作 {codes}。"
                "请核对后在纸面上手写补全，或联系管理员更新字库。"
            ).format(
                field=label,
                chars="”“".join(missing),
                codes="、".join(placeholder(ch) for ch in missing),
            )
        )
    return messages
