"""Cold start: process start to a usable clerk window (offscreen), against a bare PySide6 window.

Each run is a fresh ``python -m bench.cold_start --child ...`` process, timed by
the parent from just before it spawns the process to the moment the child
reports (the same wall clock). Runs of ours and of the baseline alternate, so
load from other work on the machine hits both alike; the value is the median.

* baseline: import QtWidgets, create the QApplication, show a QMainWindow, let
  the event loop run once.
* ours, done as ``hallclient --config FILE`` does it (ui.main → ui.gui.run_gui):
  load the config, create the app with its stylesheet, show the sign-in window
  (``CounterStartup``) while the services (key, local store, sync engine) and
  the windows' modules are built on a worker thread; the sign-in window shown
  and the event loop run once is **"sign-in window"**. The harness then signs
  in at once, as a clerk would (types the password, clicks), against a real
  hallserver process on loopback, and waits for the clerk window with today's
  queue in it: **"clerk window"**. A sign-in clicked before the services are
  ready waits for them, and that wait stays in the figure. The sign-in call
  itself (the server's argon2 check and the offline verifier hashed locally)
  is timed and taken out of that figure, since a bare window does no such work
  and the clerk waits for it whatever the start-up costs; the note gives the
  total.

The counter's data directory is the one of the run before (a counter starting
its second day), made by one warm-up run that is not counted. Goal: ratio <= 1.5
for both figures.
"""

from __future__ import annotations

import time

T_IMPORTED = time.time()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from concurrent.futures import Future  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RATIO_GOAL = 1.5
CHILD_TIMEOUT_S = 90.0


# -- the children ---------------------------------------------------------------------------


def _report(**marks: float) -> None:
    print("BENCH " + json.dumps(marks), flush=True)


def _bare_child() -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setWindowTitle("bare")
    window.resize(1280, 800)
    window.show()

    def shown() -> None:
        _report(shown=time.time())
        app.quit()

    QTimer.singleShot(0, shown)
    app.exec()
    return 0


def _ours_child(config_path: Path, *, expect_rows: int) -> int:
    import logging

    from hallclient.config import load_config
    from hallclient.logfilter import install_log_filter

    # What ui.main.main does before it starts the GUI.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_filter()
    config = load_config(config_path)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QPushButton

    from ui.gui import CounterStartup, make_qt_app

    marks: dict[str, float] = {"imported": T_IMPORTED}
    app = make_qt_app()
    startup = CounterStartup(app, config)
    startup.start()

    def time_login(built: Future[Any]) -> None:
        # Called on the worker that built the services, before it takes the sign-in queued behind
        # the build: only the sign-in call itself is timed; a wait for the build is start-up.
        marks["services"] = time.time()
        if built.exception() is not None:
            return
        counter = built.result().counter
        real_login = counter.login

        def timed_login(*args: Any, **kwargs: Any) -> Any:
            t0 = time.time()
            try:
                return real_login(*args, **kwargs)
            finally:
                marks["login_s"] = time.time() - t0

        setattr(counter, "login", timed_login)  # noqa: B010 (an instance attribute, over the method)

    startup.building.add_done_callback(time_login)

    def sign_in() -> None:
        marks["sign_in_window"] = time.time()
        login = startup.login
        login.username.setText("clerk1")
        login.password.setText("demo1234")
        button = login.findChild(QPushButton, "loginButton")
        assert button is not None
        button.click()
        poll.start()

    def check() -> None:
        counter_app = startup.counter_app
        mw = None if counter_app is None else counter_app.main_window
        if mw is None or not mw.isVisible() or mw.queue.model.rowCount() < expect_rows:
            if time.time() - marks["sign_in_window"] > CHILD_TIMEOUT_S / 2:
                rows = -1.0 if mw is None else float(mw.queue.model.rowCount())
                _report(**marks, error=1.0, rows=rows)
                app.quit()
            return
        poll.stop()
        marks["clerk_window"] = time.time()
        marks["rows"] = float(mw.queue.model.rowCount())
        _report(**marks)
        app.quit()

    poll = QTimer()
    poll.setInterval(5)
    poll.timeout.connect(check)
    QTimer.singleShot(0, sign_in)
    app.exec()
    if startup.counter_app is not None:
        for w in (startup.counter_app.main_window, startup.counter_app.citizen):
            if w is not None:
                w.close()
    startup.login.close()
    startup.shutdown()
    sys.stdout.flush()
    os._exit(0)  # the process is done; Qt's and Python's teardown is not part of any figure


# -- the parent -----------------------------------------------------------------------------


def _spawn(args: list[str]) -> dict[str, float]:
    t_spawn = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "bench.cold_start", "--child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"cold start child {args[0]} failed ({done.returncode}): {done.stderr[-1500:]}")
    marks: dict[str, float] = json.loads(lines[-1][6:])
    if marks.get("error"):
        raise RuntimeError(f"the clerk window did not fill in time: {marks}; {done.stderr[-1500:]}")
    return {k: (v - t_spawn if k not in ("login_s", "rows") else v) for k, v in marks.items()}


def run(quick: bool) -> list[Any]:
    import shutil
    import tempfile

    from bench.common import offscreen_qt, start_demo_hall, write_counter_config
    from bench.report import median_result

    offscreen_qt()
    runs = 5 if quick else 11
    folder = Path(tempfile.mkdtemp(prefix="bench-cold-start-"))
    hall = start_demo_hall(folder / "server")
    try:
        config = write_counter_config(folder / "counter", hall.url, hall.hall_key, timeout_s=5.0)
        ours_args = ["ours", "--config", str(config), "--rows", "48"]
        _spawn(ours_args)  # the warm-up run: the counter's first day makes its data directory
        _spawn(["bare"])
        bare: list[float] = []
        ours: list[dict[str, float]] = []
        for _ in range(runs):
            bare.append(_spawn(["bare"])["shown"])
            ours.append(_spawn(ours_args))
    finally:
        hall.stop()
        shutil.rmtree(folder, ignore_errors=True)

    def med(key: str) -> float:
        return statistics.median(o[key] for o in ours)

    phases = (
        f"ours, from spawn (medians): interpreter + bench module {med('imported'):.2f} s, services built (behind the "
        f"sign-in window) {med('services'):.2f} s, sign-in window {med('sign_in_window'):.2f} s"
    )
    ms = 1000.0
    return [
        median_result(
            "cold start to sign-in window",
            [o["sign_in_window"] * ms for o in ours],
            [b * ms for b in bare],
            unit="ms median",
            goal=RATIO_GOAL,
            note=f"{runs} runs each, alternating; baseline: a bare QMainWindow shown; {phases}",
        ),
        median_result(
            "cold start to clerk window (sign-in call excluded)",
            [(o["clerk_window"] - o["login_s"]) * ms for o in ours],
            [b * ms for b in bare],
            unit="ms median",
            goal=RATIO_GOAL,
            note=f"with today's queue of {ours[0]['rows']:.0f} shown; total with sign-in "
            f"{med('clerk_window'):.2f} s, of which the sign-in call (server argon2 + local verifier) "
            f"{med('login_s'):.2f} s",
        ),
    ]


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--child", choices=("bare", "ours"), required=True)
    p.add_argument("--config", type=Path)
    p.add_argument("--rows", type=int, default=1)
    a = p.parse_args()
    if a.child == "bare":
        raise SystemExit(_bare_child())
    raise SystemExit(_ours_child(a.config, expect_rows=a.rows))
