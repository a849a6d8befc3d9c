"""Booking lookup in the local store against raw sqlite3 on the same file and index.

The store holds 1,000,000 bookings in ``--full`` mode (the size the goal is
stated for; a 716 MB file, 1.5-3 minutes to write) and 200,000 in quick mode,
spread over a year, two per citizen, with the demo catalogue's real pre-review
JSON. Filling the file through ``Store.upsert_bookings`` (one ORM merge per row)
would take about 9 minutes for a million, so the first
``STORE_WRITTEN`` bookings go through the Store and the rest are written with
raw sqlite3 in exactly the Store's encoding (the same cipher, blind index, date
format); the bench checks that rows written both ways read back identically
through the Store before it measures anything.

Measured per call, on random keys: ``Store.booking(code)`` and
``Store.find_bookings_by_id_number(id)`` (what the counter's lookup calls),
against ``SELECT * FROM bookings WHERE code = ?`` / ``WHERE id_index = ?`` on a
raw sqlite3 connection to the same file (the blind index value precomputed:
the baseline is the database's own cost). Goal: median ratio <= 3, and p99 of
ours < 2 ms.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.report import VALUE, Result
from hallclient import wire
from hallclient.crypto import FieldCipher
from hallclient.localdb import SCHEMA_VERSION
from hallclient.store import Store
from hallclient.validation import resident_id_check_digit
from hallserver.demo_catalog import DEMO_CATALOG
from hallserver.seed import passed_review

BOOKINGS = 1_000_000  # --full
QUICK_BOOKINGS = 200_000
PER_CITIZEN = 2  # bookings per ID number
STORE_WRITTEN = 2_000  # written through Store.upsert_bookings; the rest in the same encoding, raw
RATIO_GOAL = 3.0
P99_BUDGET_US = 2000.0
FIRST_DAY = dt.date(2026, 1, 5)
DAYS = 365
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟"]
SLOTS = [
    f"{h:02d}:{m:02d}-{h + (m + 30) // 60:02d}:{(m + 30) % 60:02d}" for h in range(9, 17) for m in (0, 30)
]
REVIEWED_AT = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PRE_REVIEWS = {item.code: passed_review(item, REVIEWED_AT) for item in DEMO_CATALOG}


def code_of(i: int) -> str:
    return f"YY{i:09d}"


def id_number_of(person: int) -> str:
    """A well-formed, distinct 18-digit resident ID per person number (< 1,000,000)."""
    region = 110101 + person // 100_000
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=(person // 1000) % 100)
    first17 = f"{region:06d}{birth:%Y%m%d}{person % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


def booking_of(i: int) -> wire.Booking:
    item = DEMO_CATALOG[i % len(DEMO_CATALOG)]
    person = i // PER_CITIZEN
    return wire.Booking(
        code=code_of(i),
        hall_code="DEMO",
        date=FIRST_DAY + dt.timedelta(days=i % DAYS),
        slot=SLOTS[i % len(SLOTS)],
        item_code=item.code,
        applicant=wire.Applicant(
            name=SURNAMES[person % len(SURNAMES)] + GIVEN[person % len(GIVEN)],
            id_number=id_number_of(person),
            phone=f"13{person % 1_000_000_000:09d}",
        ),
        pre_review=PRE_REVIEWS[item.code],
    )


def _raw_rows(cipher: FieldCipher, start: int, stop: int) -> Iterator[tuple[object, ...]]:
    """Rows exactly as Store.upsert_bookings writes them (checked by ``_check_encoding``)."""
    review_json = {code: r.model_dump_json() for code, r in PRE_REVIEWS.items()}
    for i in range(start, stop):
        b = booking_of(i)
        yield (
            b.code,
            b.date.isoformat(),
            b.slot,
            b.item_code,
            b.status.value,
            cipher.encrypt(b.applicant.model_dump_json()),
            cipher.blind_index(b.applicant.id_number),
            review_json[b.item_code],
        )


def fill(path: Path, cipher: FieldCipher, n: int) -> None:
    store = Store(path, cipher)
    try:
        store.upsert_bookings([booking_of(i) for i in range(min(STORE_WRITTEN, n))])
    finally:
        store.close()
    con = sqlite3.connect(path)
    try:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version != SCHEMA_VERSION:
            raise RuntimeError(
                f"the Store wrote schema version {version}, the bench expects {SCHEMA_VERSION}"
            )
        con.execute("PRAGMA synchronous=OFF")  # setup only; nothing here is measured
        con.executemany(
            "INSERT INTO bookings (code, date, slot, item_code, status, applicant_enc, id_index, pre_review)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            _raw_rows(cipher, STORE_WRITTEN, n),
        )
        con.commit()
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("ANALYZE")
        con.commit()
    finally:
        con.close()


def _check_encoding(store: Store, n: int) -> None:
    """Rows written by the Store and written raw read back through the Store as the same bookings."""
    con = sqlite3.connect(store.path)
    try:
        cols = "typeof(code), date, typeof(applicant_enc), length(id_index), typeof(pre_review)"
        store_row = con.execute(f"SELECT {cols} FROM bookings WHERE code = ?", (code_of(0),)).fetchone()
        raw_row = con.execute(f"SELECT {cols} FROM bookings WHERE code = ?", (code_of(n - 1),)).fetchone()
    finally:
        con.close()
    if store_row[0::2] != raw_row[0::2] or len(store_row[1]) != len(raw_row[1]):
        raise RuntimeError(f"raw rows differ in encoding from the Store's: {store_row} vs {raw_row}")
    for i in (0, STORE_WRITTEN - 1, STORE_WRITTEN, n // 2, n - 1):
        if i >= n:
            continue
        want = booking_of(i)
        got = store.booking(want.code, "DEMO")
        if got != want:
            raise RuntimeError(f"booking {want.code} does not read back through the Store: {got}")
        found = store.find_bookings_by_id_number(want.applicant.id_number, "DEMO")
        if want not in found:
            raise RuntimeError(f"booking {want.code} not found by its ID number through the Store")


def _per_call_us(fn: Callable[[str], object], keys: list[str]) -> list[float]:
    times = []
    for k in keys:
        t0 = time.perf_counter()
        fn(k)
        times.append((time.perf_counter() - t0) * 1e6)
    return times


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def run(quick: bool) -> list[Result]:
    n = QUICK_BOOKINGS if quick else BOOKINGS
    samples = 3000 if quick else 20000
    folder = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    try:
        cipher = FieldCipher(bytes(range(32)))
        t0 = time.perf_counter()
        fill(folder / "counter.sqlite", cipher, n)
        fill_s = time.perf_counter() - t0
        store = Store(folder / "counter.sqlite", cipher)
        raw = sqlite3.connect(folder / "counter.sqlite")
        try:
            _check_encoding(store, n)
            rng = random.Random(1)
            codes = [code_of(rng.randrange(n)) for _ in range(samples)]
            ids = [id_number_of(rng.randrange(n // PER_CITIZEN)) for _ in range(samples)]
            index_of = {i: cipher.blind_index(i) for i in ids}

            def raw_code(code: str) -> None:
                raw.execute("SELECT * FROM bookings WHERE code = ?", (code,)).fetchone()

            def raw_id(id_number: str) -> None:
                raw.execute("SELECT * FROM bookings WHERE id_index = ?", (index_of[id_number],)).fetchall()

            # Warm both paths (page cache, statement caches) before timing; then interleave rounds.
            for fn, keys in ((lambda c: store.booking(c, "DEMO"), codes[:200]), (raw_code, codes[:200])):
                _per_call_us(fn, keys)
            ours_code: list[float] = []
            base_code: list[float] = []
            ours_id: list[float] = []
            base_id: list[float] = []
            rounds = 3
            for r in range(rounds):
                part = slice(r * samples // rounds, (r + 1) * samples // rounds)
                ours_code += _per_call_us(lambda c: store.booking(c, "DEMO"), codes[part])
                base_code += _per_call_us(raw_code, codes[part])
                ours_id += _per_call_us(lambda i: store.find_bookings_by_id_number(i, "DEMO"), ids[part])
                base_id += _per_call_us(raw_id, ids[part])
        finally:
            raw.close()
            store.close()
        size_mb = (folder / "counter.sqlite").stat().st_size / 1e6
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    label = f"{n:,}"
    common = f"{samples} random keys; file {size_mb:.0f} MB, filled in {fill_s:.0f} s"
    out = []
    for what, ours, base, baseline_sql in (
        ("booking code", ours_code, base_code, "WHERE code = ?"),
        ("ID number (blind index)", ours_id, base_id, "WHERE id_index = ? (index value precomputed)"),
    ):
        p50, p99 = statistics.median(ours), _p99(ours)
        out.append(
            Result(
                f"lookup by {what} ({label})",
                p50,
                statistics.median(base),
                "µs median",
                RATIO_GOAL,
                f"ours p50 {p50:.0f} µs p99 {p99:.0f} µs; raw sqlite3 {baseline_sql} p50 "
                f"{statistics.median(base):.0f} µs p99 {_p99(base):.0f} µs; {common}",
            )
        )
        out.append(
            Result(
                f"lookup by {what} p99 ({label})",
                p99,
                _p99(base),
                "µs p99",
                P99_BUDGET_US,
                f"goal: p99 < {P99_BUDGET_US / 1000:g} ms; baseline is raw sqlite3's p99",
                goal_on=VALUE,
            )
        )
    return out
