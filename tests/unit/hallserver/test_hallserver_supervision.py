"""The supervisor's endpoints over HTTP (TestClient) on the month counted by hand (supervision_dataset.py).

Figures, 超时/补正预警, the 整改 workflow (assign, result, close), burst reviews, staff,
and the exports parsed back: no citizen identity in ratings or follow-ups. Also the
same exports from ``hallserver export figures|follow-ups``.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, OTHER_PASSWORD, Counter, MovableClock
from openpyxl import load_workbook
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker
from supervision_dataset import CITIZENS, ITEM_A, MARCH, TODAY, Dataset, at, build

from hallserver.cli import main
from hallserver.models import Clerk, FollowUp, FollowUpEvent
from hallserver.seed import demo_department_accounts

LoginFn = Callable[..., Counter]
SUP = f"{API}/supervision"
RANGE = {"from": MARCH[0].isoformat(), "to": MARCH[1].isoformat()}


@pytest.fixture
def month(sessions: sessionmaker[Session], clock: MovableClock) -> Dataset:
    """The hand-counted month, seen at 10:00 on 2026-04-01."""
    clock.now = at(TODAY, 10).astimezone(dt.UTC)
    with sessions() as s:
        return build(s)


@pytest.fixture
def boss(month: Dataset, sessions: sessionmaker[Session], login: LoginFn) -> Counter:
    """clerk3 as the hall's supervisor, signed in (after the clock moved to April)."""
    with sessions() as s:
        s.execute(update(Clerk).where(Clerk.username == "clerk3").values(role="supervisor"))
        s.commit()
    return login(window_no=3, username="clerk3")


def _get(client: TestClient, who: Counter, path: str, **params: Any) -> Any:
    r = client.get(f"{SUP}{path}", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def _post(client: TestClient, who: Counter, path: str, body: dict[str, Any], status: int = 200) -> Any:
    r = client.post(f"{SUP}{path}", json=body, headers=who.headers)
    assert r.status_code == status, r.text
    return r.json()


# -- access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/figures", "/overdue", "/corrections", "/follow-ups", "/bursts", "/staff", "/export?what=ratings"],
)
def test_a_clerk_is_refused_everywhere(client: TestClient, month: Dataset, login: LoginFn, path: str) -> None:
    clerk = login(window_no=1, username="clerk1")
    sep = "&" if "?" in path else "?"
    r = client.get(f"{SUP}{path}{sep}from=2026-03-01&to=2026-03-31", headers=clerk.headers)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "forbidden"
    assert "very_satisfied" not in r.text
    assert client.get(f"{SUP}{path}").status_code in (401, 422)
    r = client.post(f"{SUP}/follow-ups/{month.cases['fu-open']}/close", json={}, headers=clerk.headers)
    assert r.status_code == 403


def test_without_login_is_401(client: TestClient) -> None:
    r = client.get(f"{SUP}/figures", params=RANGE)
    assert r.status_code == 401 and r.json()["error"] == "not_logged_in"


# -- figures ------------------------------------------------------------------------------------------


def test_figures_of_the_month_over_http(client: TestClient, boss: Counter) -> None:
    body = _get(client, boss, "/figures", **RANGE)
    assert body["as_of"] == "2026-04-01" and body["by"] == "hall" and body["period"] == "total"
    t = body["total"]
    assert (t["due"], t["completed_on_time"], t["completion_rate"]) == (20, 19, 0.95)
    assert (t["rated"], t["good_rate"], t["not_rated_share"], t["bad"]) == (20, 0.9, 0.2, 2)
    assert (t["follow_ups"], t["rectification_rate"], t["wait_p90_s"]) == (2, 0.5, 1200.0)

    # "How did window 3 do last month?"
    w3 = _get(client, boss, "/figures", window=3, **RANGE)["total"]
    assert (w3["accepted"], w3["corrected"], w3["rejected"], w3["completion_rate"]) == (3, 1, 1, 1.0)
    assert (w3["rated"], w3["good_rate"], w3["follow_ups_open"]) == (3, 1.0, 0)

    by_window = _get(client, boss, "/figures", by="window", period="week", **RANGE)
    assert {r["window_no"] for r in by_window["rows"]} == {1, 2, 3}
    assert all(dt.date.fromisoformat(r["period_start"]).weekday() == 0 for r in by_window["rows"])


