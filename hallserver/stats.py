"""Supervision figures: every number a hall supervisor reads, defined once, here.

docs/supervision.md says the same in words; the tests check each figure against a
data set whose answers were counted by hand. In short, per hall, window, clerk or
item and per day, week or month:

- **Queue** (by the ticket's day): tickets served (state ``done``), no-shows
  (``no_show``), the waiting time of every called ticket (from the later of taking
  the number and the booked slot, to the first call) as mean and 90th percentile,
  and the handling time (from the first call to the ticket's last decision).
- **Cases** (by the decision's day): accepted / corrected / rejected / completed
  (即办件 办结 on the spot).
- **办结率** (by the promised date): of the cases *due* in the period, the share
  completed by their promised date. An accepted case is completed when its result
  is handed over (出件, ``picked_up_at``); it is due once that happened or once its
  promised date has passed, so a case still within its promise counts nowhere yet.
  A 即办件 is due and completed on its decision day. ``overdue = due - on time``.
- **补正未返回** (by the correction's day): 补正 decisions with no later case for the
  same item and the same applicant (ID number, or booking code).
- **Ratings** (by the rating's day): counts per level; 未评价 share = not rated / all
  rating records; 好评率 = (非常满意 + 满意 + 基本满意) / rated, where *rated*
  excludes 未评价; 差评 = 不满意 + 非常不满意; bursts flagged.
- **整改** (by the rating's day): follow-ups, open (not closed), overdue (not closed
  and past the due date), closed; 整改率 = closed / follow-ups.

A day is the hall's day: the server's local calendar day, as for ``/stats`` and
the exports. Every "now" (overdue, settled) is relative to ``today``, passed in.
Rates are fractions, ``None`` when the denominator is zero; durations are seconds.

Rows are read with plain queries and grouped in Python: a local day of a UTC
instant is not portable SQL, and one hall's month is a few thousand rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from hallclient import wire
from hallclient.masking import mask_name
from hallserver.models import Case as CaseRow
from hallserver.models import CatalogItem, Clerk, FollowUp, Rating, Ticket

L = wire.RatingLevel
LEVELS: tuple[str, ...] = tuple(level.value for level in L)
SATISFIED_LEVELS = frozenset({L.VERY_SATISFIED.value, L.SATISFIED.value, L.BASIC.value})
BAD_LEVELS = frozenset({L.DISSATISFIED.value, L.VERY_DISSATISFIED.value})
P90 = 0.9
DEFAULT_HORIZON_DAYS = 2  # as the counter's overdue_warning_days


# -- the definitions, as plain functions ------------------------------------------------


def local_day(t: dt.datetime) -> dt.date:
    """The hall's calendar day of an instant (the server's local zone; naive means UTC)."""
    aware = t if t.tzinfo else t.replace(tzinfo=dt.UTC)
    return aware.astimezone().date()


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start 00:00, end+1 00:00) in the server's local zone, as aware datetimes."""
    lo = dt.datetime.combine(start, dt.time.min).astimezone()
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min).astimezone()
    return lo, hi


def period_start(day: dt.date, period: wire.FigurePeriod) -> dt.date | None:
    """The first day of the period ``day`` falls in; None for the whole range.

    Weeks are ISO weeks (Monday to Sunday), named by their Monday; months by their 1st.
    """
    if period is wire.FigurePeriod.DAY:
        return day
    if period is wire.FigurePeriod.WEEK:
        return day - dt.timedelta(days=day.weekday())
    if period is wire.FigurePeriod.MONTH:
        return day.replace(day=1)
    return None


def ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float = P90) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``q`` of all values at or below it.

    Always one of the values (no interpolation): p90 of 10 waits is the 9th shortest.
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def waiting_seconds(
    issued_at: dt.datetime, due_at: dt.datetime, called_at: dt.datetime | None
) -> float | None:
    """From when the citizen was due (number taken, or booked slot if later) to the first call.

    A citizen who came early for a booked slot is not waiting before the slot; one
    who came late waits from taking the number. Never negative; None if never called.
    """
    if called_at is None:
        return None
    return max(0.0, (called_at - max(issued_at, due_at)).total_seconds())


def handling_seconds(called_at: dt.datetime | None, decided_at: dt.datetime | None) -> float | None:
    """From the first call to the decision taken for that ticket (the last, if several)."""
    if called_at is None or decided_at is None:
        return None
    return max(0.0, (decided_at - called_at).total_seconds())


