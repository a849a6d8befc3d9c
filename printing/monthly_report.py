"""The monthly report (政务服务运行月报): one A4 page of a hall's month for its manager.

Key figures (办结率, 好评率, 未评价占比, 整改率, service volume, waiting time, overdue
cases, corrections not returned), two charts (办结率 and 好评率 per window; service
volume per day) and a per-window table, with the definitions in a footnote. The
numbers are the server's (``GET /supervision/figures``, hallserver/stats.py); this
module only lays them out. Ratings appear as counts and rates, never a citizen.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from hallclient import wire
from hallclient.i18n import translator
from printing.common import (
    FOOT_GREY,
    HEADER_FILL,
    RULE_GREY,
    PdfMeta,
    build_pdf,
    cn_date,
    fractions,
    grid_style,
    letterhead,
    page_layout,
    para,
    styles,
    title_line,
)
from printing.fonts import LATIN_FONT_NAME, font_runs, register_fonts, text_width
from printing.parts import Translate

LAYOUT = "a4"
BLUE = colors.HexColor("#1D4ED8")
GREEN = colors.HexColor("#15803D")
AMBER = colors.HexColor("#B45309")
RED = colors.HexColor("#B91C1C")
DASH = "—"


@dataclass(frozen=True)
class MonthlyReportData:
    """What the report states; the figures come from the server as they are."""

    hall_name: str
    month: dt.date  # any day of the month reported
    total: wire.Figures
    windows: Sequence[wire.Figures] = ()  # by window, for the whole month
    days: Sequence[wire.Figures] = ()  # the hall (or the filtered scope) per day
    overdue_now: int = 0  # 超时预警 open when the report was made
    corrections_now: int = 0  # 补正预警 open when the report was made
    follow_ups_open_now: int = 0
    scope: str = ""  # the filter, when not the whole hall ("3 号窗口")
    generated_at: dt.datetime | None = None
    window_names: dict[int, str] = field(default_factory=dict)


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of ``day``'s month."""
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def minutes(seconds: float | None, t: Translate) -> str:
    return DASH if seconds is None else t("{n} 分钟").format(n=f"{seconds / 60:.1f}")


# -- key figures --------------------------------------------------------------------------


def _tile(label: str, value: str, note: str, color: colors.Color) -> list[Flowable]:
    st = styles(LAYOUT)
    big = st.body.clone("mr-big", fontSize=17, leading=21, textColor=color)
    return [para(label, st.cell_label), para(value, big), para(note, st.note)]


def key_figures(data: MonthlyReportData, t: Translate) -> Table:
    f = data.total
    tiles = [
        _tile(
            t("办结率"),
            percent(f.completion_rate),
            t("按时办结 {on_time} / 应办结 {due} 件").format(on_time=f.completed_on_time, due=f.due),
            GREEN if (f.completion_rate or 0) >= 0.95 else AMBER,
        ),
        _tile(
            t("好评率"),
            percent(f.good_rate),
            t("满意及以上 {good} / 有效评价 {rated} 条").format(good=f.rated - f.bad, rated=f.rated),
            GREEN if (f.good_rate or 0) >= 0.95 else AMBER,
        ),
        _tile(
            t("未评价占比"),
            percent(f.not_rated_share),
            t("未评价 {n} / 评价记录 {all} 条").format(n=f.not_rated, all=f.rated + f.not_rated),
            BLUE,
        ),
        _tile(
            t("整改率"),
            percent(f.rectification_rate),
            t("已整改 {closed} / 差评整改 {all} 件，逾期 {late} 件").format(
                closed=f.follow_ups_closed, all=f.follow_ups, late=f.follow_ups_overdue
            ),
            RED if f.follow_ups_overdue else GREEN,
        ),
        _tile(
            t("服务人次"),
            str(f.tickets_served),
            t("过号 {n} 人次；办件 {cases} 件").format(
                n=f.no_shows, cases=f.accepted + f.corrected + f.rejected + f.completed
            ),
            BLUE,
        ),
        _tile(
            t("等候时间"),
            minutes(f.wait_p90_s, t),
            t("90% 的群众等候不超过此时长；平均 {avg}").format(avg=minutes(f.wait_avg_s, t)),
            BLUE,
        ),
        _tile(
            t("超期办件"),
            str(f.overdue),
            t("当前超时预警 {n} 件").format(n=data.overdue_now),
            RED if f.overdue else GREEN,
        ),
        _tile(
            t("补正未返回"),
            str(f.corrections_not_returned),
            t("本月补正 {n} 件；当前补正预警 {now} 件").format(n=f.corrected, now=data.corrections_now),
            AMBER if f.corrections_not_returned else GREEN,
        ),
    ]
    table = Table([tiles[:4], tiles[4:]], colWidths=fractions([1, 1, 1, 1]))
    table.setStyle(
        grid_style([("VALIGN", (0, 0), (-1, -1), "TOP"), ("GRID", (0, 0), (-1, -1), 0.5, RULE_GREY)])
    )
    return table


