"""``make bench``: run every benchmark, write bench/results.json, print the table.

    python -m bench [--quick | --full] [--only NAME[,NAME...]] [--list]

Quick mode (the default, what ``make bench`` runs) keeps the whole run well
under 10 minutes on a 2-core machine; ``--full`` (or ``BENCH_FULL=1``) runs the
long versions (1M bookings, longer load and more repetitions). ``--only`` runs
some of them and updates their entries in results.json, keeping the others.
A benchmark that crashes is reported as failed; the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
from collections.abc import Callable

from bench.report import RESULTS, Result, failed, machine, write

# name -> module with run(quick) -> list[Result]; in the order they run.
BENCHMARKS: dict[str, str] = {
    "lookup": "bench.lookup",
    "receipt_pdf": "bench.receipt_pdf",
    "cold_start": "bench.cold_start",
    "frozen_start": "bench.frozen_start",
    "ui_stall": "bench.ui_stall",
    "sync_throughput": "bench.sync_throughput",
    "memory_day": "bench.memory_day",
    "server_load": "bench.server_load",
}


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="the short versions (default)")
    mode.add_argument("--full", action="store_true", help="the long versions")
    p.add_argument("--only", default="", help="comma-separated benchmark names: " + ", ".join(BENCHMARKS))
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    quick = not (args.full or os.environ.get("BENCH_FULL") == "1")
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    meta = machine("quick" if quick else "full")
    t0 = time.monotonic()
    results: list[Result] = []
    for name in names:
        started = time.monotonic()
        print(f"== {name} ...", file=sys.stderr, flush=True)
        try:
            run: Callable[[bool], list[Result]] = importlib.import_module(BENCHMARKS[name]).run
            results += run(quick)
        except Exception as exc:
            traceback.print_exc()
            results.append(failed(name, "", 0.0, f"{type(exc).__name__}: {exc}"))
        print(f"== {name} done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    meta["seconds"] = round(time.monotonic() - t0, 1)
    meta["benchmarks"] = names
    print(write(results, RESULTS, meta=meta, merge=bool(args.only)))
    print(f"\n{len(results)} figures in {meta['seconds']:.0f} s ({meta['mode']} mode) -> {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
