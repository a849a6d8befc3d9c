"""``hallserver seed --bookings N``: a large, realistic set of bookings for server benchmarks.

Written with SQLAlchemy Core ``insert()`` executemany in chunks of ~10,000 rows,
one transaction per chunk; no ORM objects. The applicants have valid resident ID
numbers (real region codes, plausible birth dates, computed check digits).

Deliberately **no change_log rows**: every booking written through the normal
path records a change that ``/sync/pull`` hands to the counters. A million
benchmark bookings would make every counter pull a million changes. Bulk data
is for measuring the server (queries, indexes, exports), not for syncing to
counters; counters see these bookings only through ``GET /bookings``.

Re-running for the same hall and day replaces that day's bulk bookings (their
codes share a prefix); other bookings are left alone.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select

from hallclient import wire
from hallclient.validation import resident_id_check_digit
from hallserver.models import Booking, CatalogItem, Hall
from hallserver.seed import GIVEN, REGIONS, SLOTS, SURNAMES, correction_review, passed_review, rejected_review

CHUNK = 10_000
PROGRESS_EVERY = 100_000
CODE_MAX = 32  # bookings.code is VARCHAR(32)

Progress = Callable[[int, int, float], None]


class BulkSeedError(Exception):
    """The bulk seed cannot run (unknown hall, empty catalog, code too long)."""


@dataclass(frozen=True)
class BulkSummary:
    hall: str
    date: dt.date
    bookings: int
    replaced: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.bookings / self.seconds if self.seconds > 0 else float("inf")


def code_prefix(hall: str, day: dt.date) -> str:
    return f"BK-{hall}-{day:%Y%m%d}-"


def _pre_reviews(item: wire.ServiceItem, when: dt.datetime) -> list[tuple[float, list[dict[str, Any]]]]:
    """The pre-review variants of one item, as (cumulative probability, choices).

    Same mix as the demo: 12 % none, 68 % passed, 15 % one material to correct, 5 % rejected.
    Built once per item: validating a pydantic model per row would dominate the run time.
    """
    none = wire.PreReview(result=wire.PreReviewResult.NONE)
    passed = passed_review(item, when)
    corrections = [correction_review(item, bad, when) for bad in item.materials] or [passed]
    rejected = rejected_review(when)

    def dump(*reviews: wire.PreReview) -> list[dict[str, Any]]:
        return [r.model_dump(mode="json") for r in reviews]

    return [(0.12, dump(none)), (0.80, dump(passed)), (0.95, dump(*corrections)), (1.0, dump(rejected))]


def _birth_dates(day: dt.date) -> list[str]:
    """Every birth date from 1950 to 2004 (``YYYYMMDD``), none after ``day``: as in the demo."""
    first, last = dt.date(1950, 1, 1), min(dt.date(2004, 12, 31), day)
    days = max(1, (last - first).days)
    return [f"{first + dt.timedelta(days=d):%Y%m%d}" for d in range(days)]


def seed_bookings(
    engine: Engine,
    hall: str,
    day: dt.date,
    count: int,
    *,
    chunk: int = CHUNK,
    progress: Progress | None = None,
    progress_every: int = PROGRESS_EVERY,
) -> BulkSummary:
    """Write ``count`` bookings for ``hall`` on ``day``; ``progress(done, total, seconds)`` every so often."""
    if count < 0:
        raise BulkSeedError("预约数量不能为负数")
    width = max(7, len(str(count)))
    prefix = code_prefix(hall, day)
    if len(prefix) + width > CODE_MAX:
        raise BulkSeedError(f"大厅编码 {hall} 太长：预约编号 {prefix}{'0' * width} 超过 {CODE_MAX} 个字符")
    with engine.connect() as conn:
        if conn.scalar(select(Hall.code).where(Hall.code == hall)) is None:
            raise BulkSeedError(f"大厅编码 {hall} 不存在；可先运行 hallserver seed --demo")
        items = [
            wire.ServiceItem.model_validate(body)
            for body in conn.scalars(select(CatalogItem.body).order_by(CatalogItem.code))
        ]
    if not items:
        raise BulkSeedError("事项目录为空，无法生成预约；可先运行 hallserver seed --demo")

    reviewed = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(16, 30)).astimezone()
    variants = [(item.code, _pre_reviews(item, reviewed)) for item in items]
    rng = random.Random(f"{hall}/{day.isoformat()}")
    stmt = insert(Booking)  # Core INSERT on the bookings table (executed on a Connection, not a Session)
    started = time.perf_counter()
    with engine.begin() as conn:
        # Re-running replaces the bulk bookings of that hall and day; the demo's stay.
        replaced = conn.execute(
            delete(Booking).where(
                Booking.hall_code == hall,
                Booking.date == day,
                Booking.code.startswith(prefix, autoescape=True),
            )
        ).rowcount
    # rng.random() and indexing instead of choice()/randrange(): a third of the run time at 1M rows.
    r = rng.random
    births = _birth_dates(day)
    n_slots, n_variants, n_births = len(SLOTS), len(variants), len(births)
    n_surnames, n_given, n_regions = len(SURNAMES), len(GIVEN), len(REGIONS)
    done = 0
    next_report = progress_every
    while done < count:
        rows = []
        for n in range(done, min(done + chunk, count)):
            item_code, reviews = variants[int(r() * n_variants)]
            roll = r()
            choices = next(c for p, c in reviews if roll < p)
            first17 = f"{REGIONS[int(r() * n_regions)]}{births[int(r() * n_births)]}{int(r() * 1000):03d}"
            rows.append(
                {
                    "code": f"{prefix}{n + 1:0{width}d}",
                    "hall_code": hall,
                    "date": day,
                    "slot": SLOTS[n * n_slots // count],
                    "item_code": item_code,
                    "applicant": {
                        "name": SURNAMES[int(r() * n_surnames)] + GIVEN[int(r() * n_given)],
                        "id_number": first17 + resident_id_check_digit(first17),
                        "phone": f"1{'3456789'[int(r() * 7)]}{int(r() * 1e9):09d}",
                    },
                    "pre_review": choices[int(r() * len(choices))],
                    "status": "booked",
                }
            )
        # One transaction per chunk: executemany of a plain INSERT, no RETURNING, no change_log.
        with engine.begin() as conn:
            conn.execute(stmt, rows)
        done += len(rows)
        if progress is not None and (done >= next_report or done == count):
            progress(done, count, time.perf_counter() - started)
            while next_report <= done:
                next_report += progress_every
    return BulkSummary(hall, day, count, replaced, time.perf_counter() - started)