def promise_kept(promised: dt.date, completed_at: dt.datetime | None) -> bool:
    """Completed (result handed over) on or before the promised day."""
    return completed_at is not None and local_day(completed_at) <= promised


def is_due(promised: dt.date, completed_at: dt.datetime | None, today: dt.date) -> bool:
    """Settled either way: completed already, or the promised day is over."""
    return completed_at is not None or promised < today


def completion_rate(due: int, on_time: int) -> float | None:
    """办结率: cases completed by their promised date / cases due."""
    return ratio(on_time, due)


def rated_count(levels: Mapping[str, int]) -> int:
    """Ratings that give a level: 未评价 is not a rating of the service."""
    return sum(n for level, n in levels.items() if level != L.NOT_RATED.value)


def good_rate(levels: Mapping[str, int]) -> float | None:
    """好评率: (非常满意 + 满意 + 基本满意) / rated."""
    return ratio(sum(levels.get(level, 0) for level in SATISFIED_LEVELS), rated_count(levels))


def not_rated_share(levels: Mapping[str, int]) -> float | None:
    """未评价 / every rating record (the citizen let the rating screen time out)."""
    return ratio(levels.get(L.NOT_RATED.value, 0), sum(levels.values()))


def bad_count(levels: Mapping[str, int]) -> int:
    """差评: 不满意 + 非常不满意."""
    return sum(levels.get(level, 0) for level in BAD_LEVELS)


def follow_up_overdue(status: str, due_date: dt.date | None, today: dt.date) -> bool:
    """Not closed and past its due date (a due date of today is still in time)."""
    return status != "closed" and due_date is not None and due_date < today


def rectification_rate(follow_ups: int, closed: int) -> float | None:
    """整改率: closed follow-ups / follow-ups."""
    return ratio(closed, follow_ups)


# -- facts: one row each, with where it belongs ------------------------------------------


@dataclass(frozen=True)
class Where:
    """The day a fact is counted on and the window, clerk and item it belongs to."""

    day: dt.date
    window_no: int | None
    clerk_id: int | None
    item_code: str | None


@dataclass
class _Acc:
    served: int = 0
    no_shows: int = 0
    waits: list[float] = field(default_factory=list)
    handles: list[float] = field(default_factory=list)
    decisions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    due: int = 0
    on_time: int = 0
    not_returned: int = 0
    levels: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    bursts: int = 0
    follow_ups: int = 0
    fu_overdue: int = 0
    fu_closed: int = 0

    def figures(self) -> wire.Figures:
        levels = {level: self.levels.get(level, 0) for level in LEVELS}
        return wire.Figures(
            tickets_served=self.served,
            no_shows=self.no_shows,
            waits_measured=len(self.waits),
            wait_avg_s=mean(self.waits),
            wait_p90_s=percentile(self.waits),
            handled_measured=len(self.handles),
            handle_avg_s=mean(self.handles),
            accepted=self.decisions.get(wire.Decision.ACCEPT.value, 0),
            corrected=self.decisions.get(wire.Decision.CORRECT.value, 0),
            rejected=self.decisions.get(wire.Decision.REJECT.value, 0),
            completed=self.decisions.get(wire.Decision.COMPLETE.value, 0),
            due=self.due,
            completed_on_time=self.on_time,
            overdue=self.due - self.on_time,
            completion_rate=completion_rate(self.due, self.on_time),
            corrections_not_returned=self.not_returned,
            ratings=levels,
            rated=rated_count(levels),
            not_rated=levels[L.NOT_RATED.value],
            not_rated_share=not_rated_share(levels),
            good_rate=good_rate(levels),
            bad=bad_count(levels),
            bursts=self.bursts,
            follow_ups=self.follow_ups,
            follow_ups_open=self.follow_ups - self.fu_closed,
            follow_ups_overdue=self.fu_overdue,
            follow_ups_closed=self.fu_closed,
            rectification_rate=rectification_rate(self.follow_ups, self.fu_closed),
        )


@dataclass(frozen=True)
class TicketFact:
    where: Where
    state: str
    wait_s: float | None
    handle_s: float | None

    def add_to(self, acc: _Acc) -> None:
        acc.served += self.state == wire.TicketState.DONE.value
        acc.no_shows += self.state == wire.TicketState.NO_SHOW.value
        if self.wait_s is not None:
            acc.waits.append(self.wait_s)
        if self.handle_s is not None:
            acc.handles.append(self.handle_s)


