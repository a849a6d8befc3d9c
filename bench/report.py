"""results.json and the printed table: {name: {value, baseline, ratio, goal, unit, ...}}.

Every figure is compared with a baseline measured in the same run, because the
machine is shared and absolute numbers are noisy. Most goals hold the ratio
``value / baseline`` at or below ``goal``; a few goals are absolute (the UI's
50 ms stall, 5,000 ops/s, 20 MB): those set ``goal_on="value"`` and the ratio is
shown for information. ``better`` says which direction is good.

``python -m bench.report`` prints the Markdown table of bench/results.json (the
README's "Last results").
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")
LOWER, HIGHER = "lower", "higher"
RATIO, VALUE = "ratio", "value"
MACHINE_KEY = "_machine"


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    baseline: float
    unit: str
    goal: float
    note: str = ""
    better: str = LOWER  # which direction of the value is good
    goal_on: str = RATIO  # what ``goal`` bounds: the ratio to the baseline, or the value itself
    runs: tuple[float, ...] = field(default=())  # the repetitions ``value`` summarises (their median)

    def __post_init__(self) -> None:
        if self.better not in (LOWER, HIGHER):
            raise ValueError(f"better must be {LOWER!r} or {HIGHER!r}, not {self.better!r}")
        if self.goal_on not in (RATIO, VALUE):
            raise ValueError(f"goal_on must be {RATIO!r} or {VALUE!r}, not {self.goal_on!r}")

    @property
    def ratio(self) -> float:
        if self.baseline:
            return self.value / self.baseline
        return 0.0 if self.value == 0 else float("inf")

    @property
    def met(self) -> bool:
        measured = self.ratio if self.goal_on == RATIO else self.value
        if math.isnan(measured):
            return False
        return measured <= self.goal if self.better == LOWER else measured >= self.goal

    @property
    def spread(self) -> tuple[float, float] | None:
        return (min(self.runs), max(self.runs)) if len(self.runs) > 1 else None

    def goal_text(self) -> str:
        sign = "≤" if self.better == LOWER else "≥"
        return f"{sign}{self.goal:g}×" if self.goal_on == RATIO else f"{sign}{self.goal:g}"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": _finite(self.value),
            "baseline": _finite(self.baseline),
            "ratio": _finite(round(self.ratio, 3)),
            "goal": self.goal,
            "goal_on": self.goal_on,
            "better": self.better,
            "met": self.met,
            "unit": self.unit,
            "note": self.note,
            "runs": [_finite(r) for r in self.runs],
        }


def _finite(x: float) -> float | None:
    """JSON has no NaN or infinity: a benchmark that failed shows null."""
    return x if math.isfinite(x) else None


def median_result(name: str, runs: Sequence[float], baseline_runs: Sequence[float], **kw: Any) -> Result:
    """A Result whose value and baseline are the medians of repeated measurements."""
    return Result(
        name,
        statistics.median(runs),
        statistics.median(baseline_runs),
        runs=tuple(runs),
        **kw,
    )


def failed(name: str, unit: str, goal: float, error: str, **kw: Any) -> Result:
    """What a benchmark that crashed reports: no value, not met, the error in the note."""
    return Result(name, float("nan"), float("nan"), unit, goal, f"FAILED: {error}", **kw)


def machine(mode: str, seconds: float | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "mode": mode,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "cpus": os.cpu_count(),
    }
    try:
        info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    if seconds is not None:
        info["seconds"] = round(seconds, 1)
    return info


def to_json(results: Sequence[Result], meta: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {r.name: r.as_json() for r in results}
    data[MACHINE_KEY] = dict(meta)
    return data


def write(
    results: Sequence[Result],
    path: Path = RESULTS,
    *,
    meta: Mapping[str, Any] | None = None,
    merge: bool = False,
) -> str:
    """Write results.json (keeping other benchmarks' entries with ``merge``) and return the table."""
    data: dict[str, Any] = {}
    if merge and path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    data.update(to_json(results, meta if meta is not None else machine("quick")))
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return table(results)


def _num(x: float) -> str:
    if math.isnan(x):
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def table(results: Sequence[Result]) -> str:
    """The plain-text table printed at the end of ``make bench``."""
    w = max([len("benchmark"), *(len(r.name) for r in results)])
    head = f"{'benchmark':{w}} {'value':>10} {'baseline':>10} {'ratio':>7} {'goal':>8}  met  unit"
    lines = [head, "-" * len(head)]
    for r in results:
        spread = r.spread
        extra = f"  (runs {_num(spread[0])}–{_num(spread[1])})" if spread else ""
        lines.append(
            f"{r.name:{w}} {_num(r.value):>10} {_num(r.baseline):>10} {_num(r.ratio):>7} "
            f"{r.goal_text():>8}  {'yes' if r.met else 'NO ':3}  {r.unit}{extra}"
        )
    return "\n".join(lines)


def markdown(data: Mapping[str, Any]) -> str:
    """results.json as the README's Markdown table, with the machine and date line."""
    rows = [
        "| benchmark | value | baseline | ratio | goal | met | unit |",
        "|---|---:|---:|---:|---:|:-:|---|",
    ]
    for name, e in data.items():
        if name == MACHINE_KEY:
            continue
        sign = "≤" if e.get("better", LOWER) == LOWER else "≥"
        goal = f"{sign}{e['goal']:g}" + ("×" if e.get("goal_on", RATIO) == RATIO else "")

        def cell(x: float | None) -> str:
            return "—" if x is None else _num(float(x))

        rows.append(
            f"| {name} | {cell(e['value'])} | {cell(e['baseline'])} | {cell(e['ratio'])} | {goal} | "
            f"{'yes' if e['met'] else '**no**'} | {e['unit']} |"
        )
    m = data.get(MACHINE_KEY, {})
    line = (
        f"{m.get('date', '?')}, {m.get('mode', '?')} mode, {m.get('cpus', '?')} CPUs, "
        f"{m.get('system', '?')}, Python {m.get('python', '?')}"
    )
    if "loadavg_at_start" in m:
        line += f", load average at start {m['loadavg_at_start']}"
    if "seconds" in m:
        line += f", {m['seconds']:.0f} s"
    return line + "\n\n" + "\n".join(rows)


if __name__ == "__main__":
    print(markdown(json.loads(RESULTS.read_text(encoding="utf-8"))))
