"""bench/results.json and the printed tables: the format only (no timing is ever asserted in tests)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # bench/ is run from the checkout, not installed
    sys.path.insert(0, str(ROOT))

from bench.report import (  # noqa: E402
    HIGHER,
    MACHINE_KEY,
    VALUE,
    Result,
    failed,
    machine,
    markdown,
    median_result,
    table,
    write,
)

FIELDS = {"name", "value", "baseline", "ratio", "goal", "goal_on", "better", "met", "unit", "note", "runs"}


def test_a_ratio_goal_holds_value_over_baseline() -> None:
    r = Result("cold start", 300.0, 200.0, "ms median", 1.5)
    assert r.ratio == 1.5
    assert r.met
    assert not Result("cold start", 301.0, 200.0, "ms median", 1.5).met


def test_an_absolute_goal_holds_the_value_and_shows_the_ratio_for_information() -> None:
    stall = Result("ui stall", 40.0, 10.0, "ms max gap", 50.0, goal_on=VALUE)
    assert stall.ratio == 4.0
    assert stall.met
    assert not Result("ui stall", 60.0, 100.0, "ms max gap", 50.0, goal_on=VALUE).met


def test_higher_is_better_goals() -> None:
    assert Result("sync", 6000.0, 9000.0, "ops/s", 5000.0, better=HIGHER, goal_on=VALUE).met
    assert not Result("sync", 4000.0, 9000.0, "ops/s", 5000.0, better=HIGHER, goal_on=VALUE).met
    assert Result("sync vs raw", 900.0, 1000.0, "ops/s", 0.8, better=HIGHER).met


def test_zero_over_zero_meets_a_zero_goal_and_a_crash_meets_nothing() -> None:
    assert Result("errors", 0.0, 0.0, "errors / requests", 0.0).met
    assert Result("errors", 0.0, 1914.0, "errors / requests", 0.0).met
    assert not Result("errors", 1.0, 1914.0, "errors / requests", 0.0).met
    crashed = failed("memory_day", "MB", 20.0, "RuntimeError: server gone", goal_on=VALUE)
    assert math.isnan(crashed.value)
    assert not crashed.met
    assert crashed.note.startswith("FAILED: RuntimeError")


def test_unknown_directions_are_refused() -> None:
    with pytest.raises(ValueError):
        Result("x", 1.0, 1.0, "ms", 1.0, better="smaller")
    with pytest.raises(ValueError):
        Result("x", 1.0, 1.0, "ms", 1.0, goal_on="baseline")


def test_median_result_keeps_the_runs_for_the_spread() -> None:
    r = median_result("cold start", [3.0, 1.0, 2.0], [1.0, 1.0, 4.0], unit="s", goal=1.5)
    assert (r.value, r.baseline) == (2.0, 1.0)
    assert r.runs == (3.0, 1.0, 2.0)
    assert r.spread == (1.0, 3.0)
    assert Result("once", 1.0, 1.0, "s", 1.0, runs=(1.0,)).spread is None


def test_results_json_has_every_field_and_the_machine(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    results = [
        Result("lookup", 30.0, 10.0, "µs median", 3.0, "p99 80 µs", runs=(29.0, 31.0)),
        Result("sync", 6000.0, 9000.0, "ops/s", 5000.0, better=HIGHER, goal_on=VALUE),
        failed("memory_day", "MB", 20.0, "boom"),
    ]
    write(results, path, meta=machine("quick", 12.3))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"lookup", "sync", "memory_day", MACHINE_KEY}
    for name in ("lookup", "sync", "memory_day"):
        assert set(data[name]) == FIELDS
        assert data[name]["name"] == name
    assert data["lookup"]["ratio"] == 3.0
    assert data["lookup"]["met"] is True
    assert data["lookup"]["runs"] == [29.0, 31.0]
    assert data["sync"]["better"] == "higher" and data["sync"]["goal_on"] == "value"
    # JSON has no NaN: a crashed benchmark has null figures and is not met.
    assert data["memory_day"]["value"] is None and data["memory_day"]["ratio"] is None
    assert data["memory_day"]["met"] is False
    m = data[MACHINE_KEY]
    assert m["mode"] == "quick" and m["seconds"] == 12.3
    assert {"date", "python", "machine", "system", "cpus"} <= set(m)


def test_merge_keeps_the_other_benchmarks(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write([Result("a", 1.0, 1.0, "ms", 1.0), Result("b", 2.0, 1.0, "ms", 1.0)], path)
    write([Result("b", 1.0, 1.0, "ms", 1.0)], path, merge=True)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["a"]["value"] == 1.0 and data["b"]["value"] == 1.0
    write([Result("c", 1.0, 1.0, "ms", 1.0)], path)
    assert set(json.loads(path.read_text(encoding="utf-8"))) == {"c", MACHINE_KEY}


def test_the_table_shows_each_figure_its_goal_and_whether_it_is_met() -> None:
    text = table(
        [
            Result("cold start, clerk window", 420.0, 250.0, "ms median", 1.5, runs=(400.0, 450.0)),
            Result("ui stall, blackholed", 12.0, 6.0, "ms max gap", 50.0, goal_on=VALUE),
            Result("sync push, SQLite", 4200.0, 8000.0, "ops/s", 5000.0, better=HIGHER, goal_on=VALUE),
        ]
    )
    lines = text.splitlines()
    assert lines[0].split()[:6] == ["benchmark", "value", "baseline", "ratio", "goal", "met"]
    cold, stall, sync = lines[2:]
    assert "≤1.5×" in cold and " NO " in cold and "runs 400.0–450.0" in cold
    assert "≤50" in stall and " yes " in stall
    assert "≥5000" in sync and " NO " in sync and "4,200" in sync


def test_markdown_for_the_readme() -> None:
    data = {
        "lookup": Result("lookup", 30.0, 10.0, "µs median", 3.0).as_json(),
        "crashed": failed("crashed", "MB", 20.0, "boom").as_json(),
        MACHINE_KEY: machine("full", 61.0),
    }
    text = markdown(data)
    head, _, rows = text.partition("\n\n")
    assert "full mode" in head and "61 s" in head
    lines = rows.splitlines()
    assert lines[0].startswith("| benchmark | value | baseline | ratio | goal | met | unit |")
    assert lines[2] == "| lookup | 30.0 | 10.0 | 3 | ≤3× | yes | µs median |"
    assert lines[3] == "| crashed | — | — | — | ≤20× | **no** | MB |"
