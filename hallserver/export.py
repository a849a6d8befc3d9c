"""``hallserver export ratings|stats|figures|follow-ups``: spreadsheets as CSV or xlsx.

ratings: rating details; stats: per-day, per-window counts; figures: the
supervision figures of :mod:`hallserver.stats` (办结率, 好评率, 整改率, waiting
times …) grouped as asked; follow-ups: the 整改 tasks with their results. The
supervisor window gets the same tables through ``GET /supervision/export``.

Privacy: a rating export carries **no citizen identity** (legal requirement). The
queries below select only the columns listed in the tables; the case is joined
for its item code alone, never for its body (which holds the applicant), and
bookings are not read at all. The citizen's free-text comment is kept. The
follow-up export is built from the same anonymous fields and leaves out the case
number, which would lead back to the citizen.

Days are the server's local calendar days, the same as ``/stats`` uses: a rating
given at 23:30 local time belongs to that day whatever UTC says.

CSV is written for Excel on Chinese Windows: UTF-8 with a BOM (without it Excel
reads GBK and shows mojibake), Chinese header row, CRLF line ends. Text that
Excel would run as a formula (leading ``= + - @``, tab, CR) is prefixed with an
apostrophe in CSV; in xlsx such text is stored as a string cell, never a formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver.models import Case, CatalogItem, Hall, Rating

Kind = Literal["text", "int", "date", "time", "percent", "number"]

LEVEL_LABELS: dict[str, str] = {
    wire.RatingLevel.VERY_SATISFIED.value: "非常满意",
    wire.RatingLevel.SATISFIED.value: "满意",
    wire.RatingLevel.BASIC.value: "基本满意",
    wire.RatingLevel.DISSATISFIED.value: "不满意",
    wire.RatingLevel.VERY_DISSATISFIED.value: "非常不满意",
    wire.RatingLevel.NOT_RATED.value: "未评价",
}
DECISION_LABELS: dict[str, str] = {
    wire.Decision.ACCEPT.value: "受理",
    wire.Decision.CORRECT.value: "补正",
    wire.Decision.REJECT.value: "不予受理",
    wire.Decision.COMPLETE.value: "办结",
}
# Levels that count as satisfied: 非常满意 + 满意 + 基本满意.
SATISFIED_LEVELS = (
    wire.RatingLevel.VERY_SATISFIED.value,
    wire.RatingLevel.SATISFIED.value,
    wire.RatingLevel.BASIC.value,
)
REASON_SEPARATOR = "；"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters that xlsx cannot hold (openpyxl refuses them); dropped from CSV too.
_CONTROL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
_BATCH = 2000


@dataclass(frozen=True)
class Column:
    header: str
    kind: Kind
    width: float


@dataclass
class Table:
    """A sheet to write: columns, and rows produced lazily (keep the session open while writing)."""

    title: str
    columns: tuple[Column, ...]
    rows: Iterable[tuple[object, ...]] = field(default_factory=list)


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in the server's local zone, as aware datetimes."""
    lo = dt.datetime.combine(start, dt.time.min).astimezone()
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).astimezone()
    return lo, hi


def _local(t: dt.datetime) -> dt.datetime:
    aware = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return aware.astimezone()


def _hall_names(s: Session) -> dict[str, str]:
    return {code: name for code, name in s.execute(select(Hall.code, Hall.name)).tuples()}


def _item_names(s: Session) -> dict[str, str]:
    names: dict[str, str] = {}
    for code, body in s.execute(select(CatalogItem.code, CatalogItem.body)).tuples():
        name = body.get("name") if isinstance(body, dict) else None
        names[code] = str(name) if name else ""
    return names


# -- ratings ----------------------------------------------------------------------

RATING_COLUMNS = (
    Column("评价日期", "date", 12),
    Column("评价时间", "time", 10),
    Column("大厅编码", "text", 10),
    Column("大厅名称", "text", 22),
    Column("窗口", "int", 6),
    Column("事项编码", "text", 31),
    Column("事项名称", "text", 30),
    Column("评价等级", "text", 11),
    Column("等级代码", "text", 20),
    Column("评价原因", "text", 36),
    Column("评价内容", "text", 60),
)