def test_figures_reject_bad_ranges(client: TestClient, boss: Counter) -> None:
    r = client.get(f"{SUP}/figures", params={"from": "2026-03-31", "to": "2026-03-01"}, headers=boss.headers)
    assert r.status_code == 422 and r.json()["field"] == "to"
    r = client.get(f"{SUP}/figures", params={"from": "2020-01-01", "to": "2026-03-01"}, headers=boss.headers)
    assert r.status_code == 422 and "400" in r.json()["message"]
    r = client.get(f"{SUP}/figures", params={**RANGE, "by": "citizen"}, headers=boss.headers)
    assert r.status_code == 422


def test_figures_are_the_callers_hall_only(
    client: TestClient, boss: Counter, sessions: sessionmaker[Session], login: LoginFn, other_hall: str
) -> None:
    with sessions() as s:
        s.execute(update(Clerk).where(Clerk.username == "east1").values(role="supervisor"))
        s.commit()
    east = login(
        hall_code=other_hall, window_no=1, username="east1", password=OTHER_PASSWORD, device_id="PC-E1"
    )
    t = _get(client, east, "/figures", **RANGE)["total"]
    assert (t["accepted"], t["rated"], t["follow_ups"]) == (0, 0, 0)
    assert _get(client, east, "/overdue")["warnings"] == []
    assert _get(client, east, "/follow-ups", status="all")["follow_ups"] == []
    r = client.post(
        f"{SUP}/follow-ups/{_get(client, boss, '/follow-ups')['follow_ups'][0]['case_no']}/result",
        json={"result": "x"},
        headers=east.headers,
    )
    assert r.status_code == 404


# -- warnings ------------------------------------------------------------------------------------------


def test_overdue_and_correction_warnings(client: TestClient, boss: Counter, month: Dataset) -> None:
    overdue = _get(client, boss, "/overdue")
    assert overdue["as_of"] == "2026-04-01"
    assert [(w["case_no"], w["kind"], w["working_days_left"]) for w in overdue["warnings"]] == [
        (month.cases["w1-overdue"], "overdue", -8),
        (month.cases["w3-soon"], "due_soon", 2),
    ]
    assert _get(client, boss, "/overdue", window=3)["warnings"][0]["case_no"] == month.cases["w3-soon"]
    assert _get(client, boss, "/overdue", horizon=0)["warnings"][-1]["kind"] == "overdue"
    corrections = _get(client, boss, "/corrections")["warnings"]
    assert [(w["case_no"], w["kind"], w["date"]) for w in corrections] == [
        (month.cases["c2"], "correction_late", "2026-03-16"),
        (month.cases["c3"], "correction_open", "2026-04-08"),
    ]
    # The applicant appears masked only: never a full name, ID or phone number.
    text = str(overdue) + str(corrections)
    for name, id_number, phone in CITIZENS.values():
        assert name not in text and id_number not in text and phone not in text


# -- follow-ups ----------------------------------------------------------------------------------------


def test_follow_up_lists(client: TestClient, boss: Counter, month: Dataset) -> None:
    open_ = _get(client, boss, "/follow-ups")["follow_ups"]
    assert [f["case_no"] for f in open_] == [month.cases["fu-open"]]
    f = open_[0]
    assert (f["level"], f["status"], f["overdue"], f["due_date"], f["window_no"]) == (
        "dissatisfied",
        "open",
        True,
        "2026-03-20",
        1,
    )
    assert f["clerk_name"] == "王晓燕" and f["item_code"] == ITEM_A and f["assignee_id"] is None
    assert [x["case_no"] for x in _get(client, boss, "/follow-ups", status="overdue")["follow_ups"]] == [
        month.cases["fu-open"]
    ]
    closed = _get(client, boss, "/follow-ups", status="closed")["follow_ups"]
    assert {x["case_no"] for x in closed} == {month.cases["fu-closed"], month.cases["w1-feb"]}
    march_only = _get(client, boss, "/follow-ups", status="closed", **RANGE)["follow_ups"]
    assert [x["case_no"] for x in march_only] == [month.cases["fu-closed"]]
    assert march_only[0]["reasons"] == ["办理速度慢", "等候时间太长"]
    assert march_only[0]["result"] == "已约谈窗口人员，增开午间窗口"
    assert len(_get(client, boss, "/follow-ups", status="all")["follow_ups"]) == 3
    assert _get(client, boss, "/follow-ups", status="all", window=2)["follow_ups"][0]["window_no"] == 2


