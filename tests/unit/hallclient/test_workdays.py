from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallclient.resources import resource_path
from hallclient.workdays import (
    CalendarError,
    CalendarMissing,
    WorkCalendar,
    add_working_days_assuming_weekends,
)

CALENDAR = WorkCalendar()  # the shipped resources/calendars


def days(first: str, last: str) -> list[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [start + timedelta(n) for n in range((end - start).days + 1)]


# The State Council notices, block by block: (days off, makeup working days).
OFFICIAL = {
    2025: {  # 国办发明电〔2024〕12号
        "元旦": (days("2025-01-01", "2025-01-01"), []),
        "春节": (days("2025-01-28", "2025-02-04"), [date(2025, 1, 26), date(2025, 2, 8)]),
        "清明节": (days("2025-04-04", "2025-04-06"), []),
        "劳动节": (days("2025-05-01", "2025-05-05"), [date(2025, 4, 27)]),
        "端午节": (days("2025-05-31", "2025-06-02"), []),
        "国庆节、中秋节": (days("2025-10-01", "2025-10-08"), [date(2025, 9, 28), date(2025, 10, 11)]),
    },
    2026: {  # 国务院办公厅 2025年11月4日
        "元旦": (days("2026-01-01", "2026-01-03"), [date(2026, 1, 4)]),
        "春节": (days("2026-02-15", "2026-02-23"), [date(2026, 2, 14), date(2026, 2, 28)]),
        "清明节": (days("2026-04-04", "2026-04-06"), []),
        "劳动节": (days("2026-05-01", "2026-05-05"), [date(2026, 5, 9)]),
        "端午节": (days("2026-06-19", "2026-06-21"), []),
        "中秋节": (days("2026-09-25", "2026-09-27"), []),
        "国庆节": (days("2026-10-01", "2026-10-07"), [date(2026, 9, 20), date(2026, 10, 10)]),
    },
}


# --- the shipped calendars ----------------------------------------------------------------


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_shipped_calendar_matches_the_notice(year: int) -> None:
    data = json.loads(resource_path("calendars", f"cn-{year}.json").read_text(encoding="utf-8"))
    assert data["year"] == year
    assert "国务院办公厅" in data["source"]
    expected_off = {day for off, _work in OFFICIAL[year].values() for day in off}
    expected_work = {day for _off, work in OFFICIAL[year].values() for day in work}
    assert {date.fromisoformat(e["date"]) for e in data["holidays"]} == expected_off
    assert {date.fromisoformat(e["date"]) for e in data["workdays"]} == expected_work
    assert all(day.weekday() >= 5 for day in expected_work)
    for day in expected_off:
        assert not CALENDAR.is_working_day(day), day
    for day in expected_work:
        assert CALENDAR.is_working_day(day), day


@pytest.mark.parametrize("year", sorted(OFFICIAL))
def test_holiday_names(year: int) -> None:
    for name, (off, _work) in OFFICIAL[year].items():
        for day in off:
            assert CALENDAR.holiday_name(day) == name
    assert CALENDAR.holiday_name(date(year, 3, 10)) is None


@pytest.mark.parametrize("year", [2025, 2026])
def test_each_year_has_248_working_days(year: int) -> None:
    # 365 days - 104 weekend days - weekday holidays + makeup weekend days = 248 in both years.
    assert CALENDAR.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == 248
    first = date(year, 1, 1)
    count = sum(CALENDAR.is_working_day(first + timedelta(n)) for n in range(365))
    assert count == 248


def test_has_year_and_source() -> None:
    assert CALENDAR.has_year(2025)
    assert CALENDAR.has_year(2026)
    assert not CALENDAR.has_year(1999)
    assert "国办发明电〔2024〕12号" in CALENDAR.source(2025)


def test_default_directory_is_resources_calendars() -> None:
    assert WorkCalendar().directory == resource_path("calendars")


# --- add_working_days / working_days_between -------------------------------------------------


def test_spring_festival_2026_is_spanned() -> None:
    # Fri 13 Feb, makeup Sat 14 Feb, then 15–23 Feb off, back on Tue 24 Feb.
    assert CALENDAR.add_working_days(date(2026, 2, 12), 1) == date(2026, 2, 13)
    assert CALENDAR.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert CALENDAR.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)
    assert CALENDAR.add_working_days(date(2026, 2, 16), 1) == date(2026, 2, 24)
    assert CALENDAR.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2


