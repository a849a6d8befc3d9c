"""``hallserver export ratings|stats``: CSV for Excel, xlsx, no citizen identity, numbers that add up.

The ratings and cases are pushed through the real app (TestClient, sync/push),
then exported with ``hallserver.cli.main`` from the same SQLite file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import (
    API,
    DAY,
    ITEM,
    Counter,
    booking_code,
    case_no,
    case_payload,
    local,
    op,
    rating_payload,
)
from openpyxl import load_workbook
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from hallserver.cli import main
from hallserver.export import Column, Table, write_csv, write_xlsx
from hallserver.models import Booking

LoginFn = Callable[..., Counter]
YESTERDAY = DAY - dt.timedelta(days=1)
TOMORROW = DAY + dt.timedelta(days=1)
ITEM_NAME = "个体工商户设立登记"
CASE_APPLICANT = ("张伟", "11010519491231002X", "13800138000")  # what case_payload() sends
RATING_HEADER = [
    "评价日期",
    "评价时间",
    "大厅编码",
    "大厅名称",
    "窗口",
    "事项编码",
    "事项名称",
    "评价等级",
    "等级代码",
    "评价原因",
    "评价内容",
]
STATS_HEADER = [
    "日期",
    "大厅编码",
    "大厅名称",
    "窗口",
    "受理",
    "补正",
    "不予受理",
    "办结",
    "办件合计",
    "非常满意",
    "满意",
    "基本满意",
    "不满意",
    "非常不满意",
    "未评价",
    "有效评价数",
    "满意率",
]
MULTILINE = '办得快，"很满意"\n下次还来'
FORMULA = '=HYPERLINK("http://evil.example","点我")'


def _push(client: TestClient, c: Counter, *ops: dict[str, Any]) -> None:
    r = client.post(f"{API}/sync/push", json={"device_id": c.device_id, "ops": list(ops)}, headers=c.headers)
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * len(ops), r.text


def _rating(
    number: str,
    level: str,
    at: dt.datetime,
    *,
    window_no: int = 1,
    reasons: list[str] | None = None,
    comment: str = "",
) -> dict[str, Any]:
    body = rating_payload(number, level, rated_at=at, window_no=window_no)
    body["reasons"] = reasons or []
    body["comment"] = comment
    return op("rating_given", body)


def _case(number: str, decision: str, at: dt.datetime, **kw: Any) -> dict[str, Any]:
    return op("case_decided", case_payload(number, decision=decision, decided_at=at, **kw))


@pytest.fixture
def pushed(client: TestClient, login: LoginFn) -> tuple[Counter, Counter]:
    """Two windows' cases and ratings over yesterday, today (DAY) and tomorrow."""
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    _push(
        client,
        w1,
        _case(case_no(1), "accept", local(DAY, 10), booking=booking_code(1), ticket_no="A001"),
        _case(case_no(2), "accept", local(DAY, 10, 1)),
        _case(case_no(3), "correct", local(DAY, 10, 2)),
        _case(case_no(4), "accept", local(DAY, 10, 3)),
        _case(case_no(5), "accept", local(DAY, 10, 4)),
        _rating(case_no(1), "very_satisfied", local(DAY, 10, 5), reasons=["办事效率高", "态度热情"]),
        _rating(case_no(2), "very_satisfied", local(DAY, 10, 6), comment=MULTILINE),
        _rating(case_no(3), "not_rated", local(DAY, 10, 7)),
        _rating(case_no(4), "basically_satisfied", local(DAY, 10, 8), comment=FORMULA),
        _rating(
            case_no(5), "very_dissatisfied", local(DAY, 10, 9), reasons=["等候时间长"], comment="-等太久"
        ),
        # A rating whose case never reached the server: exported with a blank item.
        _rating(case_no(7), "satisfied", local(DAY, 11)),
        # Yesterday, and tomorrow just after midnight (outside a yesterday..today range).
        _case(case_no(9), "reject", local(YESTERDAY, 15)),
        _rating(case_no(9), "dissatisfied", local(YESTERDAY, 15, 5)),
        _rating(case_no(8), "very_satisfied", local(TOMORROW, 0, 0)),
    )
    _push(
        client,
        w2,
        _case(case_no(1, 2), "complete", local(DAY, 9, 40), window_no=2),
        _rating(case_no(1, 2), "satisfied", local(DAY, 9, 45), window_no=2),
        # Late yesterday evening, local time: still yesterday.
        _case(case_no(2, 2), "accept", local(YESTERDAY, 23, 50), window_no=2),
        _rating(case_no(2, 2), "not_rated", local(YESTERDAY, 23, 59), window_no=2),
    )
    return w1, w2


