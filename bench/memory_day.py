"""Memory: RSS growth of a counter over a simulated day of 1,000 tickets.

A child process runs the real core (``build_services``: store, sync worker
thread, counter) against a hallserver process holding the demo day plus 1,000
walk-in tickets, and serves every ticket as the clerk window would drive it:
call the next citizen (online), start serving, tick the materials, accept,
render the receipt and archive it (the PDF file, its hash and its outbox op),
record the citizen's rating, and refresh what the clerk window shows after
each action (today's queue, the overdue list). The sync worker pushes in the
background every 0.5 s and whenever an action kicks it.

RSS is read from /proc after ``WARM_UP`` tickets (every cache warm: fonts,
styles, SQLAlchemy's compiled statements, HTTP connection) and again at the
end, after a garbage collection each time; the value is the growth. Baseline:
the RSS at the end of the warm-up (the ratio is growth as a share of it). Goal:
growth < 20 MB (absolute). Quick mode serves 100 tickets and reports the
growth scaled to 1,000 (from the slope after warm-up, also shown in the note);
``--full`` serves all 1,000.

``python -m bench.memory_day --child CONFIG --tickets N --trace`` adds a
tracemalloc comparison (slow) naming the lines that kept the most memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import rss_mb
from bench.report import VALUE, Result

ROOT = Path(__file__).resolve().parent.parent
DAY = 1000
QUICK_TICKETS = 100
WARM_UP = 30
GOAL_MB = 20.0
SAMPLE_EVERY = 50


def _applicant(rng: random.Random, today: dt.date) -> Any:
    from hallclient import wire
    from hallserver.seed import GIVEN, SURNAMES, resident_id

    return wire.Applicant(
        name=rng.choice(SURNAMES) + rng.choice(GIVEN),
        id_number=resident_id(rng, today),
        phone=f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}",
    )


def _serve_day(config_path: Path, tickets: int, trace: bool) -> dict[str, Any]:
    from hallclient.config import load_config
    from hallclient.domain import MaterialCheck
    from hallclient.services import build_services
    from hallclient.wire import RatingLevel
    from printing.documents import render_paper
    from printing.fonts import warm_up

    config = load_config(config_path)
    s = build_services(config)
    counter = s.counter
    warm_up()
    counter.login("clerk1", "demo1234")
    counter.refresh()
    s.sync.sync_once()
    s.sync_worker.start()
    rng = random.Random(7)
    levels = [
        RatingLevel.VERY_SATISFIED,
        RatingLevel.SATISFIED,
        RatingLevel.VERY_SATISFIED,
        RatingLevel.BASIC,
    ]
    samples: list[tuple[int, float]] = []
    snapshot = None
    t0 = time.perf_counter()
    served = 0
    try:
        for n in range(tickets):
            if n == WARM_UP:
                gc.collect()
                samples.append((n, rss_mb()))
                t0 = time.perf_counter()
                if trace:
                    import tracemalloc

                    tracemalloc.start(12)
                    snapshot = tracemalloc.take_snapshot()
            elif n > WARM_UP and n % SAMPLE_EVERY == 0:
                gc.collect()
                samples.append((n, rss_mb()))
            ticket = counter.call_next()
            if ticket is None:
                raise RuntimeError(f"the queue ran dry after {n} tickets")
            ctx = counter.service_context(ticket)
            counter.start_serving(ticket)
            assert ctx.item is not None, f"ticket {ticket.ticket_no} has no item"
            checks = {m.code: MaterialCheck.ORIGINAL_SEEN for m in ctx.item.materials}
            # A walk-in citizen's data is typed in by the clerk; a booked one's comes with the booking.
            walk_in = None if ctx.booking is not None else _applicant(rng, counter.today())
            outcome = counter.accept(ctx, checks, applicant=walk_in)
            counter.archive_document(outcome, render_paper(outcome.paper))
            counter.queue()
            counter.record_rating(
                outcome.case_no, levels[n % len(levels)], decided_at=outcome.payload.decided_at
            )
            counter.queue()
            counter.overdue()
            served += 1
        seconds = time.perf_counter() - t0
        gc.collect()
        samples.append((tickets, rss_mb()))
        top: list[str] = []
        if snapshot is not None:
            import tracemalloc

            diff = tracemalloc.take_snapshot().compare_to(snapshot, "traceback")
            for stat in diff[:8]:
                frames = [f"{Path(f.filename).name}:{f.lineno}" for f in stat.traceback[-5:]]
                top.append(
                    f"{stat.size_diff / 1e6:+.2f} MB {stat.count_diff:+d} blocks at {' < '.join(frames)}"
                )
        s.sync_worker.kick()
        deadline = time.monotonic() + 60
        while s.store.pending_count() and time.monotonic() < deadline:
            time.sleep(0.2)
        pending = s.store.pending_count()
    finally:
        s.close()
    return {
        "samples": samples,
        "served": served,
        "seconds_after_warm_up": seconds,
        "pending_at_end": pending,
        "trace": top,
    }


def _child(config: Path, tickets: int, trace: bool = False) -> dict[str, Any]:
    args = [sys.executable, "-m", "bench.memory_day", "--child", str(config), "--tickets", str(tickets)]
    done = subprocess.run(
        [*args, *(["--trace"] if trace else [])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"memory_day child failed ({done.returncode}): {done.stderr[-2500:]}")
    result: dict[str, Any] = json.loads(lines[-1][6:])
    return result


def _slope_mb_per_ticket(samples: list[tuple[int, float]]) -> float:
    """Least-squares slope of RSS over tickets served, after the warm-up."""
    xs = [float(n) for n, _ in samples]
    ys = [mb for _, mb in samples]
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def run(quick: bool) -> list[Result]:
    import shutil
    import tempfile

    from bench.common import start_demo_hall, write_counter_config

    tickets = QUICK_TICKETS if quick else DAY
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    hall = start_demo_hall(folder / "server", tickets=DAY + 100)
    try:
        config = write_counter_config(
            folder / "counter", hall.url, hall.hall_key, timeout_s=5.0, interval_s=0.5
        )
        day = _child(config, tickets)
    finally:
        hall.stop()
        shutil.rmtree(folder, ignore_errors=True)
    samples = [(int(n), float(mb)) for n, mb in day["samples"]]
    warm = samples[0][1]
    measured = samples[-1][1] - warm
    slope = _slope_mb_per_ticket(samples)
    served_after = samples[-1][0] - samples[0][0]
    growth = measured if tickets >= DAY else slope * (DAY - WARM_UP)
    trend = ", ".join(f"{n}: {mb:.0f}" for n, mb in samples)
    how = (
        f"measured over {served_after} tickets"
        if tickets >= DAY
        else f"{measured:.1f} MB measured over {served_after} tickets, scaled to {DAY - WARM_UP} by the slope"
    )
    return [
        Result(
            f"memory growth over a {DAY:,}-ticket day",
            growth,
            warm,
            "MB RSS growth (baseline: RSS after warm-up)",
            GOAL_MB,
            f"{how}; slope {slope * 1000:.1f} KB/ticket; RSS (MB) by ticket: {trend}; "
            f"{day['seconds_after_warm_up'] / max(served_after, 1) * 1000:.0f} ms per ticket; "
            f"ops still pending at the end {day['pending_at_end']}",
            goal_on=VALUE,
        )
    ]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--child", type=Path, required=True, help="the counter's config.toml")
    p.add_argument("--tickets", type=int, default=DAY)
    p.add_argument("--trace", action="store_true")
    a = p.parse_args()
    result = _serve_day(a.child, a.tickets, a.trace)
    print("BENCH " + json.dumps(result, ensure_ascii=False), flush=True)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    raise SystemExit(main())
