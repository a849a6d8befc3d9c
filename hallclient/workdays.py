"""Working days (工作日) for statutory time limits (承诺时限) under the State Council schedule.

Each year's public holidays and makeup working days (调休上班) come from the State
Council General Office notice for that year and live in ``resources/calendars/cn-YYYY.json``::

    {"year": 2026,
     "source": "国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）",
     "note": "optional free text",
     "holidays": [{"date": "2026-01-01", "name": "元旦"}, ...],
     "workdays": [{"date": "2026-01-04", "name": "元旦调休上班"}, ...]}

``holidays`` lists every day off inside a holiday block, weekend days included;
``workdays`` lists only the Saturdays and Sundays that are worked. A day is a working
day if it is a listed workday, or a Monday–Friday that is not a listed holiday.

The schedule is published each November for the next year, so a deadline can reach a
year we have no file for. ``WorkCalendar`` then raises ``CalendarMissing`` instead of
guessing; a caller that must show *something* uses ``add_working_days_assuming_weekends``
and puts a visible warning next to the result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hallclient.i18n import _
from hallclient.resources import resource_path

__all__ = ["CalendarError", "CalendarMissing", "WorkCalendar", "add_working_days_assuming_weekends"]

_ONE_DAY = timedelta(days=1)
_REQUIRED_KEYS = ("year", "source", "holidays", "workdays")
_OPTIONAL_KEYS = ("note",)
_ENTRY_KEYS = ("date", "name")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def calendar_file_name(year: int) -> str:
    return f"cn-{year}.json"


class CalendarMissing(LookupError):
    """No holiday schedule is installed for ``year``."""

    def __init__(self, year: int, directory: Path | None = None) -> None:
        self.year = year
        self.directory = directory
        where = f"resources/calendars/{calendar_file_name(year)}"
        if directory is not None:
            where = f"{where}（{directory / calendar_file_name(year)}）"
        self.message = _(
            "缺少 {year} 年的节假日安排，无法计算工作日：请按国务院办公厅关于 {year} 年部分节假日安排的通知"
            "编写 {where}"
        ).format(year=year, where=where)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class CalendarError(ValueError):
    """A calendar file is malformed; the message names the file, the entry and what was expected."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        self.message = _("节假日安排文件 {path} 有误：{problem}").format(path=path, problem=problem)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class _Year:
    year: int
    source: str
    holidays: dict[date, str]
    workdays: dict[date, str]


def _entry_label(key: str, index: int) -> str:
    return _("{key} 第{number}项").format(key=key, number=index + 1)


def _parse_entries(path: Path, data: dict[str, Any], key: str, year: int) -> dict[date, str]:
    entries = data[key]
    if not isinstance(entries, list):
        raise CalendarError(
            path, _("{key} 应为列表，实际为 {kind}").format(key=key, kind=type(entries).__name__)
        )
    seen: dict[date, int] = {}
    result: dict[date, str] = {}
    for index, entry in enumerate(entries):
        label = _entry_label(key, index)
        if not isinstance(entry, dict):
            raise CalendarError(
                path,
                _('{label} 应为 {{"date": "YYYY-MM-DD", "name": "…"}} 形式的对象，实际为 {value}').format(
                    label=label, value=json.dumps(entry, ensure_ascii=False)
                ),
            )
        unknown = sorted(set(entry) - set(_ENTRY_KEYS))
        missing = [k for k in _ENTRY_KEYS if k not in entry]
        if unknown or missing:
            raise CalendarError(
                path,
                _("{label} 的键应恰为 date、name（未知：{unknown}；缺少：{missing}）").format(
                    label=label, unknown="、".join(unknown) or "无", missing="、".join(missing) or "无"
                ),
            )
        raw, name = entry["date"], entry["name"]
        if not isinstance(raw, str) or not _ISO_DATE.fullmatch(raw):
            raise CalendarError(
                path,
                _("{label} 的 date 应为 YYYY-MM-DD 格式的字符串，实际为 {value}").format(
                    label=label, value=json.dumps(raw, ensure_ascii=False)
                ),
            )
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise CalendarError(
                path, _("{label} 的 date {value} 不是有效日期").format(label=label, value=raw)
            ) from None
        if not isinstance(name, str) or not name.strip():
            raise CalendarError(
                path, _("{label}（{day}）的 name 应为非空字符串").format(label=label, day=raw)
            )
        if day.year != year:
            raise CalendarError(
                path,
                _("{label} 的日期 {day} 不在 {year} 年内：本文件只能列出 {year} 年的日期").format(
                    label=label, day=raw, year=year
                ),
            )
        if day in seen:
            raise CalendarError(
                path,
                _("{label} 的日期 {day} 重复，已在 {first} 出现").format(
                    label=label, day=raw, first=_entry_label(key, seen[day])
                ),
            )
        seen[day] = index
        result[day] = name
    return result