@dataclass(frozen=True)
class DecisionFact:
    where: Where
    decision: str

    def add_to(self, acc: _Acc) -> None:
        acc.decisions[self.decision] += 1


@dataclass(frozen=True)
class DueFact:
    """A case due on ``where.day`` (its promised date), kept or not."""

    where: Where
    on_time: bool

    def add_to(self, acc: _Acc) -> None:
        acc.due += 1
        acc.on_time += self.on_time


@dataclass(frozen=True)
class CorrectionFact:
    where: Where
    returned: bool

    def add_to(self, acc: _Acc) -> None:
        acc.not_returned += not self.returned


@dataclass(frozen=True)
class RatingFact:
    where: Where
    level: str
    burst: bool

    def add_to(self, acc: _Acc) -> None:
        acc.levels[self.level] += 1
        acc.bursts += self.burst


@dataclass(frozen=True)
class FollowUpFact:
    where: Where
    closed: bool
    overdue: bool

    def add_to(self, acc: _Acc) -> None:
        acc.follow_ups += 1
        acc.fu_closed += self.closed
        acc.fu_overdue += self.overdue


Fact = TicketFact | DecisionFact | DueFact | CorrectionFact | RatingFact | FollowUpFact


@dataclass(frozen=True)
class Filters:
    window_no: int | None = None
    item_code: str | None = None
    clerk_id: int | None = None

    def keep(self, w: Where) -> bool:
        return (
            (self.window_no is None or w.window_no == self.window_no)
            and (self.item_code is None or w.item_code == self.item_code)
            and (self.clerk_id is None or w.clerk_id == self.clerk_id)
        )


# -- reading the facts ------------------------------------------------------------------

_CLERK_ID = CaseRow.body["clerk_id"].as_integer()
_PROMISED = CaseRow.body["promised_date"].as_string()
_DEADLINE = CaseRow.body["correction_deadline"].as_string()
_ID_NUMBER = CaseRow.body[("applicant", "id_number")].as_string()
_APPLICANT = CaseRow.body[("applicant", "name")].as_string()


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _ticket_facts(s: Session, hall: str, start: dt.date, end: dt.date) -> list[Fact]:
    """Tickets of the days in range; each linked to the case decided for it that day, if any."""
    lo, hi = day_bounds(start, end)
    decided: dict[tuple[dt.date, str], tuple[dt.datetime, int | None]] = {}
    for ticket_no, at, clerk in s.execute(
        select(CaseRow.ticket_no, CaseRow.decided_at, _CLERK_ID)
        .where(
            CaseRow.hall_code == hall,
            CaseRow.ticket_no.is_not(None),
            CaseRow.decided_at >= lo,
            CaseRow.decided_at < hi,
        )
        .order_by(CaseRow.decided_at)
    ).tuples():
        decided[(local_day(at), str(ticket_no))] = (at, clerk)  # the last decision wins
    out: list[Fact] = []
    for t in s.scalars(
        select(Ticket).where(Ticket.hall_code == hall, Ticket.date >= start, Ticket.date <= end)
    ):
        if t.called_at is None and t.state not in (
            wire.TicketState.DONE.value,
            wire.TicketState.NO_SHOW.value,
        ):
            continue  # still waiting (or transferred before any call): nothing to count yet
        at, clerk = decided.get((t.date, t.ticket_no), (None, None))
        out.append(
            TicketFact(
                Where(t.date, t.window_no, clerk, t.item_code),
                t.state,
                waiting_seconds(t.issued_at, t.due_at, t.called_at),
                handling_seconds(t.called_at, at),
            )
        )
    return out


def _decision_facts(s: Session, hall: str, start: dt.date, end: dt.date) -> list[Fact]:
    lo, hi = day_bounds(start, end)
    rows = s.execute(
        select(CaseRow.decided_at, CaseRow.window_no, _CLERK_ID, CaseRow.item_code, CaseRow.decision).where(
            CaseRow.hall_code == hall, CaseRow.decided_at >= lo, CaseRow.decided_at < hi
        )
    ).tuples()
    return [DecisionFact(Where(local_day(at), w, c, i), d) for at, w, c, i, d in rows]


