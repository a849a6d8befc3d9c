"""``make bench``: run every benchmark, write bench/results.json, print the table.

``BENCH_FULL=1`` uses the full sizes (1M bookings); the default quick mode keeps
the run to a few minutes on a 2-core machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench import lookup, server_load
from bench.report import write


def main() -> int:
    quick = os.environ.get("BENCH_FULL") != "1"
    results = [*lookup.run(quick), *server_load.run(quick)]
    print(write(results, Path(__file__).with_name("results.json")))
    return 0


raise SystemExit(main())
