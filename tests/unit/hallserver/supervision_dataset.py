"""A month of one hall, written straight into the test database, whose figures were counted by hand.

March 2026 in the demo hall (windows 1-3; clerk1, clerk2, clerk3), seen on 2026-04-01.
Every expected number in the supervision tests comes from the table below, not from
the code under test:

Cases (decision day in March unless said):
  W1 clerk1 item A: 11 accepted (+1 accepted on 02-27, promised 03-04, picked up 03-04);
     of the 12 promised in March, 11 picked up on or before the promise, 1 (promised 03-20)
     never picked up -> overdue. 1 correction C1 (ID X, 03-05), returned by the 03-10
     acceptance of ID X.
  W2 clerk2 item B: 3 accepted (03-03 for ID Z; 2 on 03-10) all picked up on time, 4 即办件
     completed 03-10. Corrections C2 (ID Y, 03-09, deadline 03-16, never returned: ID Y's later
     case is for item A) and C3 (ID Z, booking BK3, 03-30, deadline 04-08, not returned; ID Z's
     03-03 case came before it).
  W3 clerk3 item A: accepted promised 03-31 (booking BK2, picked up 03-31), promised 04-03 (not
     picked up: due soon), promised 04-10 (picked up early, 03-25: due in April, not March);
     correction C4 (booking BK2, 03-11) returned by the BK2 acceptance of 03-20 (another ID);
     1 rejection (ID Y, item A, 03-12) decided by clerk1 standing in at window 3.
  => March: accepted 17, corrected 4, rejected 1, completed 4; due 20, on time 19 (办结率 95.0 %),
     overdue 1; corrections not returned 2.

Tickets, all on 2026-03-10 (seconds):
  W1: T1 walk-in waits 600, handled 900; T2 booked (slot later than arrival) waits 0, handled
      1200; T3 walk-in waits 2400, no-show; T4 booked (arrived after its slot) waits 1200,
      handled 600.
  W2: T5..T10 walk-ins wait 60, 120, …, 360, each handled in 300.
  => served 9, no-shows 1; waits avg 546, p90 1200 (9th of 10); handling avg 500.

Ratings in March (by rating day): W1 非常满意 6, 满意 2, 基本满意 1, 不满意 1, 未评价 2;
  W2 非常满意 5 (3 of them a burst), 满意 1, 非常不满意 1, 未评价 2; W3 满意 2, 基本满意 1,
  未评价 1 (one 满意 is for the clerk1 rejection).
  => 25 records, 20 rated, 18 good (好评率 90.0 %), 未评价 20.0 %, 差评 2, bursts 3.
  One more 不满意 on 02-27 (W1), whose follow-up is closed: February only.
Follow-ups in March: W1's (due 03-20, open: overdue), W2's (closed with a result) => 整改率 50 %.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hallclient import wire
from hallserver.models import Case, Clerk, FollowUp, Rating, Ticket
from hallserver.seed import DEMO_HALL

TODAY = dt.date(2026, 4, 1)
MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
ITEM_A = "11330100MB0001001A4000117001"
ITEM_B = "11330100MB0002002A4000111004"
ITEM_A_NAME = "个体工商户设立登记"
CITIZENS = {
    "X": ("张晓明", "110105199003072316", "13800138001"),
    "Y": ("李红梅", "310104198512120028", "13800138002"),
    "Z": ("王建军", "330106197707070011", "13800138003"),
    "W": ("赵丽", "440305199901010022", "13800138004"),
    "V": ("孙强", "510107198808080033", "13800138005"),
}


def at(day: dt.date | str, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """A wall-clock time on the hall's (server's local) calendar, aware."""
    d = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return dt.datetime.combine(d, dt.time(hour, minute, second)).astimezone()


@dataclass
class Dataset:
    clerks: dict[str, int] = field(default_factory=dict)  # username -> id
    cases: dict[str, str] = field(default_factory=dict)  # label -> case_no
    seq: int = 0


def _body(
    ds: Dataset,
    case_no: str,
    *,
    window: int,
    clerk: str,
    item: str,
    decision: str,
    decided: dt.datetime,
    citizen: str,
    promised: str | None = None,
    deadline: str | None = None,
    booking: str | None = None,
    ticket: str | None = None,
) -> dict[str, object]:
    name, id_number, phone = CITIZENS[citizen]
    return wire.CaseDecidedPayload(
        case_no=case_no,
        ticket_no=ticket,
        booking_code=booking,
        item_code=item,
        item_version=1,
        decision=wire.Decision(decision),
        window_no=window,
        clerk_id=ds.clerks[clerk],
        decided_at=decided,
        promised_date=dt.date.fromisoformat(promised) if promised else None,
        materials=[],
        applicant=wire.Applicant(name=name, id_number=id_number, phone=phone),
        correction_deadline=dt.date.fromisoformat(deadline) if deadline else None,
    ).model_dump(mode="json")


def add_case(
    s: Session,
    ds: Dataset,
    label: str,
    *,
    window: int,
    clerk: str,
    item: str,
    decision: str,
    decided: dt.datetime,
    citizen: str = "V",
    promised: str | None = None,
    picked_up: dt.datetime | None = None,
    deadline: str | None = None,
    booking: str | None = None,
    ticket: str | None = None,
) -> str:
    ds.seq += 1
    case_no = f"{DEMO_HALL}-{decided:%Y%m%d}-{window:02d}-{ds.seq:04d}"
    body = _body(
        ds,
        case_no,
        window=window,
        clerk=clerk,
        item=item,
        decision=decision,
        decided=decided,
        citizen=citizen,
        promised=promised,
        deadline=deadline,
        booking=booking,
        ticket=ticket,
    )
    s.add(
        Case(
            case_no=case_no,
            hall_code=DEMO_HALL,
            window_no=window,
            booking_code=booking,
            ticket_no=ticket,
            item_code=item,
            decision=decision,
            decided_at=decided,
            body=body,
            device_id=f"PC-{window:02d}",
            picked_up_at=picked_up,
            picked_up_by="本人" if picked_up else "",
        )
    )
    ds.cases[label] = case_no
    return case_no


def add_ticket(
    s: Session,
    ticket_no: str,
    *,
    window: int | None,
    item: str,
    issued: dt.datetime,
    due: dt.datetime,
    called: dt.datetime | None,
    state: str,
    booking: str | None = None,
) -> None:
    s.add(
        Ticket(
            hall_code=DEMO_HALL,
            date=issued.date(),
            ticket_no=ticket_no,
            booking_code=booking,
            item_code=item,
            state=state,
            window_no=window,
            issued_at=issued,
            due_at=due,
            called_at=called,
        )
    )


def add_rating(
    s: Session,
    case_no: str,
    level: str,
    *,
    window: int,
    rated: dt.datetime,
    burst: bool = False,
    reasons: tuple[str, ...] = (),
    comment: str = "",
) -> None:
    s.add(
        Rating(
            case_no=case_no,
            hall_code=DEMO_HALL,
            window_no=window,
            level=level,
            reasons=list(reasons),
            comment=comment,
            decided_at=rated - dt.timedelta(minutes=1),
            rated_at=rated,
            burst=burst,
        )
    )


def add_follow_up(
    s: Session,
    case_no: str,
    level: str,
    *,
    window: int,
    due: str,
    created: dt.datetime,
    closed: dt.datetime | None = None,
    outcome: str = "",
) -> None:
    s.flush()  # the rating first
    s.add(
        FollowUp(
            case_no=case_no,
            hall_code=DEMO_HALL,
            window_no=window,
            level=level,
            due_date=dt.date.fromisoformat(due),
            status="closed" if closed else "open",
            created_at=created,
            closed_at=closed,
            outcome=outcome,
        )
    )


def build(s: Session) -> Dataset:
    """Write the month described in the module docstring; returns the case numbers by label."""
    # The seeded demo day's 48 waiting tickets are not part of this month.
    s.execute(delete(Ticket).where(Ticket.hall_code == DEMO_HALL))
    ds = Dataset(clerks={u: i for u, i in s.execute(select(Clerk.username, Clerk.id)).tuples()})
    day10 = "2026-03-10"

    # -- window 1, clerk1, item A ---------------------------------------------------------
    add_case(
        s,
        ds,
        "w1-feb",
        window=1,
        clerk="clerk1",
        item=ITEM_A,
        decision="accept",
        decided=at("2026-02-27", 10),
        promised="2026-03-04",
        picked_up=at("2026-03-04", 15),
    )
    add_case(
        s,
        ds,
        "c1",
        window=1,
        clerk="clerk1",
        item=ITEM_A,
        decision="correct",
        decided=at("2026-03-05", 9),
        citizen="X",
        deadline="2026-03-12",
    )
    # The three ticket cases of 03-10: T1 (citizen X: returns C1), T2, T4.
    add_case(
        s,
        ds,
        "t1",
        window=1,
        clerk="clerk1",
        item=ITEM_A,
        decision="accept",
        decided=at(day10, 9, 25),
        citizen="X",
        promised="2026-03-13",
        picked_up=at("2026-03-13", 10),
        ticket="A001",
    )
    add_case(
        s,
        ds,
        "t2",
        window=1,
        clerk="clerk1",
        item=ITEM_A,
        decision="accept",
        decided=at(day10, 9, 50),
        promised="2026-03-13",
        picked_up=at("2026-03-12", 10),
        booking="BK-T2",
        ticket="B002",
    )
    add_case(
        s,
        ds,
        "t4",
        window=1,
        clerk="clerk1",
        item=ITEM_A,
        decision="accept",
        decided=at(day10, 10, 30),
        promised="2026-03-13",
        picked_up=at("2026-03-13", 16),
        booking="BK-T4",
        ticket="B004",
    )
    # Seven more acceptances, 03-16..03-20; the one promised 03-20 is never picked up.
    for n in range(7):
        decided = at(dt.date(2026, 3, 11) + dt.timedelta(days=n % 3), 14)
        promised = dt.date(2026, 3, 16) + dt.timedelta(days=min(n, 4))
        never = n == 6
        add_case(
            s,
            ds,
            f"w1-{n}",
            window=1,
            clerk="clerk1",
            item=ITEM_A,
            decision="accept",
            decided=decided,
            promised=promised.isoformat(),
            picked_up=None if never else at(promised, 11),
        )
    ds.cases["w1-overdue"] = ds.cases["w1-6"]
    # One more acceptance kept exactly on its promised day (03-31 at 17:59).
    add_case(
        s,
        ds,
        "w1-edge",
        window=1,
        clerk="clerk1",
        item=ITEM_A,
        decision="accept",
        decided=at("2026-03-24", 9),
        promised="2026-03-31",
        picked_up=at("2026-03-31", 17, 59),
    )

    # -- window 2, clerk2, item B ---------------------------------------------------------
    add_case(
        s,
        ds,
        "w2-z",
        window=2,
        clerk="clerk2",
        item=ITEM_B,
        decision="accept",
        decided=at("2026-03-03", 10),
        citizen="Z",
        promised="2026-03-06",
        picked_up=at("2026-03-06", 9),
    )
    for n, (decision, ticket) in enumerate(
        [("accept", "A005"), ("accept", "A006"), *[("complete", f"A{k:03d}") for k in range(7, 11)]]
    ):
        called = at(day10, 11, 0) + dt.timedelta(minutes=10 * n)
        add_case(
            s,
            ds,
            f"t{n + 5}",
            window=2,
            clerk="clerk2",
            item=ITEM_B,
            decision=decision,
            decided=called + dt.timedelta(seconds=300),
            promised="2026-03-13" if decision == "accept" else None,
            picked_up=at("2026-03-13", 9) if decision == "accept" else None,
            ticket=ticket,
        )
    add_case(
        s,
        ds,
        "c2",
        window=2,
        clerk="clerk2",
        item=ITEM_B,
        decision="correct",
        decided=at("2026-03-09", 10),
        citizen="Y",
        deadline="2026-03-16",
    )
    add_case(
        s,
        ds,
        "c3",
        window=2,
        clerk="clerk2",
        item=ITEM_B,
        decision="correct",
        decided=at("2026-03-30", 10),
        citizen="Z",
        deadline="2026-04-08",
        booking="BK3",
    )

    # -- window 3, clerk3 (and clerk1 once), item A -----------------------------------------
    add_case(
        s,
        ds,
        "c4",
        window=3,
        clerk="clerk3",
        item=ITEM_A,
        decision="correct",
        decided=at("2026-03-11", 10),
        citizen="W",
        deadline="2026-03-18",
        booking="BK2",
    )
    add_case(
        s,
        ds,
        "w3-reject",
        window=3,
        clerk="clerk1",
        item=ITEM_A,
        decision="reject",
        decided=at("2026-03-12", 10),
        citizen="Y",
    )
    add_case(
        s,
        ds,
        "w3-bk2",
        window=3,
        clerk="clerk3",
        item=ITEM_A,
        decision="accept",
        decided=at("2026-03-20", 10),
        citizen="V",
        promised="2026-03-31",
        picked_up=at("2026-03-31", 10),
        booking="BK2",
    )
    add_case(
        s,
        ds,
        "w3-soon",
        window=3,
        clerk="clerk3",
        item=ITEM_A,
        decision="accept",
        decided=at("2026-03-30", 10),
        promised="2026-04-03",
    )
    add_case(
        s,
        ds,
        "w3-april",
        window=3,
        clerk="clerk3",
        item=ITEM_A,
        decision="accept",
        decided=at("2026-03-24", 10),
        promised="2026-04-10",
        picked_up=at("2026-03-25", 10),
    )

    # -- tickets of 03-10 ----------------------------------------------------------------------
    d = dt.date(2026, 3, 10)
    add_ticket(
        s, "A001", window=1, item=ITEM_A, issued=at(d, 9), due=at(d, 9), called=at(d, 9, 10), state="done"
    )
    add_ticket(
        s,
        "B002",
        window=1,
        item=ITEM_A,
        issued=at(d, 8, 45),
        due=at(d, 9, 30),
        called=at(d, 9, 30),
        state="done",
        booking="BK-T2",
    )
    add_ticket(
        s,
        "A003",
        window=1,
        item=ITEM_A,
        issued=at(d, 9, 5),
        due=at(d, 9, 5),
        called=at(d, 9, 45),
        state="no_show",
    )
    add_ticket(
        s,
        "B004",
        window=1,
        item=ITEM_A,
        issued=at(d, 10),
        due=at(d, 9, 30),
        called=at(d, 10, 20),
        state="done",
        booking="BK-T4",
    )
    for n in range(6):
        called = at(d, 11, 0) + dt.timedelta(minutes=10 * n)
        issued = called - dt.timedelta(seconds=60 * (n + 1))
        add_ticket(
            s, f"A{n + 5:03d}", window=2, item=ITEM_B, issued=issued, due=issued, called=called, state="done"
        )
    # Taken but never called: counts nowhere.
    add_ticket(
        s, "A011", window=None, item=ITEM_B, issued=at(d, 16), due=at(d, 16), called=None, state="waiting"
    )

    # -- ratings ---------------------------------------------------------------------------------
    w1_cases = ["c1", "t1", "t2", "t4", *[f"w1-{n}" for n in range(7)], "w1-edge"]  # 12 in March
    w1_levels = ["very_satisfied"] * 6 + ["satisfied"] * 2 + ["basically_satisfied", "dissatisfied"]
    w1_levels += ["not_rated"] * 2
    for i, (label, level) in enumerate(zip(w1_cases, w1_levels, strict=True)):
        add_rating(s, ds.cases[label], level, window=1, rated=at("2026-03-13", 9) + dt.timedelta(minutes=i))
    add_follow_up(
        s,
        ds.cases[w1_cases[9]],
        "dissatisfied",
        window=1,
        due="2026-03-20",
        created=at("2026-03-13", 9, 9),
    )
    ds.cases["fu-open"] = ds.cases[w1_cases[9]]
    w2_cases = ["w2-z", "t5", "t6", "t7", "t8", "t9", "t10", "c2", "c3"]
    w2_levels = ["very_satisfied"] * 5 + ["satisfied", "very_dissatisfied"] + ["not_rated"] * 2
    for i, (label, level) in enumerate(zip(w2_cases, w2_levels, strict=True)):
        add_rating(
            s,
            ds.cases[label],
            level,
            window=2,
            rated=at("2026-03-20", 11) + dt.timedelta(minutes=i),
            burst=i in (1, 2, 3),
            reasons=("办理速度慢", "等候时间太长") if level == "very_dissatisfied" else (),
            comment="等了很久" if level == "very_dissatisfied" else "",
        )
    add_follow_up(
        s,
        ds.cases["t10"],
        "very_dissatisfied",
        window=2,
        due="2026-03-27",
        created=at("2026-03-20", 11, 6),
        closed=at("2026-03-25", 15),
        outcome="已约谈窗口人员，增开午间窗口",
    )
    ds.cases["fu-closed"] = ds.cases["t10"]
    w3 = [("w3-reject", "satisfied"), ("w3-bk2", "satisfied"), ("w3-april", "basically_satisfied")]
    w3.append(("c4", "not_rated"))
    for i, (label, level) in enumerate(w3):
        add_rating(s, ds.cases[label], level, window=3, rated=at("2026-03-26", 14) + dt.timedelta(minutes=i))
    # February: the 02-27 acceptance's 不满意, closed.
    add_rating(s, ds.cases["w1-feb"], "dissatisfied", window=1, rated=at("2026-02-27", 10, 2))
    add_follow_up(
        s,
        ds.cases["w1-feb"],
        "dissatisfied",
        window=1,
        due="2026-03-06",
        created=at("2026-02-27", 10, 2),
        closed=at("2026-03-05", 10),
        outcome="已电话回访",
    )
    s.commit()
    return ds
