"""排队号票: the number a walk-in takes (or a booked citizen is given) at the hall.

Mostly a thermal slip: hall, the number large, the item, how many wait ahead,
the time, and a Code128 of the number so the counter's scanner can call it up.
It carries no personal data and is not a case paper: no seal, no QR.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from hallclient.i18n import translator
from hallclient.papers import QueueTicketSlip
from hallclient.wire import TicketCategory
from printing.common import (
    BarcodeBlock,
    BoxedMark,
    PdfMeta,
    RedRule,
    TextLine,
    build_pdf,
    cn_datetime,
    letterhead,
    para,
    styles,
    title_line,
)
from printing.parts import is_a4


def render_ticket(
    ticket: QueueTicketSlip,
    *,
    layout: str = "slip",
    lang: str = "zh_CN",
    reprint_no: int = 0,
    letterhead_path: Path | None = None,
    seal_path: Path | None = None,
) -> bytes:
    """The queue ticket as PDF bytes; ``seal_path`` is accepted for a uniform call and not used."""
    t = translator(lang)
    st = styles(layout)
    a4 = is_a4(layout)
    flow: list[Flowable] = list(letterhead(ticket.hall_name, layout, letterhead_path))
    if reprint_no > 0:
        flow.append(BoxedMark(t("补打（第{n}次）").format(n=reprint_no), 11 if a4 else 8.5))
    flow.append(title_line(t("排队号票"), layout, space_after=2 * mm))
    flow.append(TextLine(ticket.ticket_no, 64 if a4 else 40, space_after=1 * mm))
    label = category_label(ticket.category, t)
    if label:
        # The category only (老年人优先 …): why a clerk marked it is never printed.
        flow.append(TextLine(f"【{label}】", 15 if a4 else 11, space_after=1.5 * mm))
    # A long item name wraps (centred) rather than shrink to an unreadable line.
    item_style = ParagraphStyle(
        f"{layout}-ticket-item",
        parent=st.body,
        alignment=TA_CENTER,
        fontSize=16 if a4 else 11,
        leading=(16 if a4 else 11) * 1.4,
        spaceAfter=2 * mm,
    )
    flow.append(para(ticket.item_name, item_style))
    waiting = (
        t("您前面还有 {n} 人等候").format(n=ticket.waiting_ahead)
        if ticket.waiting_ahead > 0
        else t("您前面暂无人等候，请留意叫号")
    )
    flow.append(
        TextLine(
            waiting,
            14 if a4 else 10.5,
            space_after=1 * mm if ticket.estimated_minutes is not None else 2 * mm,
        )
    )
    if ticket.estimated_minutes is not None:
        estimate = (
            t("预计等候约 {n} 分钟").format(n=ticket.estimated_minutes)
            if ticket.estimated_minutes > 0
            else t("预计很快叫到您")
        )
        flow.append(TextLine(estimate, 12 if a4 else 9.5, space_after=2 * mm))
    flow.append(RedRule(0.6 if a4 else 0.5, 2 * mm))

    lines = [t("取号时间：{time}").format(time=cn_datetime(ticket.issued_at))]
    if ticket.booking_code:
        lines.append(t("预约编号：{code}").format(code=ticket.booking_code))
    if ticket.slot:
        lines.append(t("预约时段：{slot}").format(slot=ticket.slot))
    flow += [para(line, st.body) for line in lines]
    flow.append(Spacer(1, 2 * mm))
    flow.append(
        BarcodeBlock(
            ticket.ticket_no,
            bar_width=1.2 if a4 else 0.9,
            bar_height=14 * mm if a4 else 10 * mm,
            text_size=8.5 if a4 else 7.5,
        )
    )
    flow.append(Spacer(1, 2 * mm))
    notes = [
        t("请留意叫号屏幕和语音提示，叫到号码后请到对应窗口办理。"),
        t("过号后请到咨询台重新取号。本号票当日有效。"),
    ]
    flow += [para(f"{i}. {n}", st.note_item) for i, n in enumerate(notes, start=1)]
    meta = PdfMeta(
        title=f"{t('排队号票')} {ticket.ticket_no}",
        author=ticket.hall_name,
        subject=ticket.item_name,
        keywords=(ticket.ticket_no,),
    )
    return build_pdf(flow, layout, meta)


def category_label(category: TicketCategory | None, t: Callable[[str], str]) -> str:
    """The printed name of a priority category; '' for ordinary and booked tickets."""
    labels = {
        TicketCategory.ELDERLY: t("老年人优先"),
        TicketCategory.DISABLED: t("残疾人优先"),
        TicketCategory.SERVICE_MEMBER: t("军人优先"),
        TicketCategory.PREGNANT: t("孕妇优先"),
    }
    return labels.get(category, "") if category is not None else ""
