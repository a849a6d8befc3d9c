"""Frozen app start against running from source: process start to the sign-in window, offscreen.

The PyInstaller bundle (``make dist`` builds it in dist/hallclient; ``BENCH_BUNDLE``
names another bundle folder or its executable) and the same program from source
(``python -m ui.main``, what the ``hallclient`` script runs) are started the same
way with the same config.toml: each run is timed from just before the process is
spawned to the line ``sign-in window shown`` on its stderr (ui.gui logs it once
the event loop has shown the window), then the process is terminated. Runs of the
two alternate, so load from other work on the machine hits both alike; the value
is the median. The baseline is the source: the ratio says what freezing costs or
saves. One warm-up run of each is not counted (it makes the counter's data
directory and fills the page cache).

No bundle, no figure: the entry is recorded as skipped, with the reason in the
note; no run of the benchmarks builds the bundle (it takes minutes).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.report import Result, median_result

ROOT = Path(__file__).resolve().parent.parent
NAME = "frozen app start to sign-in window (vs. from source)"
UNIT = "ms median"
RATIO_GOAL = 1.5
CHILD_TIMEOUT_S = 60.0
SIGN_IN_SHOWN = b"sign-in window shown"  # ui.gui.SIGN_IN_SHOWN, not imported: no Qt in the parent


def bundle_executable() -> tuple[Path | None, str]:
    """The frozen ``hallclient`` to start, or None and where it was looked for."""
    given = os.environ.get("BENCH_BUNDLE", "")
    where = Path(given) if given else ROOT / "dist" / "hallclient"
    exe = where / "hallclient" if where.is_dir() else where
    if exe.is_file() and os.access(exe, os.X_OK):
        return exe, str(exe)
    return None, str(where)


def time_to_sign_in(command: list[str]) -> float:
    """Seconds from spawning ``command`` to its log line saying the sign-in window is shown."""
    t_spawn = time.monotonic()
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    seen = b""
    try:
        while True:
            left = CHILD_TIMEOUT_S - (time.monotonic() - t_spawn)
            if left <= 0:
                raise RuntimeError(f"no sign-in window within {CHILD_TIMEOUT_S:.0f} s: {seen[-1500:]!r}")
            ready, _, _ = select.select([proc.stderr], [], [], left)
            if not ready:
                continue
            chunk = os.read(proc.stderr.fileno(), 65536)
            if not chunk:
                raise RuntimeError(
                    f"{command[0]} exited ({proc.wait()}) before the sign-in window: {seen[-1500:]!r}"
                )
            seen += chunk
            if SIGN_IN_SHOWN in seen:
                return time.monotonic() - t_spawn
    finally:
        # The figure is taken; the rest of the program's life (the store's build behind the
        # window) is not part of it.
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stderr.close()


def skipped(reason: str) -> Result:
    """No figure: value and baseline empty, the reason in the note (the table shows — and NO)."""
    return Result(NAME, float("nan"), float("nan"), UNIT, RATIO_GOAL, f"SKIPPED: {reason}")


def run(quick: bool) -> list[Result]:
    from bench.common import offscreen_qt, write_counter_config

    exe, where = bundle_executable()
    if exe is None:
        print(f"frozen_start: skipped, no bundle at {where}", file=sys.stderr)
        return [
            skipped(
                f"no PyInstaller bundle at {where}; `make dist` builds one in dist/hallclient "
                "(several minutes, never as part of a benchmark run), BENCH_BUNDLE names another"
            )
        ]
    offscreen_qt()
    runs = 5 if quick else 11
    folder = Path(tempfile.mkdtemp(prefix="bench-frozen-start-"))
    try:
        # Nothing answers at this address; nothing before the sign-in asks the server anything.
        config = write_counter_config(folder / "counter", "http://127.0.0.1:9", "0" * 64)
        frozen = [str(exe), "--config", str(config)]
        source = [sys.executable, "-m", "ui.main", "--config", str(config)]
        time_to_sign_in(frozen)  # warm-up: the data directory, and the bundle's files read once
        time_to_sign_in(source)
        frozen_s: list[float] = []
        source_s: list[float] = []
        for _ in range(runs):
            frozen_s.append(time_to_sign_in(frozen))
            source_s.append(time_to_sign_in(source))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ms = 1000.0
    # PyInstaller 6's onedir layout: the executable beside _internal/ (its size, for the note).
    internal = exe.parent / "_internal"
    files = [exe, *internal.rglob("*")] if internal.is_dir() else [exe]
    size = sum(f.lstat().st_size for f in files if f.is_file() and not f.is_symlink())
    return [
        median_result(
            NAME,
            [s * ms for s in frozen_s],
            [s * ms for s in source_s],
            unit=UNIT,
            goal=RATIO_GOAL,
            note=f"{runs} runs each, alternating, from spawn to the log line of the shown sign-in window; "
            f"baseline: `python -m ui.main` from source, same config.toml; bundle {exe} "
            f"({size / 1e6:.0f} MB)",
        )
    ]


if __name__ == "__main__":
    for r in run(quick=True):
        print(r.as_json())