def test_assign_write_the_result_and_close(
    client: TestClient, boss: Counter, month: Dataset, sessions: sessionmaker[Session], clock: MovableClock
) -> None:
    case = month.cases["fu-open"]
    clerk2 = month.clerks["clerk2"]
    # Closing needs a result first: a closed task says what was done.
    r = _post(client, boss, f"/follow-ups/{case}/close", {}, status=409)
    assert r["error"] == "no_result"

    f = _post(client, boss, f"/follow-ups/{case}/assign", {"assignee_id": clerk2, "note": "请三天内回访"})
    assert (f["assignee_id"], f["assignee_name"], f["status"]) == (clerk2, "李建国", "open")
    clock.advance(hours=1)
    f = _post(client, boss, f"/follow-ups/{case}/assign", {"assignee_id": month.clerks["clerk1"]})
    assert f["assignee_name"] == "王晓燕"  # the latest assignment counts
    clock.advance(hours=1)
    f = _post(client, boss, f"/follow-ups/{case}/result", {"result": "  已电话回访，致歉并说明办理时限  "})
    assert f["result"] == "已电话回访，致歉并说明办理时限"
    clock.advance(hours=1)
    f = _post(client, boss, f"/follow-ups/{case}/close", {"note": "群众表示理解"})
    assert f["status"] == "closed" and f["overdue"] is False and f["closed_at"]
    assert [(h["action"], h["by_name"], h["assignee_name"], h["text"]) for h in f["history"]] == [
        ("assign", "陈思远", "李建国", "请三天内回访"),
        ("assign", "陈思远", "王晓燕", ""),
        ("result", "陈思远", "", "已电话回访，致歉并说明办理时限"),
        ("close", "陈思远", "", "群众表示理解"),
    ]
    # Closed is final.
    assert (
        _post(client, boss, f"/follow-ups/{case}/result", {"result": "改"}, status=409)["error"] == "closed"
    )
    assert _post(client, boss, f"/follow-ups/{case}/close", {}, status=409)["error"] == "closed"
    # And the month's 整改率 follows: both March follow-ups closed now.
    t = _get(client, boss, "/figures", **RANGE)["total"]
    assert (t["follow_ups_closed"], t["follow_ups_overdue"], t["rectification_rate"]) == (2, 0, 1.0)
    with sessions() as s:
        row = s.get(FollowUp, case)
        assert row is not None and row.status == "closed" and row.outcome.startswith("已电话回访")
        assert len(s.scalars(select(FollowUpEvent).where(FollowUpEvent.case_no == case)).all()) == 4


def test_follow_up_errors(
    client: TestClient, boss: Counter, month: Dataset, sessions: sessionmaker[Session]
) -> None:
    case = month.cases["fu-open"]
    assert _post(client, boss, "/follow-ups/DEMO-NOPE/assign", {"assignee_id": 1}, status=404)["error"] == (
        "not_found"
    )
    assert _post(client, boss, f"/follow-ups/{case}/assign", {"assignee_id": 9999}, status=404)["field"] == (
        "assignee_id"
    )
    with sessions() as s:
        s.execute(update(Clerk).where(Clerk.username == "clerk2").values(disabled=True))
        s.commit()
    r = _post(client, boss, f"/follow-ups/{case}/assign", {"assignee_id": month.clerks["clerk2"]}, status=409)
    assert r["error"] == "account_disabled"
    assert (
        _post(client, boss, f"/follow-ups/{case}/result", {"result": "   "}, status=422)["field"] == "result"
    )
    assert _post(client, boss, f"/follow-ups/{case}/result", {}, status=422)["field"] == "result"