def test_makeup_saturday_is_counted() -> None:
    # Mon 23 Feb is still a holiday; Tue 24 – Fri 27 and the makeup Sat 28 Feb are worked.
    assert CALENDAR.is_working_day(date(2026, 2, 28))
    assert CALENDAR.add_working_days(date(2026, 2, 23), 5) == date(2026, 2, 28)
    assert CALENDAR.add_working_days(date(2026, 2, 23), 6) == date(2026, 3, 2)
    assert CALENDAR.working_days_between(date(2026, 2, 27), date(2026, 3, 2)) == 2


def test_makeup_sunday_across_the_year_boundary() -> None:
    # 2026-01-01..03 are off and Sun 4 Jan is worked.
    assert CALENDAR.add_working_days(date(2025, 12, 31), 1) == date(2026, 1, 4)
    assert CALENDAR.add_working_days(date(2025, 12, 30), 2) == date(2026, 1, 4)
    assert CALENDAR.add_working_days(date(2025, 12, 31), 2) == date(2026, 1, 5)


def test_national_day_2025_golden_week() -> None:
    # Makeup Sun 28 Sep; 1–8 Oct off; makeup Sat 11 Oct.
    assert CALENDAR.add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert CALENDAR.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert CALENDAR.add_working_days(date(2025, 10, 9), 2) == date(2025, 10, 11)


def test_zero_days_returns_start_even_on_a_holiday_or_a_missing_year() -> None:
    assert CALENDAR.add_working_days(date(2026, 2, 17), 0) == date(2026, 2, 17)
    assert CALENDAR.add_working_days(date(2031, 1, 1), 0) == date(2031, 1, 1)


def test_negative_count_is_rejected() -> None:
    with pytest.raises(ValueError, match="非负整数"):
        CALENDAR.add_working_days(date(2026, 3, 2), -1)
    with pytest.raises(ValueError, match="非负整数"):
        add_working_days_assuming_weekends(date(2026, 3, 2), -1)


def test_working_days_between_is_antisymmetric() -> None:
    a, b = date(2026, 1, 30), date(2026, 3, 10)
    assert CALENDAR.working_days_between(a, b) == -CALENDAR.working_days_between(b, a)
    assert CALENDAR.working_days_between(a, a) == 0
    # Overdue check: deadline Fri 13 Feb, today Tue 24 Feb -> 2 working days late.
    assert CALENDAR.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert CALENDAR.working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == -2


def test_crossing_into_a_missing_year_raises() -> None:
    with pytest.raises(CalendarMissing) as info:
        CALENDAR.add_working_days(date(2026, 12, 28), 10)
    assert info.value.year == 2027
    assert isinstance(info.value, LookupError)
    assert "2027 年的节假日安排" in str(info.value)
    assert "resources/calendars/cn-2027.json" in str(info.value)


def test_missing_year_raises_for_every_query() -> None:
    with pytest.raises(CalendarMissing):
        CALENDAR.is_working_day(date(2024, 6, 3))
    with pytest.raises(CalendarMissing):
        CALENDAR.working_days_between(date(2026, 12, 1), date(2027, 1, 5))
    with pytest.raises(CalendarMissing):
        CALENDAR.add_working_days(date(2024, 12, 30), 1)  # 2024-12-31 is in a missing year


