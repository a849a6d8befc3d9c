"""Statistics: /stats (decisions and ratings per level), and the supervision figures of hallserver.stats
checked against a month counted by hand (supervision_dataset.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hallserver_testkit import API, DAY, Counter, case_no, case_payload, local, op, rating_payload
from sqlalchemy.orm import Session, sessionmaker
from supervision_dataset import ITEM_A, ITEM_A_NAME, ITEM_B, MARCH, TODAY, Dataset, build

from hallclient import wire
from hallserver import stats


def _push(client: TestClient, c: Counter, *ops: dict[str, Any]) -> None:
    r = client.post(f"{API}/sync/push", json={"device_id": c.device_id, "ops": list(ops)}, headers=c.headers)
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * len(ops), r.text


def _stats(client: TestClient, c: Counter, start: dt.date, end: dt.date, **extra: Any) -> Any:
    return client.get(
        f"{API}/stats", params={"from": start.isoformat(), "to": end.isoformat(), **extra}, headers=c.headers
    )


def _seed_day(client: TestClient, login) -> tuple[Counter, Counter]:  # type: ignore[no-untyped-def]
    w1 = login(window_no=1, username="clerk1")
    w2 = login(window_no=2, username="clerk2")
    yesterday = DAY - dt.timedelta(days=1)
    _push(
        client,
        w1,
        op("case_decided", case_payload(case_no(1), decision="accept")),
        op("case_decided", case_payload(case_no(2), decision="accept")),
        op("case_decided", case_payload(case_no(3), decision="correct")),
        op("rating_given", rating_payload(case_no(1), "very_satisfied")),
        op("rating_given", rating_payload(case_no(2), "very_satisfied")),
        op("rating_given", rating_payload(case_no(3), "not_rated")),
        # The day before: outside a one-day range.
        op("case_decided", case_payload(case_no(9), decision="reject", decided_at=local(yesterday, 15))),
        op("rating_given", rating_payload(case_no(9), "dissatisfied", rated_at=local(yesterday, 15, 5))),
    )
    _push(
        client,
        w2,
        op("case_decided", case_payload(case_no(1, 2), decision="complete", window_no=2)),
        op("rating_given", rating_payload(case_no(1, 2), "satisfied", window_no=2)),
    )
    return w1, w2


def test_stats_count_decisions_and_ratings_per_level(client: TestClient, login, supervisor: Counter) -> None:  # type: ignore[no-untyped-def]
    _seed_day(client, login)
    r = _stats(client, supervisor, DAY, DAY)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hall_code"] == "DEMO"
    assert body["date_from"] == body["date_to"] == DAY.isoformat()
    assert body["window_no"] is None
    assert body["decisions"] == {"accept": 2, "correct": 1, "complete": 1}
    assert body["ratings"] == {"very_satisfied": 2, "not_rated": 1, "satisfied": 1}


def test_stats_range_includes_both_ends(client: TestClient, login, supervisor: Counter) -> None:  # type: ignore[no-untyped-def]
    _seed_day(client, login)
    body = _stats(client, supervisor, DAY - dt.timedelta(days=1), DAY).json()
    assert body["decisions"] == {"accept": 2, "correct": 1, "complete": 1, "reject": 1}
    assert body["ratings"]["dissatisfied"] == 1
    only_yesterday = _stats(client, supervisor, DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1)).json()
    assert only_yesterday["decisions"] == {"reject": 1}
    assert only_yesterday["ratings"] == {"dissatisfied": 1}


def test_stats_per_window(client: TestClient, login, supervisor: Counter) -> None:  # type: ignore[no-untyped-def]
    _seed_day(client, login)
    body = _stats(client, supervisor, DAY, DAY, window=2).json()
    assert body["window_no"] == 2
    assert body["decisions"] == {"complete": 1}
    assert body["ratings"] == {"satisfied": 1}


def test_stats_for_an_empty_range(client: TestClient, supervisor: Counter) -> None:
    body = _stats(client, supervisor, DAY + dt.timedelta(days=10), DAY + dt.timedelta(days=20)).json()
    assert body["decisions"] == {} and body["ratings"] == {}


def test_stats_to_before_from_is_422(client: TestClient, supervisor: Counter) -> None:
    r = _stats(client, supervisor, DAY, DAY - dt.timedelta(days=1))
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request"
    assert r.json()["field"] == "to"
    assert r.json()["message"]


def test_stats_without_from_is_422(client: TestClient, supervisor: Counter) -> None:
    r = client.get(f"{API}/stats", params={"to": DAY.isoformat()}, headers=supervisor.headers)
    assert r.status_code == 422
    assert r.json()["field"] == "from"


def test_stats_need_login(client: TestClient) -> None:
    assert client.get(f"{API}/stats", params={"from": "2026-03-01", "to": "2026-03-02"}).status_code == 401


def test_a_clerk_cannot_see_stats_or_ratings(client: TestClient, login) -> None:  # type: ignore[no-untyped-def]
    w1, _ = _seed_day(client, login)
    r = _stats(client, w1, DAY, DAY)
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden" and "负责人" in r.json()["message"]
    assert "very_satisfied" not in r.text


# -- supervision figures (hallserver.stats) on a month counted by hand ----------------------------
# The data set and every expected number are described in supervision_dataset.py.

G, P = wire.FigureGroup, wire.FigurePeriod


@pytest.fixture
def month(sessions: sessionmaker[Session]) -> Dataset:
    with sessions() as s:
        return build(s)


def _figures(sessions: sessionmaker[Session], **kw: Any) -> wire.FiguresResponse:
    start, end = kw.pop("start", MARCH[0]), kw.pop("end", MARCH[1])
    with sessions() as s:
        return stats.figures(s, "DEMO", start, end, today=kw.pop("today", TODAY), **kw)


def test_the_month_of_the_whole_hall(sessions: sessionmaker[Session], month: Dataset) -> None:
    r = _figures(sessions)
    assert len(r.rows) == 1 and r.rows[0] == r.total
    t = r.total
    # Queue: 9 served, 1 no-show; waits 0,60,…,360,600,1200,2400 s; handling 3 at W1 + 6 × 300 s.
    assert (t.tickets_served, t.no_shows, t.waits_measured, t.handled_measured) == (9, 1, 10, 9)
    assert t.wait_avg_s == 546.0
    assert t.wait_p90_s == 1200.0
    assert t.handle_avg_s == 500.0
    # Cases by decision day.
    assert (t.accepted, t.corrected, t.rejected, t.completed) == (17, 4, 1, 4)
    # 办结率: 20 due in March, 19 completed by their promise.
    assert (t.due, t.completed_on_time, t.overdue) == (20, 19, 1)
    assert t.completion_rate == pytest.approx(0.95)
    assert t.corrections_not_returned == 2
    # Ratings.
    assert t.ratings == {
        "very_satisfied": 11,
        "satisfied": 5,
        "basically_satisfied": 2,
        "dissatisfied": 1,
        "very_dissatisfied": 1,
        "not_rated": 5,
    }
    assert (t.rated, t.not_rated, t.bad, t.bursts) == (20, 5, 2, 3)
    assert t.good_rate == pytest.approx(0.90)
    assert t.not_rated_share == pytest.approx(0.20)
    # 整改.
    assert (t.follow_ups, t.follow_ups_open, t.follow_ups_overdue, t.follow_ups_closed) == (2, 1, 1, 1)
    assert t.rectification_rate == pytest.approx(0.5)


def test_by_window(sessions: sessionmaker[Session], month: Dataset) -> None:
    rows = {f.window_no: f for f in _figures(sessions, by=G.WINDOW).rows}
    assert list(rows) == [1, 2, 3]
    w1, w2, w3 = rows[1], rows[2], rows[3]
    assert (w1.tickets_served, w1.no_shows, w1.wait_avg_s, w1.wait_p90_s, w1.handle_avg_s) == (
        3,
        1,
        1050.0,
        2400.0,
        900.0,
    )
    assert (w1.accepted, w1.corrected, w1.due, w1.completed_on_time, w1.overdue) == (11, 1, 12, 11, 1)
    assert w1.completion_rate == pytest.approx(11 / 12)
    assert (w1.rated, w1.not_rated, w1.bad) == (10, 2, 1)
    assert w1.good_rate == pytest.approx(0.9)
    assert (w1.follow_ups, w1.follow_ups_overdue, w1.follow_ups_closed) == (1, 1, 0)
    assert w1.rectification_rate == 0.0

    assert (w2.tickets_served, w2.wait_avg_s, w2.wait_p90_s, w2.handle_avg_s) == (6, 210.0, 360.0, 300.0)
    assert (w2.accepted, w2.completed, w2.corrected, w2.due, w2.completion_rate) == (3, 4, 2, 7, 1.0)
    assert w2.corrections_not_returned == 2
    assert (w2.rated, w2.bad, w2.bursts) == (7, 1, 3)
    assert w2.good_rate == pytest.approx(6 / 7)
    assert w2.rectification_rate == 1.0

    # Window 3 served no numbered tickets: no waiting time, not zero.
    assert (w3.tickets_served, w3.waits_measured, w3.wait_avg_s, w3.wait_p90_s) == (0, 0, None, None)
    assert (w3.accepted, w3.corrected, w3.rejected, w3.due, w3.completed_on_time) == (3, 1, 1, 1, 1)
    assert w3.corrections_not_returned == 0  # C4 came back on its booking
    assert (w3.rated, w3.not_rated, w3.good_rate) == (3, 1, 1.0)
    assert (w3.follow_ups, w3.rectification_rate) == (0, None)


def test_by_clerk_follows_who_decided_not_the_window(sessions: sessionmaker[Session], month: Dataset) -> None:
    r = _figures(sessions, by=G.CLERK)
    rows = {f.clerk_name: f for f in r.rows}
    assert list(rows) == ["王晓燕", "李建国", "陈思远", ""]
    # clerk1 decided window 3's rejection while standing in there, and it was rated 满意.
    assert (rows["王晓燕"].accepted, rows["王晓燕"].rejected, rows["王晓燕"].rated) == (11, 1, 11)
    assert (rows["陈思远"].accepted, rows["陈思远"].rejected, rows["陈思远"].rated) == (3, 0, 2)
    # A no-show has no case, so no clerk: it stays visible in its own row.
    nobody = rows[""]
    assert nobody.clerk_id is None
    assert (nobody.no_shows, nobody.waits_measured, nobody.wait_avg_s, nobody.accepted) == (1, 1, 2400.0, 0)
    assert rows["王晓燕"].wait_avg_s == 600.0  # T1 600, T2 0, T4 1200
    assert r.total == _figures(sessions).total


def test_by_item(sessions: sessionmaker[Session], month: Dataset) -> None:
    rows = {f.item_code: f for f in _figures(sessions, by=G.ITEM).rows}
    assert set(rows) == {ITEM_A, ITEM_B}
    a, b = rows[ITEM_A], rows[ITEM_B]
    assert a.item_name == ITEM_A_NAME
    assert (a.accepted, a.corrected, a.rejected, a.due, a.completed_on_time) == (14, 2, 1, 13, 12)
    assert (b.accepted, b.completed, b.corrected, b.due, b.completed_on_time) == (3, 4, 2, 7, 7)
    assert a.no_shows == 1 and b.tickets_served == 6


def test_per_day_and_filters(sessions: sessionmaker[Session], month: Dataset) -> None:
    r = _figures(sessions, period=P.DAY, filters=stats.Filters(window_no=1))
    assert r.window_no == 1
    days = {f.period_start: f for f in r.rows}
    day10 = days[dt.date(2026, 3, 10)]
    assert (day10.tickets_served, day10.no_shows, day10.accepted, day10.wait_p90_s) == (3, 1, 3, 2400.0)
    # 03-13: the three promises of 03-10 fall due (all kept) and W1's ratings are given.
    d13 = days[dt.date(2026, 3, 13)]
    assert (d13.due, d13.completed_on_time, d13.rated, d13.not_rated) == (3, 3, 10, 2)
    # 03-20: the unkept promise and two kept ones.
    assert (days[dt.date(2026, 3, 20)].due, days[dt.date(2026, 3, 20)].overdue) == (3, 1)
    assert sum(f.due for f in r.rows) == r.total.due == 12
    # An item filter and a clerk filter narrow every figure alike.
    only_b = _figures(sessions, filters=stats.Filters(item_code=ITEM_B)).total
    assert (only_b.accepted, only_b.tickets_served, only_b.rated) == (3, 6, 7)
    clerk3 = _figures(sessions, filters=stats.Filters(clerk_id=month.clerks["clerk3"])).total
    assert (clerk3.accepted, clerk3.rejected, clerk3.corrected) == (3, 0, 1)


def test_per_week_and_month(sessions: sessionmaker[Session], month: Dataset) -> None:
    weeks = {f.period_start: f for f in _figures(sessions, period=P.WEEK).rows}
    # ISO weeks named by their Monday: the first fact of March is the 02-27 case due 03-04.
    assert sorted(d for d in weeks if d) == [dt.date(2026, 3, 2) + dt.timedelta(weeks=n) for n in range(5)]
    assert None not in weeks
    assert weeks[dt.date(2026, 3, 9)].tickets_served == 9
    assert weeks[dt.date(2026, 3, 30)].corrected == 1  # C3 on 03-30
    months = _figures(sessions, start=dt.date(2026, 2, 1), period=P.MONTH).rows
    assert [f.period_start for f in months] == [dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    feb, mar = months
    assert (feb.accepted, feb.due, feb.bad, feb.follow_ups, feb.follow_ups_closed) == (1, 0, 1, 1, 1)
    assert mar == _figures(sessions).total.model_copy(update={"period_start": dt.date(2026, 3, 1)})


def test_a_promise_still_running_counts_nowhere_until_it_is_settled(
    sessions: sessionmaker[Session], month: Dataset
) -> None:
    april = _figures(sessions, start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30)).total
    # W3: promised 04-03 and not picked up yet (not due on 04-01); promised 04-10, picked up early.
    assert (april.due, april.completed_on_time) == (1, 1)
    # Seen from 04-06, the 04-03 promise is broken.
    later = _figures(sessions, start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30), today=dt.date(2026, 4, 6))
    assert (later.total.due, later.total.completed_on_time, later.total.overdue) == (2, 1, 1)
    # A follow-up due 03-20 and still open was not overdue on 03-20 itself.
    on_due_day = _figures(sessions, today=dt.date(2026, 3, 20)).total
    assert (on_due_day.follow_ups_open, on_due_day.follow_ups_overdue) == (1, 0)


def test_warnings_as_of_today(sessions: sessionmaker[Session], month: Dataset) -> None:
    with sessions() as s:
        overdue = stats.overdue_warnings(s, "DEMO", TODAY)
        narrow = stats.overdue_warnings(s, "DEMO", TODAY, horizon_days=1)
        corrections = stats.correction_warnings(s, "DEMO", TODAY)
        w2_only = stats.correction_warnings(s, "DEMO", TODAY, filters=stats.Filters(window_no=3))
    assert [(w.case_no, w.kind.value, w.date, w.working_days_left) for w in overdue] == [
        (month.cases["w1-overdue"], "overdue", dt.date(2026, 3, 20), -8),
        (month.cases["w3-soon"], "due_soon", dt.date(2026, 4, 3), 2),
    ]
    assert [w.case_no for w in narrow] == [month.cases["w1-overdue"]]
    assert overdue[0].clerk_name == "王晓燕" and overdue[0].item_name == ITEM_A_NAME
    assert overdue[0].applicant == "孙*"  # masked, never the full name
    # 补正预警: C2 past its deadline (03-16, 12 working days ago) first; C3 due 04-08 after the
    # 清明 holiday (04-04..04-06): 4 working days left.
    assert [(w.case_no, w.kind.value, w.working_days_left) for w in corrections] == [
        (month.cases["c2"], "correction_late", -12),
        (month.cases["c3"], "correction_open", 4),
    ]
    assert [w.applicant for w in corrections] == ["李**", "王**"]
    assert w2_only == []


def test_the_definitions_as_functions() -> None:
    assert stats.percentile([5.0]) == 5.0
    assert stats.percentile([float(x) for x in range(1, 11)]) == 9.0  # nearest rank: the 9th of 10
    assert stats.percentile([float(x) for x in range(1, 21)]) == 18.0
    assert stats.percentile([]) is None
    t0 = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
    minute = dt.timedelta(minutes=1)
    assert stats.waiting_seconds(t0, t0 + 30 * minute, t0 + 40 * minute) == 600.0  # early for a slot
    assert stats.waiting_seconds(t0 + 5 * minute, t0, t0 + 40 * minute) == 2100.0  # late for a slot
    assert stats.waiting_seconds(t0, t0, t0 - minute) == 0.0
    assert stats.waiting_seconds(t0, t0, None) is None
    assert stats.completion_rate(20, 19) == 0.95 and stats.completion_rate(0, 0) is None
    levels = {
        "very_satisfied": 6,
        "satisfied": 2,
        "basically_satisfied": 1,
        "dissatisfied": 1,
        "not_rated": 2,
    }
    assert stats.good_rate(levels) == 0.9
    assert stats.not_rated_share(levels) == pytest.approx(2 / 12)
    assert stats.bad_count(levels) == 1
    assert stats.good_rate({"not_rated": 3}) is None
    assert stats.rectification_rate(4, 3) == 0.75
    assert stats.period_start(dt.date(2026, 3, 1), P.WEEK) == dt.date(2026, 2, 23)
    assert stats.period_start(dt.date(2026, 3, 31), P.MONTH) == dt.date(2026, 3, 1)
    assert stats.period_start(dt.date(2026, 3, 31), P.TOTAL) is None
    assert stats.follow_up_overdue("open", dt.date(2026, 3, 20), dt.date(2026, 3, 21))
    assert not stats.follow_up_overdue("closed", dt.date(2026, 3, 20), dt.date(2026, 3, 21))