def test_staff_list(client: TestClient, boss: Counter) -> None:
    staff = _get(client, boss, "/staff")["staff"]
    assert [(m["name"], m["role"]) for m in staff if m["role"] != "department"] == [
        ("王晓燕", "clerk"),
        ("李建国", "clerk"),
        ("陈思远", "supervisor"),
    ]
    # The demo hall's back-office accounts, one per department of its catalog, are the hall's staff too.
    departments = [m["name"] for m in staff if m["role"] == "department"]
    assert departments == [name for _user, name, _no, _dept in demo_department_accounts()]


# -- bursts --------------------------------------------------------------------------------------------


def test_bursts_to_review(client: TestClient, boss: Counter, month: Dataset) -> None:
    found = _get(client, boss, "/bursts", **RANGE)["bursts"]
    assert [b["case_no"] for b in found] == [month.cases["t5"], month.cases["t6"], month.cases["t7"]]
    assert all(b["level"] == "very_satisfied" and b["window_no"] == 2 for b in found)
    assert found[0]["clerk_name"] == "李建国" and found[0]["seconds_after"] == 60.0
    assert found[0]["review"] is None
    reviewed = _post(
        client, boss, f"/bursts/{month.cases['t5']}/review", {"verdict": "suspicious", "note": "调监控"}
    )
    assert reviewed["review"]["verdict"] == "suspicious" and reviewed["review"]["reviewer_name"] == "陈思远"
    again = _post(client, boss, f"/bursts/{month.cases['t5']}/review", {"verdict": "genuine"})
    assert again["review"]["verdict"] == "genuine"  # a later review replaces the earlier one
    left = _get(client, boss, "/bursts", unreviewed="true")["bursts"]
    assert [b["case_no"] for b in left] == [month.cases["t6"], month.cases["t7"]]
    # Only flagged ratings can be reviewed; the rating itself never changes.
    assert _post(client, boss, f"/bursts/{month.cases['t8']}/review", {"verdict": "genuine"}, status=404)
    assert _get(client, boss, "/figures", **RANGE)["total"]["ratings"]["very_satisfied"] == 11


# -- exports -------------------------------------------------------------------------------------------

IDENTITY_HEADERS = ("姓名", "身份证", "证件", "电话", "手机", "申请人", "办件编号", "受理编号", "预约")


def _export(client: TestClient, who: Counter, **params: Any) -> tuple[dict[str, Any], bytes]:
    body = _get(client, who, "/export", **{**RANGE, **params})
    return body, base64.b64decode(body["content_base64"])


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def _assert_anonymous(header: list[str], text: str, month: Dataset) -> None:
    assert not [h for h in header if any(word in h for word in IDENTITY_HEADERS)], header
    for name, id_number, phone in CITIZENS.values():
        assert name not in text and id_number not in text and phone not in text
    for case_no in month.cases.values():
        assert case_no not in text
    assert "BK2" not in text and "BK3" not in text


def test_export_ratings_csv_is_anonymous(client: TestClient, boss: Counter, month: Dataset) -> None:
    body, content = _export(client, boss, what="ratings")
    assert body["filename"] == "DEMO-ratings-20260301-20260331.csv" and body["media_type"].startswith(
        "text/csv"
    )
    rows = _csv_rows(content)
    assert body["rows"] == len(rows) - 1 == 25
    header = rows[0]
    _assert_anonymous(header, content.decode("utf-8-sig"), month)
    levels = [r[header.index("等级代码")] for r in rows[1:]]
    assert levels.count("very_satisfied") == 11 and levels.count("not_rated") == 5
    assert {r[header.index("窗口")] for r in rows[1:]} == {"1", "2", "3"}
    only_w3 = _csv_rows(_export(client, boss, what="ratings", window=3)[1])
    assert len(only_w3) - 1 == 4


