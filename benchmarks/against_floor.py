"""Benchmark: the daily run through the product's services beside the floor, on the same files, at several sizes.

For each size the billing exports are generated once (``benchmarks.daily_run --stage generate``);
then, ``--runs`` times and interleaved so that both see the same load, the daily run
(``benchmarks.daily_run --stage run``: a fresh SQLite ledger, the services the Dagster assets call)
and the floor (``benchmarks.floor``: one bare polars + LightGBM script, the booster given the
product classifier's number of trees) run, each in a process of its own. Per stage: median wall and
CPU seconds, ours ÷ floor, and the growth exponent fitted over the sizes (CPU seconds against
invoices, least squares on logarithms); peak memory per process. Writes benchmarks/results.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.against_floor_report import markdown

HERE = Path(__file__).resolve().parent
STAGES = (
    "ingest_billing",
    "train_model",
    "features_of_the_day",
    "score",
    "segment",
    "plan_reminders",
    "render_messages",
)
THE_DAY = STAGES[2:]
"""The daily run the issue's 60-second target is about: training (weekly) and the full first ingest aside."""
SIDES = ("ours", "floor")
GENERATE = (sys.executable, "-m", "benchmarks.daily_run", "--stage", "generate")
TOO_SMALL_S = 0.05
"""Below this many seconds a stage's time is noise: no ratio or exponent from it."""


def _python(*arguments: str) -> dict[str, Any]:
    """Run ``python -m <arguments>`` here and read the JSON line it prints last."""
    completed = subprocess.run(
        [sys.executable, "-m", *arguments], capture_output=True, text=True, check=True, cwd=HERE.parent
    )
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))


def measure(customers: int, runs: int, work: Path) -> dict[str, Any]:
    """The figures of ``runs`` interleaved runs of both sides on one generated data set."""
    subprocess.run(
        [*GENERATE, "--customers", str(customers), "--work", str(work)],
        check=True,
        cwd=HERE.parent,
    )
    measured: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    for run in range(runs):
        ours = _python("benchmarks.daily_run", "--stage", "run", "--work", str(work))
        ours = {k: v for k, v in ours.items() if k not in ("calibration", "by_behaviour")}
        trees = str(ours["classifier_trees"])
        floor = _python("benchmarks.floor", "--work", str(work), "--rounds", trees)
        measured["ours"].append(ours)
        measured["floor"].append(floor)
        print(f"{customers:,} customers, run {run + 1}: ours {ours['cpu_s']}, floor {floor['cpu_s']}", flush=True)
    return {"generated_customers": customers, "runs": measured}


def _median(runs: list[dict[str, Any]], key: str, stage: str | None = None) -> float:
    values = [float(r[key][stage] if stage else r[key]) for r in runs]
    return round(statistics.median(values), 2)


def _ratio(ours: float, floor: float) -> float | None:
    return round(ours / floor, 1) if floor >= TOO_SMALL_S else None


def summarise_size(size: dict[str, Any]) -> dict[str, Any]:
    """Medians per stage and side, the ratios, the work done (same for every run of a side)."""
    ours, floor = size["runs"]["ours"], size["runs"]["floor"]
    stages: dict[str, Any] = {}
    for stage in STAGES:
        row: dict[str, Any] = {}
        for side, runs in (("ours", ours), ("floor", floor)):
            row[f"{side}_wall_s"] = _median(runs, "timings_s", stage)
            row[f"{side}_cpu_s"] = _median(runs, "cpu_s", stage)
        row["cpu_ratio"] = _ratio(row["ours_cpu_s"], row["floor_cpu_s"])
        row["wall_ratio"] = _ratio(row["ours_wall_s"], row["floor_wall_s"])
        stages[stage] = row
    totals = {}
    for name, members in (("the_day", THE_DAY), ("all_stages", STAGES)):
        total = {
            key: round(sum(stages[s][key] for s in members), 2)
            for key in next(iter(stages.values()))
            if key.endswith("_s")
        }
        total["cpu_ratio"] = _ratio(total["ours_cpu_s"], total["floor_cpu_s"])
        total["wall_ratio"] = _ratio(total["ours_wall_s"], total["floor_wall_s"])
        totals[name] = total
    first, first_floor = ours[0], floor[0]
    return {
        "generated_customers": size["generated_customers"],
        "customers": first["customers"],
        "invoices": first["invoices"],
        "payments": first["payments"],
        "open_invoices": first["open_invoices_scored"],
        "fit_invoices": first["fit_invoices"],
        "validation_invoices": first["validation_invoices"],
        "classifier_trees": first["classifier_trees"],
        "days_late_trees": first["days_late_trees"],
        "early_stopping_rounds": first["early_stopping_rounds"],
        "floor_trees": first_floor["trees"],
        "auc_ours": [r["validation"].get("auc") for r in ours],
        "auc_floor": [r["auc"] for r in floor],
        "decisions_ours": first["decisions_by_outcome"],
        "decisions_floor": first_floor["decisions_by_outcome"],
        "messages_ours": first["messages_rendered"] + first["messages_held"],
        "messages_floor": first_floor["messages"],
        "peak_memory_mib_ours": _median(ours, "peak_memory_mib"),
        "peak_memory_mib_floor": _median(floor, "peak_memory_mib"),
        "stages": stages,
        "totals": totals,
        "runs": len(ours),
    }


def exponent(invoices: list[int], seconds: list[float]) -> float | None:
    """The slope of log(seconds) on log(invoices): 1 is linear growth."""
    if len(set(invoices)) < 2 or min(seconds) < TOO_SMALL_S:
        return None
    xs, ys = [math.log(n) for n in invoices], [math.log(s) for s in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs), 2)


def growth(sizes: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per stage (and the day's total): the exponent of CPU seconds against invoices for each side, over all the
    sizes and over the two largest (``<side>_largest``: fixed costs weigh less there)."""
    found: dict[str, dict[str, float | None]] = {}
    for name in (*STAGES, "the_day", "all_stages"):
        group = "stages" if name in STAGES else "totals"
        found[name] = {}
        for suffix, chosen in (("", sizes), ("_largest", sizes[-2:])):
            invoices = [s["invoices"] for s in chosen]
            for side in SIDES:
                found[name][side + suffix] = exponent(invoices, [s[group][name][f"{side}_cpu_s"] for s in chosen])
    return found


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "niceness": os.nice(0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, nargs="+", default=[2_500, 25_000, 100_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=HERE / "work" / "against_floor")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--rewrite", action="store_true", help="summarise the runs in results.json again")
    args = parser.parse_args()
    if args.rewrite:
        result = json.loads((args.out / "results.json").read_text())
        result["sizes"] = [summarise_size(size) for size in result["raw"]]
        result["growth"] = growth(result["sizes"])
    else:
        started, load_before = time.strftime("%Y-%m-%d %H:%M %Z"), os.getloadavg()
        raw = [measure(n, args.runs, args.work / f"c{n}") for n in args.customers]
        sizes = [summarise_size(size) for size in raw]
        result = {
            "started": started,
            "command": "python -m benchmarks.against_floor "
            + f"--customers {' '.join(str(n) for n in args.customers)} --runs {args.runs}",
            "machine": machine(),
            "load_average": {
                "before": [round(v, 1) for v in load_before],
                "after": [round(v, 1) for v in os.getloadavg()],
            },
            "sizes": sizes,
            "growth": growth(sizes),
            "raw": raw,
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