def _due_facts(s: Session, hall: str, start: dt.date, end: dt.date, today: dt.date) -> list[Fact]:
    """Accepted cases promised for a day in range, and 即办件 completed in range, once settled."""
    out: list[Fact] = []
    accepted = s.execute(
        select(CaseRow.window_no, _CLERK_ID, CaseRow.item_code, _PROMISED, CaseRow.picked_up_at).where(
            CaseRow.hall_code == hall,
            CaseRow.decision == wire.Decision.ACCEPT.value,
            # ISO dates compare as text on both databases.
            _PROMISED >= start.isoformat(),
            _PROMISED <= end.isoformat(),
        )
    ).tuples()
    for window_no, clerk, item, promised_text, picked_up_at in accepted:
        promised = _date(promised_text)
        if promised is None or not start <= promised <= end:
            continue
        if is_due(promised, picked_up_at, today):
            out.append(DueFact(Where(promised, window_no, clerk, item), promise_kept(promised, picked_up_at)))
    lo, hi = day_bounds(start, end)
    instant = s.execute(
        select(CaseRow.decided_at, CaseRow.window_no, _CLERK_ID, CaseRow.item_code).where(
            CaseRow.hall_code == hall,
            CaseRow.decision == wire.Decision.COMPLETE.value,
            CaseRow.decided_at >= lo,
            CaseRow.decided_at < hi,
        )
    ).tuples()
    out += [DueFact(Where(local_day(at), w, c, i), True) for at, w, c, i in instant]
    return out


@dataclass(frozen=True)
class _Correction:
    case_no: str
    decided_at: dt.datetime
    window_no: int
    clerk_id: int | None
    item_code: str
    booking_code: str | None
    id_number: str | None
    deadline: dt.date | None
    applicant: str


def _corrections(
    s: Session, hall: str, lo: dt.datetime | None = None, hi: dt.datetime | None = None
) -> list[_Correction]:
    q = select(
        CaseRow.case_no,
        CaseRow.decided_at,
        CaseRow.window_no,
        _CLERK_ID,
        CaseRow.item_code,
        CaseRow.booking_code,
        _ID_NUMBER,
        _DEADLINE,
        _APPLICANT,
    ).where(CaseRow.hall_code == hall, CaseRow.decision == wire.Decision.CORRECT.value)
    if lo is not None:
        q = q.where(CaseRow.decided_at >= lo)
    if hi is not None:
        q = q.where(CaseRow.decided_at < hi)
    return [
        _Correction(no, at, w, c, i, b, idn, _date(deadline), name or "")
        for no, at, w, c, i, b, idn, deadline, name in s.execute(q.order_by(CaseRow.decided_at)).tuples()
    ]


def returned_corrections(s: Session, hall: str, corrections: Sequence[_Correction]) -> set[str]:
    """The corrections the citizen came back for: a later case, same item, same ID number or booking."""
    if not corrections:
        return set()
    earliest = min(c.decided_at for c in corrections)
    items = sorted({c.item_code for c in corrections})
    latest_by_id: dict[tuple[str, str], dt.datetime] = {}
    latest_by_booking: dict[tuple[str, str], dt.datetime] = {}
    for item, booking, id_number, at in s.execute(
        select(CaseRow.item_code, CaseRow.booking_code, _ID_NUMBER, CaseRow.decided_at).where(
            CaseRow.hall_code == hall, CaseRow.item_code.in_(items), CaseRow.decided_at > earliest
        )
    ).tuples():
        for index, key in ((latest_by_id, id_number), (latest_by_booking, booking)):
            if key:
                seen = index.get((item, key))
                if seen is None or at > seen:
                    index[(item, key)] = at
    out: set[str] = set()
    for c in corrections:
        for index, key in ((latest_by_id, c.id_number), (latest_by_booking, c.booking_code)):
            later = index.get((c.item_code, key)) if key else None
            if later is not None and later > c.decided_at:
                out.add(c.case_no)
    return out


def _correction_facts(s: Session, hall: str, start: dt.date, end: dt.date) -> list[Fact]:
    corrections = _corrections(s, hall, *day_bounds(start, end))
    returned = returned_corrections(s, hall, corrections)
    return [
        CorrectionFact(
            Where(local_day(c.decided_at), c.window_no, c.clerk_id, c.item_code), c.case_no in returned
        )
        for c in corrections
    ]


def _rating_facts(s: Session, hall: str, start: dt.date, end: dt.date) -> list[Fact]:
    lo, hi = day_bounds(start, end)
    rows = s.execute(
        select(Rating.rated_at, Rating.window_no, _CLERK_ID, CaseRow.item_code, Rating.level, Rating.burst)
        .outerjoin(CaseRow, CaseRow.case_no == Rating.case_no)
        .where(Rating.hall_code == hall, Rating.rated_at >= lo, Rating.rated_at < hi)
    ).tuples()
    return [RatingFact(Where(local_day(at), w, c, i), level, bool(b)) for at, w, c, i, level, b in rows]