def ratings_table(
    s: Session,
    start: dt.date,
    end: dt.date,
    hall: str | None = None,
    *,
    window: int | None = None,
    item: str | None = None,
) -> Table:
    """One row per rating given in [start, end] (local days). No citizen identity, by construction."""
    lo, hi = day_bounds(start, end)
    halls = _hall_names(s)
    items = _item_names(s)
    # Only these columns are read. Case is joined for its item code alone: the
    # case body (applicant name, ID number, phone) and the booking code stay in the database.
    q = (
        select(
            Rating.rated_at,
            Rating.hall_code,
            Rating.window_no,
            Case.item_code,
            Rating.level,
            Rating.reasons,
            Rating.comment,
        )
        .outerjoin(Case, Case.case_no == Rating.case_no)
        .where(Rating.rated_at >= lo, Rating.rated_at < hi)
        .order_by(Rating.rated_at, Rating.hall_code, Rating.window_no, Rating.case_no)
    )
    if hall is not None:
        q = q.where(Rating.hall_code == hall)
    if window is not None:
        q = q.where(Rating.window_no == window)
    if item is not None:
        q = q.where(Case.item_code == item)

    def rows() -> Iterator[tuple[object, ...]]:
        for rated_at, hall_code, window_no, item_code, level, reasons, comment in s.execute(
            q.execution_options(yield_per=_BATCH)
        ).tuples():
            when = _local(rated_at)
            yield (
                when.date(),
                when.time().replace(microsecond=0, tzinfo=None),
                hall_code,
                halls.get(hall_code, ""),
                window_no,
                item_code or "",
                items.get(item_code, "") if item_code else "",
                LEVEL_LABELS.get(level, ""),
                level,
                REASON_SEPARATOR.join(str(r) for r in (reasons or [])),
                comment or "",
            )

    return Table("评价明细", RATING_COLUMNS, rows())


# -- stats ------------------------------------------------------------------------

STATS_COLUMNS = (
    Column("日期", "date", 12),
    Column("大厅编码", "text", 10),
    Column("大厅名称", "text", 22),
    Column("窗口", "int", 6),
    *(Column(label, "int", 9) for label in DECISION_LABELS.values()),
    Column("办件合计", "int", 9),
    *(Column(label, "int", 10) for label in LEVEL_LABELS.values()),
    Column("有效评价数", "int", 11),
    Column("满意率", "percent", 9),
)


@dataclass
class DayWindow:
    """The counts of one window on one local day."""

    decisions: dict[str, int] = field(default_factory=dict)
    levels: dict[str, int] = field(default_factory=dict)

    @property
    def cases(self) -> int:
        return sum(self.decisions.values())

    @property
    def rated(self) -> int:
        """Ratings that express a level: 未评价 is not in the satisfaction rate's denominator."""
        return sum(n for level, n in self.levels.items() if level != wire.RatingLevel.NOT_RATED.value)

    @property
    def satisfaction(self) -> float | None:
        rated = self.rated
        if rated == 0:
            return None
        return sum(self.levels.get(level, 0) for level in SATISFIED_LEVELS) / rated


def stats_by_day_window(
    s: Session, start: dt.date, end: dt.date, hall: str | None = None
) -> dict[tuple[dt.date, str, int], DayWindow]:
    """Cases (by decision day) and ratings (by rating day) per local day × hall × window.

    Grouped in Python rather than SQL: the local day of a UTC instant is not
    portable SQL (SQLite has no time zones), and a day's rows are few.
    """
    lo, hi = day_bounds(start, end)
    cases = select(Case.hall_code, Case.window_no, Case.decided_at, Case.decision).where(
        Case.decided_at >= lo, Case.decided_at < hi
    )
    ratings = select(Rating.hall_code, Rating.window_no, Rating.rated_at, Rating.level).where(
        Rating.rated_at >= lo, Rating.rated_at < hi
    )
    if hall is not None:
        cases = cases.where(Case.hall_code == hall)
        ratings = ratings.where(Rating.hall_code == hall)
    out: dict[tuple[dt.date, str, int], DayWindow] = {}
    for hall_code, window_no, at, decision in s.execute(cases.execution_options(yield_per=_BATCH)).tuples():
        cell = out.setdefault((_local(at).date(), hall_code, window_no), DayWindow())
        cell.decisions[decision] = cell.decisions.get(decision, 0) + 1
    for hall_code, window_no, at, level in s.execute(ratings.execution_options(yield_per=_BATCH)).tuples():
        cell = out.setdefault((_local(at).date(), hall_code, window_no), DayWindow())
        cell.levels[level] = cell.levels.get(level, 0) + 1
    return out


