"""How the supervisor window writes figures: percentages, minutes, group and period names."""

from __future__ import annotations

import datetime as dt

from hallclient import wire
from hallclient.i18n import N_, _

DASH = "—"
LEVEL_NAMES: dict[str, str] = {
    wire.RatingLevel.VERY_SATISFIED.value: N_("非常满意"),
    wire.RatingLevel.SATISFIED.value: N_("满意"),
    wire.RatingLevel.BASIC.value: N_("基本满意"),
    wire.RatingLevel.DISSATISFIED.value: N_("不满意"),
    wire.RatingLevel.VERY_DISSATISFIED.value: N_("非常不满意"),
    wire.RatingLevel.NOT_RATED.value: N_("未评价"),
}
LEVEL_COLORS: dict[str, str] = {
    wire.RatingLevel.VERY_SATISFIED.value: "#15803d",
    wire.RatingLevel.SATISFIED.value: "#22c55e",
    wire.RatingLevel.BASIC.value: "#86efac",
    wire.RatingLevel.DISSATISFIED.value: "#f59e0b",
    wire.RatingLevel.VERY_DISSATISFIED.value: "#b91c1c",
    wire.RatingLevel.NOT_RATED.value: "#9ca3af",
}
GROUP_NAMES: dict[wire.FigureGroup, str] = {
    wire.FigureGroup.WINDOW: N_("按窗口"),
    wire.FigureGroup.CLERK: N_("按工作人员"),
    wire.FigureGroup.ITEM: N_("按事项"),
    wire.FigureGroup.HALL: N_("全厅"),
}
PERIOD_NAMES: dict[wire.FigurePeriod, str] = {
    wire.FigurePeriod.TOTAL: N_("区间合计"),
    wire.FigurePeriod.DAY: N_("按日"),
    wire.FigurePeriod.WEEK: N_("按周"),
    wire.FigurePeriod.MONTH: N_("按月"),
}


def pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def minutes(seconds: float | None) -> str:
    return DASH if seconds is None else f"{seconds / 60:.1f}"


def level_name(level: str) -> str:
    return _(LEVEL_NAMES.get(level, level))


def group_label(f: wire.Figures, by: wire.FigureGroup) -> str:
    if by is wire.FigureGroup.WINDOW:
        return _("{n} 号窗口").format(n=f.window_no) if f.window_no is not None else _("（未归属）")
    if by is wire.FigureGroup.CLERK:
        return f.clerk_name or (_("（未归属）") if f.clerk_id is None else str(f.clerk_id))
    if by is wire.FigureGroup.ITEM:
        return f.item_name or f.item_code or _("（未归属）")
    return _("全厅")


def period_label(f: wire.Figures, period: wire.FigurePeriod) -> str:
    start = f.period_start
    if start is None:
        return _("合计")
    if period is wire.FigurePeriod.WEEK:
        return _("{day} 起一周").format(day=start.isoformat())
    if period is wire.FigurePeriod.MONTH:
        return _("{year}年{month}月").format(year=start.year, month=start.month)
    return start.isoformat()


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month before ``today``'s: what a monthly review looks at."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def this_month(today: dt.date) -> tuple[dt.date, dt.date]:
    return today.replace(day=1), today


def short_period(f: wire.Figures, period: wire.FigurePeriod) -> str:
    """A period as a chart's category: 03-09, or 3月."""
    start = f.period_start
    if start is None:
        return ""
    if period is wire.FigurePeriod.MONTH:
        return _("{month}月").format(month=start.month)
    return f"{start:%m-%d}"