def _db(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _export(engine: Engine, *args: str) -> int:
    return main(["export", *args, "--db", _db(engine)])


def _csv_rows(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "CSV for Excel must start with a UTF-8 BOM"
    return list(csv.reader(io.StringIO(text[1:], newline="")))


def _midnight(day: dt.date) -> dt.datetime:
    """How openpyxl reads a date cell back."""
    return dt.datetime.combine(day, dt.time.min)


def _identities(sessions: sessionmaker[Session]) -> set[str]:
    """Every citizen identity in the database: the seeded bookings' applicants and the cases' applicant."""
    found = set(CASE_APPLICANT)
    with sessions() as s:
        for code, applicant in s.execute(select(Booking.code, Booking.applicant)).tuples():
            found |= {code, applicant["name"], applicant["id_number"], applicant["phone"]}
    assert len(found) > 100
    return found


# -- ratings ------------------------------------------------------------------------


def test_ratings_csv_to_stdout(
    engine: Engine,
    sessions: sessionmaker[Session],
    pushed: tuple[Counter, Counter],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = _export(engine, "ratings", "--from", YESTERDAY.isoformat(), "--to", DAY.isoformat())
    assert code == 0
    out = capsys.readouterr().out
    rows = _csv_rows(out)
    assert rows[0] == RATING_HEADER
    hall = ["DEMO", "示范区政务服务中心"]
    assert rows[1:] == [
        [YESTERDAY.isoformat(), "15:05:00", *hall, "1", ITEM, ITEM_NAME, "不满意", "dissatisfied", "", ""],
        [YESTERDAY.isoformat(), "23:59:00", *hall, "2", ITEM, ITEM_NAME, "未评价", "not_rated", "", ""],
        [DAY.isoformat(), "09:45:00", *hall, "2", ITEM, ITEM_NAME, "满意", "satisfied", "", ""],
        [
            DAY.isoformat(),
            "10:05:00",
            *hall,
            "1",
            ITEM,
            ITEM_NAME,
            "非常满意",
            "very_satisfied",
            "办事效率高；态度热情",
            "",
        ],
        [
            DAY.isoformat(),
            "10:06:00",
            *hall,
            "1",
            ITEM,
            ITEM_NAME,
            "非常满意",
            "very_satisfied",
            "",
            MULTILINE,
        ],
        [DAY.isoformat(), "10:07:00", *hall, "1", ITEM, ITEM_NAME, "未评价", "not_rated", "", ""],
        # Text Excel would run as a formula is defused with a leading apostrophe.
        [
            DAY.isoformat(),
            "10:08:00",
            *hall,
            "1",
            ITEM,
            ITEM_NAME,
            "基本满意",
            "basically_satisfied",
            "",
            "'" + FORMULA,
        ],
        [
            DAY.isoformat(),
            "10:09:00",
            *hall,
            "1",
            ITEM,
            ITEM_NAME,
            "非常不满意",
            "very_dissatisfied",
            "等候时间长",
            "'-等太久",
        ],
        [DAY.isoformat(), "11:00:00", *hall, "1", "", "", "满意", "satisfied", "", ""],
    ]
    # Excel-style CSV: CRLF line ends.
    assert "\r\n" in out
    # No citizen identity anywhere: names, ID numbers, phones, booking codes, case numbers.
    for secret in _identities(sessions):
        assert secret not in out, secret
    assert case_no(1) not in out


def test_ratings_csv_file_has_a_bom_and_opens_as_utf8(
    engine: Engine, pushed: tuple[Counter, Counter], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "评价.csv"
    args = ["ratings", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--out", str(target)]
    assert _export(engine, *args) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "7 行" in err
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\xef\xbb\xbf") == 1
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(RATING_HEADER)
    assert len(list(csv.reader(io.StringIO(text, newline="")))) == 1 + 7
    assert not list(tmp_path.joinpath("out").glob(".*part"))


def test_ratings_xlsx(
    engine: Engine,
    sessions: sessionmaker[Session],
    pushed: tuple[Counter, Counter],
    tmp_path: Path,
) -> None:
    target = tmp_path / "ratings.xlsx"
    args = ["ratings", "--from", YESTERDAY.isoformat(), "--to", DAY.isoformat(), "--format", "xlsx"]
    assert _export(engine, *args, "--out", str(target)) == 0
    wb = load_workbook(target)
    ws = wb.active
    assert ws is not None
    assert ws.title == "评价明细"
    assert [c.value for c in ws[1]] == RATING_HEADER
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 1 + 9
    # Real dates and times, with formats Excel shows as such.
    first = ws[2]
    assert first[0].data_type == "d"  # a real date cell, not text
    assert first[0].value == _midnight(YESTERDAY)
    assert first[0].number_format == "yyyy-mm-dd"
    assert first[1].value == dt.time(15, 5) and first[1].number_format == "hh:mm:ss"
    assert first[4].value == 1  # window, a number
    assert ws.column_dimensions["A"].width >= 10
    assert ws.column_dimensions["K"].width >= 40  # comments get room
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    by_time = {row[1]: row for row in values}
    assert by_time[dt.time(10, 5)][9] == "办事效率高；态度热情"
    assert by_time[dt.time(10, 6)][10] == MULTILINE
    # A comment that looks like a formula is stored as text, unchanged.
    formula_row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == dt.time(10, 8))
    assert formula_row[10].value == FORMULA and formula_row[10].data_type == "s"
    assert by_time[dt.time(11, 0)][5:7] == [None, None]  # the case never reached the server
    dump = "\n".join(str(v) for row in values for v in row)
    for secret in _identities(sessions):
        assert secret not in dump, secret


def test_ratings_for_one_hall(
    engine: Engine, pushed: tuple[Counter, Counter], other_hall: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        _export(engine, "ratings", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--hall", other_hall)
        == 0
    )
    assert _csv_rows(capsys.readouterr().out) == [RATING_HEADER]
    assert (
        _export(engine, "ratings", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--hall", "DEMO") == 0
    )
    assert len(_csv_rows(capsys.readouterr().out)) == 1 + 7


# -- stats --------------------------------------------------------------------------


def _supervisor(engine: Engine, login: LoginFn, monkeypatch: pytest.MonkeyPatch) -> Counter:
    monkeypatch.setattr("sys.stdin", io.StringIO("boss-pass-1\n"))
    add = ["clerk", "add", "--db", _db(engine), "--hall", "DEMO", "--username", "boss", "--name", "何主任"]
    assert main([*add, "--staff-no", "ZW-0001", "--role", "supervisor", "--password-stdin"]) == 0
    counter = login(window_no=3, username="boss", password="boss-pass-1")
    assert counter.login["clerk"]["role"] == "supervisor"
    return counter


def test_stats_csv_per_day_and_window(
    client: TestClient,
    engine: Engine,
    login: LoginFn,
    pushed: tuple[Counter, Counter],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _export(engine, "stats", "--from", YESTERDAY.isoformat(), "--to", DAY.isoformat()) == 0
    rows = _csv_rows(capsys.readouterr().out)
    assert rows[0] == STATS_HEADER
    hall = ["DEMO", "示范区政务服务中心"]
    y, d = YESTERDAY.isoformat(), DAY.isoformat()
    #                      受理 补正 不予 办结 合计  非常 满意 基本 不满 非常不 未评  有效  满意率
    assert rows[1:] == [
        [y, *hall, "1", *"00101", *"000100", "1", "0.00%"],
        [y, *hall, "2", *"10001", *"000001", "0", ""],
        [d, *hall, "1", *"41005", *"211011", "5", "80.00%"],
        [d, *hall, "2", *"00011", *"010000", "1", "100.00%"],
    ]
    # The same numbers as the app's own /stats for each day, asked by a supervisor
    # (added with this CLI's --role: /stats is for supervisors only).
    boss = _supervisor(engine, login, monkeypatch)
    for day, mine in ((YESTERDAY, rows[1:3]), (DAY, rows[3:5])):
        r = client.get(
            f"{API}/stats", params={"from": day.isoformat(), "to": day.isoformat()}, headers=boss.headers
        )
        assert r.status_code == 200, r.text
        body = r.json()
        decisions = {k: sum(int(row[4 + i]) for row in mine) for i, k in enumerate(_DECISIONS)}
        levels = {k: sum(int(row[9 + i]) for row in mine) for i, k in enumerate(_LEVELS)}
        assert {k: v for k, v in decisions.items() if v} == body["decisions"]
        assert {k: v for k, v in levels.items() if v} == body["ratings"]


_DECISIONS = ("accept", "correct", "reject", "complete")
_LEVELS = (
    "very_satisfied",
    "satisfied",
    "basically_satisfied",
    "dissatisfied",
    "very_dissatisfied",
    "not_rated",
)


def test_stats_xlsx(engine: Engine, pushed: tuple[Counter, Counter], tmp_path: Path) -> None:
    target = tmp_path / "stats.xlsx"
    args = ["stats", "--from", YESTERDAY.isoformat(), "--to", TOMORROW.isoformat(), "--format", "xlsx"]
    assert _export(engine, *args, "--out", str(target)) == 0
    ws = load_workbook(target).active
    assert ws is not None and ws.title == "窗口统计"
    assert [c.value for c in ws[1]] == STATS_HEADER
    assert all(c.font.b for c in ws[1])
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [(r[0], r[3]) for r in rows] == [
        (_midnight(YESTERDAY), 1),
        (_midnight(YESTERDAY), 2),
        (_midnight(DAY), 1),
        (_midnight(DAY), 2),
        (_midnight(TOMORROW), 1),
    ]
    today_w1 = rows[2]
    assert today_w1[4:16] == [4, 1, 0, 0, 5, 2, 1, 1, 0, 1, 1, 5]
    assert today_w1[16] == pytest.approx(0.8)
    cells = list(ws.iter_rows(min_row=4, max_row=4))[0]
    assert cells[0].data_type == "d" and cells[0].number_format == "yyyy-mm-dd"
    assert cells[16].number_format == "0.00%"
    assert rows[1][16] is None  # no rating with a level: no rate, not 0 %
    assert rows[4][9] == 1 and rows[4][16] == pytest.approx(1.0)  # tomorrow's midnight rating


def test_stats_of_an_empty_range_is_just_the_header(
    engine: Engine, pushed: tuple[Counter, Counter], capsys: pytest.CaptureFixture[str]
) -> None:
    day = (DAY + dt.timedelta(days=30)).isoformat()
    assert _export(engine, "stats", "--from", day, "--to", day) == 0
    assert _csv_rows(capsys.readouterr().out) == [STATS_HEADER]


# -- arguments ------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["ratings", "stats"])
def test_to_before_from_is_exit_2_naming_both_dates(
    engine: Engine, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _export(engine, what, "--from", "2026-03-05", "--to", "2026-03-01") == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("hallserver:")
    assert "2026-03-05" in err and "2026-03-01" in err and "早于" in err


@pytest.mark.parametrize(
    ("option", "bad"), [("--from", "2026-3-1"), ("--to", "20260301"), ("--from", "2026-02-30"), ("--to", "")]
)
def test_a_date_that_is_not_yyyy_mm_dd_is_an_argparse_error(
    engine: Engine, option: str, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dates = {"--from": "2026-03-01", "--to": "2026-03-02", option: bad}
    with pytest.raises(SystemExit) as exc:
        _export(engine, "ratings", "--from", dates["--from"], "--to", dates["--to"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "YYYY-MM-DD" in err


def test_xlsx_needs_out(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        _export(engine, "stats", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--format", "xlsx") == 2
    )
    assert "--out" in capsys.readouterr().err


def test_unknown_hall_is_exit_2(engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        _export(engine, "ratings", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--hall", "NOPE") == 2
    )
    assert "NOPE" in capsys.readouterr().err


def test_unwritable_out_is_exit_2(engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = blocker / "stats.csv"  # a file where a folder should be
    assert (
        _export(engine, "stats", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--out", str(target))
        == 2
    )
    assert "无法写入" in capsys.readouterr().err


# -- writers ----------------------------------------------------------------------------


def test_writers_keep_control_characters_out_of_xlsx_and_formulas_out_of_both(tmp_path: Path) -> None:
    table = Table(
        "t",
        (Column("内容", "text", 10), Column("率", "percent", 8)),
        [("a\x00b\x07c", 0.5), ("@SUM(A1)", None), ("+1", 1.0)],
    )
    buf = io.StringIO()
    assert write_csv(table, buf) == 3
    assert list(csv.reader(io.StringIO(buf.getvalue()))) == [
        ["内容", "率"],
        ["abc", "50.00%"],
        ["'@SUM(A1)", ""],
        ["'+1", "100.00%"],
    ]
    table.rows = [("a\x00b\x07c", 0.5), ("=1+1", None)]
    target = tmp_path / "t.xlsx"
    assert write_xlsx(table, target) == 2
    ws = load_workbook(target).active
    assert ws is not None
    assert [c.value for c in ws["A"]] == ["内容", "abc", "=1+1"]
    assert ws["A3"].data_type == "s"
