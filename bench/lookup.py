"""Booking lookup in the local store against raw sqlite3 on the same file and index."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.report import Result
from hallclient import wire
from hallclient.crypto import FieldCipher
from hallclient.store import Store


def _bookings(start: int, count: int, day: dt.date) -> list[wire.Booking]:
    review = wire.PreReview(result=wire.PreReviewResult.PASSED)
    return [
        wire.Booking(
            code=f"YY{i:09d}",
            hall_code="DEMO",
            date=day,
            slot="09:00-09:30",
            item_code="ITEM",
            applicant=wire.Applicant(
                name="张三", id_number=f"11010519491231{i % 10000:04d}", phone="13800000000"
            ),
            pre_review=review,
        )
        for i in range(start, start + count)
    ]


def _per_call_us(fn: Callable[[str], object], keys: list[str]) -> list[float]:
    times = []
    for k in keys:
        t0 = time.perf_counter()
        fn(k)
        times.append((time.perf_counter() - t0) * 1e6)
    return times


def run(quick: bool) -> list[Result]:
    n = 100_000 if quick else 1_000_000
    folder = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    store = Store(folder / "counter.sqlite", FieldCipher(bytes(32)))
    day = dt.date(2026, 11, 25)
    batch = 20_000
    for start in range(0, n, batch):
        store.upsert_bookings(_bookings(start, min(batch, n - start), day))
    rng = random.Random(1)
    keys = [f"YY{rng.randrange(n):09d}" for _ in range(3000)]
    raw = sqlite3.connect(folder / "counter.sqlite")

    def baseline(code: str) -> None:
        raw.execute("select * from bookings where code = ?", (code,)).fetchone()

    ours = _per_call_us(lambda c: store.booking(c, "DEMO"), keys)
    base = _per_call_us(baseline, keys)
    raw.close()
    store.close()
    p99 = statistics.quantiles(ours, n=100)[98]
    return [
        Result(
            f"lookup by booking code ({n:,})",
            statistics.median(ours),
            statistics.median(base),
            "us median",
            3.0,
            f"p99 {p99:.0f} us; ours decrypts the applicant and builds the wire model",
        )
    ]