# -- charts ---------------------------------------------------------------------------------


class Chart(Drawing):  # type: ignore[misc]
    """A chart drawing that the one-page fitting may measure as is.

    build_pdf measures deep copies of the flowables; reportlab's chart property
    collections cannot be deep-copied, and a drawing's size never changes with the
    frame, so the copy is the drawing itself.
    """

    # The renderer starts every drawing in this font (reportlab's default is Times-Roman,
    # which would be listed in the PDF without being embedded).
    initialFontName = LATIN_FONT_NAME

    def __deepcopy__(self, memo: dict[int, object]) -> Chart:
        return self


def label(
    d: Drawing,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    anchor: str = "middle",
    color: colors.Color = FOOT_GREY,
) -> None:
    """Text in a drawing, each run in the font that has its glyphs (digits are not in the CJK font)."""
    width = text_width(text, size)
    x -= width / 2 if anchor == "middle" else width if anchor == "end" else 0
    for font, run in font_runs(text):
        d.add(String(x, y, run, fontName=font, fontSize=size, fillColor=color))
        x += text_width(run, size)


def legend(d: Drawing, pairs: list[tuple[colors.Color, str]]) -> None:
    """Swatches and names in the drawing's top right corner."""
    x = d.width
    for color, name in reversed(pairs):
        x -= text_width(name, 7.5)
        label(d, x, d.height - 8, name, 7.5, anchor="start")
        x -= 10
        d.add(Rect(x, d.height - 8.5, 7, 7, fillColor=color, strokeColor=None))
        x -= 12


def category_labels(d: Drawing, x0: float, y0: float, width: float, names: Sequence[str]) -> None:
    """Names under each category of a chart whose own axis labels are hidden."""
    step = width / max(len(names), 1)
    for i, name in enumerate(names):
        if name:
            label(d, x0 + (i + 0.5) * step, y0 - 10, name, 7.5)


def _empty(drawing: Chart, text: str) -> Chart:
    label(drawing, drawing.width / 2, drawing.height / 2, text, 9)
    return drawing


def window_rates_chart(data: MonthlyReportData, t: Translate, width: float, height: float) -> Chart:
    """办结率 and 好评率 per window, as grouped bars on a 0-100 % axis."""
    d = Chart(width, height)
    rows = [w for w in data.windows if w.window_no is not None]
    if not rows:
        return _empty(d, t("本月没有窗口数据"))
    chart = VerticalBarChart()
    chart.x, chart.y = 28, 18
    chart.width, chart.height = width - 36, height - 46
    # None (nothing due, nothing rated) draws no bar rather than a misleading 0 %.
    chart.data = [
        [None if w.completion_rate is None else round(w.completion_rate * 100, 1) for w in rows],
        [None if w.good_rate is None else round(w.good_rate * 100, 1) for w in rows],
    ]
    names = [data.window_names.get(w.window_no or 0) or t("{n} 号窗口").format(n=w.window_no) for w in rows]
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.visibleLabels = 0
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, 100, 20
    chart.valueAxis.labels.fontName = LATIN_FONT_NAME
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d%%"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#E5E7EB")
    chart.bars[0].fillColor, chart.bars[1].fillColor = BLUE, GREEN
    chart.bars.strokeColor = None
    chart.barSpacing, chart.groupSpacing = 1.5, 10
    chart.barLabelFormat = "%.1f"
    chart.barLabels.fontName = LATIN_FONT_NAME
    chart.barLabels.fontSize = 6.5
    chart.barLabels.nudge = 6
    d.add(chart)
    category_labels(d, chart.x, chart.y, chart.width, names)
    legend(d, [(BLUE, t("办结率")), (GREEN, t("好评率"))])
    return d


