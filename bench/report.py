"""results.json and the printed table: {name: {value, baseline, ratio, goal, unit}}."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    baseline: float
    unit: str
    goal: float  # the ratio value/baseline must stay at or below this
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio <= self.goal


def write(results: list[Result], path: Path) -> str:
    data = {r.name: {**asdict(r), "ratio": round(r.ratio, 3), "met": r.met} for r in results}
    data["_machine"] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.platform(),
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [f"{'benchmark':34} {'value':>10} {'baseline':>10} {'ratio':>7} {'goal':>6}  met"]
    for r in results:
        lines.append(
            f"{r.name:34} {r.value:10.1f} {r.baseline:10.1f} {r.ratio:7.2f} {r.goal:6.2f}  {'yes' if r.met else 'NO'}  {r.unit}"
        )
    return "\n".join(lines)