def _parse_year(path: Path, year: int, text: str) -> _Year:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarError(
            path,
            _("不是有效的 JSON：第{line}行第{column}列，{error}").format(
                line=exc.lineno, column=exc.colno, error=exc.msg
            ),
        ) from None
    if not isinstance(data, dict):
        raise CalendarError(path, _("顶层应为 JSON 对象，实际为 {kind}").format(kind=type(data).__name__))
    unknown = sorted(set(data) - set(_REQUIRED_KEYS) - set(_OPTIONAL_KEYS))
    if unknown:
        raise CalendarError(
            path,
            _("未知的键 {unknown}：只允许 year、source、holidays、workdays 和可选的 note").format(
                unknown="、".join(unknown)
            ),
        )
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    if missing:
        raise CalendarError(
            path,
            _("缺少键 {missing}：应包含 year、source、holidays、workdays").format(missing="、".join(missing)),
        )
    declared = data["year"]
    if isinstance(declared, bool) or not isinstance(declared, int) or declared != year:
        raise CalendarError(
            path,
            _("year 应为与文件名一致的整数 {year}，实际为 {value}").format(
                year=year, value=json.dumps(declared, ensure_ascii=False)
            ),
        )
    source = data["source"]
    if not isinstance(source, str) or not source.strip():
        raise CalendarError(path, _("source 应为非空字符串，写明放假通知的标题和文号"))
    if "note" in data and not isinstance(data["note"], str):
        raise CalendarError(path, _("note 应为字符串"))
    holidays = _parse_entries(path, data, "holidays", year)
    workdays = _parse_entries(path, data, "workdays", year)
    both = sorted(holidays.keys() & workdays.keys())
    if both:
        raise CalendarError(
            path,
            _("日期 {day} 同时出现在 holidays 和 workdays 中：一天只能是放假或调休上班之一").format(
                day=both[0].isoformat()
            ),
        )
    for day in sorted(workdays):
        if day.weekday() < 5:
            raise CalendarError(
                path,
                _(
                    "workdays 中的 {day} 是{weekday}，本来就是工作日：workdays 只列调休上班的周六、周日"
                ).format(day=day.isoformat(), weekday=_WEEKDAY_NAMES[day.weekday()]),
            )
    return _Year(year=year, source=source, holidays=holidays, workdays=workdays)


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(_("工作日数应为非负整数，实际为 {n}").format(n=n))


def add_working_days_assuming_weekends(start: date, n: int) -> date:
    """``n`` days after ``start`` skipping only Saturdays and Sundays (no holiday data).

    Only for callers that show a visible warning that holidays were not taken into account.
    """
    _check_count(n)
    day = start
    while n > 0:
        day += _ONE_DAY
        if day.weekday() < 5:
            n -= 1
    return day


class WorkCalendar:
    """Working days under the State Council holiday schedules found in ``directory``."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else resource_path("calendars")
        self._years: dict[int, _Year] = {}

    def _load(self, year: int) -> _Year | None:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        path = self.directory / calendar_file_name(year)
        # A missing year is not cached: the file may be installed while the client runs.
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CalendarError(
                path, _("不是 UTF-8 编码：第{offset}个字节无法解码").format(offset=exc.start + 1)
            ) from None
        parsed = _parse_year(path, year, text)
        self._years[year] = parsed
        return parsed

    def _require(self, year: int) -> _Year:
        loaded = self._load(year)
        if loaded is None:
            raise CalendarMissing(year, self.directory)
        return loaded

    def has_year(self, year: int) -> bool:
        """Whether a schedule for ``year`` is installed (a malformed one raises CalendarError)."""
        return self._load(year) is not None

    def source(self, year: int) -> str:
        """The notice the ``year`` schedule was taken from, for display next to deadlines."""
        return self._require(year).source

    def holiday_name(self, day: date) -> str | None:
        """The holiday ``day`` belongs to (``春节`` …), or None if it is not a listed holiday."""
        return self._require(day.year).holidays.get(day)

    def is_working_day(self, day: date) -> bool:
        calendar = self._require(day.year)
        if day in calendar.workdays:
            return True
        if day in calendar.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted).

        ``n == 0`` (即办件) returns ``start``. Raises CalendarMissing as soon as the count
        reaches a year without a schedule.
        """
        _check_count(n)
        day = start
        while n > 0:
            day += _ONE_DAY
            if self.is_working_day(day):
                n -= 1
        return day

    def add_working_days_assuming_weekends(self, start: date, n: int) -> date:
        """Fallback ignoring holidays; see the module function of the same name."""
        return add_working_days_assuming_weekends(start, n)

    def working_days_between(self, a: date, b: date) -> int:
        """How many working days ``d`` satisfy ``a < d <= b``; negative when ``b < a``."""
        if b < a:
            return -self.working_days_between(b, a)
        count = 0
        day = a
        while day < b:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count
