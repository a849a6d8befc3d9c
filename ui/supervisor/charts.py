"""The supervisor's charts (QtCharts): 办结率/好评率 per group, rating levels, daily volume.

Each ChartView keeps one QChart and rebuilds its series on every update, so a
refresh never leaks charts or axes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QPieSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QDateTime, QMargins, Qt, QTime
from PySide6.QtGui import QColor, QFont, QPainter

from hallclient import wire
from hallclient.i18n import _
from ui.supervisor.fmt import LEVEL_COLORS, level_name

BLUE = "#1d4ed8"
GREEN = "#15803d"
AMBER = "#b45309"


class ChartView(QChartView):
    def __init__(self, title: str, name: str) -> None:
        chart = QChart()
        chart.setTitle(title)
        font = QFont()
        font.setPointSize(11)
        font.setBold(True)
        chart.setTitleFont(font)
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        super().__init__(chart)
        self.setObjectName(name)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumSize(320, 240)

    def clear(self) -> QChart:
        chart = self.chart()
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
            axis.deleteLater()
        return chart


def _percent_axis() -> QValueAxis:
    axis = QValueAxis()
    axis.setRange(0, 100)
    axis.setTickCount(6)
    axis.setLabelFormat("%d%%")
    return axis


def show_rates(view: ChartView, labels: Sequence[str], rows: Sequence[wire.Figures]) -> None:
    """办结率 and 好评率 per row (a group, or a period), as grouped bars in percent."""
    chart = view.clear()
    done, good = QBarSet(_("办结率")), QBarSet(_("好评率"))
    done.setColor(QColor(BLUE))
    good.setColor(QColor(GREEN))
    for f in rows:
        # A rate with no denominator draws no bar (0), and the table says "—".
        done.append(0.0 if f.completion_rate is None else round(f.completion_rate * 100, 1))
        good.append(0.0 if f.good_rate is None else round(f.good_rate * 100, 1))
    series = QBarSeries()
    series.append(done)
    series.append(good)
    series.setLabelsVisible(len(rows) <= 8)
    series.setLabelsFormat("@value")
    chart.addSeries(series)
    x = QBarCategoryAxis()
    x.append(list(labels))
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    series.attachAxis(x)
    y = _percent_axis()
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(y)
    chart.legend().setVisible(True)


def show_levels(view: ChartView, total: wire.Figures) -> None:
    """The rating levels of the range as a pie, 未评价 included (grey)."""
    chart = view.clear()
    series = QPieSeries()
    for level in wire.RatingLevel:
        n = total.ratings.get(level.value, 0)
        if n:
            piece = series.append(f"{level_name(level.value)} {n}", n)
            piece.setColor(QColor(LEVEL_COLORS[level.value]))
    series.setPieSize(0.8)
    chart.addSeries(series)
    # Names and counts in the legend: labels around a small pie get cut off.
    chart.legend().setVisible(True)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)


def _qdt(day: dt.date) -> QDateTime:
    return QDateTime(QDate(day.year, day.month, day.day), QTime(0, 0))


def _msecs(day: dt.date) -> int:
    return int(_qdt(day).toMSecsSinceEpoch())


def show_trend(view: ChartView, days: Sequence[wire.Figures], start: dt.date, end: dt.date) -> None:
    """服务人次 and 办件量 on every day of the range (zero on days with none)."""
    chart = view.clear()
    by_day = {f.period_start: f for f in days if f.period_start is not None}
    served, cases = QLineSeries(), QLineSeries()
    served.setName(_("服务人次"))
    cases.setName(_("办件量"))
    served.setColor(QColor(BLUE))
    cases.setColor(QColor(AMBER))
    top = 1
    day = start
    while day <= end:
        f = by_day.get(day)
        n_served = f.tickets_served if f else 0
        n_cases = (f.accepted + f.corrected + f.rejected + f.completed) if f else 0
        served.append(_msecs(day), n_served)
        cases.append(_msecs(day), n_cases)
        top = max(top, n_served, n_cases)
        day += dt.timedelta(days=1)
    chart.addSeries(served)
    chart.addSeries(cases)
    x = QDateTimeAxis()
    x.setFormat("MM-dd")
    x.setRange(_qdt(start), _qdt(max(end, start + dt.timedelta(days=1))))
    x.setTickCount(min(8, (end - start).days + 2))
    chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
    y = QValueAxis()
    # Whole numbers on every tick: up to 5 one per unit, above that 5 steps of a whole size.
    if top < 5:
        y.setRange(0, top + 1)
        y.setTickCount(top + 2)
    else:
        step = -(-top // 5)
        y.setRange(0, step * 5)
        y.setTickCount(6)
    y.setLabelFormat("%d")
    chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
    for s in (served, cases):
        s.attachAxis(x)
        s.attachAxis(y)
    chart.legend().setVisible(True)