def _follow_up_facts(s: Session, hall: str, start: dt.date, end: dt.date, today: dt.date) -> list[Fact]:
    lo, hi = day_bounds(start, end)
    rows = s.execute(
        select(
            Rating.rated_at,
            FollowUp.window_no,
            _CLERK_ID,
            CaseRow.item_code,
            FollowUp.status,
            FollowUp.due_date,
        )
        .join(Rating, Rating.case_no == FollowUp.case_no)
        .outerjoin(CaseRow, CaseRow.case_no == FollowUp.case_no)
        .where(FollowUp.hall_code == hall, Rating.rated_at >= lo, Rating.rated_at < hi)
    ).tuples()
    return [
        FollowUpFact(Where(local_day(at), w, c, i), status == "closed", follow_up_overdue(status, due, today))
        for at, w, c, i, status, due in rows
    ]


def facts(s: Session, hall: str, start: dt.date, end: dt.date, today: dt.date) -> list[Fact]:
    """Every fact the figures of [start, end] are made of, for one hall."""
    return [
        *_ticket_facts(s, hall, start, end),
        *_decision_facts(s, hall, start, end),
        *_due_facts(s, hall, start, end, today),
        *_correction_facts(s, hall, start, end),
        *_rating_facts(s, hall, start, end),
        *_follow_up_facts(s, hall, start, end, today),
    ]


# -- grouping ---------------------------------------------------------------------------


def _group_key(w: Where, by: wire.FigureGroup) -> int | str | None:
    if by is wire.FigureGroup.WINDOW:
        return w.window_no
    if by is wire.FigureGroup.CLERK:
        return w.clerk_id
    if by is wire.FigureGroup.ITEM:
        return w.item_code
    return None


def clerk_names(s: Session, hall: str) -> dict[int, str]:
    return {i: n for i, n in s.execute(select(Clerk.id, Clerk.name).where(Clerk.hall_code == hall)).tuples()}


def item_names(s: Session) -> dict[str, str]:
    names: dict[str, str] = {}
    for code, body in s.execute(select(CatalogItem.code, CatalogItem.body)).tuples():
        name = body.get("name") if isinstance(body, dict) else None
        names[code] = str(name) if name else ""
    return names


def aggregate(
    all_facts: Iterable[Fact],
    by: wire.FigureGroup,
    period: wire.FigurePeriod,
    filters: Filters = Filters(),
) -> tuple[list[tuple[dt.date | None, int | str | None, wire.Figures]], wire.Figures]:
    """Group the facts: (period start, group key, figures) rows in order, and the total."""
    cells: dict[tuple[dt.date | None, int | str | None], _Acc] = defaultdict(_Acc)
    total = _Acc()
    for f in all_facts:
        if not filters.keep(f.where):
            continue
        f.add_to(cells[(period_start(f.where.day, period), _group_key(f.where, by))])
        f.add_to(total)

    def order(k: tuple[dt.date | None, int | str | None]) -> tuple[dt.date, bool, str]:
        day, key = k
        # Unattributed (None) last; windows sort as numbers.
        return (day or dt.date.min, key is None, f"{key:09d}" if isinstance(key, int) else str(key or ""))

    rows = [(day, key, cells[(day, key)].figures()) for day, key in sorted(cells, key=order)]
    return rows, total.figures()


def figures(
    s: Session,
    hall: str,
    start: dt.date,
    end: dt.date,
    *,
    today: dt.date,
    by: wire.FigureGroup = wire.FigureGroup.HALL,
    period: wire.FigurePeriod = wire.FigurePeriod.TOTAL,
    filters: Filters = Filters(),
) -> wire.FiguresResponse:
    """The figures of one hall over [start, end] (local days), grouped and by period."""
    rows, total = aggregate(facts(s, hall, start, end, today), by, period, filters)
    clerks = clerk_names(s, hall) if by is wire.FigureGroup.CLERK else {}
    items = item_names(s) if by is wire.FigureGroup.ITEM else {}
    out: list[wire.Figures] = []
    for day, key, fig in rows:
        fig.period_start = day
        if by is wire.FigureGroup.WINDOW and isinstance(key, int):
            fig.window_no = key
        elif by is wire.FigureGroup.CLERK and isinstance(key, int):
            fig.clerk_id = key
            fig.clerk_name = clerks.get(key, "")
        elif by is wire.FigureGroup.ITEM and isinstance(key, str):
            fig.item_code = key
            fig.item_name = items.get(key, "")
        out.append(fig)
    return wire.FiguresResponse(
        hall_code=hall,
        date_from=start,
        date_to=end,
        as_of=today,
        by=by,
        period=period,
        window_no=filters.window_no,
        item_code=filters.item_code,
        clerk_id=filters.clerk_id,
        rows=out,
        total=total,
    )