def test_weekend_fallback_ignores_holidays() -> None:
    assert add_working_days_assuming_weekends(date(2026, 2, 13), 1) == date(2026, 2, 16)
    assert add_working_days_assuming_weekends(date(2026, 2, 13), 5) == date(2026, 2, 20)
    assert add_working_days_assuming_weekends(date(2031, 12, 31), 3) == date(2032, 1, 5)
    assert add_working_days_assuming_weekends(date(2026, 2, 14), 0) == date(2026, 2, 14)
    assert CALENDAR.add_working_days_assuming_weekends(date(2027, 1, 1), 1) == date(2027, 1, 4)


# --- loading from a directory ---------------------------------------------------------------


def good_calendar(year: int = 2030) -> dict[str, Any]:
    return {
        "year": year,
        "source": "测试用通知",
        "holidays": [{"date": f"{year}-01-01", "name": "元旦"}],
        "workdays": [{"date": f"{year}-01-05", "name": "元旦调休上班"}],  # 2030-01-05 is a Saturday
    }


def write(tmp_path: Path, content: object, year: int = 2030) -> Path:
    path = tmp_path / f"cn-{year}.json"
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def test_calendar_from_a_directory(tmp_path: Path) -> None:
    write(tmp_path, good_calendar())
    calendar = WorkCalendar(tmp_path)
    assert calendar.has_year(2030)
    assert not calendar.is_working_day(date(2030, 1, 1))  # Tuesday holiday
    assert calendar.is_working_day(date(2030, 1, 5))  # makeup Saturday
    assert not calendar.is_working_day(date(2030, 1, 6))  # plain Sunday
    assert calendar.add_working_days(date(2030, 1, 4), 1) == date(2030, 1, 5)


def test_a_year_installed_later_is_picked_up(tmp_path: Path) -> None:
    calendar = WorkCalendar(tmp_path)
    assert not calendar.has_year(2030)
    with pytest.raises(CalendarMissing) as info:
        calendar.is_working_day(date(2030, 1, 2))
    assert str(tmp_path / "cn-2030.json") in str(info.value)
    write(tmp_path, good_calendar())
    assert calendar.has_year(2030)
    assert calendar.is_working_day(date(2030, 1, 2))


def with_changes(**changes: object) -> dict[str, Any]:
    data = good_calendar()
    data.update(changes)
    return data


MALFORMED: list[tuple[str, object, str]] = [
    ("json", "{not json", "不是有效的 JSON：第1行第2列"),
    ("top_level", [1, 2], "顶层应为 JSON 对象，实际为 list"),
    ("unknown_key", with_changes(extra=1), "未知的键 extra"),
    ("missing_key", {"year": 2030, "source": "x", "holidays": []}, "缺少键 workdays"),
    ("year_mismatch", with_changes(year=2031), "year 应为与文件名一致的整数 2030，实际为 2031"),
    ("year_string", with_changes(year="2030"), 'year 应为与文件名一致的整数 2030，实际为 "2030"'),
    ("year_bool", with_changes(year=True), "year 应为与文件名一致的整数 2030，实际为 true"),
    ("empty_source", with_changes(source=" "), "source 应为非空字符串"),
    ("note_type", with_changes(note=3), "note 应为字符串"),
    ("holidays_type", with_changes(holidays={"2030-01-01": "元旦"}), "holidays 应为列表，实际为 dict"),
    (
        "entry_type",
        with_changes(holidays=["2030-01-01"]),
        'holidays 第1项 应为 {"date": "YYYY-MM-DD", "name": "…"}',
    ),
    (
        "entry_unknown_key",
        with_changes(holidays=[{"date": "2030-01-01", "name": "元旦", "off": True}]),
        "holidays 第1项 的键应恰为 date、name（未知：off；缺少：无）",
    ),
    (
        "entry_missing_name",
        with_changes(workdays=[{"date": "2030-01-05"}]),
        "workdays 第1项 的键应恰为 date、name（未知：无；缺少：name）",
    ),
    (
        "date_format",
        with_changes(holidays=[{"date": "2030/01/01", "name": "元旦"}]),
        'holidays 第1项 的 date 应为 YYYY-MM-DD 格式的字符串，实际为 "2030/01/01"',
    ),
    (
        "date_compact",
        with_changes(holidays=[{"date": "20300101", "name": "元旦"}]),
        'holidays 第1项 的 date 应为 YYYY-MM-DD 格式的字符串，实际为 "20300101"',
    ),
    (
        "date_invalid",
        with_changes(holidays=[{"date": "2030-02-30", "name": "春节"}]),
        "holidays 第1项 的 date 2030-02-30 不是有效日期",
    ),
    (
        "empty_name",
        with_changes(holidays=[{"date": "2030-01-01", "name": ""}]),
        "holidays 第1项（2030-01-01）的 name 应为非空字符串",
    ),
    (
        "wrong_year",
        with_changes(
            holidays=[{"date": "2030-01-01", "name": "元旦"}, {"date": "2031-01-01", "name": "元旦"}]
        ),
        "holidays 第2项 的日期 2031-01-01 不在 2030 年内",
    ),
    (
        "duplicate",
        with_changes(
            holidays=[
                {"date": "2030-01-01", "name": "元旦"},
                {"date": "2030-02-04", "name": "春节"},
                {"date": "2030-01-01", "name": "元旦"},
            ]
        ),
        "holidays 第3项 的日期 2030-01-01 重复，已在 holidays 第1项 出现",
    ),
    (
        "both",
        with_changes(workdays=[{"date": "2030-01-01", "name": "元旦调休上班"}]),
        "日期 2030-01-01 同时出现在 holidays 和 workdays 中",
    ),
    (
        "workday_on_weekday",
        with_changes(workdays=[{"date": "2030-01-07", "name": "调休上班"}]),
        "workdays 中的 2030-01-07 是周一，本来就是工作日",
    ),
]