def stats_table(s: Session, start: dt.date, end: dt.date, hall: str | None = None) -> Table:
    """One row per day × hall × window that had a case or a rating, ordered by day, hall, window."""
    halls = _hall_names(s)
    grid = stats_by_day_window(s, start, end, hall)
    rows: list[tuple[object, ...]] = []
    for (day, hall_code, window_no), c in sorted(grid.items()):
        rows.append(
            (
                day,
                hall_code,
                halls.get(hall_code, ""),
                window_no,
                *(c.decisions.get(d, 0) for d in DECISION_LABELS),
                c.cases,
                *(c.levels.get(level, 0) for level in LEVEL_LABELS),
                c.rated,
                c.satisfaction,
            )
        )
    return Table("窗口统计", STATS_COLUMNS, rows)


# -- supervision: figures and follow-ups ------------------------------------------------------

FIGURE_COLUMNS = (
    Column("大厅编码", "text", 10),
    Column("期间", "text", 12),
    Column("窗口", "int", 6),
    Column("工作人员", "text", 10),
    Column("事项编码", "text", 31),
    Column("事项名称", "text", 30),
    Column("服务人次", "int", 9),
    Column("过号", "int", 7),
    Column("平均等候（分钟）", "number", 11),
    Column("90%等候（分钟）", "number", 11),
    Column("平均办理（分钟）", "number", 11),
    *(Column(label, "int", 9) for label in DECISION_LABELS.values()),
    Column("应办结", "int", 8),
    Column("按时办结", "int", 9),
    Column("超期", "int", 7),
    Column("办结率", "percent", 9),
    Column("补正未返回", "int", 10),
    *(Column(label, "int", 10) for label in LEVEL_LABELS.values()),
    Column("有效评价数", "int", 11),
    Column("未评价占比", "percent", 10),
    Column("好评率", "percent", 9),
    Column("差评", "int", 7),
    Column("集中评价", "int", 9),
    Column("整改任务", "int", 9),
    Column("未关闭", "int", 8),
    Column("逾期未整改", "int", 10),
    Column("已整改", "int", 8),
    Column("整改率", "percent", 9),
)
TOTAL_LABEL = "合计"


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 60


def _figure_row(hall: str, label: str, f: wire.Figures) -> tuple[object, ...]:
    return (
        hall,
        label,
        f.window_no,
        f.clerk_name or ("" if f.clerk_id is None else str(f.clerk_id)),
        f.item_code or "",
        f.item_name,
        f.tickets_served,
        f.no_shows,
        _minutes(f.wait_avg_s),
        _minutes(f.wait_p90_s),
        _minutes(f.handle_avg_s),
        f.accepted,
        f.corrected,
        f.rejected,
        f.completed,
        f.due,
        f.completed_on_time,
        f.overdue,
        f.completion_rate,
        f.corrections_not_returned,
        *(f.ratings.get(level, 0) for level in LEVEL_LABELS),
        f.rated,
        f.not_rated_share,
        f.good_rate,
        f.bad,
        f.bursts,
        f.follow_ups,
        f.follow_ups_open,
        f.follow_ups_overdue,
        f.follow_ups_closed,
        f.rectification_rate,
    )


def figures_table(*responses: wire.FiguresResponse) -> Table:
    """The supervision figures (hallserver.stats): one row per period and group, then each hall's total."""
    rows: list[tuple[object, ...]] = []
    for r in responses:
        for f in r.rows:
            label = f.period_start.isoformat() if f.period_start else TOTAL_LABEL
            rows.append(_figure_row(r.hall_code, label, f))
        if r.by is not wire.FigureGroup.HALL or r.period is not wire.FigurePeriod.TOTAL:
            rows.append(_figure_row(r.hall_code, TOTAL_LABEL, r.total))
    return Table("监管指标", FIGURE_COLUMNS, rows)