# -- warnings: 超时预警 and 补正预警, as of today -------------------------------------------


class _Days:
    """Working days between two dates, with the holiday calendar when one is installed."""

    def __init__(self) -> None:
        from hallclient.workdays import WorkCalendar

        self.calendar = WorkCalendar()

    def between(self, a: dt.date, b: dt.date) -> int:
        from hallclient.workdays import CalendarMissing

        try:
            return self.calendar.working_days_between(a, b)
        except CalendarMissing:
            return (b - a).days  # no calendar for that year: calendar days, never a silent guess at holidays


def overdue_warnings(
    s: Session,
    hall: str,
    today: dt.date,
    *,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    filters: Filters = Filters(),
) -> list[wire.CaseWarning]:
    """超时预警: accepted cases whose result is not handed over, past or within ``horizon_days``
    working days of their promised date; the most overdue first."""
    days = _Days()
    clerks = clerk_names(s, hall)
    items = item_names(s)
    out: list[wire.CaseWarning] = []
    rows = s.execute(
        select(
            CaseRow.case_no,
            CaseRow.decided_at,
            CaseRow.window_no,
            _CLERK_ID,
            CaseRow.item_code,
            _PROMISED,
            _APPLICANT,
        ).where(
            CaseRow.hall_code == hall,
            CaseRow.decision == wire.Decision.ACCEPT.value,
            CaseRow.picked_up_at.is_(None),
        )
    ).tuples()
    for case_no, at, window_no, clerk, item, promised_text, applicant in rows:
        promised = _date(promised_text)
        if promised is None or not filters.keep(Where(today, window_no, clerk, item)):
            continue
        left = days.between(today, promised)
        if promised < today:
            kind = wire.WarningKind.OVERDUE
        elif left <= horizon_days:
            kind = wire.WarningKind.DUE_SOON
        else:
            continue
        out.append(
            wire.CaseWarning(
                case_no=case_no,
                kind=kind,
                window_no=window_no,
                item_code=item,
                item_name=items.get(item, ""),
                clerk_id=clerk,
                clerk_name=clerks.get(clerk, "") if clerk is not None else "",
                decided_at=at,
                date=promised,
                working_days_left=left,
                applicant=mask_name(applicant or ""),
            )
        )
    out.sort(key=lambda w: (w.date or dt.date.max, w.case_no))
    return out


def correction_warnings(
    s: Session,
    hall: str,
    today: dt.date,
    *,
    filters: Filters = Filters(),
) -> list[wire.CaseWarning]:
    """补正预警: corrections the citizen has not come back for; late ones (deadline passed) first."""
    days = _Days()
    clerks = clerk_names(s, hall)
    items = item_names(s)
    corrections = _corrections(s, hall)
    returned = returned_corrections(s, hall, corrections)
    out: list[wire.CaseWarning] = []
    for c in corrections:
        if c.case_no in returned or not filters.keep(Where(today, c.window_no, c.clerk_id, c.item_code)):
            continue
        late = c.deadline is not None and c.deadline < today
        out.append(
            wire.CaseWarning(
                case_no=c.case_no,
                kind=wire.WarningKind.CORRECTION_LATE if late else wire.WarningKind.CORRECTION_OPEN,
                window_no=c.window_no,
                item_code=c.item_code,
                item_name=items.get(c.item_code, ""),
                clerk_id=c.clerk_id,
                clerk_name=clerks.get(c.clerk_id, "") if c.clerk_id is not None else "",
                decided_at=c.decided_at,
                date=c.deadline,
                working_days_left=days.between(today, c.deadline) if c.deadline else None,
                applicant=mask_name(c.applicant),
            )
        )
    out.sort(key=lambda w: (w.kind is not wire.WarningKind.CORRECTION_LATE, w.date or dt.date.max, w.case_no))
    return out
