"""指标: the key figures as tiles, the grouped table, and three charts."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hallclient import wire
from hallclient.i18n import N_, _
from ui.supervisor.charts import ChartView, show_levels, show_rates, show_trend
from ui.supervisor.fmt import group_label, minutes, pct, period_label, short_period

F = wire.Figures
RED, AMBER, GREEN = "#b91c1c", "#b45309", "#15803d"


def _cases(f: F) -> int:
    return f.accepted + f.corrected + f.rejected + f.completed


# (header, value) of each table column after 期间 and 分组.
COLUMNS: list[tuple[str, Callable[[F], str]]] = [
    (N_("服务人次"), lambda f: str(f.tickets_served)),
    (N_("过号"), lambda f: str(f.no_shows)),
    (N_("平均等候(分)"), lambda f: minutes(f.wait_avg_s)),
    (N_("90%等候(分)"), lambda f: minutes(f.wait_p90_s)),
    (N_("平均办理(分)"), lambda f: minutes(f.handle_avg_s)),
    (N_("受理"), lambda f: str(f.accepted)),
    (N_("补正"), lambda f: str(f.corrected)),
    (N_("不予受理"), lambda f: str(f.rejected)),
    (N_("即办办结"), lambda f: str(f.completed)),
    (N_("应办结"), lambda f: str(f.due)),
    (N_("按时办结"), lambda f: str(f.completed_on_time)),
    (N_("超期"), lambda f: str(f.overdue)),
    (N_("办结率"), lambda f: pct(f.completion_rate)),
    (N_("补正未返回"), lambda f: str(f.corrections_not_returned)),
    (N_("有效评价"), lambda f: str(f.rated)),
    (N_("未评价占比"), lambda f: pct(f.not_rated_share)),
    (N_("好评率"), lambda f: pct(f.good_rate)),
    (N_("差评"), lambda f: str(f.bad)),
    (N_("集中评价"), lambda f: str(f.bursts)),
    (N_("整改任务"), lambda f: str(f.follow_ups)),
    (N_("未关闭"), lambda f: str(f.follow_ups_open)),
    (N_("逾期未整改"), lambda f: str(f.follow_ups_overdue)),
    (N_("整改率"), lambda f: pct(f.rectification_rate)),
]


def _warn_color(header: str, f: F) -> str | None:
    """Red or amber for the cells a manager must not miss."""
    if header == N_("超期") and f.overdue:
        return RED
    if header == N_("逾期未整改") and f.follow_ups_overdue:
        return RED
    if header == N_("办结率") and f.completion_rate is not None and f.completion_rate < 0.95:
        return AMBER
    if header == N_("好评率") and f.good_rate is not None and f.good_rate < 0.95:
        return AMBER
    if header == N_("补正未返回") and f.corrections_not_returned:
        return AMBER
    return None


class Tile(QFrame):
    """One key figure: label, big value, a line saying what it is made of."""

    def __init__(self, label: str, name: str) -> None:
        super().__init__()
        self.setObjectName("figureTile")
        self.value = QLabel("—")
        self.value.setObjectName(name)
        self.value.setProperty("tileValue", True)
        self.note = QLabel()
        self.note.setObjectName("tileNote")
        self.note.setWordWrap(True)
        caption = QLabel(label)
        caption.setObjectName("tileCaption")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.setSpacing(2)
        lay.addWidget(caption)
        lay.addWidget(self.value)
        lay.addWidget(self.note)

    def set(self, value: str, note: str, color: str) -> None:
        self.value.setText(value)
        self.value.setStyleSheet(f"color: {color};")
        self.note.setText(note)


class FiguresPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("figuresPanel")
        self.response: wire.FiguresResponse | None = None
        self.tiles = {
            "completion": Tile(_("办结率"), "tileCompletion"),
            "good": Tile(_("好评率"), "tileGood"),
            "not_rated": Tile(_("未评价占比"), "tileNotRated"),
            "rectification": Tile(_("整改率"), "tileRectification"),
            "served": Tile(_("服务人次"), "tileServed"),
            "wait": Tile(_("90%等候（分钟）"), "tileWait"),
            "overdue": Tile(_("超期办件"), "tileOverdue"),
            "corrections": Tile(_("补正未返回"), "tileCorrections"),
        }
        grid = QGridLayout()
        grid.setSpacing(8)
        for i, tile in enumerate(self.tiles.values()):
            grid.addWidget(tile, i // 4, i % 4)

        self.table = QTableWidget(0, 2 + len(COLUMNS))
        self.table.setObjectName("figuresTable")
        self.table.setHorizontalHeaderLabels([_("期间"), _("分组"), *(_(h) for h, _v in COLUMNS)])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)

        self.rates = ChartView(_("办结率与好评率"), "ratesChart")
        self.levels = ChartView(_("评价等级分布"), "levelsChart")
        self.trend = ChartView(_("每日服务量"), "trendChart")
        charts = QHBoxLayout()
        charts.addWidget(self.rates, 3)
        charts.addWidget(self.levels, 2)
        charts.addWidget(self.trend, 3)
        chart_box = QWidget()
        chart_box.setLayout(charts)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(chart_box)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)

        lay = QVBoxLayout(self)
        lay.addLayout(grid)
        lay.addWidget(split, 1)

    def show_figures(self, r: wire.FiguresResponse, days: wire.FiguresResponse) -> None:
        self.response = r
        self._tiles(r.total)
        rows = r.rows if r.by is not wire.FigureGroup.HALL or r.period is not wire.FigurePeriod.TOTAL else []
        shown = [*rows, r.total]
        self.table.setRowCount(len(shown))
        for row, f in enumerate(shown):
            is_total = row == len(shown) - 1
            first = [
                _("合计") if is_total else period_label(f, r.period),
                group_label(f, r.by)
                if not is_total
                else _("合计")
                if r.period is wire.FigurePeriod.TOTAL
                else "",
            ]
            cells = first + [value(f) for _h, value in COLUMNS]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    color = _warn_color(COLUMNS[col - 2][0], f)
                    if color:
                        item.setForeground(QBrush(QColor(color)))
                if is_total:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        # Periods of a whole-range table say nothing: the column goes.
        self.table.setColumnHidden(0, r.period is wire.FigurePeriod.TOTAL)
        # The rates chart compares the groups (or the periods, for the whole hall).
        chart_rows = rows or [r.total]
        labels = []
        for f in chart_rows:
            parts = [] if r.period is wire.FigurePeriod.TOTAL else [short_period(f, r.period)]
            if r.by is not wire.FigureGroup.HALL or not parts:
                parts.append(group_label(f, r.by))
            labels.append(" ".join(parts))
        show_rates(self.rates, labels, chart_rows)
        show_levels(self.levels, r.total)
        show_trend(self.trend, days.rows, r.date_from, r.date_to)

    def _tiles(self, f: F) -> None:
        t = self.tiles
        t["completion"].set(
            pct(f.completion_rate),
            _("按时办结 {on_time} / 应办结 {due} 件").format(on_time=f.completed_on_time, due=f.due),
            GREEN if (f.completion_rate or 0) >= 0.95 else AMBER,
        )
        t["good"].set(
            pct(f.good_rate),
            _("满意及以上 {good} / 有效评价 {rated} 条").format(good=f.rated - f.bad, rated=f.rated),
            GREEN if (f.good_rate or 0) >= 0.95 else AMBER,
        )
        t["not_rated"].set(
            pct(f.not_rated_share),
            _("未评价 {n} / 评价记录 {all} 条").format(n=f.not_rated, all=f.rated + f.not_rated),
            "#1d4ed8",
        )
        t["rectification"].set(
            pct(f.rectification_rate),
            _("已整改 {closed} / {all} 件，逾期 {late} 件").format(
                closed=f.follow_ups_closed, all=f.follow_ups, late=f.follow_ups_overdue
            ),
            RED if f.follow_ups_overdue else GREEN,
        )
        t["served"].set(
            str(f.tickets_served),
            _("过号 {n}；办件 {cases} 件").format(n=f.no_shows, cases=_cases(f)),
            "#1d4ed8",
        )
        t["wait"].set(
            minutes(f.wait_p90_s), _("平均 {avg} 分钟").format(avg=minutes(f.wait_avg_s)), "#1d4ed8"
        )
        t["overdue"].set(str(f.overdue), _("承诺期内未出件"), RED if f.overdue else GREEN)
        t["corrections"].set(
            str(f.corrections_not_returned),
            _("本期补正 {n} 件").format(n=f.corrected),
            AMBER if f.corrections_not_returned else GREEN,
        )