@pytest.mark.parametrize(("content", "problem"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_calendar_names_file_entry_and_expectation(
    tmp_path: Path, content: object, problem: str
) -> None:
    path = write(tmp_path, content)
    calendar = WorkCalendar(tmp_path)
    with pytest.raises(CalendarError) as info:
        calendar.is_working_day(date(2030, 3, 1))
    assert isinstance(info.value, ValueError)
    assert info.value.path == path
    assert str(info.value).startswith(f"节假日安排文件 {path} 有误：")
    assert problem in str(info.value)
    with pytest.raises(CalendarError):
        calendar.has_year(2030)  # a broken file is never mistaken for a missing one


def test_non_utf8_calendar(tmp_path: Path) -> None:
    path = tmp_path / "cn-2030.json"
    path.write_bytes(json.dumps(good_calendar(), ensure_ascii=False).encode("gb18030"))
    with pytest.raises(CalendarError, match="不是 UTF-8 编码") as info:
        WorkCalendar(tmp_path).has_year(2030)
    assert info.value.path == path


# --- properties -----------------------------------------------------------------------------


@given(
    start=st.dates(min_value=date(2024, 12, 31), max_value=date(2026, 10, 31)),
    n=st.integers(min_value=0, max_value=40),
)
def test_add_working_days_lands_on_a_working_day_n_days_later(start: date, n: int) -> None:
    result = CALENDAR.add_working_days(start, n)
    assert result >= start
    assert CALENDAR.working_days_between(start, result) == n
    if n == 0:
        assert result == start
    else:
        assert CALENDAR.is_working_day(result)
        assert CALENDAR.working_days_between(start, result - timedelta(days=1)) == n - 1


@given(
    a=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
    b=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
    c=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
)
def test_working_days_between_is_additive(a: date, b: date, c: date) -> None:
    assert CALENDAR.working_days_between(a, c) == CALENDAR.working_days_between(
        a, b
    ) + CALENDAR.working_days_between(b, c)


@given(start=st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1)), n=st.integers(0, 60))
def test_weekend_fallback_never_lands_on_a_weekend(start: date, n: int) -> None:
    result = add_working_days_assuming_weekends(start, n)
    if n:
        assert result.weekday() < 5
    weekdays = sum((start + timedelta(d)).weekday() < 5 for d in range(1, (result - start).days + 1))
    assert weekdays == n