def test_export_ratings_xlsx_is_anonymous(
    client: TestClient, boss: Counter, month: Dataset, tmp_path: Path
) -> None:
    body, content = _export(client, boss, what="ratings", format="xlsx")
    assert body["filename"].endswith(".xlsx") and body["rows"] == 25
    path = tmp_path / "r.xlsx"
    path.write_bytes(content)
    ws = load_workbook(path).active
    assert ws is not None
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    header = [str(h) for h in values[0]]
    _assert_anonymous(header, repr(values), month)
    assert len(values) == 26


def test_export_figures_csv_and_xlsx(client: TestClient, boss: Counter, tmp_path: Path) -> None:
    body, content = _export(client, boss, what="figures", by="window")
    rows = _csv_rows(content)
    header = rows[0]
    by_label = {(r[header.index("期间")], r[header.index("窗口")]): r for r in rows[1:]}
    assert list(by_label) == [("合计", "1"), ("合计", "2"), ("合计", "3"), ("合计", "")]
    total = by_label[("合计", "")]
    assert total[header.index("办结率")] == "95.00%"
    assert total[header.index("好评率")] == "90.00%"
    assert total[header.index("未评价占比")] == "20.00%"
    assert total[header.index("整改率")] == "50.00%"
    assert total[header.index("90%等候（分钟）")] == "20.0"
    assert total[header.index("平均等候（分钟）")] == "9.1"
    assert by_label[("合计", "3")][header.index("平均等候（分钟）")] == ""  # none measured, not 0

    _, xlsx = _export(client, boss, what="figures", by="hall", period="month", format="xlsx")
    path = tmp_path / "f.xlsx"
    path.write_bytes(xlsx)
    ws = load_workbook(path).active
    assert ws is not None
    values = list(ws.iter_rows(values_only=True))
    header2 = list(values[0])
    march = values[1]
    assert march[header2.index("期间")] == "2026-03-01"
    assert march[header2.index("办结率")] == pytest.approx(0.95)
    assert march[header2.index("应办结")] == 20
    assert ws.cell(row=2, column=header2.index("办结率") + 1).number_format == "0.00%"


def test_export_follow_ups_is_anonymous(client: TestClient, boss: Counter, month: Dataset) -> None:
    body, content = _export(client, boss, what="follow_ups")
    rows = _csv_rows(content)
    header = rows[0]
    _assert_anonymous(header, content.decode("utf-8-sig"), month)
    assert body["rows"] == 2
    status = {r[header.index("评价等级")]: r[header.index("状态")] for r in rows[1:]}
    assert status == {"不满意": "已逾期", "非常不满意": "已关闭"}


def test_cli_exports_figures_and_follow_ups(
    engine: Engine,
    month: Dataset,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "figures.csv"
    args = ["export", "figures", "--db", url, "--from", "2026-03-01", "--to", "2026-03-31", "--hall", "DEMO"]
    assert main([*args, "--by", "clerk", "--out", str(out)]) == 0
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    header = rows[0]
    people = [r[header.index("工作人员")] for r in rows[1:]]
    assert people == ["王晓燕", "李建国", "陈思远", "", ""]  # the last two: unattributed, then the total
    assert rows[-1][header.index("期间")] == "合计" and rows[-1][header.index("服务人次")] == "9"
    xlsx = tmp_path / "w3.xlsx"
    assert main([*args, "--window", "3", "--by", "hall", "--format", "xlsx", "--out", str(xlsx)]) == 0
    ws = load_workbook(xlsx).active
    assert ws is not None
    values = list(ws.iter_rows(values_only=True))
    assert values[1][list(values[0]).index("受理")] == 3

    fu = tmp_path / "fu.csv"
    base = ["export", "follow-ups", "--db", url, "--from", "2026-02-01", "--to", "2026-03-31"]
    assert main([*base, "--out", str(fu)]) == 0
    text = fu.read_text(encoding="utf-8-sig")
    fu_rows = list(csv.reader(text.splitlines()))
    assert len(fu_rows) - 1 == 3
    _assert_anonymous(fu_rows[0], text, month)
    capsys.readouterr()
