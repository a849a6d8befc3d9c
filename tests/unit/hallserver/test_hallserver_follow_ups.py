"""Bad ratings open a follow-up (整改) on the server; bursts of identical quick ratings are flagged."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from hallserver_testkit import API, DAY, Counter, case_no, local, op, rating_payload
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hallserver.models import FollowUp, Rating


def push(client: TestClient, c: Counter, *ops: dict[str, Any]) -> list[str]:
    r = client.post(f"{API}/sync/push", json={"device_id": c.device_id, "ops": list(ops)}, headers=c.headers)
    assert r.status_code == 200, r.text
    return [x["status"] for x in r.json()["results"]]


def bad_rating(number: str, *, due: str | None = "2026-03-09", **extra: Any) -> dict[str, Any]:
    return {
        **rating_payload(number, "very_dissatisfied"),
        "reasons": ["等候时间太长", "工作人员态度不好"],
        "comment": "叫号后等了二十分钟",
        "follow_up_due": due,
        **extra,
    }


def timed(
    number: str, level: str, decided: dt.datetime, after_s: float, window_no: int = 1
) -> dict[str, Any]:
    return {
        **rating_payload(
            number, level, rated_at=decided + dt.timedelta(seconds=after_s), window_no=window_no
        ),
        "decided_at": decided.isoformat(),
    }


def test_bad_rating_opens_a_follow_up_due_when_the_counter_said(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    assert push(client, window1, op("rating_given", bad_rating(case_no(1)))) == ["applied"]
    with sessions() as s:
        rating = s.get(Rating, case_no(1))
        assert rating is not None
        assert rating.reasons == ["等候时间太长", "工作人员态度不好"]
        assert rating.comment == "叫号后等了二十分钟"
        fu = s.get(FollowUp, case_no(1))
        assert fu is not None
        assert (fu.hall_code, fu.window_no, fu.level, fu.status) == ("DEMO", 1, "very_dissatisfied", "open")
        assert fu.due_date == dt.date(2026, 3, 9)
        assert fu.closed_at is None and fu.outcome == ""
        # Like the rating, the follow-up names the case and never the citizen.
        assert not {"applicant", "name", "id_number", "phone"} & set(FollowUp.__table__.columns.keys())


def test_dissatisfied_opens_one_too_and_good_levels_none(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    levels = ["dissatisfied", "basically_satisfied", "satisfied", "very_satisfied", "not_rated"]
    ops = [op("rating_given", rating_payload(case_no(i + 1), level)) for i, level in enumerate(levels)]
    assert push(client, window1, *ops) == ["applied"] * len(levels)
    with sessions() as s:
        assert [(f.case_no, f.level) for f in s.scalars(select(FollowUp))] == [(case_no(1), "dissatisfied")]


def test_follow_up_without_a_due_date_is_still_opened(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    """A counter that sent no date (an older client) still leaves a follow-up for the hall."""
    assert push(client, window1, op("rating_given", bad_rating(case_no(1), due=None))) == ["applied"]
    with sessions() as s:
        fu = s.get(FollowUp, case_no(1))
        assert fu is not None and fu.due_date is None and fu.status == "open"


def test_resent_bad_rating_opens_no_second_follow_up(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    first = op("rating_given", bad_rating(case_no(1)))
    assert push(client, window1, first) == ["applied"]
    assert push(client, window1, first) == ["duplicate"]
    # A second rating for the same service (another op id) is a conflict and changes nothing.
    again = op("rating_given", bad_rating(case_no(1), due="2026-03-20"))
    assert push(client, window1, again) == ["conflict"]
    with sessions() as s:
        assert len(s.scalars(select(FollowUp)).all()) == 1
        assert s.get(FollowUp, case_no(1)).due_date == dt.date(2026, 3, 9)  # type: ignore[union-attr]


def test_three_identical_quick_ratings_in_a_row_are_flagged_all_three(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    ops = [
        op("rating_given", timed(case_no(i + 1), "very_satisfied", local(DAY, 10, 10 * i), 2.0))
        for i in range(3)
    ]
    # Two in a row are not yet a burst; the third makes the run, and the run is flagged together.
    assert push(client, window1, *ops[:2]) == ["applied", "applied"]
    with sessions() as s:
        assert [r.burst for r in s.scalars(select(Rating).order_by(Rating.rated_at))] == [False, False]
    assert push(client, window1, ops[2]) == ["applied"]
    with sessions() as s:
        assert [r.burst for r in s.scalars(select(Rating).order_by(Rating.rated_at))] == [True, True, True]


def test_slow_mixed_or_other_window_ratings_are_not_a_burst(
    client: TestClient, window1: Counter, login: Any, sessions: sessionmaker[Session]
) -> None:
    window2 = login(window_no=2, username="clerk2")
    t = [local(DAY, 10, 10 * i) for i in range(6)]
    assert (
        push(
            client,
            window1,
            # quick and identical, but one of them slow: no burst
            op("rating_given", timed(case_no(1), "very_satisfied", t[0], 2)),
            op("rating_given", timed(case_no(2), "very_satisfied", t[1], 40)),
            op("rating_given", timed(case_no(3), "very_satisfied", t[2], 2)),
            # quick but not identical: no burst
            op("rating_given", timed(case_no(4), "satisfied", t[3], 1)),
        )
        == ["applied"] * 4
    )
    # The run continues at another window: bursts are counted per window.
    assert push(
        client, window2, op("rating_given", timed(case_no(1, window_no=2), "satisfied", t[4], 1, window_no=2))
    ) == ["applied"]
    assert push(client, window1, op("rating_given", timed(case_no(5), "very_satisfied", t[5], 1))) == [
        "applied"
    ]
    with sessions() as s:
        assert not any(r.burst for r in s.scalars(select(Rating)))


def test_timeouts_never_make_a_burst(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    ops = [
        op("rating_given", timed(case_no(i + 1), "not_rated", local(DAY, 10, 10 * i), 5)) for i in range(4)
    ]
    assert push(client, window1, *ops) == ["applied"] * 4
    with sessions() as s:
        assert not any(r.burst for r in s.scalars(select(Rating)))


def test_the_counters_own_burst_flag_is_kept(
    client: TestClient, window1: Counter, sessions: sessionmaker[Session]
) -> None:
    """The counter may know of earlier ratings the server has not received yet (offline)."""
    payload = {**timed(case_no(1), "very_satisfied", local(DAY, 10), 1), "burst": True}
    assert push(client, window1, op("rating_given", payload)) == ["applied"]
    with sessions() as s:
        assert s.get(Rating, case_no(1)).burst is True  # type: ignore[union-attr]