def daily_volume_chart(data: MonthlyReportData, t: Translate, width: float, height: float) -> Chart:
    """服务人次 and 办件量 on each day of the month, zero on days with none."""
    d = Chart(width, height)
    first, last = month_bounds(data.month)
    by_day = {f.period_start: f for f in data.days if f.period_start is not None}
    if not any(
        f.tickets_served or f.accepted + f.corrected + f.rejected + f.completed for f in by_day.values()
    ):
        return _empty(d, t("本月没有服务记录"))
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    served = [by_day[day].tickets_served if day in by_day else 0 for day in days]
    cases = [
        (by_day[day].accepted + by_day[day].corrected + by_day[day].rejected + by_day[day].completed)
        if day in by_day
        else 0
        for day in days
    ]
    chart = HorizontalLineChart()
    chart.x, chart.y = 28, 18
    chart.width, chart.height = width - 36, height - 46
    chart.data = [served, cases]
    chart.categoryAxis.categoryNames = [
        str(day.day) if day.day % 5 == 0 or day.day == 1 else "" for day in days
    ]
    chart.categoryAxis.labels.fontName = LATIN_FONT_NAME
    chart.categoryAxis.labels.fontSize = 7
    top = max(*served, *cases, 1)
    step = max(1, -(-top // 5))
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, step * 5, step
    chart.valueAxis.labels.fontName = LATIN_FONT_NAME
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#E5E7EB")
    chart.lines[0].strokeColor, chart.lines[1].strokeColor = BLUE, AMBER
    chart.lines[0].strokeWidth = chart.lines[1].strokeWidth = 1.4
    d.add(chart)
    legend(d, [(BLUE, t("服务人次")), (AMBER, t("办件量"))])
    return d


# -- per-window table -------------------------------------------------------------------------


def window_table(data: MonthlyReportData, t: Translate) -> Table:
    st = styles(LAYOUT)
    head = [
        t("窗口"),
        t("服务人次"),
        t("办件"),
        t("按时/应办结"),
        t("办结率"),
        t("好评率"),
        t("差评"),
        t("整改 已关/全部"),
        t("90%等候"),
    ]
    rows = [[para(h, st.cell_center) for h in head]]

    def line(label: str, f: wire.Figures) -> list[Flowable]:
        values = [
            label,
            str(f.tickets_served),
            str(f.accepted + f.corrected + f.rejected + f.completed),
            f"{f.completed_on_time}/{f.due}",
            percent(f.completion_rate),
            percent(f.good_rate),
            str(f.bad),
            f"{f.follow_ups_closed}/{f.follow_ups}",
            minutes(f.wait_p90_s, t),
        ]
        return [para(v, st.cell_center) for v in values]

    for w in data.windows:
        label = (
            data.window_names.get(w.window_no) or t("{n} 号窗口").format(n=w.window_no)
            if w.window_no is not None
            else t("未归属")
        )
        rows.append(line(label, w))
    rows.append(line(t("合计"), data.total))
    table = Table(rows, colWidths=fractions([2.2, 1, 0.8, 1.2, 1, 1, 0.7, 1.2, 1.2]), repeatRows=1)
    table.setStyle(
        grid_style(
            [
                ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
                ("BACKGROUND", (0, -1), (-1, -1), HEADER_FILL),
            ],
            pad=2.5,
        )
    )
    return table


# -- the page ---------------------------------------------------------------------------------


def _definitions(t: Translate) -> str:
    return t(
        "口径：办结率＝本月到期（承诺日已过或已出件）的办件中按承诺日期前出件的比例，即办件按当日办结计；"
        "好评率＝（非常满意＋满意＋基本满意）÷有效评价（不含未评价）；未评价占比＝未评价÷全部评价记录；"
        "整改率＝已关闭的差评整改÷本月差评整改；等候时间自取号（预约号自预约时段开始）至首次叫号，"
        "90% 等候为最近秩次法第 90 百分位。评价数据不含群众身份信息。"
    )


def render_monthly_report(
    data: MonthlyReportData, *, lang: str = "zh_CN", letterhead_path: Path | None = None
) -> bytes:
    """The month on one A4 page, as PDF bytes (the CJK font embedded)."""
    register_fonts()
    t = translator(lang)
    st = styles(LAYOUT)
    width = page_layout(LAYOUT).frame_width
    first, last = month_bounds(data.month)
    title = t("{year}年{month}月政务服务运行月报").format(year=first.year, month=first.month)
    period = t("统计期间：{start}至{end}").format(start=cn_date(first), end=cn_date(last))
    if data.scope:
        period += t("　范围：{scope}").format(scope=data.scope)
    if data.generated_at is not None:
        period += t("　生成于 {at}").format(at=data.generated_at.strftime("%Y-%m-%d %H:%M"))

    flow: list[Flowable] = list(letterhead(data.hall_name, LAYOUT, letterhead_path))
    flow.append(title_line(title, LAYOUT))
    flow.append(para(period, st.small_right))
    flow.append(Spacer(1, 2 * mm))
    flow.append(key_figures(data, t))
    flow.append(para(t("一、各窗口办结率与好评率"), st.section))
    flow.append(window_rates_chart(data, t, width, 52 * mm))
    flow.append(para(t("二、每日服务量"), st.section))
    flow.append(daily_volume_chart(data, t, width, 46 * mm))
    flow.append(para(t("三、分窗口指标"), st.section))
    flow.append(window_table(data, t))
    flow.append(Spacer(1, 2 * mm))
    flow.append(para(_definitions(t), st.note))
    meta = PdfMeta(title=title, author=data.hall_name, subject=period, keywords=("monthly-report",))
    return build_pdf(flow, LAYOUT, meta)