FOLLOW_UP_COLUMNS = (
    Column("评价日期", "date", 12),
    Column("窗口", "int", 6),
    Column("事项编码", "text", 31),
    Column("事项名称", "text", 30),
    Column("服务人员", "text", 10),
    Column("评价等级", "text", 11),
    Column("评价原因", "text", 36),
    Column("评价内容", "text", 50),
    Column("整改期限", "date", 12),
    Column("状态", "text", 10),
    Column("负责人", "text", 10),
    Column("整改结果", "text", 50),
    Column("关闭日期", "date", 12),
)
FOLLOW_UP_STATUS = {"open": "未关闭", "overdue": "已逾期", "closed": "已关闭"}


def follow_ups_table(follow_ups: Iterable[wire.FollowUpInfo]) -> Table:
    """整改 follow-ups with their result. Like the rating export: no case number, no citizen identity."""
    rows: list[tuple[object, ...]] = []
    for f in follow_ups:
        status = "overdue" if f.overdue else f.status
        rows.append(
            (
                _local(f.rated_at).date(),
                f.window_no,
                f.item_code,
                f.item_name,
                f.clerk_name,
                LEVEL_LABELS.get(f.level.value, ""),
                REASON_SEPARATOR.join(f.reasons),
                f.comment,
                f.due_date,
                FOLLOW_UP_STATUS.get(status, status),
                f.assignee_name,
                f.result,
                _local(f.closed_at).date() if f.closed_at else None,
            )
        )
    return Table("整改任务", FOLLOW_UP_COLUMNS, rows)


# -- writers ----------------------------------------------------------------------


def _clean(value: object) -> str:
    """Text without the control characters a spreadsheet cannot hold (tab and line breaks stay)."""
    return _CONTROL.sub("", str(value)) if value is not None else ""


def _defuse(text: str) -> str:
    """Excel runs ``=cmd|...`` typed by a citizen as a formula: make such text plain text."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_value(kind: Kind, value: object) -> str:
    if value is None:
        return ""
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "time" and isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    if kind == "percent" and isinstance(value, float):
        return f"{value:.2%}"
    if kind == "number" and isinstance(value, float):
        return f"{value:.1f}"
    if kind == "text":
        return _defuse(_clean(value))
    return str(value)


def write_csv(table: Table, stream: TextIO) -> int:
    """Write the header and rows; returns the number of data rows. ``stream`` should be ``utf-8-sig``."""
    writer = csv.writer(stream, dialect="excel")  # CRLF, quotes where needed: what Excel expects
    writer.writerow([c.header for c in table.columns])
    n = 0
    for row in table.rows:
        writer.writerow([_csv_value(c.kind, v) for c, v in zip(table.columns, row, strict=True)])
        n += 1
    return n


XLSX_CELL_MAX = 32767  # Excel's limit on the characters in a cell
_NUMBER_FORMATS: dict[Kind, str] = {
    "date": "yyyy-mm-dd",
    "time": "hh:mm:ss",
    "percent": "0.00%",
    "number": "0.0",
}


def write_xlsx(table: Table, path: Path) -> int:
    """One sheet: bold, frozen header row; real dates, times and percentages; returns the row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table.title)
    for i, col in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for col in table.columns:
        cell = WriteOnlyCell(ws, value=col.header)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    n = 0
    for row in table.rows:
        cells: list[object] = []
        for col, value in zip(table.columns, row, strict=True):
            if col.kind == "text":
                text = _clean(value)
                if not text:
                    cells.append(None)
                    continue
                cell = WriteOnlyCell(ws, value=text[:XLSX_CELL_MAX])
                cell.data_type = "s"  # never a formula, whatever the citizen typed
                cells.append(cell)
            elif col.kind in _NUMBER_FORMATS and value is not None:
                cell = WriteOnlyCell(ws)
                cell.value = cast(float | dt.date | dt.time, value)
                cell.number_format = _NUMBER_FORMATS[col.kind]
                cells.append(cell)
            else:
                cells.append(value)
        ws.append(cells)
        n += 1
    wb.save(path)
    return n
